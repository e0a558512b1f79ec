"""The stored next deadline (mda.cases.deadlines) follows tasks and safety plans and orders the caseload."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mda.accounts.models import Role, User
from mda.cases.deadlines import next_deadline_expression
from mda.cases.models import Case
from mda.db import db
from mda.journal.models import Task
from mda.journal.operations import add_task, complete_task
from mda.safety.operations import agree_safety_plan
from mda.timeutil import today
from tests import factories as make


@pytest.fixture
def coordinator(app) -> User:  # noqa: ANN001
    with app.app_context():
        account = make.user(Role.COORDINATOR)
        db.session.commit()
    return account


def _stored_and_live() -> dict[int, tuple]:
    cases = Case.__table__
    return {row.id: (row.next_deadline, row.live) for row in db.session.execute(
        select(cases.c.id, cases.c.next_deadline, next_deadline_expression().label("live")))}


def _assert_consistent() -> None:
    for case_id, (stored, live) in _stored_and_live().items():
        assert stored == live, (case_id, stored, live)


def _order(client, *references: str) -> list[str]:  # noqa: ANN001
    page = client.get("/casussen/").get_data(as_text=True)
    return sorted(references, key=page.index)


def test_next_deadline_follows_tasks_and_plans_and_sorts_the_caseload(app, client, coordinator) -> None:
    day = today()
    with app.app_context():
        by = db.session.get(User, coordinator.id)
        planned, tasked, empty = make.case(by), make.case(by), make.case(by)
        db.session.commit()
        _assert_consistent()
        assert {_stored_and_live()[c.id][0] for c in (planned, tasked, empty)} == {None}
        agree_safety_plan(planned, agreed_on=day, review_on=day + timedelta(days=10), agreements="Afspraak",
                          agreed_by="Gezin", by=by)
        add_task(tasked, description="Bellen", owner=by, due_on=day + timedelta(days=3), by=by)
        add_task(tasked, description="Later", owner=by, due_on=day + timedelta(days=20), by=by)
        db.session.commit()
        _assert_consistent()
        assert _stored_and_live()[tasked.id][0] == day + timedelta(days=3)
        references = planned.reference, tasked.reference, empty.reference
    make.login(client, coordinator)
    assert _order(client, *references) == [references[1], references[0], references[2]]

    with app.app_context():
        by = db.session.get(User, coordinator.id)
        first = db.session.scalars(select(Task).where(Task.case_id == tasked.id).order_by(Task.due_on)).first()
        complete_task(first, by=by, expected_version=first.version)
        db.session.commit()
        _assert_consistent()
        assert _stored_and_live()[tasked.id][0] == day + timedelta(days=20)
        # A newer plan version counts, even with a later review date than the previous one.
        agree_safety_plan(db.session.get(Case, planned.id), agreed_on=day, review_on=day + timedelta(days=30),
                          agreements="Nieuwe afspraak", agreed_by="Gezin", by=by)
        agree_safety_plan(db.session.get(Case, empty.id), agreed_on=day, review_on=day + timedelta(days=1),
                          agreements="Afspraak", agreed_by="Gezin", by=by)
        db.session.commit()
        _assert_consistent()
        assert _stored_and_live()[planned.id][0] == day + timedelta(days=30)
    assert _order(client, *references) == [references[2], references[1], references[0]]


def test_a_running_huisverbods_deadline_counts_in_the_caseloads_order_until_the_order_ends(app, client,
                                                                                            coordinator) -> None:
    """The caseload shows a case's nearest deadline including its huisverbod's (the extension decision,
    reachability, the end): sorting by deadline must put it where it shows, not after the others."""
    from mda.cases.deadlines import lower_to_other_deadlines
    from mda.huisverbod.operations import expire_due_orders
    from mda.timeutil import utcnow
    from tests.test_worklist import _ban
    day = today()
    with app.app_context():
        by = db.session.get(User, coordinator.id)
        tasked, banned = make.case(by), make.case(by)
        add_task(tasked, description="Bellen", owner=by, due_on=day + timedelta(days=2), by=by)
        add_task(banned, description="Later", owner=by, due_on=day + timedelta(days=20), by=by)
        ban = _ban(banned, by, imposed_days_ago=0.5)  # reachability due within 24 hours of the order
        db.session.commit()
        stored = {row.id: row.next_deadline for row in db.session.execute(select(Case.__table__))}
        assert stored[banned.id] <= day + timedelta(days=1) < stored[tasked.id]
        references = tasked.reference, banned.reference
        # An installation that stored its deadlines before orders counted is brought in line by the worker.
        db.session.execute(Case.__table__.update().where(Case.id == banned.id)
                           .values(next_deadline=day + timedelta(days=20)))
        assert lower_to_other_deadlines(db.session) == 1 and lower_to_other_deadlines(db.session) == 0
        db.session.commit()
    make.login(client, coordinator)
    page = client.get("/casussen/").get_data(as_text=True)
    assert _order(client, *references) == [references[1], references[0]]
    assert "Bereikbaarheid uithuisgeplaatste" in page
    with app.app_context():
        # The order ends: its deadlines no longer count.
        expire_due_orders(now=utcnow() + timedelta(days=30))
        db.session.commit()
        stored = {row.id: row.next_deadline for row in db.session.execute(select(Case.__table__))}
        assert stored[banned.id] == day + timedelta(days=20)
        assert ban.id
    assert _order(client, *references) == [references[0], references[1]]
