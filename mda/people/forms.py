"""Forms of the client system."""
from __future__ import annotations

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import LONG_TEXT, Form, VersionedForm
from .identity import GenderCategory
from .models import PersonRole, RelationKind


class PersonFields(Form):
    role = SelectField("Rol in het cliëntsysteem", choices=PersonRole.choices(),
                       validators=[DataRequired("Kies een rol.")])
    name = StringField("Naam", validators=[Optional(), Length(max=200, message="Hoogstens 200 tekens.")])
    bsn = StringField("BSN", validators=[Optional(), Length(max=20, message="Een BSN bestaat uit 9 cijfers.")])
    date_of_birth = DateField("Geboortedatum", validators=[Optional()])
    gender = SelectField("Gender", choices=GenderCategory.choices(), default=GenderCategory.UNKNOWN.value)
    address = StringField("Adres", validators=[Optional(), Length(max=300, message="Hoogstens 300 tekens.")])
    phone = StringField("Telefoon", validators=[Optional(), Length(max=40, message="Hoogstens 40 tekens.")])
    notes = TextAreaField("Notities", validators=[Optional(), Length(max=LONG_TEXT, message=f"Hoogstens {LONG_TEXT} tekens.")])


class PersonEditForm(PersonFields, VersionedForm):
    pass


class RelationForm(Form):
    person = SelectField("Persoon", coerce=int, validators=[DataRequired("Kies een persoon.")])
    kind = SelectField("is", choices=RelationKind.choices(), validators=[DataRequired("Kies de relatie.")])
    other_person = SelectField("van / met", coerce=int, validators=[DataRequired("Kies een persoon.")])
