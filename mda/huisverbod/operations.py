"""Logging a tijdelijk huisverbod and what happens to it, with its legal deadlines.

Every verb takes an explicit actor ``by``, checks the rules of the Wet tijdelijk huisverbod,
writes an event for the timeline and an audit record, and flushes; the request (or CLI
command) commits once. Refusals raise ``InvalidInput`` or ``InvalidTransition`` with a Dutch
message and the name of the form field it is about.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.deadlines import refresh_next_deadlines
from ..cases.models import Case
from ..db import db
from ..errors import InvalidInput, InvalidTransition, StaleVersion
from ..people.identity import is_adult_on
from ..notifications import events as notifications
from ..people.models import Person
from ..reference.models import Municipality
from ..timeutil import AMSTERDAM, today, utcnow
from . import deadlines
from .deadlines import format_local
from .models import (RUNNING_STATUSES, AppealRuling, HouseBan, HouseBanAppeal, HouseBanBreach, HouseBanEvent,
                     HouseBanEventKind, HouseBanProtectedPerson, HouseBanRoute, HouseBanStatus, ImposedBy,
                     OrderForm)

# Non-identifying choices only: these columns are kept in the clear for the steering metrics.
RISK_INSTRUMENTS = ("RiHG", "Anders")
RISK_OUTCOMES = ("Huisverbod geïndiceerd", "Huisverbod niet geïndiceerd", "Onbekend")

SYSTEM = "systeem"  # the audit username of what the application records by itself

ONLY_MAYOR_EXTENDS = ("Alleen de burgemeester kan een huisverbod verlengen. Een hulpofficier van justitie "
                      "mag een huisverbod in mandaat opleggen, maar niet verlengen of intrekken.")
ONLY_MAYOR_WITHDRAWS = ("Alleen de burgemeester kan een huisverbod intrekken. Een hulpofficier van justitie "
                        "mag een huisverbod in mandaat opleggen, maar niet verlengen of intrekken.")
# A decision on extension can be recorded while the order runs, and afterwards when the clock
# ended it (a decision taken before the end, recorded late); not after a withdrawal or a ruling.
EXTENDABLE_STATUSES = (*RUNNING_STATUSES, HouseBanStatus.EXPIRED)
SECOND_ORDER = ("Voor deze persoon loopt al een huisverbod (tot {end}). Er kan geen tweede huisverbod "
                "tegelijk lopen; een nieuw huisverbod op nieuwe feiten kan pas na afloop of intrekking.")
SECOND_ORDER_ELSEWHERE = ("Voor deze persoon loopt al een huisverbod in een andere casus. Er kan geen tweede "
                          "huisverbod tegelijk lopen; overleg met de teamleider.")


# ---------------------------------------------------------------------------------------------
# Small checks shared by the verbs

def check_version(ban: HouseBan, expected_version: int | str | None) -> None:
    """The version the user saw in the form must still be the stored one."""
    if expected_version is None or expected_version == "":
        return
    try:
        seen = int(expected_version)
    except (TypeError, ValueError):
        raise StaleVersion() from None
    if seen != ban.version:
        raise StaleVersion()


def _not_in_future(moment: datetime, field: str, what: str) -> None:
    if moment > utcnow():
        raise InvalidInput(f"Het tijdstip van {what} ligt in de toekomst.", field=field)


def _not_before_imposed(ban: HouseBan, moment: datetime, field: str, what: str) -> None:
    if moment < ban.imposed_at:
        raise InvalidInput(f"Het tijdstip van {what} ligt vóór het opleggen van het huisverbod "
                           f"({format_local(ban.imposed_at)}).", field=field)


def _moment_between(ban: HouseBan, moment: datetime, field: str, what: str) -> None:
    _not_before_imposed(ban, moment, field, what)
    _not_in_future(moment, field, what)


def _day_between(ban: HouseBan, day: date, field: str, what: str) -> None:
    imposed_on = ban.imposed_at.astimezone(AMSTERDAM).date()
    if day < imposed_on:
        raise InvalidInput(f"De datum van {what} ligt vóór het opleggen van het huisverbod "
                           f"({imposed_on.strftime('%d-%m-%Y')}).", field=field)
    if day > today():
        raise InvalidInput(f"De datum van {what} ligt in de toekomst.", field=field)


def _must_be_running(ban: HouseBan, what: str, field: str) -> None:
    """The order must still run now (by its status and by the clock)."""
    if not ban.status.is_running:
        raise InvalidTransition(f"Dit huisverbod loopt niet meer ({ban.status.label.lower()}); "
                                f"{what} kan niet meer.", field=field)
    if utcnow() >= ban.ends_at:
        raise InvalidTransition(f"Het huisverbod is afgelopen op {format_local(ban.ends_at)}; {what} kan "
                                "niet meer. Na afloop is alleen een nieuw huisverbod op nieuwe feiten "
                                "mogelijk.", field=field)


def _event(ban: HouseBan, kind: HouseBanEventKind, *, by: User | None, occurred_at: datetime,
           decided_by: ImposedBy | None = None, new_end: datetime | None = None, note: str | None = None,
           action: AuditAction = AuditAction.CHANGE) -> HouseBanEvent:
    """Add an event to the order's history, advance its version, and audit it."""
    event = HouseBanEvent(house_ban_id=ban.id, kind=kind, occurred_at=occurred_at, decided_by=decided_by,
                          new_end=new_end, recorded_by_id=by.id if by is not None else None,
                          recorded_at=utcnow())
    event.note = note
    ban.events.append(event)
    ban.updated_at = utcnow()  # makes the order row part of the flush, so its version advances
    db.session.flush()
    record(action, by=by, username=None if by is not None else SYSTEM, case_id=ban.case_id,
           person_id=ban.removed_person_id, object_type="house_ban", object_id=ban.id, detail=kind.value)
    return event


