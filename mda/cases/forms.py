"""Forms of the caseload and the case's phase, AVE level and status."""
from __future__ import annotations

from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import LONG_TEXT, SHORT_TEXT, Form, LongSelectField, VersionedForm
from ..organisations.models import OrganisationKind
from ..outcomes.models import SafetyJudgement
from .models import FAMILY_LABEL_MAX, ClosureReason, Phase

TEXT_TOO_LONG = f"Hoogstens {LONG_TEXT} tekens."
ANY = ""


class CaseloadFilterForm(Form):
    class Meta:
        csrf = False  # a GET filter changes nothing

    alle = BooleanField("Alle casussen")
    # Every select of this form is a LongSelectField: the caseload renders it on every request.
    fase = LongSelectField("Fase", choices=[SelectChoice(ANY, "Alle fasen"), *Phase.choices()], default=ANY)
    ave = LongSelectField("AVE-niveau", choices=[SelectChoice(ANY, "Alle niveaus")]
                          + [SelectChoice(str(level), f"AVE {level}") for level in range(1, 6)], default=ANY)
    gemeente = LongSelectField("Gemeente", default=ANY)
    coordinator = LongSelectField("Coördinator", default=ANY)
    achterstallig = BooleanField("Alleen met achterstand (taak over datum of geen actueel veiligheidsplan)")
    sorteer = LongSelectField("Sorteren op", default="deadline", choices=[
        SelectChoice("deadline", "Eerstvolgende deadline"), SelectChoice("casus", "Casusnummer"),
        SelectChoice("fase", "Fase"), SelectChoice("ave", "AVE-niveau"), SelectChoice("dagen", "Dagen in fase"),
        SelectChoice("gemeente", "Gemeente"), SelectChoice("coordinator", "Coördinator")])
    aflopend = BooleanField("Aflopend")


class PhaseForm(VersionedForm):
    id_prefix = "fase"

    phase = SelectField("Naar fase", choices=Phase.choices(), validators=[DataRequired("Kies een fase.")])
    reason = TextAreaField("Reden of toelichting", validators=[Optional(), Length(max=LONG_TEXT, message=TEXT_TOO_LONG)])
    no_diagnostics_reason = TextAreaField(
        "Waarom geen diagnostiek nodig was (alleen bij Participatie zonder diagnostiek)",
        validators=[Optional(), Length(max=LONG_TEXT, message=TEXT_TOO_LONG)])


class AveForm(VersionedForm):
    id_prefix = "ave"

    ave_level = SelectField("Naar AVE-niveau", coerce=int,
                            choices=[SelectChoice(level, f"AVE {level}") for level in range(1, 6)],
                            validators=[DataRequired("Kies een AVE-niveau.")])
    reason = TextAreaField("Reden van op- of afschalen",
                           validators=[DataRequired("Geef een reden op."), Length(max=LONG_TEXT, message=TEXT_TOO_LONG)])


class CloseForm(VersionedForm):
    id_prefix = "afsluiten"

    closure_reason = SelectField("Uitkomst", choices=[SelectChoice(ANY, "Kies de uitkomst"), *ClosureReason.choices()],
                                 validators=[DataRequired("Kies de uitkomst van de casus.")])
    receiving_party = SelectField("Soort ontvangende partij",
                                  choices=[SelectChoice(ANY, "Kies de soort partij"), *OrganisationKind.choices()],
                                  validators=[DataRequired("Kies wie de casus overneemt.")])
    receiving_name = StringField("Naam van de ontvangende partij (organisatie of team)",
                                 validators=[DataRequired("Noem de partij die de casus overneemt."),
                                             Length(max=120, message="Hoogstens 120 tekens.")])
    note = TextAreaField("Toelichting", validators=[Optional(), Length(max=LONG_TEXT, message=TEXT_TOO_LONG)])
    safety_judgement = SelectField("Oordeel over de veiligheid bij afsluiting",
                                   choices=[SelectChoice(ANY, "Kies het oordeel"), *SafetyJudgement.choices()],
                                   validators=[DataRequired("Kies het oordeel over de veiligheid bij afsluiting.")])
    professional_rating = IntegerField(
        "Veiligheid volgens de professional (0–10)",
        validators=[InputRequired("Geef een cijfer van 0 tot en met 10."),
                    NumberRange(0, 10, "Een cijfer is 0 tot en met 10.")])
    family_rating = IntegerField("Veiligheid volgens het gezin (0–10, als het gezin dat aangeeft)",
                                 validators=[Optional(), NumberRange(0, 10, "Een cijfer is 0 tot en met 10.")])


class ReopenForm(VersionedForm):
    id_prefix = "heropenen"

    reason = TextAreaField("Reden van heropenen",
                           validators=[DataRequired("Geef een reden op."), Length(max=LONG_TEXT, message=TEXT_TOO_LONG)])


def short_text(label: str, required: str | None = None) -> StringField:
    validators = [DataRequired(required)] if required else [Optional()]
    return StringField(label, validators=[*validators, Length(max=SHORT_TEXT, message=f"Hoogstens {SHORT_TEXT} tekens.")])


def long_text(label: str, required: str | None = None) -> TextAreaField:
    validators = [DataRequired(required)] if required else [Optional()]
    return TextAreaField(label, validators=[*validators, Length(max=LONG_TEXT, message=TEXT_TOO_LONG)])


class FamilyLabelForm(VersionedForm):
    id_prefix = "label"

    family_label = StringField("Gezinslabel", validators=[Optional(), Length(
        max=FAMILY_LABEL_MAX, message=f"Het gezinslabel is te lang: hoogstens {FAMILY_LABEL_MAX} tekens.")])
