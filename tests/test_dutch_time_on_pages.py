"""Every page shows Dutch time (Europe/Amsterdam), never "UTC".

The stale-form refusal on the phase and AVE tab once said "Laatste wijziging: ..., 10:00 UTC"
where every other page said 12:00. Instants on pages and in messages go through one formatter
(``mda.timeutil.format_moment``); these tests render the pages and read their visible text.
"""
from __future__ import annotations

from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from flask import Flask

from mda.accounts.models import Role, User
from mda.cases.models import Case
from mda.db import db
from tests import factories as make
from tests.test_access_matrix import ROLES, ROUTES, World, _client_for, world  # noqa: F401 - the fixture

Clock = Callable[[datetime], None]
SUMMER_MORNING = datetime(2026, 6, 1, 10, 0, tzinfo=timezone.utc)   # 12:00 on the Dutch wall clock


class _VisibleText(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:  # noqa: ANN001
        if tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def test_format_moment_is_the_dutch_wall_clock() -> None:
    from mda.timeutil import format_moment
    assert format_moment(SUMMER_MORNING) == "01-06-2026 12:00"
    assert format_moment(datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)) == "01-12-2026 11:00"
    assert format_moment(SUMMER_MORNING, with_time=False) == "01-06-2026"
    assert format_moment(None) == "—"
    with pytest.raises(ValueError):
        format_moment(datetime(2026, 6, 1, 10, 0))


@pytest.mark.parametrize("path, data", [
    ("/fase", {"phase": "stabiele_veiligheid", "reason": ""}),
    ("/ave", {"ave_level": "4", "reason": "Samenwerking stokt"}),
])
def test_stale_form_on_the_phase_and_ave_tab_shows_dutch_time(app: Flask, clock: Clock, path: str,
                                                              data: dict[str, str]) -> None:
    clock(SUMMER_MORNING)
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        coordinator.display_name = "Cora Klokvoorbeeld"
        case = make.case(coordinator, ave_level=3)
        db.session.commit()
        case_id, seen, user_id = case.id, case.version, coordinator.id
    client = app.test_client()
    with app.app_context():
        assert make.login(client, db.session.get(User, user_id)).status_code == 302
    # Someone else changes the AVE level first, at 10:00 UTC = 12:00 in Amsterdam.
    assert client.post(f"/casussen/{case_id}/ave", data={"ave_level": "2", "reason": "Afschalen",
                                                        "version": str(seen)}).status_code == 302
    refused = client.post(f"/casussen/{case_id}/{path.strip('/')}", data={**data, "version": str(seen)})
    assert refused.status_code == 422
    text = visible_text(refused.get_data(as_text=True))
    assert "Laatste wijziging: Cora Klokvoorbeeld, 01-06-2026 12:00." in text
    assert "UTC" not in text
    with app.app_context():
        assert db.session.get(Case, case_id).ave_level == 2  # the stale form changed nothing


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_no_page_in_the_access_matrix_says_utc(app: Flask, world: World, role: str) -> None:  # noqa: F811
    client = _client_for(app, world, role)
    offenders = []
    for endpoint, routes in ROUTES.items():
        for route in routes:
            with client.open(route.url(world), method=route.method) as response:
                if not response.mimetype == "text/html" or route.method == "HEAD":
                    continue
                if "UTC" in visible_text(response.get_data(as_text=True)):
                    offenders.append(f"{route.method} {route.url(world)} ({endpoint})")
    assert not offenders, "pages showing UTC: " + ", ".join(offenders)


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31), timezones=st.just(timezone.utc)))
def test_format_moment_writes_what_strftime_would(moment: datetime) -> None:
    """format_moment builds its text directly (strftime was a noticeable part of a long page);
    it stays the Dutch notation on the Dutch wall clock, across every change of summer time."""
    from mda.timeutil import AMSTERDAM, format_moment
    local = moment.astimezone(AMSTERDAM)
    assert format_moment(moment) == local.strftime("%d-%m-%Y %H:%M")
    assert format_moment(moment, with_time=False) == local.strftime("%d-%m-%Y")
