"""Forms of referrals, triage, consultation questions and API keys.

Each form declares exactly the fields it may write; the operations check every value again,
so the JSON API and the forms obey the same rules. Messages are Dutch.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, SelectField, SelectMultipleField,
                     StringField, TextAreaField)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import Form
from ..accounts.models import Role, User, UserRole
from ..cases.models import ViolenceForm
from ..db import db
from ..organisations.models import Organisation, OrganisationKind
from ..people.identity import GenderCategory
from ..people.models import Person, PersonRole
from ..reference.models import Municipality
from .consultations import MAX_MINUTES, MAX_TEXT
from .models import ActieOverlegPartner, HouseBanSituation, RedirectTarget, Referral, Urgency
from .operations import MAX_LENGTH, REFERRAL_ROUTES
from .tokens import MAX_LABEL

NONE = 0
INVALID_DATE = "Vul een geldige datum in (dag-maand-jaar)."
FROM_LIST = "Kies een waarde uit de lijst."


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _too_long(limit: int) -> Length:
    return Length(max=limit, message=f"Deze tekst is te lang: hoogstens {limit} tekens.")


def _municipality_choices() -> list[SelectChoice]:
    municipalities = db.session.scalars(
        select(Municipality).where(Municipality.active.is_(True)).order_by(Municipality.name)).all()
    return [SelectChoice(str(NONE), "— kies een gemeente —")] + [
        SelectChoice(str(m.id), m.name) for m in municipalities]


def _organisation_choices(kind: OrganisationKind, empty: str) -> list[SelectChoice]:
    organisations = db.session.scalars(
        select(Organisation).where(Organisation.kind == kind, Organisation.active.is_(True))
        .order_by(Organisation.name)).all()
    return [SelectChoice(str(NONE), empty)] + [SelectChoice(str(o.id), o.name) for o in organisations]


def _chosen(model: type, value: int | None) -> Any:
    return db.session.get(model, value) if value else None


class VersionedForm(Form):
    version = HiddenField(validators=[DataRequired("Het formulier is onvolledig verzonden. Laad de pagina "
                                                   "opnieuw.")])


class ReferralForm(VersionedForm):
    family_label = StringField("Gezinslabel", validators=[_too_long(MAX_LENGTH["family_label"])])
    intake_route = SelectField("Instroomroute", choices=[SelectChoice(r.value, r.label) for r in REFERRAL_ROUTES],
                               invalid_choice_message=FROM_LIST)
    actie_overleg_on = DateField("Datum van het Actie-overleg", validators=[Optional()],
                                 invalid_value_message=INVALID_DATE)
    partners_present = MultiCheckboxField("Aanwezig bij het Actie-overleg", choices=ActieOverlegPartner.choices(),
                                          invalid_choice_message=FROM_LIST, invalid_value_message=FROM_LIST)
    reason = TextAreaField("Waarom is regie door het MDA++-team nodig?", validators=[_too_long(MAX_LENGTH["reason"])])
    urgency = SelectField("Urgentie", choices=Urgency.choices(), invalid_choice_message=FROM_LIST)
    violence_forms = MultiCheckboxField("Vormen van geweld", choices=ViolenceForm.choices(),
                                        invalid_choice_message=FROM_LIST, invalid_value_message=FROM_LIST)
    municipality = SelectField("Gemeente", coerce=int, invalid_choice_message="Kies een gemeente uit de lijst.",
                               invalid_value_message="Kies een gemeente uit de lijst.")
    requesting_team = SelectField("Lokaal team dat om regie vraagt", coerce=int,
                                  invalid_choice_message="Kies een lokaal team uit de lijst.",
                                  invalid_value_message="Kies een lokaal team uit de lijst.")
    current_ave_level = SelectField("Huidig AVE-niveau",
                                    choices=[SelectChoice("", "— onbekend —")]
                                    + [SelectChoice(str(n), f"AVE {n}") for n in range(1, 6)],
                                    invalid_choice_message="Een AVE-niveau ligt tussen 1 en 5.")
    house_ban_situation = SelectField("Tijdelijk huisverbod", choices=HouseBanSituation.choices(),
                                      invalid_choice_message=FROM_LIST)
    tried_before = TextAreaField("Wat is al geprobeerd?", validators=[_too_long(MAX_LENGTH["tried_before"])])

    @classmethod
    def build(cls, referral: Referral | None = None, **kwargs: Any) -> "ReferralForm":
        data = {}
        if referral is not None:
            data = {"family_label": referral.family_label, "intake_route": referral.intake_route.value, "actie_overleg_on": referral.actie_overleg_on,
                    "partners_present": list(referral.partners_present or []), "reason": referral.reason,
                    "urgency": referral.urgency.value, "violence_forms": list(referral.violence_forms or []),
                    "municipality": referral.municipality_id or NONE,
                    "requesting_team": referral.requesting_team_id or NONE,
                    "current_ave_level": str(referral.current_ave_level or ""),
                    "house_ban_situation": referral.house_ban_situation.value,
                    "tried_before": referral.tried_before, "version": str(referral.version)}
        else:
            data = {"version": "nieuw"}
        form = cls(data=data, **kwargs)
        form.municipality.choices = _municipality_choices()
        form.requesting_team.choices = _organisation_choices(OrganisationKind.LOCAL_TEAM, "— niet van toepassing —")
        return form

    def values(self) -> dict[str, Any]:
        """The declared fields, as the operation takes them."""
        return {
            "family_label": self.family_label.data,
            "intake_route": self.intake_route.data,
            "actie_overleg_on": self.actie_overleg_on.data,
            "partners_present": self.partners_present.data or [],
            "reason": self.reason.data,
            "urgency": self.urgency.data,
            "violence_forms": self.violence_forms.data or [],
            "municipality": _chosen(Municipality, self.municipality.data),
            "requesting_team": _chosen(Organisation, self.requesting_team.data),
            "current_ave_level": int(self.current_ave_level.data) if self.current_ave_level.data else None,
            "house_ban_situation": self.house_ban_situation.data,
            "tried_before": self.tried_before.data,
        }


PERSON_PREFIX = "persoon"


class PersonForm(VersionedForm):
    role = SelectField("Rol in het cliëntsysteem",
                       choices=[SelectChoice("", "— kies een rol —")] + PersonRole.choices(),
                       validators=[InputRequired("Kies de rol van deze persoon in het cliëntsysteem.")],
                       invalid_choice_message="Kies de rol van deze persoon uit de lijst.")
    name = StringField("Naam", validators=[InputRequired("Vul de naam van deze persoon in."),
                                           _too_long(MAX_LENGTH["name"])])
    bsn = StringField("BSN", validators=[Optional(), Length(max=20, message="Een BSN bestaat uit 9 cijfers.")])
    date_of_birth = DateField("Geboortedatum", validators=[Optional()], invalid_value_message=INVALID_DATE)
    address = StringField("Adres", validators=[_too_long(MAX_LENGTH["address"])])
    phone = StringField("Telefoon", validators=[_too_long(MAX_LENGTH["phone"])])
    gender = SelectField("Geslacht", choices=GenderCategory.choices(), default=GenderCategory.UNKNOWN.value,
                         invalid_choice_message=FROM_LIST)

    @classmethod
    def build(cls, referral: Referral, person: Person | None = None, **kwargs: Any) -> "PersonForm":
        data: dict[str, Any] = {"version": str(referral.version)}
        if person is not None:
            data.update(role=person.role.value, name=person.name, bsn=person.bsn,
                        date_of_birth=person.date_of_birth, address=person.address, phone=person.phone,
                        gender=person.gender.value)
        return cls(data=data, prefix=PERSON_PREFIX, **kwargs)

    def values(self) -> dict[str, Any]:
        return {"role": self.role.data, "name": self.name.data, "bsn": self.bsn.data,
                "date_of_birth": self.date_of_birth.data, "address": self.address.data, "phone": self.phone.data,
                "gender": self.gender.data}


class SubmitForm(VersionedForm):
    pass


class RemovePersonForm(VersionedForm):
    pass


class DeleteDraftForm(VersionedForm):
    pass


def coordinator_choices() -> list[SelectChoice]:
    coordinators = db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.COORDINATOR, User.active.is_(True)).order_by(User.display_name)).all()
    return [SelectChoice(str(NONE), "— kies een coördinator —")] + [
        SelectChoice(str(u.id), u.display_name) for u in coordinators]


class AcceptForm(VersionedForm):
    coordinator = SelectField("Coördinator", coerce=int, invalid_choice_message="Kies een coördinator uit de lijst.",
                              invalid_value_message="Kies een coördinator uit de lijst.")
    ave_level = SelectField("AVE-niveau bij de start", choices=[SelectChoice(str(n), f"AVE {n}") for n in range(1, 6)],
                            invalid_choice_message="Een AVE-niveau ligt tussen 1 en 5.")
    note = TextAreaField("Toelichting voor Veilig Thuis (optioneel, zonder namen)",
                         validators=[_too_long(MAX_LENGTH["decision_reason"])])
    duplicates_seen = BooleanField("Ik heb de mogelijke dubbele registraties bekeken en accepteer toch een nieuwe casus")

    @classmethod
    def build(cls, referral: Referral, **kwargs: Any) -> "AcceptForm":
        form = cls(data={"version": str(referral.version), "ave_level": str(referral.current_ave_level or 3)},
                   prefix="accepteren", **kwargs)
        form.coordinator.choices = coordinator_choices()
        return form


class JoinCaseForm(VersionedForm):
    """Add the referral to the running case the family is already in; the case id is checked again
    on the server against what the duplicate check finds."""

    case_id = HiddenField(validators=[DataRequired("Kies de lopende casus.")])
    note = TextAreaField("Toelichting voor Veilig Thuis (optioneel, zonder namen)",
                         validators=[_too_long(MAX_LENGTH["decision_reason"])])

    @classmethod
    def build(cls, referral: Referral, **kwargs: Any) -> "JoinCaseForm":
        return cls(data={"version": str(referral.version)}, prefix="toevoegen", **kwargs)


class DeclineForm(VersionedForm):
    reason = TextAreaField("Reden van afwijzing (Veilig Thuis ziet deze, noem geen namen)",
                           validators=[InputRequired("Geef de reden van de afwijzing; Veilig Thuis krijgt die te zien."),
                                       _too_long(MAX_LENGTH["decision_reason"])])

    @classmethod
    def build(cls, referral: Referral, **kwargs: Any) -> "DeclineForm":
        return cls(data={"version": str(referral.version)}, prefix="afwijzen", **kwargs)


class RedirectForm(VersionedForm):
    target = SelectField("Doorgeleiden naar", choices=[SelectChoice("", "— kies —")] + RedirectTarget.choices(),
                         validators=[InputRequired("Kies naar wie de verwijzing wordt doorgeleid.")],
                         invalid_choice_message="Kies naar wie de verwijzing wordt doorgeleid.")
    advice = TextAreaField("Advies aan Veilig Thuis (noem geen namen)",
                           validators=[InputRequired("Geef een advies bij het doorgeleiden; Veilig Thuis krijgt het "
                                                     "te zien."), _too_long(MAX_LENGTH["decision_reason"])])

    @classmethod
    def build(cls, referral: Referral, **kwargs: Any) -> "RedirectForm":
        return cls(data={"version": str(referral.version)}, prefix="doorgeleiden", **kwargs)


class ConsultationForm(VersionedForm):
    asked_on = DateField("Datum van de vraag", validators=[InputRequired("Vul de datum van de vraag in.")],
                         invalid_value_message=INVALID_DATE)
    asking_organisation = SelectField("Lokaal team dat de vraag stelt", coerce=int,
                                      invalid_choice_message="Kies het lokale team uit de lijst.",
                                      invalid_value_message="Kies het lokale team uit de lijst.")
    municipality = SelectField("Gemeente", coerce=int, invalid_choice_message="Kies een gemeente uit de lijst.",
                               invalid_value_message="Kies een gemeente uit de lijst.")
    question = TextAreaField("Vraag (zonder namen of andere persoonsgegevens)",
                             validators=[InputRequired("Vul de vraag in."), _too_long(MAX_TEXT)])
    advice = TextAreaField("Gegeven advies", validators=[_too_long(MAX_TEXT)])
    advised_on = DateField("Datum van het advies", validators=[Optional()], invalid_value_message=INVALID_DATE)
    minutes_spent = IntegerField("Bestede tijd (minuten)", validators=[
        Optional(), NumberRange(min=0, max=MAX_MINUTES, message=f"Vul een aantal minuten tussen 0 en {MAX_MINUTES} in.")],
        invalid_value_message="Vul de bestede tijd in hele minuten in.")
    escalation_advised = BooleanField("Opschalen geadviseerd")
    led_to_referral = BooleanField("Heeft geleid tot een verwijzing")

    @classmethod
    def build(cls, question: Any = None, **kwargs: Any) -> "ConsultationForm":
        data: dict[str, Any] = {"version": "nieuw"}
        if question is not None:
            data = {"asked_on": question.asked_on, "asking_organisation": question.asking_organisation_id,
                    "municipality": question.municipality_id, "question": question.question,
                    "advice": question.advice, "advised_on": question.advised_on,
                    "minutes_spent": question.minutes_spent, "escalation_advised": question.escalation_advised,
                    "led_to_referral": question.led_to_referral, "version": str(question.version)}
        form = cls(data=data, **kwargs)
        form.asking_organisation.choices = _organisation_choices(OrganisationKind.LOCAL_TEAM, "— kies een lokaal team —")
        form.municipality.choices = _municipality_choices()
        return form

    def values(self) -> dict[str, Any]:
        return {"asked_on": self.asked_on.data,
                "asking_organisation": _chosen(Organisation, self.asking_organisation.data),
                "municipality": _chosen(Municipality, self.municipality.data), "question": self.question.data,
                "advice": self.advice.data, "advised_on": self.advised_on.data,
                "minutes_spent": self.minutes_spent.data, "escalation_advised": self.escalation_advised.data,
                "led_to_referral": self.led_to_referral.data}


class ApiTokenForm(Form):
    organisation = SelectField("Veilig Thuis-organisatie", coerce=int,
                               invalid_choice_message="Kies een organisatie uit de lijst.",
                               invalid_value_message="Kies een organisatie uit de lijst.")
    label = StringField("Naam van de sleutel", validators=[
        InputRequired("Geef de sleutel een naam, bijvoorbeeld het systeem dat hem gebruikt."),
        Length(max=MAX_LABEL, message=f"Een naam heeft hoogstens {MAX_LABEL} tekens.")])

    @classmethod
    def build(cls, **kwargs: Any) -> "ApiTokenForm":
        form = cls(**kwargs)
        form.organisation.choices = _organisation_choices(OrganisationKind.VEILIG_THUIS, "— kies een organisatie —")
        return form

    def chosen_organisation(self) -> Organisation | None:
        return _chosen(Organisation, self.organisation.data)


class RevokeTokenForm(Form):
    pass
