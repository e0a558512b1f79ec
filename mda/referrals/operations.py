"""The verbs of a referral: drafting, the client system, submitting, and triage.

Each verb takes an explicit actor, checks the status it starts from and the version the user
saw, validates everything before it changes anything, flushes, and writes its audit record;
the request commits once. Messages are Dutch and name the field they are about.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm.attributes import flag_modified

from ..accounts.models import Role, User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case, CaseStatus, IntakeRoute, ViolenceForm, validate_family_label
from ..cases.operations import open_case
from ..db import db
from ..errors import InvalidInput, InvalidTransition, StaleVersion
from ..notifications import events as notifications
from ..organisations.models import Organisation, OrganisationKind
from ..people.identity import GenderCategory, validate_birth_date, validate_bsn
from ..people.models import Person, PersonRole
from ..reference.models import Municipality
from ..timeutil import today, utcnow
from .models import (ActieOverlegPartner, ApiToken, HouseBanSituation, RedirectTarget, Referral, ReferralStatus,
                     Urgency)

# Free text is capped so a pasted document cannot fill the database; the forms and the API use
# the same limits.
MAX_LENGTH = {
    "reason": 4000,
    "tried_before": 4000,
    "decision_reason": 2000,
    "name": 200,
    "address": 300,
    "phone": 40,
    "family_label": 80,
}

# The intake routes a referral can come by (crisis is an urgency, not a referral route).
REFERRAL_ROUTES = (IntakeRoute.ACTIE_OVERLEG, IntakeRoute.LOCAL_TEAM_REQUEST, IntakeRoute.HUISVERBOD,
                   IntakeRoute.CONSULTATION)
MAX_PERSONS = 20
HER_MELDING_MONTHS = 12
EARLIEST_DATE = date(2000, 1, 1)
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ()\-]{5,39}$")

STALE_MESSAGE = ("Deze verwijzing is intussen door iemand anders gewijzigd. Hieronder staat wat nu is "
                 "opgeslagen; uw invoer is niet bewaard. Controleer het en sla opnieuw op als u uw "
                 "versie wilt bewaren.")

FIELD_LABELS = {
    "intake_route": "instroomroute",
    "actie_overleg_on": "datum van het Actie-overleg",
    "partners_present": "aanwezige partners",
    "reason": "reden dat regie nodig is",
    "urgency": "urgentie",
    "violence_forms": "vormen van geweld",
    "municipality": "gemeente",
    "requesting_team": "lokaal team dat om regie vraagt",
    "current_ave_level": "huidig AVE-niveau",
    "house_ban_situation": "huisverbod",
    "tried_before": "wat is al geprobeerd",
    "persons": "minstens één persoon in het cliëntsysteem",
}


class IncompleteReferral(InvalidInput):
    """Submitting needs fields that are still empty; ``missing`` names them all."""

    def __init__(self, missing: list[str]):
        labels = ", ".join(FIELD_LABELS[name] for name in missing)
        super().__init__(f"De verwijzing is nog niet compleet. Vul nog in: {labels}.",
                         field=missing[0] if missing else None)
        self.missing = missing


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, or a registration system through its API token."""

    user: User | None = None
    token: ApiToken | None = None

    def audit(self) -> dict[str, Any]:
        if self.user is not None:
            return {"by": self.user}
        return {"by": None, "username": f"api-sleutel {self.token.id}" if self.token else "(onbekend)"}


# --- validation helpers -------------------------------------------------------------------------

def check_version(referral: Referral, expected_version: int | str | None) -> None:
    """The version the user saw must still be the stored one."""
    if expected_version is None:
        return
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise StaleVersion(STALE_MESSAGE) from None
    if expected != referral.version:
        raise StaleVersion(STALE_MESSAGE)


def _check_status(referral: Referral, allowed: ReferralStatus, action: str) -> None:
    if referral.status != allowed:
        raise InvalidTransition(f"Deze verwijzing heeft de status {referral.status.label.lower()}; "
                                f"{action} kan alleen bij een verwijzing met de status {allowed.label.lower()}.")


