"""The inbox's small forms and each user's e-mail preferences."""
from __future__ import annotations

from wtforms import SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, Optional, Regexp

from ..forms import Form
from .models import DEFAULT_DELIVERY, MANDATORY_IMMEDIATE, Delivery, NotificationKind

# A work address: something@domain.tld, no spaces. Deliverability is the mail server's business.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

CHOOSABLE_KINDS = [kind for kind in NotificationKind if kind not in MANDATORY_IMMEDIATE]


class EmptyForm(Form):
    """Only the CSRF token: mark read, mark all read, send again."""


class PreferencesForm(Form):
    email = StringField("E-mailadres voor meldingen", validators=[
        Optional(), Length(max=254, message="Een e-mailadres is hoogstens 254 tekens."),
        Regexp(EMAIL_PATTERN, message="Dit is geen geldig e-mailadres, bijvoorbeeld naam@organisatie.nl.")])
    digest_hour = SelectField("Tijdstip van het dagelijks overzicht", coerce=int,
                              choices=[SelectChoice(hour, f"{hour:02d}:00") for hour in range(24)])


def preferences_form(chosen: dict[NotificationKind, Delivery], **kwargs: object) -> PreferencesForm:
    """The form with one choice per kind the user may choose for."""

    class _Form(PreferencesForm):
        pass

    for kind in CHOOSABLE_KINDS:
        setattr(_Form, f"kind_{kind.value}",
                SelectField(kind.label, choices=Delivery.choices(),
                            default=chosen.get(kind, DEFAULT_DELIVERY.get(kind, Delivery.IMMEDIATE)).value))
    return _Form(**kwargs)


def kind_fields(form: PreferencesForm) -> list[tuple[NotificationKind, object]]:
    return [(kind, form[f"kind_{kind.value}"]) for kind in CHOOSABLE_KINDS]
