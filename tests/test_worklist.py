"""The start page per role and "Mijn taken", on constructed data: the right items, in order of
urgency, and nothing from a case the user may not see."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from mda.accounts.models import Role, User
from mda.audit.models import AuditAction, AuditEvent
from mda.audit.trail import verify
from mda.cases.models import Case
from mda.db import db
from mda.huisverbod import deadlines
from mda.huisverbod.models import HouseBan, HouseBanRoute, ImposedBy, OrderForm
from mda.journal.models import Task
from mda.journal.operations import add_task
from mda.organisations.models import OrganisationKind
from mda.people.models import PersonRole
from mda.people.operations import add_person
from mda.referrals.models import Referral, ReferralStatus, Urgency
from mda.safety.operations import agree_safety_plan
from mda.teams.models import TeamPhase
from mda.teams.operations import add_expert
from mda.timeutil import today, utcnow
from mda.worklist.queries import NEW, OVERDUE, SOON, THIS_WEEK, start_page_for
from tests import factories as make


@dataclass
class Day:
    coordinator: User
    expert: User
    lead: User
    vt: User
    own: Case          # the coordinator's, with the expert on it
    foreign: Case      # another coordinator's


def _ban(case: Case, by: User, imposed_days_ago: float) -> HouseBan:
    person = add_person(case, role=PersonRole.USING_VIOLENCE, by=by, name="Uit Huis")
    imposed = utcnow() - timedelta(days=imposed_days_ago)
    ban = HouseBan(case_id=case.id, municipality_id=case.municipality_id, imposed_at=imposed,
                   imposed_by=ImposedBy.MAYOR, form=OrderForm.WRITTEN, route=HouseBanRoute.A_ACUTE_POLICE,
                   removed_person_id=person.id, ends_at=deadlines.initial_end(imposed),
                   casemanagement_until=deadlines.casemanagement_end(imposed), recorded_by_id=by.id)
    ban.dwelling = "Dorpsstraat 1"
    db.session.add(ban)
    db.session.flush()
    return ban


def _referral(org_id: int, by: User, urgency: Urgency, submitted_hours_ago: int) -> Referral:
    referral = Referral(organisation_id=org_id, created_by_id=by.id, status=ReferralStatus.SUBMITTED,
                        urgency=urgency, submitted_at=utcnow() - timedelta(hours=submitted_hours_ago))
    db.session.add(referral)
    db.session.flush()
    return referral


@pytest.fixture
def day(app: Flask) -> Iterator[Day]:
    with app.app_context():
        team = make.organisation(OrganisationKind.MDA_TEAM)
        coordinator = make.user(Role.COORDINATOR, org=team)
        other = make.user(Role.COORDINATOR, org=team)
        expert = make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE))
        lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD, org=team)
        vt = make.user(Role.VT_REFERRER)
        own = make.case(coordinator)
        own.family_label = "Gezin Eigen"
        foreign = make.case(other, opened_on=today() - timedelta(days=30))
        foreign.family_label = "Gezin Vreemd"
        add_expert(own, expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=coordinator)
        d = today()
        for title, due in (("Huisbezoek plannen", d - timedelta(days=2)), ("Bel de school", d + timedelta(days=1)),
                           ("Overleg politie", d + timedelta(days=5)), ("Later werk", d + timedelta(days=20))):
            task = add_task(own, description=title, owner=coordinator, due_on=due, by=coordinator)
            if due < d:
                db.session.execute(Task.__table__.update().where(Task.id == task.id).values(due_on=due))
        add_task(own, description="Taak van de expert", owner=expert, due_on=d, by=coordinator)
        # A task in someone else's case, assigned (wrongly) to the coordinator: never shown to them.
        add_task(foreign, description="Vreemde taak", owner=coordinator, due_on=d, by=other)
        agree_safety_plan(own, agreed_on=d - timedelta(days=30), review_on=d + timedelta(days=3),
                          agreements="Afspraken", agreed_by="Gezin", by=coordinator)
        _ban(own, coordinator, imposed_days_ago=9)
        _ban(foreign, other, imposed_days_ago=9.5)
        vt_org = vt.organisation_id
        _referral(vt_org, vt, Urgency.NORMAL, 50)
        _referral(vt_org, vt, Urgency.CRISIS, 1)
        _referral(vt_org, vt, Urgency.URGENT, 5)
        db.session.commit()
        yield Day(coordinator, expert, lead, vt, own, foreign)


def _titles(items) -> list[str]:  # noqa: ANN001
    return [item.title for item in items]


def test_coordinator_sees_own_items_by_urgency_and_nothing_foreign(day: Day, app: Flask) -> None:
    with app.app_context():
        page = start_page_for(db.session.get(User, day.coordinator.id))
        groups = dict(page.groups())
        assert "Huisbezoek plannen" in _titles(groups["Te laat"])
        assert "Bel de school" in _titles(groups["Binnen 48 uur"])
        assert _titles(groups["Deze week"]) == ["Evaluatie veiligheidsplan", "Overleg politie"]
        assert [item.kind for item in groups["Nieuw voor u"]] == ["Nieuwe casus"]
        ban_titles = [item.title for item in page.items if item.kind == "Huisverbod"]
        assert "Huisverbod loopt af" in ban_titles and "Bereikbaarheid uithuisgeplaatste opgeven (24 uur)" in ban_titles
        assert {item.case.id for item in page.items} == {day.own.id}
        titles = _titles(page.items)
        assert "Vreemde taak" not in titles and "Later werk" not in titles and "Taak van de expert" not in titles
        order = [item.group for item in sorted(page.items, key=lambda i: (i.group, i.due))]
        assert order == sorted(order) and order[0] == OVERDUE and order[-1] == NEW
        assert page.triage is None and page.overdue_cases is None and page.decisions is None


def test_expert_sees_own_tasks_and_plan_but_no_huisverbod_deadlines(day: Day, app: Flask) -> None:
    with app.app_context():
        page = start_page_for(db.session.get(User, day.expert.id))
        assert sorted(_titles(page.items)) == sorted(["Taak van de expert", "Evaluatie veiligheidsplan",
                                                      "Aan u toegewezen als expert"])
        assert {item.group for item in page.items} <= {OVERDUE, SOON, THIS_WEEK, NEW}


def test_team_lead_sees_triage_by_urgency_all_deadlines_and_overdue_cases(day: Day, app: Flask) -> None:
    with app.app_context():
        page = start_page_for(db.session.get(User, day.lead.id))
        assert [r.urgency for r in page.triage] == [Urgency.CRISIS, Urgency.URGENT, Urgency.NORMAL]
        assert page.triage_total == 3
        assert {item.case.id for item in page.house_bans} == {day.own.id, day.foreign.id}
        assert [item.due for item in page.house_bans] == sorted(item.due for item in page.house_bans)
        # The own case has an overdue task; the foreign one no safety plan at all.
        assert {row.case.id for row in page.overdue_cases} == {day.own.id, day.foreign.id}
        assert page.overdue_total == 2
        assert page.items == []  # the team lead is on no case


def test_veilig_thuis_sees_decisions_since_the_previous_login_only(day: Day, app: Flask) -> None:
    from mda.referrals.operations import decline
    with app.app_context():
        vt = db.session.get(User, day.vt.id)
        lead = db.session.get(User, day.lead.id)
        referrals = db.session.scalars(select(Referral).where(Referral.organisation_id == vt.organisation_id)
                                       .order_by(Referral.id)).all()
        decline(referrals[0], by=lead, reason="Past niet bij MDA++.")
        referrals[0].decided_at = utcnow() - timedelta(days=3)
        decline(referrals[1], by=lead, reason="Lokaal team kan dit.")
        other_org = make.organisation(OrganisationKind.VEILIG_THUIS)
        foreign = _referral(other_org.id, vt, Urgency.NORMAL, 2)
        decline(foreign, by=lead, reason="Elders.")
        vt.previous_login_at = utcnow() - timedelta(days=1)
        db.session.commit()
        page = start_page_for(vt)
        assert [r.id for r in page.decisions] == [referrals[1].id]
        assert page.items == [] and page.triage is None
        referrals[1].family_label = "Gezin Besloten"
        db.session.commit()
        decided_id = referrals[1].id
    client = app.test_client()
    make.login(client, day.vt)  # this login moves "previous login" to the one set above
    with app.app_context():
        db.session.get(User, day.vt.id).previous_login_at = utcnow() - timedelta(days=1)
        db.session.commit()
        before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    start = client.get("/").get_data(as_text=True)
    assert "Gezin Besloten" in start and "Besluiten over uw verwijzingen" in start
    with app.app_context():
        reads = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before,
                                                            AuditEvent.action == AuditAction.READ)).all()
        assert [(e.object_type, e.object_id) for e in reads] == [("referral", decided_id)]


def test_start_page_and_my_tasks_render_and_audit_the_cases_shown(day: Day, app: Flask) -> None:
    client = app.test_client()
    make.login(client, day.coordinator)
    with app.app_context():
        before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    start = client.get("/").get_data(as_text=True)
    assert "Huisbezoek plannen" in start and "Gezin Eigen" in start
    assert "Vreemde taak" not in start and "Gezin Vreemd" not in start
    assert start.index("Huisbezoek plannen") < start.index("Bel de school") < start.index("Overleg politie")
    tasks = client.get("/mijn-taken").get_data(as_text=True)
    assert all(t in tasks for t in ("Huisbezoek plannen", "Bel de school", "Overleg politie", "Later werk"))
    assert "Vreemde taak" not in tasks and "Taak van de expert" not in tasks
    assert ">Mijn taken <span" in tasks  # the count in the menu
    with app.app_context():
        reads = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before,
                                                            AuditEvent.action == AuditAction.READ)).all()
        assert {(e.detail, e.case_id) for e in reads} == {("startpagina", day.own.id), ("mijn taken", day.own.id)}
        assert verify(db.session).intact


def test_complete_a_task_from_my_tasks_with_version_check(day: Day, app: Flask) -> None:
    client = app.test_client()
    make.login(client, day.coordinator)
    with app.app_context():
        task = db.session.scalars(select(Task).where(Task.description_ciphertext.is_not(None),
                                                     Task.owner_id == day.coordinator.id,
                                                     Task.case_id == day.own.id).order_by(Task.due_on)).first()
        task_id, version = task.id, task.version
        foreign_task = db.session.scalars(select(Task).where(Task.case_id == day.foreign.id)).one().id
    response = client.post(f"/mijn-taken/{task_id}/afronden", data={"version": version})
    assert response.status_code == 302 and response.headers["Location"] == "/mijn-taken"
    again = client.post(f"/mijn-taken/{task_id}/afronden", data={"version": version}, follow_redirects=True)
    assert "intussen door iemand anders gewijzigd" in again.get_data(as_text=True)
    assert client.post(f"/mijn-taken/{foreign_task}/afronden", data={"version": 1}).status_code == 404
    with app.app_context():
        assert db.session.get(Task, task_id).done_at is not None
        assert db.session.get(Task, foreign_task).done_at is None


def _closed_with_follow_up(coordinator: User, due_on, label: str) -> Case:  # noqa: ANN001
    """A case closed with its judgement, whose follow-up check is moved to ``due_on``."""
    from mda.cases.models import ClosureReason
    from mda.cases.operations import close_case
    from mda.outcomes.models import FollowUpCheck, SafetyJudgement
    case = make.case(coordinator, opened_on=today() - timedelta(days=400))
    case.family_label = label
    make.safe_start(case, coordinator)
    close_case(case, closure_reason=ClosureReason.LASTING_SAFETY, receiving_party=OrganisationKind.LOCAL_TEAM,
               receiving_name="Lokaal team", by=coordinator, safety_judgement=SafetyJudgement.LASTING,
               professional_rating=7)
    db.session.execute(FollowUpCheck.__table__.update().where(FollowUpCheck.case_id == case.id)
                       .values(due_on=due_on))
    return case


def test_follow_up_checks_due_reach_the_case_team_only_and_link_to_the_status_tab(day: Day, app: Flask) -> None:
    from mda.outcomes.models import FamilySafe, FollowUpCheck
    from mda.outcomes.operations import record_follow_up
    with app.app_context():
        coordinator, expert = (db.session.get(User, day.coordinator.id), db.session.get(User, day.expert.id))
        other = make.user(Role.COORDINATOR)
        d = today()
        due_soon = _closed_with_follow_up(coordinator, d + timedelta(days=3), "Gezin Nazorg")
        add_expert(due_soon, expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=coordinator)
        overdue = _closed_with_follow_up(coordinator, d - timedelta(days=2), "Gezin Verstreken")
        later = _closed_with_follow_up(coordinator, d + timedelta(days=40), "Gezin Later")
        done = _closed_with_follow_up(coordinator, d - timedelta(days=1), "Gezin Gedaan")
        check = db.session.scalars(select(FollowUpCheck).where(FollowUpCheck.case_id == done.id)).one()
        record_follow_up(check, family_safe=FamilySafe.YES, new_vt_report=False, new_house_ban=False,
                         new_referral=False, by=coordinator, on=d)
        foreign = _closed_with_follow_up(other, d - timedelta(days=5), "Gezin Elders")
        db.session.commit()
        ids = {name: case.id for name, case in (("soon", due_soon), ("overdue", overdue), ("later", later),
                                                ("done", done), ("foreign", foreign))}

        page = start_page_for(db.session.get(User, day.coordinator.id))
        follow_ups = [item for item in page.items if item.kind == "Follow-up"]
        assert [(item.case.id, item.group, item.title) for item in sorted(follow_ups, key=lambda i: i.due)] == [
            (ids["overdue"], OVERDUE, "Follow-up na afsluiting verstreken"),
            (ids["soon"], THIS_WEEK, "Follow-up na afsluiting")]
        assert all(item.endpoint == "cases.track" and item.url_args == {"case_id": item.case.id}
                   for item in follow_ups)
        expert_items = [item for item in start_page_for(db.session.get(User, day.expert.id)).items
                        if item.kind == "Follow-up"]
        assert [item.case.id for item in expert_items] == [ids["soon"]]
        lead_page = start_page_for(db.session.get(User, day.lead.id))
        assert not [item for item in lead_page.items if item.kind == "Follow-up"]

    client = app.test_client()
    make.login(client, day.coordinator)
    start = client.get("/").get_data(as_text=True)
    assert "Gezin Verstreken" in start and "Gezin Nazorg" in start
    assert f"/{ids['overdue']}/fasen" in start and f"/{ids['soon']}/fasen" in start
    assert "Gezin Later" not in start and "Gezin Gedaan" not in start and "Gezin Elders" not in start


def test_header_counts_are_the_users_own_and_read_in_one_query(day: Day, app: Flask) -> None:
    """The header's numbers (open tasks, triage waiting, unread notifications) come from each area
    and are read in one statement on every page."""
    from sqlalchemy import event

    from mda.notifications.models import Notification, NotificationKind
    from mda.notifications.queries import unread_count
    from mda.worklist.queries import header_counts
    with app.app_context():
        db.session.add(Notification(recipient_id=day.coordinator.id, kind=NotificationKind.TEAM_ADDED,
                                    case_id=day.own.id, case_reference=day.own.reference, subject_type="case",
                                    subject_id=day.own.id, link="/", created_at=utcnow()))
        db.session.commit()
        user = db.session.get(User, day.coordinator.id)
        assert user.role_set  # the account and its roles are loaded, as in a request
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            coordinator = header_counts(user)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        # Four open tasks of their own in their own case; the one in a colleague's case is not theirs to see.
        assert coordinator == {"unread": unread_count(day.coordinator), "tasks": 4}
        assert coordinator["unread"] >= 1 and len(statements) == 1
        lead = header_counts(db.session.get(User, day.lead.id))
        assert lead["triage"] == 3 and lead["tasks"] == 0
        assert set(header_counts(db.session.get(User, day.vt.id))) == {"unread"}  # no tasks, no triage
    client = app.test_client()
    make.login(client, day.coordinator)
    page = client.get("/mijn-taken").get_data(as_text=True)
    assert '>Mijn taken <span class="badge text-bg-light">4<' in page
    assert f'{coordinator["unread"]}<span class="visually-hidden"> ongelezen' in page


def test_overdue_cases_are_ordered_by_what_went_overdue_first_with_their_figures(app: Flask) -> None:
    """The team lead's overdue cases: a task past its date, the newest plan past its evaluation (an
    older version's date does not count), or no plan at all; the earliest thing that went overdue
    first (a case without a plan counts from its opening), with the number of late tasks."""
    from mda.cases.queries import cases_with_overdue_work
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        now = today()
        late_task, late_plan, both, no_plan, renewed, fine = (make.case(coordinator, opened_on=now - timedelta(days=60))
                                                              for _ in range(6))
        for case, days in ((late_task, 5), (both, 9), (both, 2)):
            add_task(case, description="Te laat", owner=coordinator, due_on=now - timedelta(days=days),
                     by=coordinator)
        add_task(fine, description="Op tijd", owner=coordinator, due_on=now + timedelta(days=3), by=coordinator)
        plans = ((late_plan, now - timedelta(days=7)), (both, now - timedelta(days=20)),
                 (fine, now + timedelta(days=9)), (late_task, now + timedelta(days=9)),
                 (renewed, now - timedelta(days=30)), (renewed, now + timedelta(days=30)))
        for case, review_on in plans:
            agree_safety_plan(case, agreed_on=now - timedelta(days=40), review_on=review_on, agreements="Afspraken",
                              agreed_by="team", by=coordinator)
        db.session.commit()
        rows, total = cases_with_overdue_work(now)
        assert total == 4
        assert [(row.case.id, row.overdue_tasks, row.oldest_overdue, row.plan_review_on) for row in rows] == [
            (no_plan.id, 0, None, None),                                             # from its opening, 60 days ago
            (both.id, 2, now - timedelta(days=9), now - timedelta(days=20)),         # the plan, 20 days ago
            (late_plan.id, 0, None, now - timedelta(days=7)),
            (late_task.id, 1, now - timedelta(days=5), now + timedelta(days=9))]
        assert cases_with_overdue_work(now, limit=2)[0][1].case.id == both.id