def _text(value: Any, field: str, *, required: bool = False, message: str | None = None) -> str | None:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"Vul bij {FIELD_LABELS.get(field, field)} tekst in.", field=field)
    value = value.strip()
    if not value:
        if required:
            raise InvalidInput(message or f"Vul {FIELD_LABELS.get(field, field)} in.", field=field)
        return None
    limit = MAX_LENGTH[field]
    if len(value) > limit:
        raise InvalidInput(f"Deze tekst is te lang: hoogstens {limit} tekens, nu {len(value)}.", field=field)
    return value


def _enum(enum_class: Any, value: Any, field: str, message: str) -> Any:
    if isinstance(value, enum_class):
        return value
    try:
        return enum_class(value)
    except (ValueError, TypeError):
        raise InvalidInput(message, field=field) from None


def _enum_list(enum_class: Any, values: Any, field: str, message: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidInput(message, field=field)
    return [member.value for member in dict.fromkeys(_enum(enum_class, value, field, message) for value in values)]


def validate_actie_overleg_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, date):
        raise InvalidInput("Vul een geldige datum van het Actie-overleg in.", field="actie_overleg_on")
    if value > today():
        raise InvalidInput("De datum van het Actie-overleg ligt in de toekomst. Een verwijzing volgt op een "
                           "Actie-overleg dat al is gehouden.", field="actie_overleg_on")
    if value < EARLIEST_DATE:
        raise InvalidInput("De datum van het Actie-overleg ligt te ver terug.", field="actie_overleg_on")
    return value


def validate_ave_level(value: Any, field: str = "current_ave_level") -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidInput("Een AVE-niveau ligt tussen 1 en 5.", field=field)
    return value


def _municipality(value: Municipality | None) -> Municipality | None:
    if value is not None and not value.active:
        raise InvalidInput("Deze gemeente is niet (meer) actief; kies een gemeente uit de lijst.",
                           field="municipality")
    return value


def _local_team(value: Organisation | None) -> Organisation | None:
    if value is not None and (value.kind != OrganisationKind.LOCAL_TEAM or not value.active):
        raise InvalidInput("Kies een actief lokaal team uit de lijst.", field="requesting_team")
    return value


REFERRAL_FIELDS = ("intake_route", "actie_overleg_on", "partners_present", "reason", "urgency", "violence_forms",
                   "municipality", "requesting_team", "current_ave_level", "house_ban_situation", "tried_before",
                   "family_label")


def _validated_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Check every given field first, so a refused value changes nothing."""
    unknown = set(fields) - set(REFERRAL_FIELDS)
    if unknown:
        raise InvalidInput("Onbekend veld in de verwijzing: " + ", ".join(sorted(unknown)) + ".")
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "intake_route":
            route = _enum(IntakeRoute, value, name, "Kies een instroomroute uit de lijst.")
            if route not in REFERRAL_ROUTES:
                raise InvalidInput("Kies een instroomroute uit de lijst.", field=name)
            clean[name] = route
        elif name == "actie_overleg_on":
            clean[name] = validate_actie_overleg_date(value)
        elif name == "partners_present":
            clean[name] = _enum_list(ActieOverlegPartner, value, name, "Kies de aanwezige partners uit de lijst.")
        elif name in ("reason", "tried_before"):
            clean[name] = _text(value, name)
        elif name == "family_label":
            text = _text(value, name)
            clean[name] = validate_family_label(text) if text else None
        elif name == "urgency":
            clean[name] = _enum(Urgency, value, name, "Kies een urgentie uit de lijst.")
        elif name == "violence_forms":
            clean[name] = _enum_list(ViolenceForm, value, name, "Kies de vormen van geweld uit de lijst.")
        elif name == "municipality":
            clean[name] = _municipality(value)
        elif name == "requesting_team":
            clean[name] = _local_team(value)
        elif name == "current_ave_level":
            clean[name] = validate_ave_level(value)
        elif name == "house_ban_situation":
            clean[name] = _enum(HouseBanSituation, value, name, "Kies bij huisverbod een waarde uit de lijst.")
    return clean


def _apply(referral: Referral, clean: dict[str, Any]) -> list[str]:
    changed = []
    for name, value in clean.items():
        if name == "municipality":
            if referral.municipality_id != (value.id if value else None):
                referral.municipality = value
                changed.append(name)
        elif name == "requesting_team":
            if referral.requesting_team_id != (value.id if value else None):
                referral.requesting_team = value
                changed.append(name)
        elif getattr(referral, name) != value:
            setattr(referral, name, value)
            changed.append(name)
    return changed


def _touch(referral: Referral) -> None:
    """A change to the client system advances the referral's version too."""
    flag_modified(referral, "urgency")