# ---------------------------------------------------------------------------------------------
# Imposing

def _same_person_ids(person: Person) -> list[int]:
    """The person and, through the blind index, the same person's rows in other cases."""
    conditions = [Person.id == person.id]
    if person.bsn_index:
        conditions.append(Person.bsn_index == person.bsn_index)
    if person.name_birth_index:
        conditions.append(Person.name_birth_index == person.name_birth_index)
    return list(db.session.scalars(select(Person.id).where(or_(*conditions))))


def _check_no_concurrent_order(case: Case, removed_person: Person, imposed_at: datetime) -> None:
    """No two orders for one person may overlap: each runs from imposition to its end
    (or the moment it was withdrawn or lifted)."""
    new_end = deadlines.initial_end(imposed_at)
    candidates = db.session.scalars(
        select(HouseBan).where(HouseBan.removed_person_id.in_(_same_person_ids(removed_person)),
                               HouseBan.imposed_at < new_end)
        .order_by(HouseBan.imposed_at)).all()
    for other in candidates:
        other_end = other.ended_at or other.ends_at
        if other_end > imposed_at:
            if other.case_id == case.id:
                raise InvalidInput(SECOND_ORDER.format(end=format_local(other_end)), field="removed_person")
            raise InvalidInput(SECOND_ORDER_ELSEWHERE, field="removed_person")


