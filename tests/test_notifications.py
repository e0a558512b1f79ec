"""Each event notifies the right people, and only people who may see what it is about."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from mda.accounts.models import Role, User
from mda.db import db
from mda.huisverbod.models import HouseBanRoute, ImposedBy, OrderForm
from mda.huisverbod.operations import expire_due_orders, impose_house_ban
from mda.journal.operations import add_task
from mda.lifecycle.erasure import record_request
from mda.notifications.models import (Delivery, Notification, NotificationKind as Kind, NotificationPreference,
                                      OutboxMessage)
from mda.notifications.operations import save_preferences
from mda.notifications.scans import erasure_deadline, run_scans
from mda.organisations.models import OrganisationKind
from mda.people.models import PersonRole
from mda.people.operations import add_person
from mda.referrals.operations import accept, add_referral_person, decline, save_draft, submit
from mda.safety.operations import agree_safety_plan
from mda.teams.models import TeamMembership, TeamPhase
from mda.teams.operations import add_expert, change_coordinator, end_expert_membership
from mda.timeutil import AMSTERDAM, today, utcnow
from tests import factories as make

Clock = Callable[[datetime], None]


class Office:
    """Everyone who could be notified: a case team, outsiders of every role."""

    def __init__(self) -> None:
        team = make.organisation(OrganisationKind.MDA_TEAM)
        self.vt_org = make.organisation(OrganisationKind.VEILIG_THUIS)
        self.coordinator = make.user(Role.COORDINATOR, org=team)
        self.other_coordinator = make.user(Role.COORDINATOR, org=team)
        self.lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD, org=team)
        self.expert = make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE))
        self.outside_expert = make.user(Role.EXPERT, org=make.organisation(OrganisationKind.MENTAL_HEALTH))
        self.referrer = make.user(Role.VT_REFERRER, org=self.vt_org)
        self.colleague = make.user(Role.VT_REFERRER, org=self.vt_org)
        self.foreign_referrer = make.user(Role.VT_REFERRER)
        self.steering = make.user(Role.STEERING)
        self.admin = make.user(Role.ADMIN)
        self.privacy = make.user(Role.PRIVACY_OFFICER)
        self.case = make.case(self.coordinator)
        add_expert(self.case, self.expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM,
                   by=self.coordinator)
        self.everyone = [self.coordinator, self.other_coordinator, self.lead, self.expert, self.outside_expert,
                         self.referrer, self.colleague, self.foreign_referrer, self.steering, self.admin, self.privacy]


def notified(kind: Kind) -> dict[int, Notification]:
    return {n.recipient_id: n for n in db.session.scalars(select(Notification).where(Notification.kind == kind))}


def outbox_for(user: User) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_id == user.id)))


def referral(office: Office, urgency: str = "urgent"):
    draft = save_draft(None, by=office.referrer, intake_route="actie_overleg",
                       actie_overleg_on=today() - timedelta(days=2), partners_present=["veilig_thuis", "police"],
                       reason="Langdurige regie nodig.", urgency=urgency, violence_forms=["partner_violence"],
                       municipality=make.municipality("Venlo"), current_ave_level=4)
    add_referral_person(draft, by=office.referrer, role="undergoing_violence", name="Dana Meldingtest")
    return draft


@pytest.fixture
def office(ctx: Flask) -> Office:
    return Office()


def test_a_submitted_referral_goes_to_the_team_leads_in_the_digest(office: Office) -> None:
    submit(referral(office), by=office.referrer)
    assert set(notified(Kind.REFERRAL_SUBMITTED)) == {office.lead.id}
    note = notified(Kind.REFERRAL_SUBMITTED)[office.lead.id]
    assert note.digest_pending and note.case_id is None and note.link.startswith("/triage/")
    assert outbox_for(office.lead) == []  # waits for the daily overview


def test_a_crisis_referral_goes_to_the_team_leads_at_once(office: Office) -> None:
    # Even a team lead who chose "not by e-mail" for referrals gets a crisis at once.
    save_preferences(office.lead, email="lead@example.org", digest_hour=7,
                     deliveries={Kind.REFERRAL_CRISIS: Delivery.OFF, Kind.REFERRAL_SUBMITTED: Delivery.OFF},
                     by=office.lead)
    submit(referral(office, urgency="crisis"), by=office.referrer)
    assert set(notified(Kind.REFERRAL_CRISIS)) == {office.lead.id}
    assert not notified(Kind.REFERRAL_SUBMITTED)
    [mail] = outbox_for(office.lead)
    assert "dringend" in mail.subject and "Dana" not in mail.body


def test_the_decision_reaches_the_referrers_organisation_with_the_coordinator_in_the_app_only(
        office: Office) -> None:
    draft = referral(office)
    submit(draft, by=office.referrer)
    accept(draft, by=office.lead, coordinator=office.coordinator, ave_level=4)
    decided = notified(Kind.REFERRAL_DECIDED)
    assert set(decided) == {office.referrer.id, office.colleague.id}
    assert office.coordinator.display_name in decided[office.referrer.id].detail
    for mail in outbox_for(office.referrer):
        assert office.coordinator.display_name not in mail.body + mail.subject
    # The coordinator named by the team lead hears of the new case.
    assert office.coordinator.id in notified(Kind.TEAM_ADDED)


def test_a_declined_referral_reaches_its_organisation(office: Office) -> None:
    draft = referral(office)
    submit(draft, by=office.referrer)
    decline(draft, by=office.lead, reason="Past beter bij het lokale team.")
    assert set(notified(Kind.REFERRAL_DECIDED)) == {office.referrer.id, office.colleague.id}


def test_team_changes_notify_the_member_and_removal_names_no_case(office: Office) -> None:
    assert set(notified(Kind.TEAM_ADDED)) == {office.expert.id}
    added = notified(Kind.TEAM_ADDED)[office.expert.id]
    assert added.case_id == office.case.id and added.case_reference == office.case.reference
    membership = db.session.scalars(select(TeamMembership).where(TeamMembership.user_id == office.expert.id)).one()
    end_expert_membership(membership, by=office.coordinator)
    removed = notified(Kind.TEAM_REMOVED)
    assert set(removed) == {office.expert.id}
    # Once off the team the expert may not see the case: nothing names it.
    assert removed[office.expert.id].case_id is None and removed[office.expert.id].case_reference is None
    assert str(office.case.id) not in removed[office.expert.id].link


def test_a_new_coordinator_is_told_and_the_old_one_is_told_they_left(office: Office) -> None:
    # A handover needs a current safety plan (issue 15).
    agree_safety_plan(office.case, agreed_on=today(), review_on=today() + timedelta(days=42),
                      agreements="Afspraken", agreed_by="Gezin", by=office.coordinator)
    change_coordinator(office.case, office.other_coordinator, by=office.lead)
    assert set(notified(Kind.TEAM_ADDED)) == {office.expert.id, office.other_coordinator.id}
    assert set(notified(Kind.TEAM_REMOVED)) == {office.coordinator.id}


def test_a_task_for_someone_else_notifies_them_only_if_they_may_see_the_case(office: Office) -> None:
    add_task(office.case, description="Bel de school", owner=office.expert, due_on=today(), by=office.coordinator)
    add_task(office.case, description="Eigen taak", owner=office.coordinator, due_on=today(), by=office.coordinator)
    # A coordinator outside the case: the task is refused by nobody, but the notice must not go out.
    add_task(office.case, description="Verkeerde eigenaar", owner=office.other_coordinator, due_on=today(),
             by=office.coordinator)
    assert set(notified(Kind.TASK_ASSIGNED)) == {office.expert.id}


def test_task_due_tomorrow_and_overdue_once_each(office: Office, clock: Clock) -> None:
    add_task(office.case, description="Morgen", owner=office.coordinator, due_on=today() + timedelta(days=1),
             by=office.coordinator)
    add_task(office.case, description="Gisteren", owner=office.expert, due_on=today() - timedelta(days=1),
             by=office.coordinator)
    add_task(office.case, description="Vandaag", owner=office.coordinator, due_on=today(), by=office.coordinator)
    run_scans()
    run_scans()  # a second run (or a second worker) writes nothing new
    assert {(n.recipient_id, n.kind) for n in db.session.scalars(select(Notification).where(
        Notification.kind.in_([Kind.TASK_DUE_TOMORROW, Kind.TASK_OVERDUE])))} == {
        (office.coordinator.id, Kind.TASK_DUE_TOMORROW), (office.expert.id, Kind.TASK_OVERDUE)}


def _impose(office: Office, imposed_at: datetime):
    father = add_person(office.case, role=PersonRole.USING_VIOLENCE, by=office.coordinator, name="Bram Meldingtest",
                        date_of_birth=date(1980, 5, 1))
    mother = add_person(office.case, role=PersonRole.UNDERGOING_VIOLENCE, by=office.coordinator,
                        name="Anna Meldingtest", date_of_birth=date(1982, 7, 2))
    return impose_house_ban(office.case, imposed_at=imposed_at, imposed_by=ImposedBy.MAYOR, form=OrderForm.WRITTEN,
                            route=HouseBanRoute.A_ACUTE_POLICE, removed_person=father, protected_persons=[mother],
                            dwelling="Meldinglaan 1, Venlo", facts="Melding van de politie.", by=office.coordinator)


def test_house_ban_deadlines_reach_the_coordinator_only_once_per_deadline(office: Office, clock: Clock) -> None:
    start = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    clock(start)
    ban = _impose(office, start)
    run_scans()
    assert not notified(Kind.HOUSE_BAN_REACHABILITY_DUE)  # 24 hours away
    clock(start + timedelta(hours=19))
    run_scans()
    run_scans()
    assert set(notified(Kind.HOUSE_BAN_REACHABILITY_DUE)) == {office.coordinator.id}
    # A legal deadline is mailed at once, whatever the coordinator chose.
    assert len(outbox_for(office.coordinator)) == 1
    clock(ban.ends_at - timedelta(days=3))
    run_scans()
    assert set(notified(Kind.HOUSE_BAN_EXTENSION_PENDING)) == {office.coordinator.id}
    assert not notified(Kind.HOUSE_BAN_EXPIRY_NEAR)
    clock(ban.ends_at - timedelta(hours=47))
    run_scans()
    run_scans()
    assert set(notified(Kind.HOUSE_BAN_EXPIRY_NEAR)) == {office.coordinator.id}
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == Kind.HOUSE_BAN_EXPIRY_NEAR)) == 1
    clock(ban.ends_at + timedelta(minutes=1))
    expire_due_orders()
    # The end goes to the team on the case: coordinator and expert, nobody else.
    assert set(notified(Kind.HOUSE_BAN_ENDED)) == {office.coordinator.id, office.expert.id}


def test_safety_plan_evaluation_due_reaches_the_coordinator(office: Office) -> None:
    agree_safety_plan(office.case, agreed_on=today() - timedelta(days=30), review_on=today() + timedelta(days=5),
                      agreements="Afspraken", agreed_by="Gezin", by=office.coordinator)
    run_scans()
    run_scans()
    assert set(notified(Kind.SAFETY_PLAN_REVIEW_DUE)) == {office.coordinator.id}


def test_erasure_request_near_its_legal_deadline_reaches_the_privacy_officer(office: Office, clock: Clock) -> None:
    person = add_person(office.case, role=PersonRole.CHILD, by=office.coordinator, name="Kim Meldingtest")
    received = today() - timedelta(days=10)
    request = record_request(person, received_on=received, by=office.privacy)
    run_scans()
    assert not notified(Kind.ERASURE_DEADLINE)
    clock(datetime.combine(erasure_deadline(received) - timedelta(days=3), datetime.min.time())
          .replace(hour=12, tzinfo=timezone.utc))
    run_scans()
    run_scans()
    [(recipient, note)] = notified(Kind.ERASURE_DEADLINE).items()
    assert recipient == office.privacy.id and note.case_id is None
    assert note.link == f"/privacy/verzoeken/{request.id}"


def test_erasure_deadline_is_one_month_after_receipt() -> None:
    assert erasure_deadline(date(2026, 1, 31)) == date(2026, 2, 28)
    assert erasure_deadline(date(2026, 3, 15)) == date(2026, 4, 15)


def test_nobody_outside_the_case_is_ever_notified_about_it(office: Office, clock: Clock) -> None:
    start = utcnow() - timedelta(hours=20)
    ban = _impose(office, start)
    add_task(office.case, description="x", owner=office.expert, due_on=today() - timedelta(days=2),
             by=office.coordinator)
    agree_safety_plan(office.case, agreed_on=today(), review_on=today() + timedelta(days=1), agreements="a",
                      agreed_by="b", by=office.coordinator)
    run_scans()
    clock(ban.ends_at + timedelta(minutes=1))
    expire_due_orders()
    case_notes = db.session.scalars(select(Notification).where(Notification.case_id == office.case.id)).all()
    assert case_notes
    allowed = {office.coordinator.id, office.expert.id}
    assert {note.recipient_id for note in case_notes} <= allowed


def test_notifications_roll_back_with_their_event(office: Office) -> None:
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(Notification))
    add_task(office.case, description="Teruggedraaid", owner=office.expert, due_on=today(), by=office.coordinator)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before


def test_preferences_decide_between_at_once_digest_and_nothing(office: Office) -> None:
    save_preferences(office.expert, email="expert@example.org", digest_hour=8,
                     deliveries={Kind.TASK_ASSIGNED: Delivery.IMMEDIATE}, by=office.expert)
    before = len(outbox_for(office.expert))  # being added to the team was mailed at once already
    add_task(office.case, description="a", owner=office.expert, due_on=today(), by=office.coordinator)
    assert len(outbox_for(office.expert)) == before + 1
    save_preferences(office.expert, email="expert@example.org", digest_hour=8,
                     deliveries={Kind.TASK_ASSIGNED: Delivery.OFF}, by=office.expert)
    add_task(office.case, description="b", owner=office.expert, due_on=today(), by=office.coordinator)
    assert len(outbox_for(office.expert)) == before + 1
    notes = db.session.scalars(select(Notification).where(Notification.kind == Kind.TASK_ASSIGNED)).all()
    assert len(notes) == 2 and not any(note.digest_pending for note in notes)
    assert db.session.scalar(select(func.count()).select_from(NotificationPreference)) == 1


def test_the_database_decides_a_race_between_two_scans(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers scanning at once both pass the existence check; the unique constraint lets one
    insert win and the other step back without spoiling its transaction."""
    from mda.notifications import operations
    add_task(office.case, description="Morgen", owner=office.coordinator, due_on=today() + timedelta(days=1),
             by=office.coordinator)
    run_scans()
    monkeypatch.setattr(operations, "_exists", lambda *args: False)
    assert run_scans() == 0
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == Kind.TASK_DUE_TOMORROW)) == 1