# --- drafting -----------------------------------------------------------------------------------

def save_draft(referral: Referral | None, *, by: User, expected_version: int | str | None = None,
               **fields: Any) -> Referral:
    """Create a draft (``referral`` None) for the user's organisation, or change a draft."""
    return _save_draft(referral, Actor(user=by), expected_version=expected_version, **fields)


def _save_draft(referral: Referral | None, actor: Actor, *, organisation_id: int | None = None,
                expected_version: int | str | None = None, **fields: Any) -> Referral:
    if referral is not None:
        check_version(referral, expected_version)
        _check_status(referral, ReferralStatus.DRAFT, "wijzigen")
    clean = _validated_fields(fields)
    if referral is None:
        organisation_id = organisation_id or (actor.user.organisation_id if actor.user else None)
        if organisation_id is None:
            raise InvalidInput("Uw account hoort bij geen organisatie; een verwijzing komt altijd van een "
                               "Veilig Thuis-organisatie.")
        referral = Referral(organisation_id=organisation_id, status=ReferralStatus.DRAFT,
                            created_by_id=actor.user.id if actor.user else None,
                            api_token_id=actor.token.id if actor.token else None,
                            intake_route=IntakeRoute.ACTIE_OVERLEG, urgency=Urgency.NORMAL,
                            house_ban_situation=HouseBanSituation.NONE, partners_present=[], violence_forms=[])
        referral.row_key()
        _apply(referral, clean)
        db.session.add(referral)
        db.session.flush()
        record(AuditAction.CREATE, object_type="referral", object_id=referral.id, detail="concept aangemaakt",
               **actor.audit())
        return referral
    changed = _apply(referral, clean)
    if changed:
        db.session.flush()
        record(AuditAction.CHANGE, object_type="referral", object_id=referral.id,
               detail="concept gewijzigd: " + ", ".join(changed), **actor.audit())
    return referral


# --- the client system --------------------------------------------------------------------------

@dataclass(frozen=True)
class PersonData:
    role: PersonRole
    name: str
    bsn: str | None
    date_of_birth: date | None
    address: str | None
    phone: str | None
    gender: GenderCategory


def validate_person(*, role: Any, name: Any, bsn: Any = None, date_of_birth: Any = None, address: Any = None,
                    phone: Any = None, gender: Any = None) -> PersonData:
    if role in (None, ""):
        raise InvalidInput("Kies de rol van deze persoon in het cliëntsysteem.", field="role")
    role = _enum(PersonRole, role, "role", "Kies de rol van deze persoon uit de lijst.")
    name = _text(name, "name", required=True, message="Vul de naam van deze persoon in.")
    if bsn not in (None, ""):
        if not isinstance(bsn, str):
            raise InvalidInput("Een BSN bestaat uit 9 cijfers.", field="bsn")
        bsn = validate_bsn(bsn)
    else:
        bsn = None
    if date_of_birth not in (None, ""):
        date_of_birth = validate_birth_date(date_of_birth)
    else:
        date_of_birth = None
    address = _text(address, "address")
    phone = _text(phone, "phone")
    if phone is not None and not PHONE_PATTERN.match(phone):
        raise InvalidInput("Vul een telefoonnummer in met alleen cijfers, spaties, streepjes of een + vooraan.",
                           field="phone")
    gender = _enum(GenderCategory, gender or GenderCategory.UNKNOWN, "gender", "Kies een geslacht uit de lijst.")
    return PersonData(role, name, bsn, date_of_birth, address, phone, gender)


def _write_person(person: Person, data: PersonData) -> None:
    person.role, person.gender = data.role, data.gender
    person.name, person.bsn, person.date_of_birth = data.name, data.bsn, data.date_of_birth
    person.address, person.phone = data.address, data.phone