def impose_house_ban(case: Case, *, imposed_at: datetime, imposed_by: ImposedBy, form: OrderForm,
                     route: HouseBanRoute, removed_person: Person, protected_persons: Iterable[Person],
                     dwelling: str, facts: str | None, by: User, child_abuse_reason: bool = False,
                     veilig_thuis_consulted_at: datetime | None = None, risk_instrument: str | None = None,
                     risk_outcome: str | None = None, municipality: Municipality | None = None,
                     reachability: str | None = None) -> HouseBan:
    protected = list(protected_persons)
    if removed_person.case_id != case.id:
        raise InvalidInput("Kies de uithuisgeplaatste uit het cliëntsysteem van deze casus.",
                           field="removed_person")
    if any(person.case_id != case.id for person in protected):
        raise InvalidInput("Kies de beschermde personen uit het cliëntsysteem van deze casus.", field="protected")
    # Art. 2(1)/(2): the order is imposed on an adult, judged at the moment of imposition (the
    # Dutch calendar day), from the date of birth, not from the age band stored at data entry.
    imposed_on = imposed_at.astimezone(AMSTERDAM).date()
    adult = is_adult_on(removed_person.date_of_birth, imposed_on)
    if adult is None:
        raise InvalidInput("De leeftijd van deze persoon is onbekend. Een huisverbod kan alleen worden opgelegd "
                           "aan een meerderjarige: vul eerst de geboortedatum in bij het cliëntsysteem.",
                           field="removed_person")
    if not adult:
        raise InvalidInput(f"Een huisverbod kan alleen worden opgelegd aan een meerderjarige; deze persoon was "
                           f"op de dag van het opleggen ({imposed_on.strftime('%d-%m-%Y')}) minderjarig.",
                           field="removed_person")
    if not protected:
        raise InvalidInput("Kies minstens één persoon die door het huisverbod wordt beschermd.", field="protected")
    if removed_person in protected:
        raise InvalidInput("De uithuisgeplaatste kan niet ook beschermd persoon zijn.", field="protected")
    if imposed_at > utcnow():
        raise InvalidInput("Het tijdstip van opleggen ligt in de toekomst.", field="imposed_at")
    if not (dwelling or "").strip():
        raise InvalidInput("Vul de woning in waarvoor het huisverbod geldt.", field="dwelling")
    if child_abuse_reason and veilig_thuis_consulted_at is None:
        raise InvalidInput("Bij kindermishandeling wordt Veilig Thuis vóór het opleggen geraadpleegd; "
                           "vul het tijdstip van die raadpleging in.", field="veilig_thuis_consulted_at")
    if veilig_thuis_consulted_at is not None and veilig_thuis_consulted_at > utcnow():
        raise InvalidInput("Het tijdstip van de raadpleging van Veilig Thuis ligt in de toekomst.",
                           field="veilig_thuis_consulted_at")
    if risk_instrument is not None and risk_instrument not in RISK_INSTRUMENTS:
        raise InvalidInput("Kies een risicotaxatie-instrument uit de lijst.", field="risk_instrument")
    if risk_outcome is not None and risk_outcome not in RISK_OUTCOMES:
        raise InvalidInput("Kies een uitkomst van de risicotaxatie uit de lijst.", field="risk_outcome")

    expire_due_orders()
    _check_no_concurrent_order(case, removed_person, imposed_at)

    ends_at = deadlines.initial_end(imposed_at)
    ban = HouseBan(case_id=case.id, municipality_id=(municipality.id if municipality else case.municipality_id),
                   imposed_at=imposed_at, imposed_by=imposed_by, form=form, route=route,
                   removed_person_id=removed_person.id, child_abuse_reason=child_abuse_reason,
                   veilig_thuis_consulted_at=veilig_thuis_consulted_at if child_abuse_reason else None,
                   risk_instrument=risk_instrument, risk_outcome=risk_outcome, status=HouseBanStatus.RUNNING,
                   ends_at=ends_at, casemanagement_until=deadlines.casemanagement_end(imposed_at),
                   recorded_by_id=by.id, recorded_at=utcnow())
    ban.dwelling, ban.facts = dwelling, facts
    if reachability and reachability.strip():
        ban.reachability = reachability
        ban.reachability_stated_at = imposed_at  # stated at once (art. 2(6))
    ban.protected = [HouseBanProtectedPerson(person_id=person.id) for person in protected]
    db.session.add(ban)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # Two requests imposing at once: the partial unique index decides.
        db.session.expunge(ban)
        raise InvalidInput(SECOND_ORDER.format(end="onbekend"), field="removed_person") from None
    record(AuditAction.CREATE, by=by, case_id=case.id, person_id=removed_person.id, object_type="house_ban",
           object_id=ban.id)
    for person in protected:
        record(AuditAction.CREATE, by=by, case_id=case.id, person_id=person.id,
               object_type="house_ban_protected_person", object_id=ban.id)
    _event(ban, HouseBanEventKind.IMPOSED, by=by, occurred_at=imposed_at, decided_by=imposed_by, new_end=ends_at)
    if ban.reachability_stated_at is not None:
        _event(ban, HouseBanEventKind.REACHABILITY_STATED, by=by, occurred_at=imposed_at)
    return ban


# ---------------------------------------------------------------------------------------------
# The mayor's decisions

