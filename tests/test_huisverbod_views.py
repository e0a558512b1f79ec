"""Huisverboden through the web: imposing through the form, the event forms, refusals with
Dutch messages that save nothing, stale forms, the deadlines view and the alerts."""
from __future__ import annotations

import re

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from mda.accounts.models import Role, User
from mda.audit.models import AuditAction, AuditEvent
from mda.db import db
from mda.huisverbod import operations
from mda.huisverbod.models import HouseBan, HouseBanEvent, HouseBanRoute, HouseBanStatus, ImposedBy, OrderForm
from mda.people.models import PersonRole
from mda.people.operations import add_person
from mda.timeutil import AMSTERDAM
from tests import factories as make

Clock = Callable[[datetime], None]
NOW = datetime(2026, 3, 24, 10, 0, tzinfo=AMSTERDAM).astimezone(timezone.utc)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM).astimezone(timezone.utc)


@dataclass
class Setting:
    coordinator_id: int
    case_id: int
    municipality_id: int
    father_id: int
    mother_id: int
    child_id: int


def _family(coordinator: User, suffix: str) -> Setting:
    case = make.case(coordinator)
    father = add_person(case, role=PersonRole.USING_VIOLENCE, by=coordinator, name=f"Bram Webvoorbeeld{suffix}",
                        date_of_birth=date(1979, 1, 1))
    mother = add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator,
                        name=f"Anna Webvoorbeeld{suffix}", date_of_birth=date(1981, 2, 2))
    child = add_person(case, role=PersonRole.CHILD, by=coordinator, name=f"Kim Webvoorbeeld{suffix}",
                       date_of_birth=date(2018, 3, 3))
    return Setting(coordinator.id, case.id, case.municipality_id, father.id, mother.id, child.id)


@pytest.fixture
def setting(app: Flask, clock: Clock) -> Setting:
    clock(NOW)
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        result = _family(coordinator, "")
        db.session.commit()
        return result


def _login(app: Flask, user_id: int) -> FlaskClient:
    client = app.test_client()
    with app.app_context():
        account = db.session.get(User, user_id)
        response = make.login(client, account)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    return client


def _impose_data(s: Setting, **overrides: Any) -> dict[str, Any]:
    data = {"imposed_at": "2026-03-24T09:15", "imposed_by": "mayor", "order_form": "written",
            "municipality": str(s.municipality_id), "route": "b", "removed_person": str(s.father_id),
            "protected": [str(s.mother_id), str(s.child_id)], "dwelling": "Webstraat 12, Venlo",
            "facts": "Ernstige dreiging gemeld bij Veilig Thuis.", "reachability": "",
            "veilig_thuis_consulted_at": "", "risk_instrument": "RiHG", "risk_outcome": "Huisverbod geïndiceerd"}
    data.update(overrides)
    return data


def _bans(app: Flask) -> list[HouseBan]:
    with app.app_context():
        return list(db.session.scalars(select(HouseBan).order_by(HouseBan.id)))


def _impose_directly(app: Flask, s: Setting, imposed_at: datetime, **kwargs: Any) -> int:
    with app.app_context():
        from mda.cases.models import Case
        from mda.people.models import Person
        case = db.session.get(Case, s.case_id)
        ban = operations.impose_house_ban(
            case, imposed_at=imposed_at, imposed_by=kwargs.pop("imposed_by", ImposedBy.MAYOR),
            form=OrderForm.WRITTEN, route=HouseBanRoute.A_ACUTE_POLICE,
            removed_person=db.session.get(Person, s.father_id),
            protected_persons=[db.session.get(Person, s.mother_id)], dwelling="Webstraat 12, Venlo", facts=None,
            by=db.session.get(User, s.coordinator_id), **kwargs)
        db.session.commit()
        return ban.id


# ---------------------------------------------------------------------------------------------
# Imposing through the form

