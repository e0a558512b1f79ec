from __future__ import annotations

from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import Form
from ..organisations.models import OrganisationKind


class OrganisationForm(Form):
    name = StringField("Naam", validators=[DataRequired("Vul de naam van de organisatie in."),
                                           Length(max=120, message="Hoogstens 120 tekens.")])
    kind = SelectField("Soort", choices=OrganisationKind.choices(), validators=[DataRequired("Kies de soort.")])
    active = BooleanField("Actief", default=True)


class AveLevelForm(Form):
    title = StringField("Titel", validators=[DataRequired("Vul een titel in."),
                                             Length(max=120, message="Hoogstens 120 tekens.")])
    description = TextAreaField("Omschrijving", validators=[DataRequired("Vul een omschrijving in."),
                                                            Length(max=1000, message="Hoogstens 1000 tekens.")])


class DisciplineForm(Form):
    name = StringField("Naam", validators=[DataRequired("Vul een naam in."),
                                           Length(max=80, message="Hoogstens 80 tekens.")])