def extend(ban: HouseBan, *, new_end: datetime, decided_by: ImposedBy, decided_at: datetime, by: User,
           note: str | None = None, expected_version: int | str | None = None) -> HouseBanEvent:
    """Art. 9: the mayor may extend the order to at most four weeks after it was imposed,
    by a decision taken before it runs out.

    What counts is when the mayor decided, not when the coordinator records it: a decision
    taken before the end can be recorded after it (the timeline says it was recorded
    afterwards). An order the clock had already marked as ended is then reopened: the
    ``expired`` event stays in its history and an ``expiry_retracted`` event says why it no
    longer holds. A breach during the extended period can be recorded after that.
    """
    check_version(ban, expected_version)
    if decided_by != ImposedBy.MAYOR:
        raise InvalidTransition(ONLY_MAYOR_EXTENDS, field="decided_by")
    if ban.status not in EXTENDABLE_STATUSES:
        raise InvalidTransition(f"Dit huisverbod loopt niet meer ({ban.status.label.lower()}); verlengen kan "
                                "niet meer.", field="decided_at")
    _moment_between(ban, decided_at, "decided_at", "het besluit tot verlenging")
    if decided_at >= ban.ends_at:
        raise InvalidTransition(f"Het besluit tot verlenging moet vóór het einde van het huisverbod "
                                f"({format_local(ban.ends_at)}) zijn genomen. Na afloop is alleen een nieuw "
                                "huisverbod op nieuwe feiten mogelijk.", field="decided_at")
    latest = deadlines.latest_extended_end(ban.imposed_at)
    if new_end > latest:
        raise InvalidInput(f"Een huisverbod kan worden verlengd tot uiterlijk vier weken (28 dagen) na het "
                           f"opleggen, dus tot uiterlijk {format_local(latest)}.", field="new_end")
    if new_end <= ban.ends_at:
        raise InvalidInput(f"Het nieuwe einde moet na het huidige einde ({format_local(ban.ends_at)}) liggen.",
                           field="new_end")
    now = utcnow()
    old_end = ban.ends_at
    if now >= old_end:
        _check_no_later_order(ban, old_end, new_end)
    reopened = ban.status == HouseBanStatus.EXPIRED
    ban.ends_at = new_end
    ban.extension_decided_at = decided_at
    if new_end <= now:
        # Recorded so late that the extended period is over too: it ended then.
        ban.status, ban.ended_at = HouseBanStatus.EXPIRED, new_end
    else:
        ban.status, ban.ended_at = HouseBanStatus.EXTENDED, None
    if reopened:
        _event(ban, HouseBanEventKind.EXPIRY_RETRACTED, by=by, occurred_at=now,
               note=f"Het besluit tot verlenging van {format_local(decided_at)} viel vóór het einde van "
                    f"{format_local(old_end)}; het huisverbod liep door tot {format_local(new_end)}.")
    event = _event(ban, HouseBanEventKind.EXTENDED, by=by, occurred_at=decided_at, decided_by=decided_by,
                   new_end=new_end, note=note)
    if ban.status == HouseBanStatus.EXPIRED:
        _event(ban, HouseBanEventKind.EXPIRED, by=None, occurred_at=new_end)
    return event


def _check_no_later_order(ban: HouseBan, old_end: datetime, new_end: datetime) -> None:
    """An extension recorded after the end must not overlap an order imposed on the same person
    since then (a new order on new facts)."""
    later = db.session.scalars(
        select(HouseBan).where(HouseBan.id != ban.id,
                               HouseBan.removed_person_id.in_(_same_person_ids(ban.removed_person)),
                               HouseBan.imposed_at >= old_end, HouseBan.imposed_at < new_end)
        .order_by(HouseBan.imposed_at)).first()
    if later is not None:
        raise InvalidTransition(f"Na het einde van dit huisverbod is voor deze persoon een nieuw huisverbod "
                                f"opgelegd ({format_local(later.imposed_at)}). Een verlenging tot "
                                f"{format_local(new_end)} zou daarmee overlappen; kies een eerder einde of "
                                "overleg met de teamleider.", field="new_end")


def decline_extension(ban: HouseBan, *, decided_at: datetime, by: User, note: str | None = None,
                      expected_version: int | str | None = None) -> HouseBanEvent:
    """The mayor decided not to extend: the order ends after its ten days."""
    check_version(ban, expected_version)
    # Like an extension, the decision may be recorded after the end it was taken before.
    if ban.status not in (HouseBanStatus.RUNNING, HouseBanStatus.EXPIRED) or ban.extension_decided_at is not None:
        raise InvalidTransition("Over de verlenging van dit huisverbod is al besloten, of het loopt niet meer.",
                                field="decided_at")
    _moment_between(ban, decided_at, "decided_at", "het besluit")
    if decided_at >= ban.ends_at:
        raise InvalidInput(f"Een besluit over verlenging wordt vóór het einde van het huisverbod "
                           f"({format_local(ban.ends_at)}) genomen.", field="decided_at")
    ban.extension_decided_at = decided_at
    return _event(ban, HouseBanEventKind.NOT_EXTENDED, by=by, occurred_at=decided_at,
                  decided_by=ImposedBy.MAYOR, note=note)


