from __future__ import annotations

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..forms import LONG_TEXT, Form
from .models import AssessmentKind, RiskLevel

TOO_LONG = f"Hoogstens {LONG_TEXT} tekens."


class SafetyPlanForm(Form):
    agreed_on = DateField("Afgesproken op", validators=[DataRequired("Vul de datum van de afspraken in.")])
    review_on = DateField("Evalueren uiterlijk op", validators=[DataRequired("Vul de evaluatiedatum in.")])
    agreements = TextAreaField("Afspraken", validators=[DataRequired("Beschrijf de afspraken."),
                                                       Length(max=LONG_TEXT, message=TOO_LONG)])
    agreed_by = TextAreaField("Afgesproken door (gezinsleden en professionals)",
                              validators=[DataRequired("Noem wie de afspraken maakten."),
                                          Length(max=1000, message="Hoogstens 1000 tekens.")])


class AssessmentForm(Form):
    kind = SelectField("Soort", choices=AssessmentKind.choices(), validators=[DataRequired("Kies de soort.")])
    assessed_on = DateField("Datum", validators=[DataRequired("Vul de datum in.")])
    instrument = StringField("Instrument", validators=[DataRequired("Noem het gebruikte instrument."),
                                                       Length(max=80, message="Hoogstens 80 tekens.")])
    risk_level = SelectField("Inschatting", choices=RiskLevel.choices(), default=RiskLevel.NOT_APPLICABLE.value)
    performed_by = SelectField("Uitgevoerd door", coerce=int, validators=[DataRequired("Kies wie het deed.")])
    outcome = TextAreaField("Uitkomst", validators=[DataRequired("Beschrijf de uitkomst."),
                                                    Length(max=LONG_TEXT, message=TOO_LONG)])
