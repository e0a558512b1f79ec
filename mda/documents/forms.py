from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import Form, VersionedForm
from .models import AttachmentKind
from .operations import MAX_DESCRIPTION

TOO_LONG = f"Hoogstens {MAX_DESCRIPTION} tekens."
NO_FILE = "Kies een bestand."


class UploadForm(Form):
    file = FileField("Bestand", validators=[FileRequired(NO_FILE)])
    kind = SelectField("Soort document", choices=AttachmentKind.choices(),
                       validators=[DataRequired("Kies de soort document.")])
    description = TextAreaField("Omschrijving", validators=[DataRequired("Beschrijf kort wat dit document is."),
                                                           Length(max=MAX_DESCRIPTION, message=TOO_LONG)])
    # "<part>:<id>" of a huisverbod, safety plan version or journal entry of this case; checked again.
    link = SelectField("Hoort bij", validate_choice=False, validators=[Optional()])
    person = SelectField("Gaat over persoon", coerce=int, validate_choice=False, validators=[Optional()])


class ReplaceForm(VersionedForm):
    id_prefix = "vervangen"
    file = FileField("Nieuwe versie", validators=[FileRequired(NO_FILE)])
    description = TextAreaField("Omschrijving (leeg: ongewijzigd)",
                                validators=[Optional(), Length(max=MAX_DESCRIPTION, message=TOO_LONG)])


class DeleteForm(VersionedForm):
    id_prefix = "verwijderen"
    reason = TextAreaField("Reden van verwijderen", validators=[DataRequired("Geef de reden van het verwijderen."),
                                                               Length(max=MAX_DESCRIPTION, message=TOO_LONG)])