def withdraw(ban: HouseBan, *, decided_by: ImposedBy, withdrawn_at: datetime, by: User, note: str | None = None,
             expected_version: int | str | None = None) -> HouseBanEvent:
    """The mayor withdraws the order (art. 7): it ends at that moment.

    As with an extension, what counts is when the mayor withdrew it, not when the coordinator
    records it: a withdrawal before the end can be recorded after it. An order the clock had
    already marked as ended is then corrected: it ended at the withdrawal, the ``expired`` event
    stays in its history and an ``expiry_retracted`` event says why it no longer holds.
    """
    check_version(ban, expected_version)
    if decided_by != ImposedBy.MAYOR:
        raise InvalidTransition(ONLY_MAYOR_WITHDRAWS, field="decided_by")
    if ban.status not in EXTENDABLE_STATUSES:
        raise InvalidTransition(f"Dit huisverbod loopt niet meer ({ban.status.label.lower()}); intrekken kan "
                                "niet meer.", field="withdrawn_at")
    _moment_between(ban, withdrawn_at, "withdrawn_at", "intrekken")
    if withdrawn_at >= ban.ends_at:
        raise InvalidTransition(f"Het huisverbod was op dat moment al afgelopen ({format_local(ban.ends_at)}); "
                                "intrekken kan alleen vóór het einde.", field="withdrawn_at")
    if ban.extension_decided_at is not None and ban.status == HouseBanStatus.EXTENDED \
            and withdrawn_at < ban.extension_decided_at:
        raise InvalidTransition(f"Het huisverbod is op {format_local(ban.extension_decided_at)} verlengd; een "
                                "intrekking kan niet vóór dat besluit liggen.", field="withdrawn_at")
    later_breach = next((breach for breach in sorted(ban.breaches, key=lambda b: b.occurred_at)
                         if breach.occurred_at >= withdrawn_at), None)
    if later_breach is not None:
        raise InvalidTransition(f"Op {format_local(later_breach.occurred_at)} is een overtreding van dit huisverbod "
                                "vastgelegd; een intrekking vóór dat moment spreekt die tegen. Controleer het "
                                "tijdstip of overleg met de teamleider.", field="withdrawn_at")
    now = utcnow()
    reopened = ban.status == HouseBanStatus.EXPIRED
    ended_before = ban.ended_at or ban.ends_at
    ban.status = HouseBanStatus.WITHDRAWN
    ban.ended_at = withdrawn_at
    if reopened:
        _event(ban, HouseBanEventKind.EXPIRY_RETRACTED, by=by, occurred_at=now,
               note=f"De intrekking van {format_local(withdrawn_at)} viel vóór het einde van "
                    f"{format_local(ended_before)}; het huisverbod eindigde bij de intrekking.")
    event = _event(ban, HouseBanEventKind.WITHDRAWN, by=by, occurred_at=withdrawn_at, decided_by=decided_by,
                   note=note)
    notifications.house_ban_ended(ban)
    return event


# ---------------------------------------------------------------------------------------------
# Facts around the order

def record_written_up(ban: HouseBan, *, written_up_at: datetime, by: User,
                      expected_version: int | str | None = None) -> HouseBanEvent:
    """An order given orally in an emergency is written up afterwards (art. 2(7))."""
    check_version(ban, expected_version)
    if ban.form != OrderForm.ORAL:
        raise InvalidTransition("Dit huisverbod is schriftelijk opgelegd; er is niets op schrift te stellen.",
                                field="written_up_at")
    if ban.written_up_at is not None:
        raise InvalidTransition(f"Dit huisverbod is al op schrift gesteld ({format_local(ban.written_up_at)}).",
                                field="written_up_at")
    _moment_between(ban, written_up_at, "written_up_at", "op schrift stellen")
    ban.written_up_at = written_up_at
    return _event(ban, HouseBanEventKind.WRITTEN_UP, by=by, occurred_at=written_up_at)