def test_impose_through_the_form_and_see_the_timeline(app: Flask, setting: Setting) -> None:
    client = _login(app, setting.coordinator_id)
    form_page = client.get(f"/casussen/{setting.case_id}/huisverboden/nieuw")
    body = form_page.get_data(as_text=True)
    assert form_page.status_code == 200 and 'type="datetime-local"' in body and "Bram Webvoorbeeld" in body
    response = client.post(f"/casussen/{setting.case_id}/huisverboden/nieuw", data=_impose_data(setting))
    assert response.status_code == 302
    [ban] = _bans(app)
    assert ban.imposed_at == local(2026, 3, 24, 9, 15) and ban.ends_at == local(2026, 4, 3, 9, 15)
    assert ban.route == HouseBanRoute.B_THREAT_VEILIG_THUIS and ban.risk_instrument == "RiHG"
    page = client.get(response.headers["Location"])
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "24-03-2026 09:15" in body and "03-04-2026 09:15" in body          # 10 days, same clock time
    assert "21-04-2026 09:15" in body                                         # 28 days
    assert "25-03-2026 09:15" in body                                         # reachability within 24 hours
    assert "Webstraat 12, Venlo" in body and "Anna Webvoorbeeld" in body
    assert "Verlenging huisverbod: nog geen besluit" in body
    assert 'style="' not in body and "<script" not in body.split("</nav>", 1)[1].split("</main>", 1)[0]
    with app.app_context():
        reads = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.READ,
                                                            AuditEvent.object_type.like("house_ban%"))).all()
    assert {read.person_id for read in reads} == {setting.father_id, setting.mother_id, setting.child_id}


def test_a_minor_as_removed_person_is_refused_with_a_dutch_message(app: Flask, setting: Setting) -> None:
    client = _login(app, setting.coordinator_id)
    response = client.post(f"/casussen/{setting.case_id}/huisverboden/nieuw",
                           data=_impose_data(setting, removed_person=str(setting.child_id),
                                             protected=[str(setting.mother_id)]))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Een huisverbod kan alleen worden opgelegd aan een meerderjarige" in body
    assert 'id="removed_person-fout"' in body and 'aria-invalid="true"' in body
    assert _bans(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HouseBanEvent)) == 0


def test_a_person_from_another_case_cannot_be_chosen(app: Flask, setting: Setting) -> None:
    with app.app_context():
        other = _family(make.user(Role.COORDINATOR), " Elders")
        db.session.commit()
    client = _login(app, setting.coordinator_id)
    response = client.post(f"/casussen/{setting.case_id}/huisverboden/nieuw",
                           data=_impose_data(setting, removed_person=str(other.father_id)))
    assert response.status_code == 200 and "cliëntsysteem van deze casus" in response.get_data(as_text=True)
    response = client.post(f"/casussen/{setting.case_id}/huisverboden/nieuw",
                           data=_impose_data(setting, protected=[str(other.mother_id)]))
    assert response.status_code == 200 and "Elders" not in response.get_data(as_text=True)
    assert _bans(app) == []


def test_a_second_running_order_is_refused_in_the_form(app: Flask, setting: Setting) -> None:
    _impose_directly(app, setting, NOW - timedelta(days=1))
    client = _login(app, setting.coordinator_id)
    response = client.post(f"/casussen/{setting.case_id}/huisverboden/nieuw", data=_impose_data(setting))
    assert response.status_code == 200
    assert "Voor deze persoon loopt al een huisverbod" in response.get_data(as_text=True)
    assert len(_bans(app)) == 1


def test_nonexistent_summer_time_and_empty_fields_get_dutch_messages(app: Flask, setting: Setting) -> None:
    client = _login(app, setting.coordinator_id)
    response = client.post(f"/casussen/{setting.case_id}/huisverboden/nieuw",
                           data=_impose_data(setting, imposed_at="2026-03-29T02:30"))
    assert "Dit tijdstip bestaat niet" in response.get_data(as_text=True)
    response = client.post(f"/casussen/{setting.case_id}/huisverboden/nieuw", data={})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    for message in ("Vul het tijdstip van opleggen in.", "Kies de uithuisgeplaatste.",
                    "Kies minstens één beschermde persoon.", "Vul de woning in."):
        assert message in body
    assert _bans(app) == []


# ---------------------------------------------------------------------------------------------
# The event forms

def _event_url(s: Setting, ban_id: int, name: str) -> str:
    return f"/casussen/{s.case_id}/huisverboden/{ban_id}/{name}"


def _prefixed(ban_id: int, name: str, **fields: Any) -> dict[str, Any]:
    return {f"hv{ban_id}-{name}-{key}": value for key, value in fields.items()}


def _version(app: Flask, ban_id: int) -> int:
    with app.app_context():
        return db.session.get(HouseBan, ban_id).version


