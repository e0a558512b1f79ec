"""Retention purge, erasure on request and the access report (issue 8)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from mda.accounts.models import Role, User
from mda.audit.models import AuditEvent
from mda.audit.trail import verify
from mda.cases.models import Case, ClosureReason
from mda.cases.operations import change_ave_level, close_case
from mda.db import db
from mda.huisverbod.models import HouseBanRoute, ImposedBy, OrderForm
from mda.huisverbod.operations import impose_house_ban
from mda.journal.models import JournalEntry, JournalKind
from mda.journal.operations import write_journal_entry
from mda.lifecycle import access_report, erasure
from mda.lifecycle.models import ErasureRequest, ErasureStatus, RefusalGround
from mda.lifecycle.retention import plan_purge, purge
from mda.lifecycle.scrub import NOT_CASE_DATA, case_scoped_models, rows_of_cases
from mda.organisations.models import OrganisationKind
from mda.people.models import Person, PersonRole, RelationKind
from mda.people.operations import add_person, find_by_bsn, find_by_name_and_birth_date, relate
from mda.security.fields import ENCRYPTED_FIELDS
from mda.security.rotation import key_usage, rotate_all
from mda.timeutil import utcnow
from tests import factories as make
from tests.test_encryption_at_rest import _raw_database_text

START = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
ANNA = {"name": "Anna Zzbewaarvoorbeeld", "bsn": make.BSN_A, "date_of_birth": date(1990, 4, 5),
        "address": "Zzbewaarstraat 1, Venlo", "phone": "06-11223344", "notes": "Zzannanotitie"}
BRAM = {"name": "Bram Zzpleegvoorbeeld", "bsn": make.BSN_B, "date_of_birth": date(1985, 1, 2),
        "address": "Zzbewaarstraat 1, Venlo", "phone": "06-99887766", "notes": "Zzbramnotitie"}
KIM = {"name": "Kim Zzkindvoorbeeld", "bsn": make.BSN_C, "date_of_birth": date(2015, 7, 8)}
JOURNAL = "Huisbezoek: Anna Zzbewaarvoorbeeld vertelt over de ruzie; Bram Zzpleegvoorbeeld was niet thuis."


def _family(close: bool = True) -> dict[str, Any]:
    """A closed case with a family, relations, an order, history and a journal entry."""
    coordinator = make.user(Role.COORDINATOR)
    case = make.case(coordinator)
    anna = add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, **ANNA)
    bram = add_person(case, role=PersonRole.USING_VIOLENCE, by=coordinator, **BRAM)
    kim = add_person(case, role=PersonRole.CHILD, by=coordinator, **KIM)
    relate(anna, bram, RelationKind.PARTNER, by=coordinator)
    relate(bram, kim, RelationKind.PARENT_OF, by=coordinator)
    change_ave_level(case, 4, by=coordinator, reason="Opgeschaald om de ruzie bij Zzbewaarstraat")
    impose_house_ban(case, imposed_at=utcnow() - timedelta(hours=2), imposed_by=ImposedBy.MAYOR,
                     form=OrderForm.WRITTEN, route=HouseBanRoute.A_ACUTE_POLICE, removed_person=bram,
                     protected_persons=[anna, kim], dwelling=ANNA["address"], facts="Zzfeitenrelaas",
                     by=coordinator, reachability="Zzhotel De Brug, kamer 4")
    write_journal_entry(case, kind=JournalKind.CONTACT_FAMILY, occurred_at=utcnow(), body=JOURNAL, by=coordinator)
    make.safe_start(case, coordinator)
    if close:
        close_case(case, closure_reason=ClosureReason.LASTING_SAFETY, receiving_party=OrganisationKind.LOCAL_TEAM,
                   receiving_name="Lokaal team Venlo-Zuid", by=coordinator, note="Afgesloten na Zzslotgesprek")
    db.session.commit()
    return {"case": case, "anna": anna, "bram": bram, "kim": kim, "coordinator": coordinator}


def _metrics_rows() -> dict[str, list[tuple]]:
    """The non-identifying rows the steering metrics count, read straight from the tables."""
    queries = {
        "cases": "SELECT id, reference, status, phase, ave_level, opened_on, closed_on, intake_route, "
                 "closure_reason FROM cases ORDER BY id",
        "persons": "SELECT id, case_id, role, age_band, gender FROM persons ORDER BY id",
        "relations": "SELECT person_id, other_person_id, kind FROM person_relations ORDER BY id",
        "house_bans": "SELECT id, case_id, status, imposed_at, ends_at, route, removed_person_id FROM house_bans",
        "protected": "SELECT house_ban_id, person_id FROM house_ban_protected_persons ORDER BY id",
        "ban_events": "SELECT id, kind, occurred_at, decided_by FROM house_ban_events ORDER BY id",
        "status_changes": "SELECT id, case_id, to_status, changed_at, closure_reason FROM case_status_changes",
        "phase_changes": "SELECT id, from_phase, to_phase, changed_at FROM phase_changes ORDER BY id",
        "ave_changes": "SELECT id, from_level, to_level, changed_at FROM ave_changes ORDER BY id",
        "journal": "SELECT id, kind, occurred_at FROM journal_entries ORDER BY id",
    }
    with db.engine.connect() as connection:
        return {name: [tuple(row) for row in connection.execute(text(sql))] for name, sql in queries.items()}


def _checkpoint() -> None:
    """SQLite keeps old page images in the WAL until a checkpoint; the purge command does this too."""
    from mda.lifecycle.retention import release_old_pages
    release_old_pages()


def _ciphertexts(person: Person) -> list[bytes]:
    return [bytes(getattr(person, field.column_attribute)) for field in ENCRYPTED_FIELDS[Person]
            if getattr(person, field.column_attribute) is not None]


def test_every_model_with_personal_fields_is_reached_by_the_purge() -> None:
    for model in ENCRYPTED_FIELDS:
        if model.__tablename__ in NOT_CASE_DATA:
            continue
        rows_of_cases(model, [1])  # raises for a table the purge could not find
    assert {model.__tablename__ for model in case_scoped_models()} >= {
        "persons", "journal_entries", "house_bans", "house_ban_events", "case_status_changes", "erasure_requests"}


def test_purge_after_the_retention_term(ctx: Flask, clock) -> None:
    clock(START)
    family = _family()
    case, anna = family["case"], family["anna"]
    raw = _raw_database_text(ctx)
    secrets = _ciphertexts(anna)
    assert all(token.decode("latin-1") in raw for token in secrets)
    before = _metrics_rows()

    clock(START + timedelta(days=365 * 20 - 10))  # not yet: 20 years after closure
    assert plan_purge().cases == []

    clock(START + timedelta(days=365 * 20 + 6))
    plan = purge(dry_run=True)
    db.session.commit()
    assert [(item.label, item.records > 5) for item in plan.cases] == [(case.reference, True)]
    assert find_by_bsn(make.BSN_A), "a dry run changes nothing"

    plan = purge()
    db.session.commit()
    _checkpoint()
    assert [item.label for item in plan.cases] == [case.reference]
    db.session.expire_all()
    assert find_by_bsn(make.BSN_A) == [] and find_by_bsn(make.BSN_B) == []
    assert find_by_name_and_birth_date(ANNA["name"], ANNA["date_of_birth"]) == []
    for model in case_scoped_models():
        for row in db.session.scalars(rows_of_cases(model, [case.id])):
            assert all(getattr(row, field.column_attribute) is None for field in ENCRYPTED_FIELDS[model]), model
    raw = _raw_database_text(ctx)
    assert not any(token.decode("latin-1") in raw for token in secrets)
    assert _metrics_rows() == before
    assert verify(db.session).intact
    details = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.object_type == "retention_purge")).all()
    assert any("proefdraai" in detail for detail in details) and any("geanonimiseerd" in d for d in details)
    assert plan_purge().cases == [], "a purged case is not listed again"
    # Key rotation still walks every table, purged rows included.
    rotate_all(db.session)
    assert set(key_usage(db.session)) <= {ctx.extensions["mda.settings"].current_field_key_id}


def test_purge_leaves_open_and_recent_cases(ctx: Flask, clock) -> None:
    clock(START)
    open_family = _family(close=False)
    clock(START + timedelta(days=365 * 25))
    assert purge().cases == []
    db.session.commit()
    assert find_by_bsn(make.BSN_A)[0].id == open_family["anna"].id


def test_purge_command_dry_run_lists_reference_and_count_only(app: Flask, clock) -> None:
    clock(START)
    with app.app_context():
        reference = _family()["case"].reference
    clock(START + timedelta(days=365 * 21))
    result = app.test_cli_runner().invoke(args=["lifecycle", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert reference in result.output and "would be anonymised" in result.output
    assert "Zz" not in result.output and make.BSN_A not in result.output
    with app.app_context():
        assert find_by_bsn(make.BSN_A)
    result = app.test_cli_runner().invoke(args=["lifecycle", "purge"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert find_by_bsn(make.BSN_A) == []
        assert verify(db.session).intact


def test_audit_term_below_five_years_is_refused(app: Flask) -> None:
    app.config["RETENTION_AUDIT_YEARS"] = 3
    result = app.test_cli_runner().invoke(args=["lifecycle", "purge", "--dry-run"])
    assert result.exit_code != 0 and "minstens 5" in result.output


def _request(person: Person, officer: User) -> ErasureRequest:
    return erasure.record_request(person, received_on=date(2026, 3, 2), by=officer)


def _snapshot_family(family: dict[str, Any]) -> dict[str, Any]:
    db.session.expire_all()
    people = {key: db.session.get(Person, family[key].id) for key in ("anna", "bram", "kim")}
    return {key: {field: getattr(person, field) for field in ANNA} | {"role": person.role}
            for key, person in people.items()} | {
        "journal": [entry.body for entry in db.session.scalars(select(JournalEntry))]}


def test_refused_erasure_changes_nothing(ctx: Flask, clock) -> None:
    clock(START)
    family = _family()
    officer = make.user(Role.PRIVACY_OFFICER)
    request = _request(family["bram"], officer)
    before, metrics = _snapshot_family(family), _metrics_rows()
    erasure.decide(request, granted=False, by=officer, refusal_ground=RefusalGround.INTEREST_OF_ANOTHER,
                   explanation="De veiligheid van de kinderen weegt zwaarder.")
    db.session.commit()
    with pytest.raises(Exception):
        erasure.execute(request, by=officer)
    db.session.rollback()
    assert _snapshot_family(family) == before and _metrics_rows() == metrics
    assert db.session.get(ErasureRequest, request.id).status == ErasureStatus.REFUSED
    assert verify(db.session).intact


def test_refusal_needs_a_legal_ground(ctx: Flask) -> None:
    from mda.errors import InvalidInput
    family = _family()
    officer = make.user(Role.PRIVACY_OFFICER)
    with pytest.raises(InvalidInput):
        erasure.decide(_request(family["anna"], officer), granted=False, by=officer)


def test_granted_erasure_removes_that_person_and_keeps_the_family_file(ctx: Flask, clock) -> None:
    clock(START)
    family = _family()
    officer = make.user(Role.PRIVACY_OFFICER)
    bram = family["bram"]
    secrets = _ciphertexts(bram)
    before, metrics = _snapshot_family(family), _metrics_rows()
    request = _request(bram, officer)
    erasure.decide(request, granted=True, by=officer)
    erasure.execute(request, by=officer)
    db.session.commit()
    _checkpoint()

    after = _snapshot_family(family)
    assert all(value is None for field, value in after["bram"].items() if field != "role")
    assert after["anna"] == before["anna"] and after["kim"] == before["kim"]
    assert find_by_bsn(make.BSN_B) == [] and find_by_bsn(make.BSN_A)
    assert after["journal"] == [JOURNAL.replace(BRAM["name"], "[verwijderd]")]
    raw = _raw_database_text(ctx)
    assert not any(token.decode("latin-1") in raw for token in secrets)
    from mda.huisverbod.models import HouseBan
    ban = db.session.scalars(select(HouseBan)).one()
    assert ban.reachability is None and ban.dwelling == ANNA["address"] and ban.facts == "Zzfeitenrelaas"
    assert _metrics_rows() == metrics
    assert verify(db.session).intact
    details = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.object_type == "erasure_request")).all()
    assert "wissing uitgevoerd" in details
    assert not any(BRAM["name"] in (detail or "") or make.BSN_B in (detail or "") for detail in details)


def test_access_report_shows_own_data_and_accesses_only(app: Flask, clock) -> None:
    clock(START)
    with app.app_context():
        family = _family()
        officer = make.user(Role.PRIVACY_OFFICER)
        coordinator = db.session.get(User, family["coordinator"].id)
        case_id, anna_id = family["case"].id, family["anna"].id
        db.session.commit()
    client = app.test_client()
    make.login(client, coordinator)
    assert client.get(f"/casussen/{case_id}/clientsysteem/").status_code == 200  # reads every person
    client.post("/uitloggen")
    make.login(client, officer)
    assert client.post("/privacy/personen", data={"bsn": make.BSN_A}).status_code == 200
    registered = client.post("/privacy/inzageverzoeken/nieuw", data={"person_id": anna_id,
                                                                     "received_on": START.date().isoformat()})
    assert registered.status_code == 302
    response = client.get(registered.headers["Location"] + "/overzicht")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for value in ("Anna Zzbewaarvoorbeeld", make.BSN_A, "05-04-1990", "06-11223344", "Zzannanotitie"):
        assert value in page
    for other in (BRAM, KIM):
        for field in ("name", "bsn", "phone", "notes"):
            if other.get(field):
                assert other[field] not in page, field
    assert "Zzhotel" not in page and "Zzfeitenrelaas" not in page and "Zzpleeg" not in page
    assert coordinator.username in page and "Inzien" in page and "deze persoon wordt beschermd" in page
    with app.app_context():
        report = access_report.build(db.session.get(Person, anna_id))
        other_ids = {family["bram"].id, family["kim"].id}
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.person_id.in_(other_ids))).all()
        assert events and len(report.accesses) >= 2
        # Reading the report is itself recorded, against this person.
        assert db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "access_report",
                                                           AuditEvent.person_id == anna_id)).one()


def test_privacy_pages_record_decide_and_execute(app: Flask, clock) -> None:
    clock(START)
    with app.app_context():
        family = _family()
        officer = make.user(Role.PRIVACY_OFFICER)
        bram_id = family["bram"].id
        db.session.commit()
    client = app.test_client()
    make.login(client, officer)
    response = client.post("/privacy/personen", data={"bsn": make.BSN_B})
    assert response.status_code == 200 and f"/privacy/verzoeken/nieuw?persoon={bram_id}" in response.get_data(True)
    assert client.post("/privacy/personen", data={}).status_code == 422
    response = client.post("/privacy/verzoeken/nieuw", data={"person_id": bram_id, "received_on": "2026-03-01"})
    assert response.status_code == 302
    request_url, _, anchor = response.headers["Location"].partition("#")
    assert anchor == "besluit"  # back at the form that comes next
    request_id = int(request_url.rstrip("/").rsplit("/", 1)[1])
    assert client.get(request_url).status_code == 200
    # Refusing without a ground is refused with a message; nothing changes.
    response = client.post(f"/privacy/verzoeken/{request_id}/besluit", data={"decision": "refused", "version": 1})
    assert response.status_code == 422 and "wettelijke grond" in response.get_data(True)
    assert client.post(f"/privacy/verzoeken/{request_id}/besluit",
                       data={"decision": "granted", "version": 1}).status_code == 302
    assert client.post(f"/privacy/verzoeken/{request_id}/uitvoeren", data={"version": 2}).status_code == 422
    assert client.post(f"/privacy/verzoeken/{request_id}/uitvoeren",
                       data={"version": 2, "confirm": "y"}).status_code == 302
    with app.app_context():
        assert db.session.get(ErasureRequest, request_id).status == ErasureStatus.EXECUTED
        assert find_by_bsn(make.BSN_B) == [] and find_by_bsn(make.BSN_A)
        assert verify(db.session).intact
    assert "Toegewezen en uitgevoerd" in client.get("/privacy/").get_data(True)
