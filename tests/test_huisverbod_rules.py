"""The rules of the Wet tijdelijk huisverbod as the operations apply them, and the queries
behind the deadlines view and the alerts."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from itertools import count
from typing import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from mda.accounts.models import Role, User
from mda.audit.models import AuditAction, AuditEvent
from mda.cases.models import Case
from mda.db import db
from mda.errors import InvalidInput, InvalidTransition, StaleVersion
from mda.huisverbod import deadlines, operations
from mda.huisverbod.models import (AppealRuling, HouseBan, HouseBanEventKind, HouseBanRoute,
                                   HouseBanStatus, ImposedBy, OrderForm)
from mda.huisverbod.queries import alerts_for_cases, running_orders_for, timeline
from mda.people.models import Person, PersonRole
from mda.people.operations import add_person
from mda.teams.operations import add_expert
from mda.teams.models import TeamPhase
from mda.timeutil import AMSTERDAM
from tests import factories as make

Clock = Callable[[datetime], None]
_families = count(1)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM).astimezone(timezone.utc)


class Family:
    """A case with an adult who uses violence, an adult who undergoes it, and a child."""

    def __init__(self, coordinator: User | None = None, *, bsn: str | None = None) -> None:
        self.coordinator = coordinator or make.user(Role.COORDINATOR)
        self.case: Case = make.case(self.coordinator)
        number = next(_families)  # different people: the blind index would otherwise match them
        self.father: Person = add_person(self.case, role=PersonRole.USING_VIOLENCE, by=self.coordinator,
                                         name=f"Bram Proefpersoon {number}", date_of_birth=date(1980, 5, 1), bsn=bsn)
        self.mother: Person = add_person(self.case, role=PersonRole.UNDERGOING_VIOLENCE, by=self.coordinator,
                                         name=f"Anna Proefpersoon {number}", date_of_birth=date(1982, 7, 2))
        self.child: Person = add_person(self.case, role=PersonRole.CHILD, by=self.coordinator,
                                        name=f"Kim Proefpersoon {number}", date_of_birth=date(2016, 3, 3))

    def impose(self, imposed_at: datetime, *, removed: Person | None = None, imposed_by: ImposedBy = ImposedBy.MAYOR,
               form: OrderForm = OrderForm.WRITTEN, **kwargs: object) -> HouseBan:
        kwargs.setdefault("route", HouseBanRoute.A_ACUTE_POLICE)
        return operations.impose_house_ban(
            self.case, imposed_at=imposed_at, imposed_by=imposed_by, form=form,
            removed_person=removed or self.father, protected_persons=[self.mother, self.child],
            dwelling="Proeflaan 1, Venlo", facts="Melding van de politie.", by=self.coordinator, **kwargs)


@pytest.fixture
def now(clock: Clock) -> datetime:
    moment = local(2026, 3, 24, 10, 0)
    clock(moment)
    return moment


# ---------------------------------------------------------------------------------------------
# Imposing

def test_impose_computes_deadlines_and_writes_history_and_audit(ctx: Flask, now: datetime) -> None:
    family = Family()
    ban = family.impose(local(2026, 3, 24, 9, 15), reachability="Bij zijn broer, Proefstraat 9")
    db.session.commit()
    assert ban.status == HouseBanStatus.RUNNING
    # Across the change to summer time on 29 March: the same local clock time ten days later.
    assert ban.ends_at == local(2026, 4, 3, 9, 15)
    assert ban.casemanagement_until == date(2027, 3, 24)
    assert ban.reachability_stated_at == ban.imposed_at
    assert [event.kind for event in ban.events] == [HouseBanEventKind.IMPOSED,
                                                     HouseBanEventKind.REACHABILITY_STATED]
    assert ban.events[0].decided_by == ImposedBy.MAYOR and ban.events[0].recorded_by_id == family.coordinator.id
    # Encrypted at rest, bound to the row.
    raw = db.session.execute(text("SELECT dwelling_ciphertext, reachability_ciphertext FROM house_bans "
                                  "WHERE id = :id"), {"id": ban.id}).one()
    assert b"Proeflaan" not in raw[0] and b"broer" not in raw[1]
    audits = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type.like("house_ban%"))).all()
    assert {(a.action, a.person_id) for a in audits} >= {
        (AuditAction.CREATE, family.father.id), (AuditAction.CREATE, family.mother.id),
        (AuditAction.CREATE, family.child.id), (AuditAction.CHANGE, family.father.id)}
    assert all(a.case_id == family.case.id for a in audits)


def test_a_mandated_officer_may_impose(ctx: Flask, now: datetime) -> None:
    ban = Family().impose(now - timedelta(hours=1), imposed_by=ImposedBy.MANDATED_OFFICER, form=OrderForm.ORAL)
    assert ban.imposed_by == ImposedBy.MANDATED_OFFICER and ban.status == HouseBanStatus.RUNNING


def test_minor_cannot_be_removed(ctx: Flask, now: datetime) -> None:
    family = Family()
    with pytest.raises(InvalidInput) as refused:
        operations.impose_house_ban(family.case, imposed_at=now, imposed_by=ImposedBy.MAYOR,
                                    form=OrderForm.WRITTEN, route=HouseBanRoute.B_THREAT_VEILIG_THUIS,
                                    removed_person=family.child, protected_persons=[family.mother],
                                    dwelling="Proeflaan 1", facts=None, by=family.coordinator)
    assert refused.value.field == "removed_person" and "meerderjarige" in refused.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(HouseBan)) == 0


def test_person_of_unknown_age_cannot_be_removed(ctx: Flask, now: datetime) -> None:
    family = Family()
    unknown = add_person(family.case, role=PersonRole.USING_VIOLENCE, by=family.coordinator, name="Onbekende Leeftijd")
    with pytest.raises(InvalidInput) as refused:
        family.impose(now, removed=unknown)
    assert refused.value.field == "removed_person" and "onbekend" in refused.value.message


def test_persons_must_come_from_this_case(ctx: Flask, now: datetime) -> None:
    family, other = Family(), Family()
    with pytest.raises(InvalidInput) as refused:
        family.impose(now, removed=other.father)
    assert refused.value.field == "removed_person"
    with pytest.raises(InvalidInput) as refused:
        operations.impose_house_ban(family.case, imposed_at=now, imposed_by=ImposedBy.MAYOR, form=OrderForm.WRITTEN,
                                    route=HouseBanRoute.A_ACUTE_POLICE, removed_person=family.father,
                                    protected_persons=[other.mother], dwelling="x", facts=None, by=family.coordinator)
    assert refused.value.field == "protected"


def test_child_abuse_needs_veilig_thuis_and_future_is_refused(ctx: Flask, now: datetime) -> None:
    family = Family()
    with pytest.raises(InvalidInput) as refused:
        family.impose(now, child_abuse_reason=True)
    assert refused.value.field == "veilig_thuis_consulted_at"
    with pytest.raises(InvalidInput) as refused:
        family.impose(now + timedelta(minutes=1))
    assert refused.value.field == "imposed_at"
    with pytest.raises(InvalidInput) as refused:
        family.impose(now, risk_instrument="Vrije tekst met een naam")
    assert refused.value.field == "risk_instrument"


def test_second_running_order_for_the_same_person_is_refused(ctx: Flask, clock: Clock, now: datetime) -> None:
    family = Family()
    first = family.impose(now - timedelta(days=2))
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        family.impose(now)
    assert refused.value.field == "removed_person" and "loopt al een huisverbod" in refused.value.message
    db.session.rollback()
    # A backdated order that overlaps the running one is concurrent too.
    with pytest.raises(InvalidInput):
        family.impose(now - timedelta(days=5))
    db.session.rollback()
    # After the first has ended, a new order on new facts is possible; the first shows as ended.
    clock(first.ends_at + timedelta(minutes=1))
    second = family.impose(first.ends_at + timedelta(minutes=1))
    db.session.commit()
    db.session.refresh(first)
    assert first.status == HouseBanStatus.EXPIRED and first.ended_at == first.ends_at
    assert second.status == HouseBanStatus.RUNNING


def test_same_person_in_another_case_is_found_through_the_blind_index(ctx: Flask, now: datetime) -> None:
    here, there = Family(bsn=make.BSN_A), Family(bsn=make.BSN_A)
    there.impose(now - timedelta(days=1))
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        here.impose(now)
    assert "andere casus" in refused.value.message
    assert "Proeflaan" not in refused.value.message  # nothing of the other case is shown


def test_database_refuses_a_second_running_order(ctx: Flask, now: datetime) -> None:
    family = Family()
    first = family.impose(now - timedelta(days=1))
    db.session.commit()
    second = HouseBan(case_id=family.case.id, municipality_id=family.case.municipality_id, imposed_at=now,
                      imposed_by=ImposedBy.MAYOR, form=OrderForm.WRITTEN, route=HouseBanRoute.A_ACUTE_POLICE,
                      removed_person_id=first.removed_person_id, ends_at=deadlines.initial_end(now),
                      casemanagement_until=date(2027, 3, 24), recorded_by_id=family.coordinator.id)
    db.session.add(second)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_withdrawn_order_frees_the_person_for_a_new_order(ctx: Flask, now: datetime) -> None:
    family = Family()
    first = family.impose(now - timedelta(days=2))
    operations.withdraw(first, decided_by=ImposedBy.MAYOR, withdrawn_at=now - timedelta(days=1),
                        by=family.coordinator, note="Gevaar geweken")
    second = family.impose(now)
    db.session.commit()
    assert first.status == HouseBanStatus.WITHDRAWN and first.ended_at == now - timedelta(days=1)
    assert second.status == HouseBanStatus.RUNNING


# ---------------------------------------------------------------------------------------------
# Extending and withdrawing

def test_extension_to_exactly_28_days_is_allowed(ctx: Flask, clock: Clock) -> None:
    # Imposed before the change to summer time: 28 days is 671 elapsed hours.
    imposed = local(2026, 3, 20, 10, 0)
    clock(local(2026, 3, 27, 9, 0))
    family = Family()
    ban = family.impose(imposed)
    event = operations.extend(ban, new_end=local(2026, 4, 17, 10, 0), decided_by=ImposedBy.MAYOR,
                              decided_at=local(2026, 3, 27, 8, 45), by=family.coordinator,
                              expected_version=ban.version)
    db.session.commit()
    assert ban.status == HouseBanStatus.EXTENDED and ban.ends_at == local(2026, 4, 17, 10, 0)
    assert ban.extension_decided_at == local(2026, 3, 27, 8, 45)
    assert event.kind == HouseBanEventKind.EXTENDED and event.new_end == ban.ends_at
    assert event.recorded_by_id == family.coordinator.id and event.decided_by == ImposedBy.MAYOR
    assert (ban.ends_at - imposed) == timedelta(hours=28 * 24 - 1)


def test_extension_to_28_days_and_one_minute_is_refused(ctx: Flask, clock: Clock) -> None:
    imposed = local(2026, 3, 20, 10, 0)
    clock(local(2026, 3, 27, 9, 0))
    family = Family()
    ban = family.impose(imposed)
    db.session.commit()
    version, end = ban.version, ban.ends_at
    for too_late in (local(2026, 4, 17, 10, 1),
                     imposed + timedelta(days=28)):  # 672 elapsed hours is 11:00 summer time: too late
        with pytest.raises(InvalidInput) as refused:
            operations.extend(ban, new_end=too_late, decided_by=ImposedBy.MAYOR,
                              decided_at=local(2026, 3, 27, 8, 45), by=family.coordinator)
        assert refused.value.field == "new_end" and "17-04-2026 10:00" in refused.value.message
        db.session.rollback()
    assert ban.ends_at == end and ban.version == version and len(ban.events) == 1


def test_extension_across_the_october_change_uses_the_wall_clock(ctx: Flask, clock: Clock) -> None:
    imposed = local(2026, 10, 10, 10, 0)  # summer time; four weeks later is winter time
    clock(local(2026, 10, 19, 12, 0))
    family = Family()
    ban = family.impose(imposed)
    assert deadlines.latest_extended_end(imposed) - imposed == timedelta(hours=28 * 24 + 1)
    operations.extend(ban, new_end=local(2026, 11, 7, 10, 0), decided_by=ImposedBy.MAYOR,
                      decided_at=local(2026, 10, 19, 11, 0), by=family.coordinator)
    assert ban.ends_at == local(2026, 11, 7, 10, 0)


def test_extension_decided_after_the_end_is_refused(ctx: Flask, clock: Clock) -> None:
    imposed = local(2026, 3, 20, 10, 0)
    clock(local(2026, 3, 22, 10, 0))
    family = Family()
    ban = family.impose(imposed)
    db.session.commit()
    clock(ban.ends_at + timedelta(hours=3))
    for decided in (ban.ends_at, ban.ends_at + timedelta(minutes=30)):  # the very minute it ends, or later
        with pytest.raises(InvalidTransition) as refused:
            operations.extend(ban, new_end=local(2026, 4, 10, 10, 0), decided_by=ImposedBy.MAYOR,
                              decided_at=decided, by=family.coordinator)
        assert refused.value.field == "decided_at" and "vóór het einde van het huisverbod (30-03-2026 10:00)" \
            in refused.value.message
        db.session.rollback()
    assert ban.status == HouseBanStatus.RUNNING and ban.ends_at == local(2026, 3, 30, 10, 0)


# Issue 13 item 10: imposed 04-05-2026 10:00, so it ends 14-05-2026 10:00 unless extended.
IMPOSED_4_MAY = local(2026, 5, 4, 10, 0)


@pytest.mark.parametrize("expired_first", [False, True], ids=["not yet marked ended", "marked ended by the clock"])
def test_a_timely_extension_recorded_after_day_ten_is_accepted_and_so_is_a_breach_after_it(
        ctx: Flask, clock: Clock, expired_first: bool) -> None:
    clock(local(2026, 5, 4, 12, 0))
    family = Family()
    ban = family.impose(IMPOSED_4_MAY)
    db.session.commit()
    assert ban.ends_at == local(2026, 5, 14, 10, 0)
    clock(local(2026, 5, 15, 9, 0))  # the coordinator records it the day after the end
    if expired_first:
        assert operations.expire_due_orders() == [ban.id]
        db.session.commit()
        db.session.refresh(ban)
        assert ban.status == HouseBanStatus.EXPIRED
    operations.extend(ban, new_end=local(2026, 6, 1, 10, 0), decided_by=ImposedBy.MAYOR,
                      decided_at=local(2026, 5, 13, 16, 0), by=family.coordinator, note="Dreiging houdt aan",
                      expected_version=ban.version)
    db.session.commit()
    assert ban.status == HouseBanStatus.EXTENDED and ban.ended_at is None
    assert ban.ends_at == local(2026, 6, 1, 10, 0) and ban.extension_decided_at == local(2026, 5, 13, 16, 0)
    assert ban.is_running_at(local(2026, 5, 15, 9, 0))
    # The breach on the evening of 14-05, during the extended period, recorded afterwards.
    operations.record_breach(ban, occurred_at=local(2026, 5, 14, 22, 0), reported_to_police=True, notes=None,
                             by=family.coordinator)
    db.session.commit()
    assert [b.occurred_at for b in ban.breaches] == [local(2026, 5, 14, 22, 0)]

    kinds = [event.kind for event in sorted(ban.events, key=lambda e: e.id)]
    expected = [HouseBanEventKind.IMPOSED]
    if expired_first:  # the expiry stays in the history, with what took it back
        expected += [HouseBanEventKind.EXPIRED, HouseBanEventKind.EXPIRY_RETRACTED]
    assert kinds == expected + [HouseBanEventKind.EXTENDED, HouseBanEventKind.BREACH]
    items = timeline(ban, local(2026, 5, 15, 9, 0))
    [extended] = [item for item in items if item.label == "Verlengd door de burgemeester"]
    assert extended.when == "13-05-2026 16:00" and extended.extra["recorded"] == "15-05-2026 09:00"
    assert "Achteraf vastgelegd" in extended.note and "14-05-2026 10:00" in extended.note
    if expired_first:
        [expired] = [item for item in items if item.label == "Huisverbod afgelopen"]
        assert "Herzien" in expired.note
        retracted = [e for e in ban.events if e.kind == HouseBanEventKind.EXPIRY_RETRACTED][0]
        assert retracted.recorded_by_id == family.coordinator.id
        assert retracted.occurred_at == local(2026, 5, 15, 9, 0)
        details = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.object_type == "house_ban",
                                                                     AuditEvent.user_id == family.coordinator.id)).all()
        assert "expiry_retracted" in details and "extended" in details
    # And the clock ends it at the new end, once.
    clock(local(2026, 6, 1, 10, 0))
    assert operations.expire_due_orders() == [ban.id]


def test_an_extension_recorded_after_the_extended_period_ended_too_ends_it_then(ctx: Flask, clock: Clock) -> None:
    clock(local(2026, 5, 4, 12, 0))
    family = Family()
    ban = family.impose(IMPOSED_4_MAY)
    db.session.commit()
    clock(local(2026, 5, 25, 9, 0))
    operations.expire_due_orders()
    db.session.refresh(ban)
    operations.extend(ban, new_end=local(2026, 5, 21, 10, 0), decided_by=ImposedBy.MAYOR,
                      decided_at=local(2026, 5, 12, 11, 0), by=family.coordinator)
    db.session.commit()
    assert ban.status == HouseBanStatus.EXPIRED and ban.ended_at == local(2026, 5, 21, 10, 0)
    kinds = [event.kind for event in sorted(ban.events, key=lambda e: e.id)]
    assert kinds == [HouseBanEventKind.IMPOSED, HouseBanEventKind.EXPIRED, HouseBanEventKind.EXPIRY_RETRACTED,
                     HouseBanEventKind.EXTENDED, HouseBanEventKind.EXPIRED]
    assert operations.expire_due_orders() == []
    # A breach within the extended period is accepted, one after it is not.
    operations.record_breach(ban, occurred_at=local(2026, 5, 20, 8, 0), reported_to_police=False, notes=None,
                             by=family.coordinator)
    with pytest.raises(InvalidInput):
        operations.record_breach(ban, occurred_at=local(2026, 5, 21, 10, 0), reported_to_police=False, notes=None,
                                 by=family.coordinator)


def test_a_late_extension_may_not_overlap_a_new_order_and_a_withdrawn_order_stays_ended(ctx: Flask,
                                                                                       clock: Clock) -> None:
    clock(local(2026, 5, 4, 12, 0))
    family = Family()
    ban = family.impose(IMPOSED_4_MAY)
    db.session.commit()
    clock(local(2026, 5, 16, 9, 0))
    operations.expire_due_orders()
    db.session.refresh(ban)
    newer = family.impose(local(2026, 5, 15, 20, 0))  # new facts, after the first one ended
    db.session.commit()
    with pytest.raises(InvalidTransition) as refused:
        operations.extend(ban, new_end=local(2026, 6, 1, 10, 0), decided_by=ImposedBy.MAYOR,
                          decided_at=local(2026, 5, 13, 16, 0), by=family.coordinator)
    assert refused.value.field == "new_end" and "15-05-2026 20:00" in refused.value.message
    db.session.rollback()
    # Up to the new order is fine.
    operations.extend(ban, new_end=local(2026, 5, 15, 20, 0), decided_by=ImposedBy.MAYOR,
                      decided_at=local(2026, 5, 13, 16, 0), by=family.coordinator)
    db.session.commit()
    assert ban.status == HouseBanStatus.EXPIRED and ban.ended_at == local(2026, 5, 15, 20, 0)
    operations.withdraw(newer, decided_by=ImposedBy.MAYOR, withdrawn_at=local(2026, 5, 16, 8, 0),
                        by=family.coordinator)
    with pytest.raises(InvalidTransition) as refused:
        operations.extend(newer, new_end=local(2026, 6, 1, 10, 0), decided_by=ImposedBy.MAYOR,
                          decided_at=local(2026, 5, 16, 7, 0), by=family.coordinator)
    assert "ingetrokken" in refused.value.message


def test_a_withdrawal_recorded_after_the_end_counts_from_when_the_mayor_withdrew(ctx: Flask, clock: Clock) -> None:
    """Issue 13 item 10's defect for withdrawals: the mayor withdrew the order on 10-05, before its
    end on 14-05; the coordinator records it on 16-05, after the clock had marked it as ended."""
    clock(local(2026, 5, 4, 12, 0))
    family = Family()
    ban = family.impose(IMPOSED_4_MAY)
    db.session.commit()
    clock(local(2026, 5, 16, 9, 0))
    assert operations.expire_due_orders() == [ban.id]
    db.session.commit()
    db.session.refresh(ban)
    assert ban.status == HouseBanStatus.EXPIRED and ban.ended_at == local(2026, 5, 14, 10, 0)
    with pytest.raises(InvalidTransition) as refused:  # at or after the end there is nothing to withdraw
        operations.withdraw(ban, decided_by=ImposedBy.MAYOR, withdrawn_at=local(2026, 5, 14, 10, 0),
                            by=family.coordinator)
    assert refused.value.field == "withdrawn_at" and "14-05-2026 10:00" in refused.value.message
    with pytest.raises(InvalidTransition):
        operations.withdraw(ban, decided_by=ImposedBy.MANDATED_OFFICER, withdrawn_at=local(2026, 5, 10, 15, 0),
                            by=family.coordinator)
    db.session.rollback()
    db.session.refresh(ban)
    assert ban.status == HouseBanStatus.EXPIRED

    operations.withdraw(ban, decided_by=ImposedBy.MAYOR, withdrawn_at=local(2026, 5, 10, 15, 0),
                        by=family.coordinator, note="Gevaar geweken", expected_version=ban.version)
    db.session.commit()
    assert ban.status == HouseBanStatus.WITHDRAWN and ban.ended_at == local(2026, 5, 10, 15, 0)
    # It ran until the withdrawal: a breach just before it is one, a breach after it is not (below).
    operations.record_breach(ban, occurred_at=local(2026, 5, 10, 14, 0), reported_to_police=True, notes=None,
                             by=family.coordinator)
    kinds = [event.kind for event in sorted(ban.events, key=lambda e: e.id)]
    assert kinds == [HouseBanEventKind.IMPOSED, HouseBanEventKind.EXPIRED, HouseBanEventKind.EXPIRY_RETRACTED,
                     HouseBanEventKind.WITHDRAWN, HouseBanEventKind.BREACH]
    items = timeline(ban, local(2026, 5, 16, 9, 0))
    [withdrawn] = [item for item in items if item.label == HouseBanEventKind.WITHDRAWN.label]
    assert withdrawn.when == "10-05-2026 15:00" and "Achteraf vastgelegd: ingetrokken" in withdrawn.note
    [expired] = [item for item in items if item.label == HouseBanEventKind.EXPIRED.label]
    assert "Herzien: het huisverbod was vóór dit einde ingetrokken" in expired.note
    details = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.object_type == "house_ban",
                                                                 AuditEvent.user_id == family.coordinator.id)).all()
    assert "expiry_retracted" in details and "withdrawn" in details
    # Ended now: no breach after the withdrawal, no second withdrawal, no extension, no second expiry.
    with pytest.raises(InvalidInput):
        operations.record_breach(ban, occurred_at=local(2026, 5, 12, 8, 0), reported_to_police=False, notes=None,
                                 by=family.coordinator)
    with pytest.raises(InvalidTransition):
        operations.withdraw(ban, decided_by=ImposedBy.MAYOR, withdrawn_at=local(2026, 5, 9, 15, 0),
                            by=family.coordinator)
    with pytest.raises(InvalidTransition):
        operations.extend(ban, new_end=local(2026, 5, 20, 10, 0), decided_by=ImposedBy.MAYOR,
                          decided_at=local(2026, 5, 9, 16, 0), by=family.coordinator)
    assert operations.expire_due_orders() == []


def test_a_withdrawal_may_not_precede_a_recorded_breach_or_the_extension(ctx: Flask, clock: Clock) -> None:
    clock(local(2026, 5, 4, 12, 0))
    family = Family()
    ban = family.impose(IMPOSED_4_MAY)
    clock(local(2026, 5, 12, 9, 0))
    operations.extend(ban, new_end=local(2026, 5, 25, 10, 0), decided_by=ImposedBy.MAYOR,
                      decided_at=local(2026, 5, 11, 16, 0), by=family.coordinator)
    operations.record_breach(ban, occurred_at=local(2026, 5, 11, 21, 0), reported_to_police=True, notes=None,
                             by=family.coordinator)
    db.session.commit()
    for moment, says in ((local(2026, 5, 11, 12, 0), "verlengd"), (local(2026, 5, 11, 18, 0), "11-05-2026 21:00")):
        with pytest.raises(InvalidTransition) as refused:
            operations.withdraw(ban, decided_by=ImposedBy.MAYOR, withdrawn_at=moment, by=family.coordinator)
        assert refused.value.field == "withdrawn_at" and says in refused.value.message
        db.session.rollback()
    db.session.refresh(ban)
    assert ban.status == HouseBanStatus.EXTENDED and ban.ended_at is None
    # Later than both, recorded after the extended end: it ended at the withdrawal.
    clock(local(2026, 5, 26, 9, 0))
    assert operations.expire_due_orders() == [ban.id]
    db.session.commit()
    db.session.refresh(ban)
    operations.withdraw(ban, decided_by=ImposedBy.MAYOR, withdrawn_at=local(2026, 5, 20, 11, 0), by=family.coordinator)
    db.session.commit()
    assert ban.status == HouseBanStatus.WITHDRAWN and ban.ended_at == local(2026, 5, 20, 11, 0)


def test_extension_by_a_mandated_officer_is_refused(ctx: Flask, now: datetime) -> None:
    family = Family()
    ban = family.impose(now - timedelta(days=1), imposed_by=ImposedBy.MANDATED_OFFICER)
    with pytest.raises(InvalidTransition) as refused:
        operations.extend(ban, new_end=deadlines.latest_extended_end(ban.imposed_at),
                          decided_by=ImposedBy.MANDATED_OFFICER, decided_at=now, by=family.coordinator)
    assert refused.value.field == "decided_by" and "Alleen de burgemeester" in refused.value.message
    with pytest.raises(InvalidTransition) as refused:
        operations.withdraw(ban, decided_by=ImposedBy.MANDATED_OFFICER, withdrawn_at=now, by=family.coordinator)
    assert refused.value.field == "decided_by"


def test_extension_must_extend_and_be_decided_in_time(ctx: Flask, now: datetime) -> None:
    family = Family()
    ban = family.impose(now - timedelta(days=1))
    with pytest.raises(InvalidInput) as refused:
        operations.extend(ban, new_end=ban.ends_at, decided_by=ImposedBy.MAYOR, decided_at=now, by=family.coordinator)
    assert refused.value.field == "new_end"
    with pytest.raises(InvalidInput) as refused:
        operations.extend(ban, new_end=ban.ends_at + timedelta(days=5), decided_by=ImposedBy.MAYOR,
                          decided_at=now + timedelta(minutes=5), by=family.coordinator)
    assert refused.value.field == "decided_at"


def test_stale_version_is_refused_and_nothing_changes(ctx: Flask, now: datetime) -> None:
    family = Family()
    ban = family.impose(now - timedelta(days=1))
    db.session.commit()
    seen = ban.version
    operations.state_reachability(ban, reachability="Proefstraat 9", stated_at=now, by=family.coordinator,
                                  expected_version=seen)
    db.session.commit()
    assert ban.version > seen
    with pytest.raises(StaleVersion):
        operations.extend(ban, new_end=ban.ends_at + timedelta(days=3), decided_by=ImposedBy.MAYOR,
                          decided_at=now, by=family.coordinator, expected_version=seen)
    assert ban.status == HouseBanStatus.RUNNING


def test_decline_extension_and_withdraw(ctx: Flask, now: datetime) -> None:
    family = Family()
    ban = family.impose(now - timedelta(days=1))
    operations.decline_extension(ban, decided_at=now, by=family.coordinator)
    assert ban.extension_decided_at == now and ban.status == HouseBanStatus.RUNNING
    with pytest.raises(InvalidTransition):
        operations.decline_extension(ban, decided_at=now, by=family.coordinator)
    operations.withdraw(ban, decided_by=ImposedBy.MAYOR, withdrawn_at=now, by=family.coordinator)
    assert ban.status == HouseBanStatus.WITHDRAWN
    with pytest.raises(InvalidTransition):
        operations.extend(ban, new_end=ban.ends_at + timedelta(days=1), decided_by=ImposedBy.MAYOR,
                          decided_at=now, by=family.coordinator)


# ---------------------------------------------------------------------------------------------
# Appeals, breaches, casemanagement, the clock

def test_appeal_hearing_and_ruling_that_lifts_the_order(ctx: Flask, clock: Clock, now: datetime) -> None:
    family = Family()
    ban = family.impose(now - timedelta(days=2))
    with pytest.raises(InvalidTransition):
        operations.set_hearing(ban, hearing_on=date(2026, 3, 26), by=family.coordinator)
    appeal = operations.file_appeal(ban, filed_on=date(2026, 3, 23), provisional_relief=True, by=family.coordinator)
    with pytest.raises(InvalidTransition):
        operations.file_appeal(ban, filed_on=date(2026, 3, 24), provisional_relief=True, by=family.coordinator)
    operations.set_hearing(ban, hearing_on=date(2026, 3, 26), by=family.coordinator)
    items = {item.label: item for item in timeline(ban, now)}
    assert items["Zitting bij de rechter"].when == "26-03-2026"
    clock(local(2026, 3, 26, 15, 0))
    operations.record_ruling(ban, ruling=AppealRuling.LIFTED, ruled_at=local(2026, 3, 26, 14, 30),
                             by=family.coordinator)
    db.session.commit()
    assert appeal.ruling == AppealRuling.LIFTED and appeal.ruled_on == date(2026, 3, 26)
    assert ban.status == HouseBanStatus.LIFTED_BY_COURT and ban.ended_at == local(2026, 3, 26, 14, 30)
    assert [event.kind for event in ban.events] == [HouseBanEventKind.IMPOSED, HouseBanEventKind.APPEAL_FILED,
                                                     HouseBanEventKind.HEARING_SET, HouseBanEventKind.RULING]


def test_a_ruling_recorded_after_the_end_still_ends_the_order_when_it_was_given(ctx: Flask, clock: Clock,
                                                                              now: datetime) -> None:
    family = Family()
    ban = family.impose(now - timedelta(days=2))
    operations.file_appeal(ban, filed_on=date(2026, 3, 23), provisional_relief=True, by=family.coordinator)
    db.session.commit()
    clock(ban.ends_at + timedelta(days=1))
    operations.expire_due_orders()
    db.session.refresh(ban)
    assert ban.status == HouseBanStatus.EXPIRED
    operations.record_ruling(ban, ruling=AppealRuling.LIFTED, ruled_at=local(2026, 3, 27, 11, 0),
                             by=family.coordinator)
    assert ban.status == HouseBanStatus.LIFTED_BY_COURT and ban.ended_at == local(2026, 3, 27, 11, 0)


def test_breaches_only_while_the_order_runs(ctx: Flask, clock: Clock, now: datetime) -> None:
    family = Family()
    ban = family.impose(now - timedelta(days=2))
    breach = operations.record_breach(ban, occurred_at=now - timedelta(hours=3), reported_to_police=True,
                                      notes="Stond om 07:00 voor de deur", by=family.coordinator)
    db.session.commit()
    raw = db.session.execute(text("SELECT notes_ciphertext FROM house_ban_breaches WHERE id = :id"),
                             {"id": breach.id}).scalar_one()
    assert b"deur" not in raw
    clock(ban.ends_at + timedelta(days=1))
    with pytest.raises(InvalidInput) as refused:
        operations.record_breach(ban, occurred_at=ban.ends_at + timedelta(minutes=1), reported_to_police=True,
                                 notes=None, by=family.coordinator)
    assert refused.value.field == "occurred_at"


def test_oral_order_is_written_up_once(ctx: Flask, now: datetime) -> None:
    family = Family()
    ban = family.impose(now - timedelta(hours=5), form=OrderForm.ORAL, imposed_by=ImposedBy.MANDATED_OFFICER)
    with pytest.raises(InvalidInput):
        operations.record_written_up(ban, written_up_at=now - timedelta(hours=6), by=family.coordinator)
    operations.record_written_up(ban, written_up_at=now - timedelta(hours=1), by=family.coordinator)
    with pytest.raises(InvalidTransition):
        operations.record_written_up(ban, written_up_at=now, by=family.coordinator)


def test_casemanagement_runs_one_year_from_the_order_however_late_it_starts(ctx: Flask, now: datetime) -> None:
    """Issue 13 item 17: recording the start a day later used to move the end to 23-03-2027."""
    family = Family()
    ban = family.impose(now - timedelta(days=2))  # 22-03-2026 10:00
    assert ban.casemanagement_until == date(2027, 3, 22)
    with pytest.raises(InvalidTransition):
        operations.end_casemanagement(ban, ended_at=now, by=family.coordinator)
    operations.start_casemanagement(ban, started_at=now - timedelta(days=1), by=family.coordinator)
    assert ban.casemanagement_until == date(2027, 3, 22)
    items = {item.label: item for item in timeline(ban, now)}
    assert items["Einde casemanagement (één jaar)"].when == "22-03-2027"
    operations.end_casemanagement(ban, ended_at=now, by=family.coordinator, note="Overgedragen aan lokaal team")
    kinds = [event.kind for event in ban.events]
    assert HouseBanEventKind.CASEMANAGEMENT_STARTED in kinds and HouseBanEventKind.CASEMANAGEMENT_ENDED in kinds


def test_orders_past_their_end_expire_once(ctx: Flask, clock: Clock, now: datetime) -> None:
    family = Family()
    ban = family.impose(now - timedelta(days=1))
    db.session.commit()
    version = ban.version
    clock(ban.ends_at - timedelta(minutes=1))
    assert operations.expire_due_orders() == []
    assert ban.status_at(ban.ends_at) == HouseBanStatus.EXPIRED  # shown as ended even before it is written down
    clock(ban.ends_at)
    assert operations.expire_due_orders() == [ban.id]
    assert operations.expire_due_orders() == []
    db.session.commit()
    db.session.refresh(ban)
    assert ban.status == HouseBanStatus.EXPIRED and ban.ended_at == ban.ends_at and ban.version > version
    expired = [event for event in ban.events if event.kind == HouseBanEventKind.EXPIRED]
    assert len(expired) == 1 and expired[0].recorded_by_id is None and expired[0].occurred_at == ban.ends_at
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.detail == "expired")).one()
    assert audit.username == "systeem" and audit.case_id == family.case.id


def test_steering_counts_come_from_plain_columns(ctx: Flask, now: datetime) -> None:
    """Number, route, extension, duration, appeals and breaches are countable without decrypting."""
    family = Family()
    ban = family.impose(now - timedelta(days=2), route=HouseBanRoute.C_STRUCTURAL)
    operations.extend(ban, new_end=ban.ends_at + timedelta(days=4), decided_by=ImposedBy.MAYOR, decided_at=now,
                      by=family.coordinator)
    operations.file_appeal(ban, filed_on=date(2026, 3, 23), provisional_relief=True, by=family.coordinator)
    operations.record_breach(ban, occurred_at=now, reported_to_police=False, notes=None, by=family.coordinator)
    db.session.commit()
    row = db.session.execute(text(
        "SELECT route, imposed_by, status, imposed_at, ends_at, "
        "(SELECT count(*) FROM house_ban_events e WHERE e.house_ban_id = b.id AND e.kind = 'extended' "
        " AND e.decided_by = 'mayor'), "
        "(SELECT count(*) FROM house_ban_appeals a WHERE a.house_ban_id = b.id AND a.provisional_relief), "
        "(SELECT count(*) FROM house_ban_events e WHERE e.house_ban_id = b.id AND e.kind = 'breach') "
        "FROM house_bans b")).one()
    assert row[:3] == ("c", "mayor", "extended") and row[5:] == (1, 1, 1)


# ---------------------------------------------------------------------------------------------
# The deadlines view and the alerts

def test_running_orders_by_time_left_with_the_48_hour_flag(ctx: Flask, clock: Clock, now: datetime) -> None:
    coordinator = make.user(Role.COORDINATOR)
    lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD)
    other_coordinator = make.user(Role.COORDINATOR)
    later = Family(coordinator)
    sooner = Family(coordinator)
    elsewhere = Family(other_coordinator)
    late_ban = later.impose(now - timedelta(days=1))                       # 9 days left
    soon_ban = sooner.impose(now - timedelta(days=8, hours=12))            # 36 hours left
    other_ban = elsewhere.impose(now - timedelta(days=5))                  # 5 days left
    sooner_ended = Family(coordinator)
    ended = sooner_ended.impose(now - timedelta(days=11))                  # already past its end
    expert = make.user(Role.EXPERT)
    add_expert(later.case, expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=coordinator)
    db.session.commit()

    rows = running_orders_for(coordinator)
    assert [row.ban.id for row in rows] == [soon_ban.id, late_ban.id]
    assert [row.expires_soon for row in rows] == [True, False]
    assert all(row.extension_undecided for row in rows)
    assert rows[0].remaining == timedelta(hours=36) and rows[0].remaining_text == "1 dag en 12 uur"
    assert ended.id not in [row.ban.id for row in rows]
    assert [row.ban.id for row in running_orders_for(lead)] == [soon_ban.id, other_ban.id, late_ban.id]
    assert [row.ban.id for row in running_orders_for(other_coordinator)] == [other_ban.id]
    assert running_orders_for(expert) == []


def test_the_alert_reaches_only_the_cases_of_the_coordinator(ctx: Flask, now: datetime) -> None:
    coordinator, other_coordinator = make.user(Role.COORDINATOR), make.user(Role.COORDINATOR)
    expert = make.user(Role.EXPERT)
    family, quiet = Family(coordinator), Family(other_coordinator)
    add_expert(family.case, expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=coordinator)
    family.impose(now - timedelta(days=9))  # one day left
    db.session.commit()
    both = [family.case.id, quiet.case.id]

    alerts = alerts_for_cases(both)
    assert set(alerts) == {family.case.id}
    assert any("binnen 48 uur" in alert for alert in alerts[family.case.id])
    assert any("Verlenging" in alert for alert in alerts[family.case.id])
    # No personal data in an alert.
    assert not any("Proef" in alert for alert in alerts[family.case.id])
    # Per user: the coordinator of the case is alerted; another coordinator and an expert are not.
    assert set(alerts_for_cases(both, for_user=coordinator)) == {family.case.id}
    assert alerts_for_cases(both, for_user=other_coordinator) == {}
    assert alerts_for_cases(both, for_user=expert) == {}
    assert alerts_for_cases([]) == {}


def test_reachability_overdue_after_24_hours(ctx: Flask, clock: Clock, now: datetime) -> None:
    family = Family()
    ban = family.impose(now - timedelta(hours=23, minutes=59))
    db.session.commit()
    assert not any("Bereikbaarheid" in alert for alert in alerts_for_cases([family.case.id]).get(family.case.id, []))
    clock(now + timedelta(minutes=1))
    assert any("Bereikbaarheid" in alert for alert in alerts_for_cases([family.case.id])[family.case.id])
    items = {item.label: item for item in timeline(ban, now + timedelta(minutes=1))}
    assert items["Bereikbaarheid uithuisgeplaatste uiterlijk opgegeven (24 uur)"].state == "overdue"


# ---------------------------------------------------------------------------------------------
# Issue 13 item 11: adulthood at the moment of imposition (art. 2(1), 2(2))

def _person(family: Family, born: date, name: str) -> Person:
    return add_person(family.case, role=PersonRole.USING_VIOLENCE, by=family.coordinator, name=name,
                      date_of_birth=born)


def test_seventeen_at_imposition_is_refused_though_eighteen_when_entered(ctx: Flask, clock: Clock) -> None:
    clock(local(2026, 6, 10, 9, 0))  # entered the day after the 18th birthday
    family = Family()
    young = _person(family, date(2008, 6, 9), "Sem Jonger")
    with pytest.raises(InvalidInput) as refused:
        family.impose(local(2026, 6, 7, 10, 0), removed=young)  # aged 17 that day
    assert refused.value.field == "removed_person"
    assert "minderjarig" in refused.value.message and "07-06-2026" in refused.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(HouseBan)) == 0


def test_entered_at_seventeen_and_eighteen_at_imposition_is_accepted(ctx: Flask, clock: Clock) -> None:
    clock(local(2026, 3, 10, 9, 0))  # entered in March, aged 17
    family = Family()
    person = _person(family, date(2008, 5, 1), "Sem Ouder")
    db.session.commit()
    clock(local(2026, 6, 8, 9, 0))
    ban = family.impose(local(2026, 6, 7, 10, 0), removed=person)  # 18 since 1 May
    assert ban.status == HouseBanStatus.RUNNING


def test_the_eighteenth_birthday_itself_counts_as_adult(ctx: Flask, clock: Clock) -> None:
    clock(local(2026, 6, 9, 12, 0))
    family = Family()
    person = _person(family, date(2008, 6, 9), "Sem Jarig")
    # 00:30 on the birthday, Dutch time (22:30 UTC the day before): already 18.
    assert family.impose(local(2026, 6, 9, 0, 30), removed=person).status == HouseBanStatus.RUNNING


def test_casemanagement_cannot_start_after_its_year(ctx: Flask, clock: Clock) -> None:
    imposed = local(2026, 3, 22, 10, 0)
    clock(local(2026, 3, 23, 10, 0))
    family = Family()
    ban = family.impose(imposed)
    db.session.commit()
    clock(local(2027, 4, 1, 10, 0))
    with pytest.raises(InvalidInput) as refused:
        operations.start_casemanagement(ban, started_at=local(2027, 3, 22, 9, 0), by=family.coordinator)
    assert refused.value.field == "started_at" and "22-03-2027" in refused.value.message
    operations.start_casemanagement(ban, started_at=local(2027, 3, 21, 23, 0), by=family.coordinator)
    assert ban.casemanagement_until == date(2027, 3, 22)