def test_extend_through_the_form(app: Flask, setting: Setting) -> None:
    ban_id = _impose_directly(app, setting, local(2026, 3, 20, 10, 0))
    client = _login(app, setting.coordinator_id)
    page = client.get(f"/casussen/{setting.case_id}/huisverboden").get_data(as_text=True)
    assert f'name="hv{ban_id}-verlengen-new_end"' in page and 'value="2026-04-17T10:00"' in page
    response = client.post(_event_url(setting, ban_id, "verlengen"), data=_prefixed(
        ban_id, "verlengen", version=_version(app, ban_id), decided_by="mayor", decided_at="2026-03-24T09:30",
        new_end="2026-04-17T10:00", note="Dreiging houdt aan"))
    assert response.status_code == 302
    [ban] = _bans(app)
    assert ban.status == HouseBanStatus.EXTENDED and ban.ends_at == local(2026, 4, 17, 10, 0)
    body = client.get(f"/casussen/{setting.case_id}/huisverboden").get_data(as_text=True)
    assert "Verlengd door de burgemeester" in body and "17-04-2026 10:00" in body and "Dreiging houdt aan" in body


@pytest.mark.parametrize("fields, message", [
    ({"decided_by": "mandated_officer", "new_end": "2026-04-10T10:00"}, "Alleen de burgemeester kan een huisverbod verlengen"),
    ({"decided_by": "mayor", "new_end": "2026-04-17T10:01"}, "tot uiterlijk 17-04-2026 10:00"),
])
def test_refused_extensions_show_dutch_errors_and_save_nothing(app: Flask, setting: Setting,
                                                               fields: dict[str, str], message: str) -> None:
    ban_id = _impose_directly(app, setting, local(2026, 3, 20, 10, 0))
    version = _version(app, ban_id)
    client = _login(app, setting.coordinator_id)
    response = client.post(_event_url(setting, ban_id, "verlengen"), data=_prefixed(
        ban_id, "verlengen", version=version, decided_at="2026-03-24T09:30", **fields))
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and message in body and "invalid-feedback" in body
    assert re.search(r'<details class="border rounded px-3 py-2 mb-2" id="[^"]+" open>', body)  # stays open
    [ban] = _bans(app)
    assert ban.status == HouseBanStatus.RUNNING and ban.ends_at == local(2026, 3, 30, 10, 0)
    assert ban.version == version
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HouseBanEvent)) == 1  # only "imposed"
        # The page with personal data was still audited, though the operation was rolled back.
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == AuditAction.READ, AuditEvent.object_type == "house_ban")) == 1


def test_extension_decided_after_expiry_is_refused_in_the_form(app: Flask, setting: Setting, clock: Clock) -> None:
    ban_id = _impose_directly(app, setting, local(2026, 3, 20, 10, 0))
    version = _version(app, ban_id)
    clock(local(2026, 3, 30, 11, 0))
    client = _login(app, setting.coordinator_id)
    response = client.post(_event_url(setting, ban_id, "verlengen"), data=_prefixed(
        ban_id, "verlengen", version=version, decided_by="mayor", decided_at="2026-03-30T10:30",
        new_end="2026-04-10T10:00"))
    assert response.status_code == 200
    assert "vóór het einde van het huisverbod (30-03-2026 10:00)" in response.get_data(as_text=True)
    [ban] = _bans(app)
    assert ban.ends_at == local(2026, 3, 30, 10, 0) and ban.extension_decided_at is None


