"""Forms of the huisverbod area. Each declares exactly the fields it may write.

Date-time inputs are ``<input type="datetime-local">``: what the user types is a time on the
Dutch wall clock; the field turns it into an aware UTC instant (and back for display).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..forms import Form
from wtforms import (BooleanField, DateField, DateTimeLocalField, HiddenField, SelectField, SelectMultipleField,
                     TextAreaField)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..enums import LabelledEnum
from ..timeutil import AMSTERDAM
from .deadlines import NonexistentLocalTime, local_to_utc
from .models import AppealRuling, HouseBanRoute, ImposedBy, OrderForm
from .operations import RISK_INSTRUMENTS, RISK_OUTCOMES

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
PICK_FROM_LIST = "Kies een waarde uit de lijst."
NOTE_LENGTH = Length(max=2000, message="Een toelichting heeft hoogstens 2000 tekens.")


class LocalDateTimeField(DateTimeLocalField):
    """A wall-clock time in Europe/Amsterdam in the form; ``data`` is an aware UTC datetime."""

    def __init__(self, label: str | None = None, validators: list[Any] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("format", LOCAL_FORMATS)
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        if not self.data:
            return ""
        return self.data.astimezone(AMSTERDAM).strftime(LOCAL_FORMATS[0])

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        text = str(valuelist[0]).strip()
        for fmt in LOCAL_FORMATS:
            try:
                wall_clock = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            self.data = None
            raise ValueError("Vul een datum en tijd in als dd-mm-jjjj uu:mm.")
        try:
            self.data = local_to_utc(wall_clock)
        except NonexistentLocalTime:
            self.data = None
            raise ValueError("Dit tijdstip bestaat niet: bij de overgang naar zomertijd gaat de klok van "
                             "02:00 naar 03:00. Kies een tijd vóór 02:00 of vanaf 03:00.") from None

    def process_data(self, value: Any) -> None:
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("LocalDateTimeField needs an aware datetime")
        self.data = value.astimezone(timezone.utc) if isinstance(value, datetime) else value


class DutchDateField(DateField):
    def __init__(self, label: str | None = None, validators: list[Any] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("invalid_value_message", "Vul een geldige datum in.")
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def optional_int(value: Any) -> int | None:
    """``coerce`` for a select of ids with an empty first option ("Kies ...")."""
    return None if value in (None, "") else int(value)


def _select(label: str, enum: type[LabelledEnum], **kwargs: Any) -> SelectField:
    # A missing or unknown value fails the choice check, with this message once.
    return SelectField(label, choices=enum.choices(), invalid_choice_message=PICK_FROM_LIST, **kwargs)


def _required_moment(label: str, what: str) -> LocalDateTimeField:
    return LocalDateTimeField(label, validators=[InputRequired(f"Vul {what} in.")])


def _optional_choices(values: tuple[str, ...]) -> list[SelectChoice]:
    return [SelectChoice("", "Geen / onbekend")] + [SelectChoice(value, value) for value in values]


class VersionedForm(Form):
    """The version the page showed; a stale one is refused (optimistic locking)."""

    version = HiddenField(validators=[InputRequired("Het formulier is onvolledig; laad de pagina opnieuw.")])


class ImposeForm(Form):
    imposed_at = _required_moment("Opgelegd op (datum en tijd)", "het tijdstip van opleggen")
    imposed_by = _select("Opgelegd door", ImposedBy)
    order_form = _select("Vorm", OrderForm)
    municipality = SelectField("Gemeente (burgemeester)", coerce=int, invalid_choice_message=PICK_FROM_LIST,
                               invalid_value_message=PICK_FROM_LIST)
    route = _select("Route", HouseBanRoute)
    removed_person = SelectField("Uithuisgeplaatste", coerce=optional_int,
                                 validators=[InputRequired("Kies de uithuisgeplaatste.")],
                                 invalid_choice_message="Kies een persoon uit het cliëntsysteem van deze casus.",
                                 invalid_value_message="Kies een persoon uit het cliëntsysteem van deze casus.")
    protected = MultiCheckboxField("Beschermde personen", coerce=int,
                                   validators=[DataRequired("Kies minstens één beschermde persoon.")],
                                   invalid_choice_message="Kies personen uit het cliëntsysteem van deze casus.",
                                   invalid_value_message="Kies personen uit het cliëntsysteem van deze casus.")
    dwelling = TextAreaField("Woning waarvoor het huisverbod geldt",
                             validators=[DataRequired("Vul de woning in."),
                                         Length(max=500, message="Hoogstens 500 tekens.")])
    facts = TextAreaField("Feiten en omstandigheden", validators=[Optional(), NOTE_LENGTH])
    reachability = TextAreaField("Bereikbaar op (als de uithuisgeplaatste dat direct heeft opgegeven)",
                                 validators=[Optional(), Length(max=500, message="Hoogstens 500 tekens.")])
    child_abuse_reason = BooleanField("Kindermishandeling is (mede) de reden")
    veilig_thuis_consulted_at = LocalDateTimeField("Veilig Thuis geraadpleegd op", validators=[Optional()])
    risk_instrument = SelectField("Gebruikte risicotaxatie", choices=_optional_choices(RISK_INSTRUMENTS),
                                  invalid_choice_message=PICK_FROM_LIST)
    risk_outcome = SelectField("Uitkomst van de risicotaxatie", choices=_optional_choices(RISK_OUTCOMES),
                               invalid_choice_message=PICK_FROM_LIST)


class ExtendForm(VersionedForm):
    decided_by = _select("Besloten door", ImposedBy)
    decided_at = _required_moment("Besloten op", "het tijdstip van het besluit")
    new_end = _required_moment("Nieuw einde", "het nieuwe einde")
    note = TextAreaField("Toelichting", validators=[Optional(), NOTE_LENGTH])


class DeclineExtensionForm(VersionedForm):
    decided_at = _required_moment("Besloten op", "het tijdstip van het besluit")
    note = TextAreaField("Toelichting", validators=[Optional(), NOTE_LENGTH])


class WithdrawForm(VersionedForm):
    decided_by = _select("Ingetrokken door", ImposedBy)
    withdrawn_at = _required_moment("Ingetrokken op", "het tijdstip van intrekken")
    note = TextAreaField("Reden", validators=[Optional(), NOTE_LENGTH])


class WrittenUpForm(VersionedForm):
    written_up_at = _required_moment("Op schrift gesteld op", "het tijdstip")


class ReachabilityForm(VersionedForm):
    reachability = TextAreaField("Bereikbaar op (verblijfadres, telefoon)",
                                 validators=[DataRequired("Vul in waar de uithuisgeplaatste bereikbaar is."),
                                             Length(max=500, message="Hoogstens 500 tekens.")])
    stated_at = _required_moment("Opgegeven op", "het tijdstip van opgeven")


class AppealForm(VersionedForm):
    filed_on = DutchDateField("Beroep ingesteld op", validators=[InputRequired("Vul de datum van het beroep in.")])
    provisional_relief = BooleanField("Met verzoek om voorlopige voorziening", default=True)


class HearingForm(VersionedForm):
    hearing_on = DutchDateField("Datum van de zitting", validators=[InputRequired("Vul de datum van de zitting in.")])


class RulingForm(VersionedForm):
    ruling = _select("Uitspraak", AppealRuling)
    ruled_at = _required_moment("Uitspraak gedaan op", "het tijdstip van de uitspraak")


class BreachForm(VersionedForm):
    occurred_at = _required_moment("Overtreden op", "het tijdstip van de overtreding")
    reported_to_police = BooleanField("Gemeld bij de politie", default=True)
    notes = TextAreaField("Toelichting", validators=[Optional(), NOTE_LENGTH])


class CasemanagementStartForm(VersionedForm):
    started_at = _required_moment("Casemanagement gestart op", "het tijdstip van de start")


class CasemanagementEndForm(VersionedForm):
    ended_at = _required_moment("Casemanagement beëindigd op", "het tijdstip van het einde")
    note = TextAreaField("Toelichting", validators=[Optional(), NOTE_LENGTH])
