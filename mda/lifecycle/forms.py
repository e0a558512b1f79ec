"""Forms of the privacy officer's pages: find a person, record, decide and carry out a request."""
from __future__ import annotations

from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from ..forms import LONG_TEXT, Form, VersionedForm
from .models import RefusalGround

DATE_FORMATS = ["%Y-%m-%d", "%d-%m-%Y"]
TEXT_TOO_LONG = f"Hoogstens {LONG_TEXT} tekens."


class PersonLookupForm(Form):
    """Posted, never a GET: a BSN or a name must not end up in a URL or a server log."""

    bsn = StringField("BSN", validators=[Optional(), Length(max=20, message="Een BSN heeft 9 cijfers.")])
    name = StringField("Volledige naam", validators=[Optional(), Length(max=200, message="Hoogstens 200 tekens.")])
    date_of_birth = DateField("Geboortedatum", format=DATE_FORMATS, validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:  # type: ignore[override]
        if not super().validate(extra_validators):
            return False
        if not self.bsn.data and not (self.name.data and self.date_of_birth.data):
            self.bsn.errors = [*self.bsn.errors, "Vul het BSN in, of de volledige naam en de geboortedatum."]
            return False
        return True


class NewRequestForm(Form):
    person_id = IntegerField(widget=HiddenInput(), validators=[InputRequired("Kies eerst de persoon.")])
    received_on = DateField("Datum van ontvangst van het verzoek", format=DATE_FORMATS,
                            validators=[InputRequired("Vul de datum van ontvangst in.")])


class DecisionForm(VersionedForm):
    decision = SelectField("Besluit", choices=[SelectChoice("", "Kies het besluit"),
                                               SelectChoice("granted", "Toewijzen: gegevens wissen"),
                                               SelectChoice("refused", "Afwijzen")],
                           validators=[DataRequired("Kies het besluit.")])
    refusal_ground = SelectField("Wettelijke grond (bij afwijzen)",
                                 choices=[SelectChoice("", "Geen (toegewezen)"), *RefusalGround.choices()],
                                 validators=[Optional()])
    explanation = TextAreaField("Toelichting op het besluit",
                                validators=[Optional(), Length(max=LONG_TEXT, message=TEXT_TOO_LONG)])


class ExecuteForm(VersionedForm):
    confirm = BooleanField("Ik heb het besluit gecontroleerd; het wissen kan niet ongedaan worden gemaakt.",
                           validators=[DataRequired("Bevestig dat het wissen kan worden uitgevoerd.")])


class ExtendAccessForm(VersionedForm):
    reason = TextAreaField("Reden van de verlenging",
                           validators=[DataRequired("Geef de reden van de verlenging."),
                                       Length(max=LONG_TEXT, message=TEXT_TOO_LONG)])


class CompleteAccessForm(VersionedForm):
    confirm = BooleanField("Het inzageoverzicht is aan de betrokkene verstrekt.",
                           validators=[DataRequired("Bevestig dat het overzicht is verstrekt.")])
