"""The privacy officer's search form over the audit trail (a GET form: it changes nothing)."""
from __future__ import annotations

import re
from typing import Any

from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import AnyOf, Length, Optional, Regexp, ValidationError

from ..forms import Form
from .models import AuditAction
from .queries import AuditFilter

# References look like MDA-2026-0007 (see mda.cases.operations.next_reference). Only values of this
# shape are accepted, so whatever else is typed here never reaches the audit record of the search.
CASE_REFERENCE = re.compile(r"^MDA-\d{4}-\d{4,}$")
DATE_FORMATS = ["%Y-%m-%d", "%d-%m-%Y"]  # the first is what <input type="date"> sends and shows
INVALID_DATE = "Vul een geldige datum in, bijvoorbeeld 31-12-2026."
ANY_ACTION = ""


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


class AuditSearchForm(Form):
    class Meta:
        csrf = False  # a GET search: nothing changes, and the filter must fit in a link

    username = StringField(
        "Gebruikersnaam", filters=[_strip, _lower],
        validators=[Optional(), Length(max=80, message="Een gebruikersnaam is ten hoogste 80 tekens.")])
    case_reference = StringField(
        "Casusnummer", filters=[_strip, _upper], description="Bijvoorbeeld MDA-2026-0007.",
        validators=[Optional(), Length(max=20, message="Een casusnummer is ten hoogste 20 tekens."),
                    Regexp(CASE_REFERENCE.pattern, message="Vul een casusnummer in als MDA-2026-0007.")])
    date_from = DateField("Vanaf datum", format=DATE_FORMATS, invalid_value_message=INVALID_DATE,
                          validators=[Optional()])
    date_to = DateField("Tot en met datum", format=DATE_FORMATS, invalid_value_message=INVALID_DATE,
                        validators=[Optional()])
    action = SelectField(
        "Handeling", choices=[SelectChoice(ANY_ACTION, "Alle handelingen"),
                              *AuditAction.choices()],
        default=ANY_ACTION, validate_choice=False,
        validators=[AnyOf([ANY_ACTION, *(action.value for action in AuditAction)],
                          message="Kies een handeling uit de lijst.")])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("De einddatum mag niet vóór de begindatum liggen.")

    def to_filter(self) -> AuditFilter:
        """The validated filter; call only after ``validate()`` succeeded."""
        return AuditFilter(
            username=self.username.data or None,
            case_reference=self.case_reference.data or None,
            date_from=self.date_from.data,
            date_to=self.date_to.data,
            action=AuditAction(self.action.data) if self.action.data else None,
        )
