from __future__ import annotations

from wtforms import (DateField, DateTimeLocalField, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.fields import SelectChoice
from wtforms.widgets import HiddenInput
from wtforms.validators import DataRequired, Length, Optional

from ..forms import LONG_TEXT, Form, VersionedForm
from .models import JournalKind

TOO_LONG = f"Hoogstens {LONG_TEXT} tekens."


class JournalEntryForm(Form):
    kind = SelectField("Soort", choices=JournalKind.choices(), validators=[DataRequired("Kies de soort.")])
    occurred_at = DateTimeLocalField("Datum en tijd", format="%Y-%m-%dT%H:%M",
                                     validators=[DataRequired("Vul datum en tijd in.")])
    body = TextAreaField("Verslag", validators=[DataRequired("Het verslag is leeg."), Length(max=LONG_TEXT, message=TOO_LONG)])
    # Choices: the case's persons (set by the view); checked again by the operation.
    persons = SelectMultipleField("Over wie", coerce=int, validators=[Optional()])


SEARCH_TEXT = 200


class JournalFilterForm(Form):
    """Narrow the journal. Posted (never in the URL): the search text is personal data."""

    id_prefix = "filter"
    kind = SelectField("Soort", choices=[SelectChoice("", "Alle soorten"), *JournalKind.choices()],
                       validators=[Optional()])
    author = SelectField("Auteur", coerce=int, validators=[Optional()])
    person = SelectField("Over persoon", coerce=int, validators=[Optional()])
    since = DateField("Vanaf", validators=[Optional()])
    until = DateField("Tot en met", validators=[Optional()])
    text = StringField("Zoeken in de tekst", validators=[Optional(), Length(max=SEARCH_TEXT,
                                                                           message=f"Hoogstens {SEARCH_TEXT} tekens.")])
    page = IntegerField(widget=HiddenInput(), default=1, validators=[Optional()])

    def validate_until(self, field) -> None:  # noqa: ANN001
        from wtforms.validators import ValidationError
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("De einddatum ligt voor de begindatum.")


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