def test_issue_13_timely_extension_recorded_on_15_may_then_a_breach_on_14_may(app: Flask, setting: Setting,
                                                                              clock: Clock) -> None:
    """Imposed 04-05-2026 10:00; on 15-05 the coordinator records the mayor's extension decided
    on 13-05, then a breach on 14-05 22:00. Both are accepted; the page says it was recorded late."""
    clock(local(2026, 5, 4, 11, 0))
    ban_id = _impose_directly(app, setting, local(2026, 5, 4, 10, 0))
    clock(local(2026, 5, 15, 9, 0))
    client = _login(app, setting.coordinator_id)
    page = client.get(f"/casussen/{setting.case_id}/huisverboden").get_data(as_text=True)  # marks it ended
    assert f'name="hv{ban_id}-verlengen-new_end"' in page  # the form is still offered
    response = client.post(_event_url(setting, ban_id, "verlengen"), data=_prefixed(
        ban_id, "verlengen", version=_version(app, ban_id), decided_by="mayor", decided_at="2026-05-13T16:00",
        new_end="2026-06-01T10:00", note=""))
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post(_event_url(setting, ban_id, "overtreding"), data=_prefixed(
        ban_id, "overtreding", version=_version(app, ban_id), occurred_at="2026-05-14T22:00",
        reported_to_police="y", notes=""))
    assert response.status_code == 302, response.get_data(as_text=True)
    [ban] = _bans(app)
    assert ban.status == HouseBanStatus.EXTENDED and ban.ends_at == local(2026, 6, 1, 10, 0)
    body = client.get(f"/casussen/{setting.case_id}/huisverboden").get_data(as_text=True)
    assert "Achteraf vastgelegd" in body and "Afloop herzien" in body and "14-05-2026 22:00" in body
    assert "loopt tot <strong>01-06-2026 10:00</strong>" in body


def test_a_withdrawal_recorded_after_the_end_is_offered_and_accepted(app: Flask, setting: Setting,
                                                                     clock: Clock) -> None:
    """The mayor withdrew the order on 10-05; the coordinator records it on 16-05, when the page
    had already marked the order as ended (14-05 10:00)."""
    clock(local(2026, 5, 4, 11, 0))
    ban_id = _impose_directly(app, setting, local(2026, 5, 4, 10, 0))
    clock(local(2026, 5, 16, 9, 0))
    client = _login(app, setting.coordinator_id)
    page = client.get(f"/casussen/{setting.case_id}/huisverboden").get_data(as_text=True)  # marks it ended
    assert f'name="hv{ban_id}-intrekken-withdrawn_at"' in page  # the form is still offered
    assert _bans(app)[0].status == HouseBanStatus.EXPIRED
    response = client.post(_event_url(setting, ban_id, "intrekken"), data=_prefixed(
        ban_id, "intrekken", version=_version(app, ban_id), decided_by="mayor", withdrawn_at="2026-05-14T10:30",
        note=""))
    assert response.status_code == 200 and "al afgelopen (14-05-2026 10:00)" in response.get_data(as_text=True)
    assert _bans(app)[0].status == HouseBanStatus.EXPIRED
    response = client.post(_event_url(setting, ban_id, "intrekken"), data=_prefixed(
        ban_id, "intrekken", version=_version(app, ban_id), decided_by="mayor", withdrawn_at="2026-05-10T15:00",
        note=""))
    assert response.status_code == 302, response.get_data(as_text=True)
    [ban] = _bans(app)
    assert ban.status == HouseBanStatus.WITHDRAWN and ban.ended_at == local(2026, 5, 10, 15, 0)
    body = client.get(f"/casussen/{setting.case_id}/huisverboden").get_data(as_text=True)
    assert "Achteraf vastgelegd: ingetrokken" in body and "Afloop herzien" in body
    assert f'name="hv{ban_id}-intrekken-withdrawn_at"' not in body  # withdrawn: nothing more to withdraw


def test_a_stale_form_is_refused_and_shows_both_versions(app: Flask, setting: Setting) -> None:
    ban_id = _impose_directly(app, setting, NOW - timedelta(days=1))
    seen = _version(app, ban_id)
    client = _login(app, setting.coordinator_id)
    # Someone else records the reachability in the meantime.
    response = client.post(_event_url(setting, ban_id, "bereikbaarheid"), data=_prefixed(
        ban_id, "bereikbaarheid", version=seen, reachability="Bij zijn moeder, Webpad 1",
        stated_at="2026-03-24T08:00"))
    assert response.status_code == 302
    response = client.post(_event_url(setting, ban_id, "intrekken"), data=_prefixed(
        ban_id, "intrekken", version=seen, decided_by="mayor", withdrawn_at="2026-03-24T09:00",
        note="Gevaar geweken"))
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "intussen door iemand anders gewijzigd" in body
    assert "Gevaar geweken" in body and "Bij zijn moeder, Webpad 1" in body   # what was typed, and what is stored
    current = _version(app, ban_id)
    assert f'name="hv{ban_id}-intrekken-version" type="hidden" value="{current}"' in body
    [ban] = _bans(app)
    assert ban.status == HouseBanStatus.RUNNING and ban.ended_at is None
    with app.app_context():
        kinds = [e.kind.value for e in db.session.scalars(select(HouseBanEvent).order_by(HouseBanEvent.id))]
        assert kinds == ["imposed", "reachability_stated"]
        # The conflict page shows personal data: its read is audited although the request rolled back.
        reads = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.READ,
                                                            AuditEvent.object_type == "house_ban")).all()
        assert len(reads) == 1