def persons_of(referral: Referral) -> list[Person]:
    return list(db.session.scalars(select(Person).where(Person.referral_id == referral.id).order_by(Person.id)))


def add_referral_person(referral: Referral, *, by: User, expected_version: int | str | None = None,
                        **fields: Any) -> Person:
    return _add_person(referral, Actor(user=by), expected_version=expected_version, **fields)


def _add_person(referral: Referral, actor: Actor, *, expected_version: int | str | None = None,
                **fields: Any) -> Person:
    check_version(referral, expected_version)
    _check_status(referral, ReferralStatus.DRAFT, "personen toevoegen")
    data = validate_person(**fields)
    if len(persons_of(referral)) >= MAX_PERSONS:
        raise InvalidInput(f"Een cliëntsysteem in een verwijzing heeft hoogstens {MAX_PERSONS} personen.",
                           field="role")
    person = Person(referral_id=referral.id)
    person.row_key()
    _write_person(person, data)
    db.session.add(person)
    _touch(referral)
    db.session.flush()
    record(AuditAction.CREATE, person_id=person.id, object_type="person", object_id=person.id,
           detail=f"persoon toegevoegd aan verwijzing {referral.id}", **actor.audit())
    return person


def update_referral_person(referral: Referral, person: Person, *, by: User,
                           expected_version: int | str | None = None, **fields: Any) -> Person:
    check_version(referral, expected_version)
    _check_status(referral, ReferralStatus.DRAFT, "personen wijzigen")
    _check_belongs(referral, person)
    data = validate_person(**fields)
    _write_person(person, data)
    _touch(referral)
    db.session.flush()
    record(AuditAction.CHANGE, by=by, person_id=person.id, object_type="person", object_id=person.id,
           detail=f"persoon gewijzigd in verwijzing {referral.id}")
    return person


def remove_referral_person(referral: Referral, person: Person, *, by: User,
                           expected_version: int | str | None = None) -> None:
    check_version(referral, expected_version)
    _check_status(referral, ReferralStatus.DRAFT, "personen verwijderen")
    _check_belongs(referral, person)
    person_id = person.id
    db.session.delete(person)
    _touch(referral)
    db.session.flush()
    record(AuditAction.DELETE, by=by, person_id=person_id, object_type="person", object_id=person_id,
           detail=f"persoon verwijderd uit verwijzing {referral.id}")


def delete_draft(referral: Referral, *, by: User, expected_version: int | str | None = None) -> None:
    """Throw a draft away with its persons; only a draft, never a submitted referral."""
    check_version(referral, expected_version)
    _check_status(referral, ReferralStatus.DRAFT, "verwijderen")
    referral_id = referral.id
    for person in persons_of(referral):
        person_id = person.id
        db.session.delete(person)
        record(AuditAction.DELETE, by=by, person_id=person_id, object_type="person", object_id=person_id,
               detail=f"persoon verwijderd met concept {referral_id}")
    db.session.delete(referral)
    db.session.flush()
    record(AuditAction.DELETE, by=by, object_type="referral", object_id=referral_id, detail="concept verwijderd")


def relations_among(persons: list[Person]) -> list["PersonRelation"]:  # noqa: F821
    """The relations between these persons, for the summary before submitting."""
    from ..people.models import PersonRelation
    ids = [person.id for person in persons]
    if not ids:
        return []
    return list(db.session.scalars(select(PersonRelation).where(PersonRelation.person_id.in_(ids),
                                                                PersonRelation.other_person_id.in_(ids))))


def _check_belongs(referral: Referral, person: Person) -> None:
    if person.referral_id != referral.id or person.case_id is not None:
        raise InvalidInput("Deze persoon hoort niet bij deze verwijzing.")


# --- submitting ---------------------------------------------------------------------------------

