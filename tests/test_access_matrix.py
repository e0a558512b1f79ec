"""Every route, requested by every role and anonymously, answers exactly what the policy allows.

A route that is not listed in ROUTES makes the test fail: adding a page means deciding here
who may reach it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mda.accounts.models import Role, User
from mda.cases.models import Case
from mda.db import db
from mda.organisations.models import OrganisationKind
from mda.people.models import PersonRole
from mda.people.operations import add_person
from mda.referrals.models import Referral, ReferralStatus
from mda.teams.models import TeamPhase
from mda.teams.operations import add_expert, end_expert_membership
from tests import factories as make

ROLES = ["anonymous", "coordinator", "team_lead", "expert", "vt_referrer", "steering", "admin", "privacy"]
SIGNED_IN = frozenset(ROLES) - {"anonymous"}

# Values that identify a family; none may reach a page the steering group can open.
PERSON_NAME, PERSON_BSN, PERSON_ADDRESS = "Anna Matrixvoorbeeld", make.BSN_A, "Matrixlaan 3, Venlo"
OTHER_NAME = "Bram Anderezaak"


@dataclass
class World:
    users: dict[str, User]
    own_case: Case       # the coordinator's and the expert's case
    other_case: Case     # nobody's but the team lead's to see
    other_coordinator: User
    own_referral: Referral
    foreign_referral: Referral


@pytest.fixture
def world(app: Flask) -> Iterator[World]:
    with app.app_context():
        team_org = make.organisation(OrganisationKind.MDA_TEAM)
        vt_org = make.organisation(OrganisationKind.VEILIG_THUIS)
        users = {
            "coordinator": make.user(Role.COORDINATOR, org=team_org),
            "team_lead": make.user(Role.COORDINATOR, Role.TEAM_LEAD, org=team_org),
            "expert": make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE)),
            "vt_referrer": make.user(Role.VT_REFERRER, org=vt_org),
            "steering": make.user(Role.STEERING, org=make.organisation(OrganisationKind.STEERING_GROUP)),
            "admin": make.user(Role.ADMIN),
            "privacy": make.user(Role.PRIVACY_OFFICER),
        }
        other_coordinator = make.user(Role.COORDINATOR, org=team_org)
        own_case = make.case(users["coordinator"])
        other_case = make.case(other_coordinator)
        add_expert(own_case, users["expert"], discipline_code="judicial", team_phase=TeamPhase.BASISTEAM,
                   by=users["coordinator"])
        add_person(own_case, role=PersonRole.UNDERGOING_VIOLENCE, by=users["coordinator"], name=PERSON_NAME,
                   bsn=PERSON_BSN, address=PERSON_ADDRESS)
        add_person(other_case, role=PersonRole.USING_VIOLENCE, by=other_coordinator, name=OTHER_NAME)
        own_referral = _referral(vt_org.id, users["vt_referrer"].id)
        foreign_referral = _referral(make.organisation(OrganisationKind.VEILIG_THUIS).id, users["vt_referrer"].id)
        db.session.commit()
        yield World(users, own_case, other_case, other_coordinator, own_referral, foreign_referral)


def _referral(organisation_id: int, created_by_id: int) -> Referral:
    referral = Referral(organisation_id=organisation_id, created_by_id=created_by_id,
                        status=ReferralStatus.SUBMITTED)
    db.session.add(referral)
    db.session.flush()
    return referral


@dataclass(frozen=True)
class Route:
    method: str
    url: Callable[[World], str]
    allowed: frozenset[str]
    denied_status: int = 403   # 404 where the route names an object the user may not see
    public: bool = False


def only(*roles: str) -> frozenset[str]:
    return frozenset(roles)


ROUTES: dict[str, list[Route]] = {
    # Public routes: reachable by all; without a password step first the code and enrolment
    # pages send everyone back to the login page, and a signed-in user goes on to the start page.
    "static": [Route("GET", lambda w: "/static/style.css", frozenset(ROLES), public=True)],
    "bootstrap.static": [Route("GET", lambda w: "/bootstrap/static/css/bootstrap.min.css", frozenset(ROLES),
                               public=True)],
    "auth.login": [Route("GET", lambda w: "/inloggen", frozenset(ROLES), public=True)],
    "auth.second_factor": [Route("GET", lambda w: "/inloggen/code", frozenset(ROLES), public=True)],
    "auth.enrol": [Route("GET", lambda w: "/inloggen/koppelen", frozenset(ROLES), public=True)],
    "home.index": [Route("GET", lambda w: "/", SIGNED_IN)],
    "cases.index": [Route("GET", lambda w: "/casussen/", only("coordinator", "team_lead", "expert")),
                    Route("GET", lambda w: "/casussen/?alle=1", only("coordinator", "team_lead", "expert"))],
    "cases.detail": [
        Route("GET", lambda w: f"/casussen/{w.own_case.id}", only("coordinator", "team_lead", "expert"), 404),
        Route("GET", lambda w: f"/casussen/{w.other_case.id}", only("team_lead"), 404),
        Route("GET", lambda w: "/casussen/999999", only(), 404),
    ],
    "audit.search": [Route("GET", lambda w: "/audit/", only("privacy"))],
    "audit.export": [Route("GET", lambda w: "/audit/export.csv", only("privacy"))],
    "admin_users.index": [Route("GET", lambda w: "/beheer/gebruikers/", only("admin"))],
    "admin_users.create": [Route("GET", lambda w: "/beheer/gebruikers/nieuw", only("admin")),
                           Route("POST", lambda w: "/beheer/gebruikers/nieuw", only("admin"))],
    "admin_users.edit": [Route("GET", lambda w: f"/beheer/gebruikers/{w.other_coordinator.id}", only("admin")),
                         Route("POST", lambda w: f"/beheer/gebruikers/{w.other_coordinator.id}", only("admin"))],
    "admin_users.set_active": [Route("POST", lambda w: f"/beheer/gebruikers/{w.other_coordinator.id}/actief",
                                     only("admin"))],
    "admin_users.reset_mfa": [Route("POST", lambda w: f"/beheer/gebruikers/{w.other_coordinator.id}/mfa-herstellen",
                                    only("admin"))],
    "admin_users.reset_password": [Route("POST",
                                         lambda w: f"/beheer/gebruikers/{w.other_coordinator.id}/wachtwoord",
                                         only("admin"))],
    # Last, because it ends the session of the client that walks the matrix.
    "auth.logout": [Route("POST", lambda w: "/uitloggen", frozenset(ROLES), public=True)],
}


def test_every_route_has_an_entry(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(ROUTES), ("routes missing from the matrix: "
                                      f"{sorted(endpoints - set(ROUTES))}; stale entries: "
                                      f"{sorted(set(ROUTES) - endpoints)}")


def _client_for(app: Flask, world: World, role: str) -> FlaskClient:
    client = app.test_client()
    if role != "anonymous":
        response = make.login(client, world.users[role])
        assert response.status_code == 302 and response.headers["Location"] == "/", role
    return client


@pytest.mark.parametrize("role", ROLES)
def test_role_by_route_matrix(app: Flask, world: World, role: str) -> None:
    client = _client_for(app, world, role)
    failures = []
    for endpoint, routes in ROUTES.items():
        for route in routes:
            url = route.url(world)
            response = client.open(url, method=route.method)
            response.close()  # static files are streamed from an open file
            status = response.status_code
            if route.public:
                ok = status in (200, 302)
            elif role == "anonymous":
                ok = status == 302 and response.headers["Location"] == "/inloggen"
            elif role in route.allowed:
                ok = status in (200, 302) and response.headers.get("Location") != "/inloggen"
            else:
                ok = status == route.denied_status
            if not ok:
                failures.append(f"{role} {route.method} {url} ({endpoint}) -> {status}")
    assert not failures, "\n".join(failures)


def test_steering_never_sees_identifying_data(app: Flask, world: World) -> None:
    client = _client_for(app, world, "steering")
    identifying = [PERSON_NAME, PERSON_BSN, PERSON_ADDRESS, OTHER_NAME, world.own_case.reference,
                   world.other_case.reference]
    for endpoint, routes in ROUTES.items():
        for route in routes:
            if route.method != "GET":
                continue
            with client.get(route.url(world)) as response:
                body = response.get_data(as_text=True)
            for value in identifying:
                assert value not in body, f"{value!r} shown to the steering group on {endpoint}"


def test_expert_removed_from_case_loses_access_at_once(app: Flask, world: World) -> None:
    client = _client_for(app, world, "expert")
    url = f"/casussen/{world.own_case.id}"
    assert client.get(url).status_code == 200
    with app.app_context():
        from mda.teams.models import TeamMembership
        membership = db.session.query(TeamMembership).filter_by(case_id=world.own_case.id,
                                                                user_id=world.users["expert"].id).one()
        end_expert_membership(membership, by=db.session.get(User, world.users["coordinator"].id))
        db.session.commit()
    assert client.get(url).status_code == 404
    assert world.own_case.reference not in client.get("/casussen/").get_data(as_text=True)


def test_expert_cannot_reach_another_case_by_changing_the_id(app: Flask, world: World) -> None:
    client = _client_for(app, world, "expert")
    for case_id in (world.other_case.id, world.own_case.id + 1000, 0):
        response = client.get(f"/casussen/{case_id}")
        assert response.status_code == 404
        assert OTHER_NAME not in response.get_data(as_text=True)


def test_viewing_a_case_writes_audit_records(app: Flask, world: World) -> None:
    from sqlalchemy import select

    from mda.audit.models import AuditAction, AuditEvent, AuditOutcome
    client = _client_for(app, world, "coordinator")
    client.get(f"/casussen/{world.own_case.id}")
    client.get(f"/casussen/{world.other_case.id}")
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.READ)).all()
    coordinator_id = world.users["coordinator"].id
    case_reads = [e for e in events if e.user_id == coordinator_id and e.object_type == "case"]
    assert [(e.case_id, e.outcome) for e in case_reads] == [(world.own_case.id, AuditOutcome.SUCCESS),
                                                            (world.other_case.id, AuditOutcome.DENIED)]
    person_reads = [e for e in events if e.user_id == coordinator_id and e.object_type == "person"]
    assert len(person_reads) == 1 and person_reads[0].access_point == "127.0.0.1"
    denied = [e for e in events if e.outcome == AuditOutcome.DENIED]
    assert [(e.user_id, e.case_id) for e in denied] == [(coordinator_id, world.other_case.id)]