def test_a_form_without_its_version_is_refused(app: Flask, setting: Setting) -> None:
    ban_id = _impose_directly(app, setting, NOW - timedelta(days=1))
    client = _login(app, setting.coordinator_id)
    response = client.post(_event_url(setting, ban_id, "intrekken"), data=_prefixed(
        ban_id, "intrekken", decided_by="mayor", withdrawn_at="2026-03-24T09:00"))
    assert response.status_code == 200 and "Het formulier is onvolledig" in response.get_data(as_text=True)
    assert _bans(app)[0].status == HouseBanStatus.RUNNING


def test_a_ban_of_another_case_answers_404(app: Flask, setting: Setting) -> None:
    ban_id = _impose_directly(app, setting, NOW - timedelta(days=1))
    with app.app_context():
        coordinator = db.session.get(User, setting.coordinator_id)
        second_case = make.case(coordinator)
        db.session.commit()
        second_case_id = second_case.id
    client = _login(app, setting.coordinator_id)
    response = client.post(f"/casussen/{second_case_id}/huisverboden/{ban_id}/intrekken", data=_prefixed(
        ban_id, "intrekken", version=_version(app, ban_id), decided_by="mayor", withdrawn_at="2026-03-24T09:00"))
    assert response.status_code == 404
    assert _bans(app)[0].status == HouseBanStatus.RUNNING


def test_team_lead_sees_the_tab_without_forms(app: Flask, setting: Setting) -> None:
    ban_id = _impose_directly(app, setting, NOW - timedelta(days=1))
    with app.app_context():
        lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD)
        db.session.commit()
        lead_id = lead.id
    client = _login(app, lead_id)
    body = client.get(f"/casussen/{setting.case_id}/huisverboden").get_data(as_text=True)
    assert "Tijdlijn" in body and "Verlenging vastleggen" not in body and "Huisverbod vastleggen" not in body
    response = client.post(_event_url(setting, ban_id, "intrekken"), data={})
    assert response.status_code == 404


def test_appeal_ruling_and_breach_through_the_forms(app: Flask, setting: Setting, clock: Clock) -> None:
    ban_id = _impose_directly(app, setting, NOW - timedelta(days=2))
    client = _login(app, setting.coordinator_id)
    assert client.post(_event_url(setting, ban_id, "beroep"), data=_prefixed(
        ban_id, "beroep", version=_version(app, ban_id), filed_on="2026-03-23",
        provisional_relief="y")).status_code == 302
    assert client.post(_event_url(setting, ban_id, "zitting"), data=_prefixed(
        ban_id, "zitting", version=_version(app, ban_id), hearing_on="2026-03-26")).status_code == 302
    assert client.post(_event_url(setting, ban_id, "overtreding"), data=_prefixed(
        ban_id, "overtreding", version=_version(app, ban_id), occurred_at="2026-03-24T07:00",
        reported_to_police="y", notes="Aan de deur")).status_code == 302
    assert client.post(_event_url(setting, ban_id, "uitspraak"), data=_prefixed(
        ban_id, "uitspraak", version=_version(app, ban_id), ruling="upheld",
        ruled_at="2026-03-24T09:00")).status_code == 302
    body = client.get(f"/casussen/{setting.case_id}/huisverboden").get_data(as_text=True)
    for text in ("Beroep ingesteld", "Zitting bij de rechter", "26-03-2026", "Overtreding van het huisverbod",
                 "Aan de deur", "Huisverbod blijft in stand", "voorlopige voorziening"):
        assert text in body, text


# ---------------------------------------------------------------------------------------------
# The deadlines view and the alerts