def missing_for_submit(referral: Referral) -> list[str]:
    """What a triager needs before a referral can be submitted."""
    missing = []
    if referral.intake_route == IntakeRoute.ACTIE_OVERLEG:
        if referral.actie_overleg_on is None:
            missing.append("actie_overleg_on")
        if not referral.partners_present:
            missing.append("partners_present")
    if referral.intake_route == IntakeRoute.LOCAL_TEAM_REQUEST and referral.requesting_team_id is None:
        missing.append("requesting_team")
    if not referral.reason:
        missing.append("reason")
    if not referral.violence_forms:
        missing.append("violence_forms")
    if referral.municipality_id is None:
        missing.append("municipality")
    if referral.current_ave_level is None:
        missing.append("current_ave_level")
    if not persons_of(referral):
        missing.append("persons")
    return missing


def submit(referral: Referral, *, by: User, expected_version: int | str | None = None) -> Referral:
    return _submit(referral, Actor(user=by), expected_version=expected_version)


def _submit(referral: Referral, actor: Actor, *, expected_version: int | str | None = None) -> Referral:
    check_version(referral, expected_version)
    _check_status(referral, ReferralStatus.DRAFT, "indienen")
    # A date that was fine when the draft was saved is still checked: the rules hold at submission.
    validate_actie_overleg_date(referral.actie_overleg_on)
    missing = missing_for_submit(referral)
    if missing:
        raise IncompleteReferral(missing)
    referral.status = ReferralStatus.SUBMITTED
    referral.submitted_at = utcnow()
    db.session.flush()
    record(AuditAction.CHANGE, object_type="referral", object_id=referral.id, detail="verwijzing ingediend",
           **actor.audit())
    notifications.referral_submitted(referral)
    return referral


# --- possible duplicates and her-melding --------------------------------------------------------

@dataclass(frozen=True)
class PossibleDuplicate:
    person: Person   # on the referral
    match: Person    # in a case
    case: Case
    via: str         # "bsn" or "name_birth"

    @property
    def via_label(self) -> str:
        return "BSN" if self.via == "bsn" else "naam en geboortedatum"


def months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (next_month - timedelta(days=1)).day))


def find_possible_duplicates(referral: Referral) -> list[PossibleDuplicate]:
    """Persons of the referral who, through the blind index, are already in an open case or in a
    case closed within the last 12 months."""
    persons = persons_of(referral)
    bsn_indexes = {p.bsn_index for p in persons if p.bsn_index}
    name_birth_indexes = {p.name_birth_index for p in persons if p.name_birth_index}
    if not bsn_indexes and not name_birth_indexes:
        return []
    cutoff = months_before(today(), HER_MELDING_MONTHS)
    own_ids = [p.id for p in persons]
    conditions = []
    if bsn_indexes:
        conditions.append(Person.bsn_index.in_(sorted(bsn_indexes)))
    if name_birth_indexes:
        conditions.append(Person.name_birth_index.in_(sorted(name_birth_indexes)))
    rows = db.session.execute(
        select(Person, Case).join(Case, Person.case_id == Case.id)
        .where(or_(*conditions), Person.id.not_in(own_ids),
               or_(Case.status == CaseStatus.OPEN,
                   and_(Case.status == CaseStatus.CLOSED, Case.closed_on >= cutoff)))
        .order_by(Case.id, Person.id)).all()
    # Every pair of a referral person and a known person: two persons of the referral who both
    # match one known person (one by BSN, the other by name and birth date, or both by a shared
    # BSN) are two warnings, not one.
    found = []
    for match, case in rows:
        for person in persons:
            if person.bsn_index and person.bsn_index == match.bsn_index:
                found.append(PossibleDuplicate(person, match, case, "bsn"))
            elif person.name_birth_index and person.name_birth_index == match.name_birth_index:
                found.append(PossibleDuplicate(person, match, case, "name_birth"))
    return found


def previous_case_for(duplicates: Iterable[PossibleDuplicate]) -> Case | None:
    """The most recently closed case of the same family within 12 months: this is a her-melding."""
    closed = [d.case for d in duplicates if d.case.status == CaseStatus.CLOSED]
    return max(closed, key=lambda case: (case.closed_on, case.id)) if closed else None


# --- triage -------------------------------------------------------------------------------------

def _decide(referral: Referral, status: ReferralStatus, by: User, reason: str | None) -> None:
    referral.status = status
    referral.decided_at = utcnow()
    referral.decided_by_id = by.id
    referral.decision_reason = reason


