"""Search as each role over permitted and forbidden cases: never a forbidden hit, the ways people
type a name found, nothing of the search text stored or logged, and the search audited."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mda.accounts.models import Role, User
from mda.audit.models import AuditAction, AuditEvent
from mda.db import db
from mda.organisations.models import OrganisationKind
from mda.people.models import PersonRole
from mda.people.operations import add_person
from mda.referrals.models import Referral, ReferralStatus
from mda.referrals.operations import add_referral_person, save_draft, submit
from mda.search.queries import normalise_text, parse, search
from mda.teams.models import TeamMembership, TeamPhase
from mda.teams.operations import add_expert
from tests import factories as make
from tests.test_encryption_at_rest import _raw_database_text


@dataclass
class World:
    users: dict[str, User]
    own_id: int
    own_reference: str
    foreign_id: int
    foreign_reference: str
    referral_id: int


@pytest.fixture
def world(app: Flask) -> Iterator[World]:
    with app.app_context():
        team = make.organisation(OrganisationKind.MDA_TEAM)
        vt_org = make.organisation(OrganisationKind.VEILIG_THUIS)
        users = {
            "coordinator": make.user(Role.COORDINATOR, org=team),
            "team_lead": make.user(Role.COORDINATOR, Role.TEAM_LEAD, org=team),
            "expert": make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE)),
            "former_expert": make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE)),
            "vt_referrer": make.user(Role.VT_REFERRER, org=vt_org),
            "steering": make.user(Role.STEERING),
        }
        other = make.user(Role.COORDINATOR, org=team)
        own = make.case(users["coordinator"])
        own.family_label = "Gezin De Vries"
        add_person(own, role=PersonRole.UNDERGOING_VIOLENCE, by=users["coordinator"], name="Anna D’Souza",
                   bsn=make.BSN_A, date_of_birth=date(1990, 5, 1))
        add_person(own, role=PersonRole.USING_VIOLENCE, by=users["coordinator"], name="Jürgen van der Berg")
        add_expert(own, users["expert"], discipline_code="judicial", team_phase=TeamPhase.BASISTEAM,
                   by=users["coordinator"])
        add_expert(own, users["former_expert"], discipline_code="judicial", team_phase=TeamPhase.BASISTEAM,
                   by=users["coordinator"], on=date(2020, 1, 1))
        membership = db.session.scalars(select(TeamMembership).where(
            TeamMembership.user_id == users["former_expert"].id)).one()
        membership.ended_on = date(2020, 2, 1)
        # The foreign case looks like the own one on purpose: a leak would be found by every variant.
        foreign = make.case(other)
        foreign.family_label = "Gezin De Vries Vreemd"
        add_person(foreign, role=PersonRole.UNDERGOING_VIOLENCE, by=other, name="Anna Dsouza Vreemd",
                   bsn=make.BSN_B, date_of_birth=date(1990, 5, 1))
        add_person(foreign, role=PersonRole.CHILD, by=other, name="Jurgen Vreemd")
        referral = save_draft(None, by=users["vt_referrer"], family_label="Gezin Verwezen",
                              reason="Regie nodig.", municipality=make.municipality("Venlo"), current_ave_level=3,
                              intake_route="huisverbod", violence_forms=["partner_violence"])
        add_referral_person(referral, by=users["vt_referrer"], role="undergoing_violence", name="Rosa Verwezen",
                            bsn=make.BSN_C)
        submit(referral, by=users["vt_referrer"])
        db.session.commit()
        yield World(users, own.id, own.reference, foreign.id, foreign.reference, referral.id)


def _found(app: Flask, world: World, role: str, text: str) -> tuple[set[int], set[int]]:
    with app.app_context():
        outcome = search(db.session.get(User, world.users[role].id), text)
        return ({hit.case.id for hit in outcome.hits if hit.case},
                {hit.referral.id for hit in outcome.hits if hit.referral})


VARIANTS = ["anna", "ANNA d'souza", "d’souza", "D`Souza", "  anna    dsouza ", "souz", "Jurgen", "jürgen VAN der",
            "van der berg", "de vries", "GEZIN  de vries", "Anna D'Souza 01-05-1990", "anna 1-5-1990",
            "dsouza 1990-05-01"]


@pytest.mark.parametrize("text", VARIANTS)
def test_coordinator_finds_own_case_by_every_variant_and_never_the_foreign(app: Flask, world: World,
                                                                           text: str) -> None:
    cases, referrals = _found(app, world, "coordinator", text)
    assert cases == {world.own_id} and referrals == set()


@pytest.mark.parametrize("text_of", [lambda w: w.own_reference, lambda w: w.own_reference.lower().replace("-", " "),
                                     lambda w: w.own_reference.removeprefix("MDA-"), lambda w: make.BSN_A,
                                     lambda w: f"{make.BSN_A[:3]} {make.BSN_A[3:6]} {make.BSN_A[6:]}"])
def test_exact_searches_by_case_number_and_bsn(app: Flask, world: World, text_of) -> None:  # noqa: ANN001
    assert _found(app, world, "coordinator", text_of(world)) == ({world.own_id}, set())


@pytest.mark.parametrize("text", ["anna 02-05-1990", "Pietersen", "31-02-1990 anna", "x"])
def test_no_hit_for_other_date_name_or_invalid_input(app: Flask, world: World, text: str) -> None:
    assert _found(app, world, "coordinator", text) == (set(), set())


def test_forbidden_case_number_and_bsn_give_nothing(app: Flask, world: World) -> None:
    for role in ("coordinator", "expert"):
        assert _found(app, world, role, world.foreign_reference) == (set(), set())
        assert _found(app, world, role, make.BSN_B) == (set(), set())
        assert _found(app, world, role, make.BSN_C) == (set(), set())


def test_each_role_within_its_own_reach(app: Flask, world: World) -> None:
    assert _found(app, world, "expert", "anna") == ({world.own_id}, set())
    assert _found(app, world, "former_expert", "anna") == (set(), set())
    assert _found(app, world, "former_expert", world.own_reference) == (set(), set())
    assert _found(app, world, "team_lead", "anna") == ({world.own_id, world.foreign_id}, set())
    assert _found(app, world, "team_lead", "verwezen") == (set(), {world.referral_id})
    assert _found(app, world, "team_lead", make.BSN_C) == (set(), {world.referral_id})
    assert _found(app, world, "vt_referrer", "gezin verwezen") == (set(), {world.referral_id})
    assert _found(app, world, "vt_referrer", "rosa") == (set(), {world.referral_id})
    assert _found(app, world, "vt_referrer", "anna") == (set(), set())
    assert _found(app, world, "vt_referrer", world.own_reference) == (set(), set())
    assert _found(app, world, "steering", "anna") == (set(), set())


def test_normalisation_and_parsing() -> None:
    assert normalise_text("  D’Souza-Van  DÈR ") == "dsouza van der"
    # One reading of typed characters with the blind index (normalise_name): modifier-letter
    # apostrophes, other dashes and invisible characters copied along with a name.
    assert normalise_text("Dʻsouza‑van der​") == normalise_text("D'Souza van der") == "dsouza van der"
    assert normalise_text("An­na") == "anna"
    assert parse("MDA-2026-12").reference == "MDA-2026-0012"
    assert parse("12345678").bsn == "012345678"
    assert parse("Jan 05-13-1990").kind == "invalid"
    assert parse("01-05-1990").kind == "invalid"  # a date alone finds nobody


def _client(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    make.login(client, user)
    return client


def test_web_search_is_a_post_audited_without_its_text(app: Flask, world: World, caplog) -> None:  # noqa: ANN001
    client = _client(app, world.users["coordinator"])
    with app.app_context():
        before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    caplog.set_level(logging.DEBUG)
    page = client.post("/zoeken", data={"q": "Zzzoekmarker"}).get_data(as_text=True)
    assert "0 treffers" in page
    response = client.post("/zoeken", data={"q": "d’souza"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and world.own_reference in text and "Gezin De Vries" in text
    assert "Vreemd" not in text and world.foreign_reference not in text
    assert "Zzzoekmarker" not in caplog.text and "souza" not in caplog.text.lower()
    assert "Zzzoekmarker" not in _raw_database_text(app)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)).all()
        searches = [e for e in events if e.action == AuditAction.SEARCH]
        assert [e.detail for e in searches] == ["zoeken op naam of gezinslabel: 0 treffers",
                                                "zoeken op naam of gezinslabel: 1 treffer"]
        assert [(e.case_id, e.detail) for e in events if e.action == AuditAction.READ] == \
            [(world.own_id, "zoekresultaat")]
    # A GET shows the empty form and never searches: text in a URL is not read.
    get = client.get("/zoeken?q=anna").get_data(as_text=True)
    assert "treffer" not in get and world.own_reference not in get


def test_search_needs_a_csrf_token_where_csrf_is_on(app: Flask, world: World) -> None:
    client = _client(app, world.users["coordinator"])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/zoeken", data={"q": "anna"})
        assert response.status_code == 400
        assert world.own_reference not in response.get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_steering_and_admin_may_not_search(app: Flask, world: World) -> None:
    client = _client(app, world.users["steering"])
    assert client.post("/zoeken", data={"q": "anna"}).status_code == 403
    assert 'id="kopzoek"' not in client.get("/").get_data(as_text=True)


def test_more_than_a_page_of_hits_asks_to_refine(app: Flask, world: World) -> None:
    from mda.search.queries import MAX_HITS
    with app.app_context():
        coordinator = db.session.get(User, world.users["coordinator"].id)
        for _ in range(MAX_HITS + 2):
            make.case(coordinator).family_label = "Gezin Veelvoud"
        db.session.commit()
        outcome = search(db.session.get(User, world.users["team_lead"].id), "veelvoud")
        assert len(outcome.hits) == MAX_HITS and outcome.more
        references = [hit.case.reference for hit in outcome.hits]
        assert references == sorted(references)


MATCH_VALUES = ["Anna D'Souza", "ANNA D`SOUZA", "Anne-Marie de Vries", "Jürgen van der Berg", "Jurgen Vreemd",
                "Zoë  O’Brien", "Ørjan Ødegård", "Straße", "a\x1cb", "tab\tbed", "", "d'-souza", "Ĳsselmeer"]
MATCH_QUERIES = ["anna", "dsouza", "d'souza", "anne marie", "anne-marie", "jurgen", "jürgen van", "zoe obrien",
                 "ørjan", "strasse", "a b", "ab", "tab bed", "souza", "ijssel", "x"]


@pytest.mark.parametrize("text", MATCH_QUERIES)
def test_byte_matcher_agrees_with_normalising_every_name(text: str) -> None:
    """The fast path on ASCII bytes decides exactly as normalising the decoded name does."""
    from mda.search.queries import NameMatcher, _matches
    words = parse(text).words
    matcher = NameMatcher(words)
    for value in MATCH_VALUES:
        assert matcher(value.encode()) == _matches(words, value), (text, value)
    assert not matcher(None)


def test_uuid_read_as_text_decrypts_as_the_orm_does(app: Flask, world: World) -> None:
    """On SQLite (32 hex digits) and PostgreSQL (dashed) alike; a wrong uuid fails authentication."""
    from mda.people.models import Person
    from mda.security.crypto import DecryptionError
    from mda.security.fields import row_uuid_text, stored_decryptor
    with app.app_context():
        rows = db.session.execute(select(Person.id, row_uuid_text(Person.uuid), Person.name_ciphertext)).all()
        assert rows
        as_text, as_bytes = stored_decryptor(Person, "name"), stored_decryptor(Person, "name", raw=True)
        for person_id, row_uuid, token in rows:
            name = db.session.get(Person, person_id).name
            assert as_text(token, row_uuid) == name and as_bytes(token, row_uuid) == name.encode()
        with pytest.raises(DecryptionError):
            as_text(rows[0][2], rows[1][1])


def _count_statements_and_decryptions(app: Flask, user_id: int, text: str, monkeypatch) -> tuple[int, int]:  # noqa: ANN001
    from sqlalchemy import event

    from mda.security.crypto import FieldCipher
    decrypted = []
    original = FieldCipher.decrypt_bytes
    monkeypatch.setattr(FieldCipher, "decrypt_bytes",
                        lambda self, token, context: decrypted.append(context) or original(self, token, context))
    statements = []
    with app.app_context():
        user = db.session.get(User, user_id)
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            search(user, text)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements), len(decrypted)


def test_exact_searches_decrypt_no_name_outside_their_hit(app: Flask, world: World, monkeypatch) -> None:  # noqa: ANN001
    lead = world.users["team_lead"].id
    assert _count_statements_and_decryptions(app, lead, world.own_reference, monkeypatch)[1] == 0
    assert _count_statements_and_decryptions(app, lead, "MDA-2026-9999", monkeypatch)[1] == 0
    # A BSN decrypts only the name of the person it finds (to show it).
    assert _count_statements_and_decryptions(app, lead, make.BSN_A, monkeypatch)[1] == 1


def test_name_search_reads_in_a_fixed_number_of_statements(app: Flask, world: World, monkeypatch) -> None:  # noqa: ANN001
    """No query per row or per hit: more cases and persons, the same number of statements."""
    lead = world.users["team_lead"].id
    before, decrypted_before = _count_statements_and_decryptions(app, lead, "vreemd", monkeypatch)
    with app.app_context():
        coordinator = db.session.get(User, world.users["coordinator"].id)
        for number in range(6):
            case = make.case(coordinator)
            case.family_label = f"Gezin Vreemd {number}"
            add_person(case, role=PersonRole.CHILD, by=coordinator, name=f"Kind Vreemd {number}")
        db.session.commit()
    after, decrypted_after = _count_statements_and_decryptions(app, lead, "vreemd", monkeypatch)
    assert after == before
    assert decrypted_after == decrypted_before + 12  # each new name and label decrypted once


def test_hits_are_checked_with_the_same_answers_as_may(app: Flask, world: World) -> None:
    """The search checks its hits with ``may_each`` (one query): the answers of ``may`` per case,
    for every role, permission, running, ended and absent membership."""
    from mda.cases.models import Case
    from mda.security.policy import CASE_PERMISSIONS, Permission, may, may_each
    with app.app_context():
        cases = [db.session.get(Case, world.own_id), db.session.get(Case, world.foreign_id)]
        for user_id in [user.id for user in world.users.values()] + [None]:
            user = db.session.get(User, user_id) if user_id else None
            for permission in [*CASE_PERMISSIONS, Permission.SEARCH]:
                assert may_each(user, permission, cases) == [may(user, permission, case) for case in cases]
                assert may_each(user, permission, []) == []