def state_reachability(ban: HouseBan, *, reachability: str, stated_at: datetime, by: User,
                       expected_version: int | str | None = None) -> HouseBanEvent:
    """Where the removed person can be reached, due within 24 hours (art. 2(6)). A later
    statement replaces the address; the first time stays, for the deadline."""
    check_version(ban, expected_version)
    if not (reachability or "").strip():
        raise InvalidInput("Vul in waar de uithuisgeplaatste bereikbaar is.", field="reachability")
    _moment_between(ban, stated_at, "stated_at", "opgeven")
    ban.reachability = reachability
    if ban.reachability_stated_at is None or stated_at < ban.reachability_stated_at:
        ban.reachability_stated_at = stated_at
    return _event(ban, HouseBanEventKind.REACHABILITY_STATED, by=by, occurred_at=stated_at)


def file_appeal(ban: HouseBan, *, filed_on: date, provisional_relief: bool, by: User,
                expected_version: int | str | None = None) -> HouseBanAppeal:
    """Appeal to the administrative court, usually with a request for provisional relief."""
    check_version(ban, expected_version)
    if ban.open_appeal is not None:
        raise InvalidTransition("Er loopt al een beroep tegen dit huisverbod; leg eerst de uitspraak vast.",
                                field="filed_on")
    _day_between(ban, filed_on, "filed_on", "het beroep")
    appeal = HouseBanAppeal(house_ban_id=ban.id, filed_on=filed_on, provisional_relief=provisional_relief)
    ban.appeals.append(appeal)
    moment = _start_of_local_day(filed_on)
    _event(ban, HouseBanEventKind.APPEAL_FILED, by=by, occurred_at=max(moment, ban.imposed_at),
           note="Met verzoek om voorlopige voorziening" if provisional_relief else None)
    return appeal


def set_hearing(ban: HouseBan, *, hearing_on: date, by: User,
                expected_version: int | str | None = None) -> HouseBanEvent:
    check_version(ban, expected_version)
    appeal = ban.open_appeal
    if appeal is None:
        raise InvalidTransition("Er loopt geen beroep tegen dit huisverbod; leg eerst het beroep vast.",
                                field="hearing_on")
    if hearing_on < appeal.filed_on:
        raise InvalidInput(f"De zitting ligt vóór de datum van het beroep "
                           f"({appeal.filed_on.strftime('%d-%m-%Y')}).", field="hearing_on")
    appeal.hearing_on = hearing_on
    return _event(ban, HouseBanEventKind.HEARING_SET, by=by, occurred_at=utcnow())


def record_ruling(ban: HouseBan, *, ruling: AppealRuling, ruled_at: datetime, by: User,
                  expected_version: int | str | None = None) -> HouseBanEvent:
    """The court's ruling; when it lifts a running order, the order ends at that moment."""
    check_version(ban, expected_version)
    appeal = ban.open_appeal
    if appeal is None:
        raise InvalidTransition("Er loopt geen beroep tegen dit huisverbod; leg eerst het beroep vast.",
                                field="ruling")
    _moment_between(ban, ruled_at, "ruled_at", "de uitspraak")
    ruled_on = ruled_at.astimezone(AMSTERDAM).date()
    if ruled_on < appeal.filed_on:
        raise InvalidInput(f"De uitspraak ligt vóór de datum van het beroep "
                           f"({appeal.filed_on.strftime('%d-%m-%Y')}).", field="ruled_at")
    appeal.ruling = ruling
    appeal.ruled_on = ruled_on
    # Lifted while it ran (also when the ruling is recorded after the order's own end): it ended then.
    if (ruling == AppealRuling.LIFTED and ban.status in (*RUNNING_STATUSES, HouseBanStatus.EXPIRED)
            and ruled_at < (ban.ended_at or ban.ends_at)):
        ban.status = HouseBanStatus.LIFTED_BY_COURT
        ban.ended_at = ruled_at
    return _event(ban, HouseBanEventKind.RULING, by=by, occurred_at=ruled_at, note=ruling.label)