def test_notifications_and_outbox_hold_no_personal_data(office: Office) -> None:
    marker = "Zwaantje Opslagmarkering"
    add_person(office.case, role=PersonRole.CHILD, by=office.coordinator, name=marker, bsn=make.BSN_C)
    add_task(office.case, description=marker, owner=office.expert, due_on=today(), by=office.coordinator)
    submit(referral(office, urgency="crisis"), by=office.referrer)
    db.session.commit()
    rows = [n.link + (n.detail or "") + (n.case_reference or "") for n in db.session.scalars(select(Notification))]
    rows += [m.subject + m.body for m in db.session.scalars(select(OutboxMessage))]
    assert rows
    for text in rows:
        assert marker not in text and make.BSN_C not in text and "Dana" not in text


def test_access_request_near_its_legal_deadline_reaches_the_privacy_officer(office: Office, clock: Clock) -> None:
    from mda.lifecycle import access_requests
    person = add_person(office.case, role=PersonRole.CHILD, by=office.coordinator, name="Kim Inzagetest")
    received = today() - timedelta(days=10)
    request = access_requests.register(person, received_on=received, by=office.privacy)
    done = access_requests.register(person, received_on=received, by=office.privacy)
    access_requests.complete(done, by=office.privacy)
    run_scans()
    assert not notified(Kind.ACCESS_REQUEST_DEADLINE)

    def noon(day: date) -> datetime:
        return datetime.combine(day, datetime.min.time()).replace(hour=12, tzinfo=timezone.utc)

    first_deadline = request.deadline
    assert first_deadline == access_requests.add_months(received, 1)
    clock(noon(first_deadline - timedelta(days=8)))
    run_scans()
    assert not notified(Kind.ACCESS_REQUEST_DEADLINE)
    clock(noon(first_deadline - timedelta(days=3)))
    run_scans()
    run_scans()
    [(recipient, note)] = notified(Kind.ACCESS_REQUEST_DEADLINE).items()
    assert recipient == office.privacy.id and note.case_id is None and note.case_reference is None
    assert note.subject_id == request.id and note.link == f"/privacy/inzageverzoeken/{request.id}"
    assert note.detail == f"uiterlijk {first_deadline:%d-%m-%Y}" and "Kim" not in (note.detail or "")
    # Extended: the new deadline is a new due moment, notified once when it comes near.
    access_requests.extend(request, reason="Veel stukken bij meerdere partners", by=office.privacy)
    run_scans()
    assert len(notified_all(Kind.ACCESS_REQUEST_DEADLINE)) == 1
    clock(noon(request.deadline - timedelta(days=2)))
    run_scans()
    run_scans()
    notes = notified_all(Kind.ACCESS_REQUEST_DEADLINE)
    assert sorted(n.due_key for n in notes) == sorted([first_deadline.isoformat(), request.deadline.isoformat()])
    assert {n.recipient_id for n in notes} == {office.privacy.id}
    # Completed: no more notifications, even past the deadline.
    access_requests.complete(request, by=office.privacy)
    clock(noon(request.deadline + timedelta(days=5)))
    run_scans()
    assert len(notified_all(Kind.ACCESS_REQUEST_DEADLINE)) == 2


