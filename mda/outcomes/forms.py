"""The follow-up check twelve months after closure: structured answers only, no free text."""
from __future__ import annotations

from wtforms import BooleanField, SelectField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired

from ..forms import Form
from .models import FamilySafe


class FollowUpForm(Form):
    id_prefix = "follow-up"

    family_safe = SelectField("Is het gezin veilig?", choices=[SelectChoice("", "Kies"), *FamilySafe.choices()],
                              validators=[DataRequired("Geef aan of het gezin veilig is.")])
    new_vt_report = BooleanField("Nieuwe melding bij Veilig Thuis")
    new_house_ban = BooleanField("Nieuw tijdelijk huisverbod")
    new_referral = BooleanField("Nieuwe verwijzing naar het MDA++-team")
