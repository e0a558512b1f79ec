from __future__ import annotations

from wtforms import DateField, DateTimeLocalField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import LONG_TEXT, Form, VersionedForm
from .models import JournalKind

TOO_LONG = f"Hoogstens {LONG_TEXT} tekens."


class JournalEntryForm(Form):
    kind = SelectField("Soort", choices=JournalKind.choices(), validators=[DataRequired("Kies de soort.")])
    occurred_at = DateTimeLocalField("Datum en tijd", format="%Y-%m-%dT%H:%M",
                                     validators=[DataRequired("Vul datum en tijd in.")])
    body = TextAreaField("Verslag", validators=[DataRequired("Het verslag is leeg."), Length(max=LONG_TEXT, message=TOO_LONG)])


class TaskForm(Form):
    description = TextAreaField("Taak", validators=[DataRequired("Beschrijf de taak."),
                                                    Length(max=1000, message="Hoogstens 1000 tekens.")])
    owner = SelectField("Eigenaar", coerce=int, validators=[DataRequired("Kies wie de taak uitvoert.")])
    due_on = DateField("Uiterlijk op", validators=[DataRequired("Vul de datum in waarop de taak af moet zijn.")])


class TaskDoneForm(VersionedForm):
    pass


class ParticipationForm(Form):
    recorded_on = DateField("Datum", validators=[DataRequired("Vul de datum in.")])
    informed = TextAreaField("Wat het gezin is verteld", validators=[Optional(), Length(max=LONG_TEXT, message=TOO_LONG)])
    decided_along = TextAreaField("Waarover het gezin meebesliste", validators=[Optional(), Length(max=LONG_TEXT, message=TOO_LONG)])
    own_view = TextAreaField("De eigen kijk van het gezin", validators=[Optional(), Length(max=LONG_TEXT, message=TOO_LONG)])