def test_overview_orders_by_urgency_and_flags_48_hours(app: Flask, setting: Setting) -> None:
    with app.app_context():
        coordinator = db.session.get(User, setting.coordinator_id)
        second = _family(coordinator, " Twee")
        other_coordinator = make.user(Role.COORDINATOR)
        foreign = _family(other_coordinator, " Drie")
        lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD)
        db.session.commit()
        other_id, lead_id = other_coordinator.id, lead.id
    stated = {"reachability": "Webpad 2"}  # so only the time left makes an order urgent here
    _impose_directly(app, setting, NOW - timedelta(days=1), **stated)             # 9 days left
    _impose_directly(app, second, NOW - timedelta(days=9, hours=1), **stated)     # 23 hours left
    _impose_directly(app, foreign, NOW - timedelta(days=4), **stated)             # 6 days left
    with app.app_context():
        from mda.cases.models import Case
        references = {s.case_id: db.session.get(Case, s.case_id).reference for s in (setting, second, foreign)}

    body = _login(app, setting.coordinator_id).get("/huisverboden").get_data(as_text=True)
    assert body.index(references[second.case_id]) < body.index(references[setting.case_id])
    assert references[foreign.case_id] not in body
    assert "Direct aandacht nodig" in body and "Huisverbod loopt af binnen 48 uur (25-03-2026 09:00)" in body
    # Time left is elapsed time: the night to summer time (29 March) is an hour short.
    assert "<strong>23 uur</strong>" in body and "8 dagen en 23 uur" in body
    assert "Webvoorbeeld" not in body and "Webstraat" not in body                 # no names, no addresses
    assert 'class="table-danger"' in body

    lead_body = _login(app, lead_id).get("/huisverboden").get_data(as_text=True)
    positions = [lead_body.index(references[s.case_id]) for s in (second, foreign, setting)]
    assert positions == sorted(positions)
    other_body = _login(app, other_id).get("/huisverboden").get_data(as_text=True)
    assert references[foreign.case_id] in other_body and references[second.case_id] not in other_body
    assert "Direct aandacht nodig" not in other_body


def test_the_alert_reaches_the_caseload_of_that_coordinator_only(app: Flask, setting: Setting) -> None:
    with app.app_context():
        other_coordinator = make.user(Role.COORDINATOR)
        _family(other_coordinator, " Vier")
        db.session.commit()
        other_id = other_coordinator.id
    _impose_directly(app, setting, NOW - timedelta(days=9))                       # one day left
    alert = "Huisverbod loopt af binnen 48 uur"
    mine = _login(app, setting.coordinator_id)
    assert alert in mine.get("/casussen/").get_data(as_text=True)
    assert alert in mine.get(f"/casussen/{setting.case_id}").get_data(as_text=True)
    assert alert not in _login(app, other_id).get("/casussen/").get_data(as_text=True)


def test_menu_entry_for_coordinators_only(app: Flask, setting: Setting) -> None:
    with app.app_context():
        expert = make.user(Role.EXPERT)
        db.session.commit()
        expert_id = expert.id
    assert 'href="/huisverboden"' in _login(app, setting.coordinator_id).get("/").get_data(as_text=True)
    assert 'href="/huisverboden"' not in _login(app, expert_id).get("/").get_data(as_text=True)


def test_event_forms_carry_their_csrf_token(app: Flask, setting: Setting, keys: dict[str, Any],
                                             instance_dir: Any) -> None:
    """Several prefixed forms share the case page; each carries a token the CSRF check accepts."""
    import re

    from tests.conftest import build_app
    ban_id = _impose_directly(app, setting, NOW - timedelta(days=1))
    signed_in = _login(app, setting.coordinator_id)
    guarded = build_app(app.config["DATABASE_URL"], keys, instance_dir, WTF_CSRF_ENABLED=True)
    client = guarded.test_client()
    cookie = signed_in.get_cookie("session")
    client.set_cookie(cookie.key, cookie.value)
    try:
        page = client.get(f"/casussen/{setting.case_id}/huisverboden").get_data(as_text=True)
        token = re.search(rf'name="hv{ban_id}-bereikbaarheid-csrf_token" type="hidden" value="([^"]+)"', page)
        assert token is not None
        data = _prefixed(ban_id, "bereikbaarheid", version=_version(app, ban_id), reachability="Webpad 3",
                         stated_at="2026-03-24T08:00")
        assert client.post(_event_url(setting, ban_id, "bereikbaarheid"), data=data).status_code == 400
        data[f"hv{ban_id}-bereikbaarheid-csrf_token"] = token.group(1)
        assert client.post(_event_url(setting, ban_id, "bereikbaarheid"), data=data).status_code == 302
    finally:
        with guarded.app_context():
            db.dispose()