def record_breach(ban: HouseBan, *, occurred_at: datetime, reported_to_police: bool, notes: str | None,
                  by: User, expected_version: int | str | None = None) -> HouseBanBreach:
    """Breaking the order is a criminal offence; it can only happen while the order runs."""
    check_version(ban, expected_version)
    _moment_between(ban, occurred_at, "occurred_at", "de overtreding")
    end = ban.ended_at or ban.ends_at
    if occurred_at >= end:
        raise InvalidInput(f"Het huisverbod liep op dat moment niet meer (einde {format_local(end)}); "
                           "dit is geen overtreding van het huisverbod.", field="occurred_at")
    breach = HouseBanBreach(house_ban_id=ban.id, occurred_at=occurred_at, reported_to_police=reported_to_police,
                            recorded_by_id=by.id)
    breach.notes = notes
    ban.breaches.append(breach)
    _event(ban, HouseBanEventKind.BREACH, by=by, occurred_at=occurred_at,
           note="Gemeld bij de politie" if reported_to_police else "Niet gemeld bij de politie")
    return breach


def start_casemanagement(ban: HouseBan, *, started_at: datetime, by: User,
                         expected_version: int | str | None = None) -> HouseBanEvent:
    """A casemanager coordinates the case for one year from the order (003:902; domain brief §12).

    The end was fixed when the order was imposed: starting later shortens the year, it does
    not move its end."""
    check_version(ban, expected_version)
    if ban.casemanagement_started_at is not None:
        raise InvalidTransition(f"Het casemanagement is al gestart "
                                f"({format_local(ban.casemanagement_started_at)}).", field="started_at")
    _moment_between(ban, started_at, "started_at", "de start van het casemanagement")
    if started_at.astimezone(AMSTERDAM).date() >= ban.casemanagement_until:
        raise InvalidInput(f"Het casemanagement loopt één jaar vanaf het huisverbod, tot "
                           f"{ban.casemanagement_until.strftime('%d-%m-%Y')}; het kan niet daarna nog starten.",
                           field="started_at")
    ban.casemanagement_started_at = started_at
    return _event(ban, HouseBanEventKind.CASEMANAGEMENT_STARTED, by=by, occurred_at=started_at)


def end_casemanagement(ban: HouseBan, *, ended_at: datetime, by: User, note: str | None = None,
                       expected_version: int | str | None = None) -> HouseBanEvent:
    check_version(ban, expected_version)
    if ban.casemanagement_started_at is None:
        raise InvalidTransition("Het casemanagement is nog niet gestart.", field="ended_at")
    if ban.casemanagement_ended_at is not None:
        raise InvalidTransition(f"Het casemanagement is al beëindigd "
                                f"({format_local(ban.casemanagement_ended_at)}).", field="ended_at")
    if ended_at < ban.casemanagement_started_at:
        raise InvalidInput("Het einde van het casemanagement ligt vóór de start ervan.", field="ended_at")
    _not_in_future(ended_at, "ended_at", "het einde van het casemanagement")
    ban.casemanagement_ended_at = ended_at
    return _event(ban, HouseBanEventKind.CASEMANAGEMENT_ENDED, by=by, occurred_at=ended_at, note=note)


# ---------------------------------------------------------------------------------------------
# The clock

def expire_due_orders(now: datetime | None = None) -> list[int]:
    """Write down that running orders past their end have ended; returns their ids.

    One conditional UPDATE, so two requests doing this at once cannot both expire an order
    (on PostgreSQL the second waits for the row and then no longer matches). The version
    advances, so a form loaded before the end is stale afterwards.
    """
    now = now or utcnow()
    table = HouseBan.__table__
    rows = db.session.execute(
        update(table)
        .where(table.c.status.in_(RUNNING_STATUSES), table.c.ends_at <= now)
        .values(status=HouseBanStatus.EXPIRED, ended_at=table.c.ends_at, updated_at=now,
                version=table.c.version + 1)
        .returning(table.c.id)
    ).scalars().all()
    ended_cases = set()
    for ban_id in rows:
        ban = db.session.get(HouseBan, ban_id)
        db.session.refresh(ban)
        ended_cases.add(ban.case_id)
        _event(ban, HouseBanEventKind.EXPIRED, by=None, occurred_at=ban.ends_at)
        notifications.house_ban_ended(ban)
    # Written past the ORM, so the flush does not see these orders change: their cases' stored next
    # deadline (which counted the running order's deadlines) is recomputed here.
    refresh_next_deadlines(db.session, ended_cases)
    return list(rows)


def _start_of_local_day(day: date) -> datetime:
    return deadlines.local_to_utc(datetime(day.year, day.month, day.day))
