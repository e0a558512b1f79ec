from __future__ import annotations

from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..forms import Form
from .queries import MAX_TEXT


class SearchForm(Form):
    """Sent as a POST with its CSRF token: the search text (a name, a BSN) stays out of the URL,
    and so out of browser history, proxy and server logs and the Referer header."""

    q = StringField("Zoeken", validators=[DataRequired("Typ een casusnummer, BSN, naam of gezinslabel."),
                                          Length(max=MAX_TEXT, message=f"Typ hoogstens {MAX_TEXT} tekens.")])