def accept(referral: Referral, *, by: User, coordinator: User | None, ave_level: int | None = None,
           note: str | None = None, duplicates_acknowledged: bool = False,
           expected_version: int | str | None = None) -> Case:
    """Open the case with its client system, coordinator, intake route and AVE level, in one
    transaction; a match with a case closed within 12 months makes it a her-melding."""
    check_version(referral, expected_version)
    _check_status(referral, ReferralStatus.SUBMITTED, "accepteren")
    if coordinator is None or not coordinator.active or not coordinator.has_role(Role.COORDINATOR):
        raise InvalidInput("Kies een actieve MDA++-coördinator voor deze casus.", field="coordinator")
    level = validate_ave_level(ave_level, "ave_level") or referral.current_ave_level or 3
    note = _text(note, "decision_reason")
    if referral.municipality is None:
        raise InvalidInput("De verwijzing noemt geen gemeente; een casus hoort altijd bij een gemeente.",
                           field="coordinator")
    duplicates = find_possible_duplicates(referral)
    if duplicates and not duplicates_acknowledged:
        raise InvalidInput("Er zijn mogelijke dubbele registraties gevonden. Bekijk ze en bevestig dat u de "
                           "verwijzing toch als nieuwe casus accepteert.", field="duplicates_seen")
    previous = previous_case_for(duplicates)
    case = open_case(municipality=referral.municipality, intake_route=referral.intake_route,
                     coordinator=coordinator, by=by, forms=[ViolenceForm(code) for code in referral.violence_forms],
                     ave_level=level, previous_case=previous, family_label=referral.family_label)
    for person in persons_of(referral):
        person.case_id = case.id  # the person stays linked to the referral it came in by
        person.refresh_age_band()  # the stored age band is the age on the day the case opened
        db.session.flush()
        record(AuditAction.TRANSFER, by=by, case_id=case.id, person_id=person.id, object_type="person",
               object_id=person.id, detail=f"van verwijzing {referral.id} naar casus")
    _decide(referral, ReferralStatus.ACCEPTED, by, note)
    referral.case_id = case.id
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=case.id, object_type="referral", object_id=referral.id,
           detail="verwijzing geaccepteerd" + (f"; her-melding van casus {previous.id}" if previous else ""))
    notifications.referral_decided(referral, coordinator=coordinator)
    return case


@dataclass(frozen=True)
class PersonComparison:
    """A person of the referral set against the case's client system."""

    person: Person            # on the referral
    match: Person | None      # the same person in the case (blind index), or None: new to the case


def compare_persons(referral: Referral, case: Case) -> list[PersonComparison]:
    """Each referral person with the case's person it matches (same BSN, or same name and birth
    date, through the blind index), or None when the case does not know them yet."""
    case_persons = list(db.session.scalars(select(Person).where(Person.case_id == case.id)))
    by_bsn = {p.bsn_index: p for p in case_persons if p.bsn_index}
    by_name_birth = {p.name_birth_index: p for p in case_persons if p.name_birth_index}

    def match(person: Person) -> Person | None:
        found = by_bsn.get(person.bsn_index) if person.bsn_index else None
        if found is None and person.name_birth_index:
            found = by_name_birth.get(person.name_birth_index)
        return found
    return [PersonComparison(person, match(person)) for person in persons_of(referral) if person.case_id is None]


