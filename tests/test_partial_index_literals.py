"""No statement compares ``team_memberships.team_role`` with a bound parameter (issue 19).

The partial index ``uq_team_memberships_one_coordinator`` holds ``WHERE team_role = 'coordinator'``.
SQLite decides whether a query may use it by looking at the bound value of ``team_role = ?``, and
a statement that looked is prepared again every time it runs with a new binding: the caseload's
statements were parsed anew on every request (about 6% of the page). ``TeamMembership.role_is``
writes the role into the SQL instead; this test catches a comparison that binds it again."""
from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import event

from mda.accounts.models import Role
from mda.db import db
from tests import factories as make

BOUND_TEAM_ROLE = re.compile(r"team_role\s*(=|!=|<>)\s*(\?|%\(|\$\d|:)", re.IGNORECASE)


def test_pages_write_the_team_role_into_their_sql(app: Flask) -> None:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        lead = make.user(Role.TEAM_LEAD)
        case = make.case(coordinator)
        db.session.commit()
        case_id = case.id
        engine = db.engine
    statements: list[str] = []

    def _keep(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _keep)
    try:
        browser = app.test_client()
        make.login(browser, coordinator)
        for path in ("/", "/casussen/", "/casussen/?sorteer=coordinator", f"/casussen/{case_id}", "/mijn-taken"):
            assert browser.get(path).status_code == 200, path
        lead_browser = app.test_client()
        make.login(lead_browser, lead)
        for path in ("/casussen/?alle=y", "/casussen/?alle=y&sorteer=coordinator"):
            assert lead_browser.get(path).status_code == 200, path
    finally:
        event.remove(engine, "before_cursor_execute", _keep)
    asking = [statement for statement in statements if "team_role" in statement]
    assert any("team_role = 'coordinator'" in statement for statement in asking)
    bound = [statement for statement in asking if BOUND_TEAM_ROLE.search(statement)]
    assert bound == [], bound[0] if bound else None
