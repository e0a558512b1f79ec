from __future__ import annotations

from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import HiddenInput

from typing import Any, Iterable

from ..forms import LONG_TEXT, Form
from ..people.models import Person
from ..timeutil import today
from .models import PERSON_PARTS, PLAN_PARTS, AssessmentKind, PlanContent, RiskLevel, SafetyPlan

TOO_LONG = f"Hoogstens {LONG_TEXT} tekens."


class SafetyPlanForm(Form):
    agreed_on = DateField("Afgesproken op", validators=[DataRequired("Vul de datum van de afspraken in.")])
    review_on = DateField("Evalueren uiterlijk op", validators=[DataRequired("Vul de evaluatiedatum in.")])
    agreements = TextAreaField("Samenvatting van de afspraken", validators=[DataRequired("Beschrijf de afspraken."),
                                                       Length(max=LONG_TEXT, message=TOO_LONG)])
    agreed_by = TextAreaField("Afgesproken door (gezinsleden en professionals)",
                              validators=[DataRequired("Noem wie de afspraken maakten."),
                                          Length(max=1000, message="Hoogstens 1000 tekens.")])

    # The version the form started from (0: none); a newer one meanwhile is not silently passed over.
    based_on = IntegerField(widget=HiddenInput(), validators=[Optional()])
    # Set by plan_form: the persons whose fieldsets the form has, as (person, [(part label, field)]).
    person_fieldsets: list[tuple[Person, list[Any]]] = []

    def plan_fields(self) -> list[Any]:
        return [self[f"plan_{key}"] for key, _ in PLAN_PARTS]

    def content(self) -> PlanContent:
        persons = {person.id: {key: (self[f"p{person.id}_{key}"].data or "") for key, _ in PERSON_PARTS}
                   for person, _ in self.person_fieldsets}
        return PlanContent(persons=persons, parts={key: self[f"plan_{key}"].data or "" for key, _ in PLAN_PARTS})


def _part_field(label: str) -> TextAreaField:
    return TextAreaField(label, validators=[Length(max=LONG_TEXT, message=TOO_LONG)])


def plan_form(persons: Iterable[Person], *, submitted: bool, current: SafetyPlan | None = None) -> SafetyPlanForm:
    """The plan form with a fieldset per person of the client system. Not submitted, it starts
    from ``current`` (the plan in force): a new version is a change of the one before."""
    persons = list(persons)

    class PlanForm(SafetyPlanForm):
        pass

    for person in persons:
        for key, label in PERSON_PARTS:
            setattr(PlanForm, f"p{person.id}_{key}", _part_field(label))
    for key, label in PLAN_PARTS:
        setattr(PlanForm, f"plan_{key}", _part_field(label))
    if submitted:
        form = PlanForm()
    else:
        data: dict[str, Any] = {"agreed_on": today(), "based_on": current.version_number if current else 0}
        if current is not None:
            content = current.content
            data.update({"agreements": current.agreements, "agreed_by": current.agreed_by})
            data.update({f"p{person.id}_{key}": content.person_part(person.id, key)
                         for person in persons for key, _ in PERSON_PARTS})
            data.update({f"plan_{key}": content.parts.get(key, "") for key, _ in PLAN_PARTS})
        form = PlanForm(formdata=None, data=data)
    form.person_fieldsets = [(person, [form[f"p{person.id}_{key}"] for key, _ in PERSON_PARTS])
                             for person in persons]
    return form


class AssessmentForm(Form):
    kind = SelectField("Soort", choices=AssessmentKind.choices(), validators=[DataRequired("Kies de soort.")])
    assessed_on = DateField("Datum", validators=[DataRequired("Vul de datum in.")])
    instrument = StringField("Instrument", validators=[DataRequired("Noem het gebruikte instrument."),
                                                       Length(max=80, message="Hoogstens 80 tekens.")])
    risk_level = SelectField("Inschatting", choices=RiskLevel.choices(), default=RiskLevel.NOT_APPLICABLE.value)
    performed_by = SelectField("Uitgevoerd door", coerce=int, validators=[DataRequired("Kies wie het deed.")])
    outcome = TextAreaField("Uitkomst", validators=[DataRequired("Beschrijf de uitkomst."),
                                                    Length(max=LONG_TEXT, message=TOO_LONG)])