def join_running_case(referral: Referral, case: Case, *, by: User, note: str | None = None,
                      expected_version: int | str | None = None) -> list[PersonComparison]:
    """Add a referral to the open case its family is already in, instead of opening a second case:
    a new intake event in the case's journal, the persons the case did not know yet added to its
    client system (those it knew stay on the referral only), the referral accepted into that case."""
    from ..cases.operations import lock_open
    from ..journal.models import JournalKind
    from ..journal.operations import write_journal_entry
    check_version(referral, expected_version)
    _check_status(referral, ReferralStatus.SUBMITTED, "toevoegen aan een lopende casus")
    note = _text(note, "decision_reason")
    # The case must be one the duplicate check found the family in, and still open.
    found_in = {d.case.id for d in find_possible_duplicates(referral) if d.case.status == CaseStatus.OPEN}
    if case.id not in found_in:
        raise InvalidInput("Deze verwijzing kan alleen worden toegevoegd aan een lopende casus waarin het gezin "
                           "al bekend is.", field="case_id")
    lock_open(case)
    comparisons = compare_persons(referral, case)
    for comparison in comparisons:
        if comparison.match is None:
            comparison.person.case_id = case.id  # stays linked to the referral it came in by
            db.session.flush()
            record(AuditAction.TRANSFER, by=by, case_id=case.id, person_id=comparison.person.id,
                   object_type="person", object_id=comparison.person.id,
                   detail=f"van verwijzing {referral.id} naar lopende casus")
    known = sum(1 for c in comparisons if c.match is not None)
    added = [c.person for c in comparisons if c.match is None]
    lines = [f"Nieuwe instroom: verwijzing {referral.id} van {referral.organisation.name} "
             f"({referral.intake_route.label.lower()}, urgentie {referral.urgency.label.lower()}) "
             f"is aan deze casus toegevoegd in plaats van een tweede casus te openen.",
             f"{known} {'persoon was' if known == 1 else 'personen waren'} al bekend in de casus."]
    if added:
        lines.append("Nieuw in het cliëntsysteem: " + ", ".join(
            f"{person.name or 'persoon zonder naam'} ({person.role.label.lower()})" for person in added) + ".")
    if referral.reason:
        lines.append(f"Reden van de verwijzing: {referral.reason}")
    write_journal_entry(case, kind=JournalKind.ACTION, occurred_at=utcnow(), body="\n".join(lines), by=by)
    _decide(referral, ReferralStatus.ACCEPTED, by, note)
    referral.case_id = case.id
    db.session.flush()
    record(AuditAction.CHANGE, by=by, case_id=case.id, object_type="referral", object_id=referral.id,
           detail="verwijzing toegevoegd aan lopende casus")
    return comparisons


def decline(referral: Referral, *, by: User, reason: str | None,
            expected_version: int | str | None = None) -> Referral:
    check_version(referral, expected_version)
    _check_status(referral, ReferralStatus.SUBMITTED, "afwijzen")
    reason = _text(reason, "decision_reason", required=True,
                   message="Geef de reden van de afwijzing; Veilig Thuis krijgt die te zien.")
    _decide(referral, ReferralStatus.DECLINED, by, reason)
    db.session.flush()
    record(AuditAction.CHANGE, by=by, object_type="referral", object_id=referral.id, detail="verwijzing afgewezen")
    notifications.referral_decided(referral)
    return referral


def redirect(referral: Referral, *, by: User, target: Any, advice: str | None,
             expected_version: int | str | None = None) -> Referral:
    check_version(referral, expected_version)
    _check_status(referral, ReferralStatus.SUBMITTED, "doorgeleiden")
    if target in (None, ""):
        raise InvalidInput("Kies naar wie de verwijzing wordt doorgeleid.", field="target")
    target = _enum(RedirectTarget, target, "target", "Kies naar wie de verwijzing wordt doorgeleid.")
    advice = _text(advice, "decision_reason", required=True,
                   message="Geef een advies bij het doorgeleiden; Veilig Thuis krijgt het te zien.")
    _decide(referral, ReferralStatus.REDIRECTED, by, advice)
    referral.redirected_to = target
    db.session.flush()
    record(AuditAction.CHANGE, by=by, object_type="referral", object_id=referral.id,
           detail=f"verwijzing doorgeleid: {target.value}")
    notifications.referral_decided(referral)
    return referral


# --- the JSON API -------------------------------------------------------------------------------

def create_from_api(token: ApiToken, *, fields: dict[str, Any], persons: list[dict[str, Any]],
                    submit_now: bool = True) -> Referral:
    """A referral written by a registration system: draft, client system and (by default) the
    submission in one transaction. A refused person names its place in the list."""
    actor = Actor(token=token)
    referral = _save_draft(None, actor, organisation_id=token.organisation_id, **fields)
    for index, person in enumerate(persons):
        try:
            _add_person(referral, actor, **person)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field=f"persons[{index}].{exc.field or 'role'}") from None
    if submit_now:
        _submit(referral, actor)
    token.last_used_at = utcnow()
    db.session.flush()
    return referral