def notified_all(kind: Kind) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind)))


def test_follow_up_due_reaches_whoever_directs_the_closed_case_once_and_nobody_outside(
        office: Office, clock: Clock) -> None:
    from mda.cases.models import ClosureReason
    from mda.cases.operations import close_case
    from mda.journal.models import Task
    from mda.outcomes.models import FamilySafe, FollowUpCheck, SafetyJudgement
    from mda.outcomes.operations import record_follow_up
    make.safe_start(office.case, office.coordinator)
    close_case(office.case, closure_reason=ClosureReason.LASTING_SAFETY, receiving_party=OrganisationKind.LOCAL_TEAM,
               receiving_name="Lokaal team", by=office.coordinator, safety_judgement=SafetyJudgement.LASTING,
               professional_rating=8)
    check = db.session.scalars(select(FollowUpCheck).where(FollowUpCheck.case_id == office.case.id)).one()
    # The follow-up task is (wrongly) given to a coordinator outside the case: they hear nothing of it.
    db.session.execute(Task.__table__.update().where(Task.id == check.task_id)
                       .values(owner_id=office.other_coordinator.id))

    def at(day: date) -> None:
        clock(datetime.combine(day, datetime.min.time()).replace(hour=10, tzinfo=timezone.utc))

    at(check.due_on - timedelta(days=10))
    run_scans()
    assert not notified(Kind.FOLLOW_UP_DUE)
    at(check.due_on - timedelta(days=3))
    run_scans()
    at(check.due_on + timedelta(days=2))   # overdue and still not recorded: not told again
    run_scans()
    [(recipient, note)] = notified(Kind.FOLLOW_UP_DUE).items()
    assert recipient == office.coordinator.id and note.case_id == office.case.id
    assert note.link == f"/casussen/{office.case.id}/fasen" and note.subject_type == "follow_up_check"
    assert note.due_key == check.due_on.isoformat() and note.digest_pending  # the daily overview by default
    record_follow_up(check, family_safe=FamilySafe.YES, new_vt_report=False, new_house_ban=False,
                     new_referral=False, by=office.coordinator, on=today())
    db.session.execute(Notification.__table__.delete().where(Notification.kind == Kind.FOLLOW_UP_DUE))
    run_scans()
    assert not notified(Kind.FOLLOW_UP_DUE)  # recorded: nothing is due any more
