"""The family label: from the referral onto the case, encrypted at rest, editable, shown where the
case is shown, and every list that shows labels audited (one record per case, chain intact)."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from mda.accounts.models import Role, User
from mda.audit.models import AuditAction, AuditEvent
from mda.audit.trail import record_many, verify
from mda.cases.models import Case
from mda.db import db
from mda.organisations.models import OrganisationKind
from mda.people.models import PersonRole
from mda.referrals import operations as referrals
from mda.referrals.models import Referral, Urgency
from tests import factories as make
from tests.test_encryption_at_rest import _raw_database_text

LABEL_MARKER = "Gezin Zzlabelmarker"


def _referral(vt: User, label: str | None = LABEL_MARKER) -> Referral:
    referral = referrals.save_draft(None, by=vt, family_label=label, reason="Regie nodig na Actie-overleg.",
                                    municipality=make.municipality("Venlo"), current_ave_level=3,
                                    urgency=Urgency.NORMAL, violence_forms=["partner_violence"],
                                    intake_route="huisverbod")
    referrals.add_referral_person(referral, by=vt, role=PersonRole.UNDERGOING_VIOLENCE.value, name="A. Label")
    referrals.submit(referral, by=vt)
    return referral


def _last_id() -> int:
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def test_label_is_encrypted_at_rest_on_case_and_referral(ctx: Flask) -> None:
    vt = make.user(Role.VT_REFERRER)
    lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD)
    coordinator = make.user(Role.COORDINATOR)
    referral = _referral(vt)
    case = referrals.accept(referral, by=lead, coordinator=coordinator)
    db.session.commit()
    assert "Zzlabelmarker" not in _raw_database_text(ctx)
    db.session.expire_all()
    assert db.session.get(Case, case.id).family_label == LABEL_MARKER
    assert db.session.get(Referral, referral.id).family_label == LABEL_MARKER


def test_label_normalised_and_too_long_refused(ctx: Flask) -> None:
    from mda.cases.operations import set_family_label
    from mda.errors import InvalidInput
    coordinator = make.user(Role.COORDINATOR)
    case = make.case(coordinator)
    set_family_label(case, "  Gezin   De Vries ", by=coordinator)
    assert case.family_label == "Gezin De Vries"
    try:
        set_family_label(case, "x" * 81, by=coordinator)
    except InvalidInput as exc:
        assert exc.field == "family_label"
    else:
        raise AssertionError("an over-long label was accepted")


def test_bulk_append_keeps_the_chain_in_order(ctx: Flask) -> None:
    coordinator = make.user(Role.COORDINATOR)
    before = _last_id()
    # some without a case (NULL among the numbers), every person_id NULL (an array of NULLs on PostgreSQL)
    targets = [(None if n % 7 == 0 else n, "case", n) for n in range(1, 40)]
    events = record_many(AuditAction.READ, targets, by=coordinator, detail="lijst")
    db.session.commit()
    ids = [event.id for event in events]
    assert ids == sorted(ids) and ids[0] > before
    rows = db.session.execute(select(AuditEvent.id, AuditEvent.case_id, AuditEvent.object_id, AuditEvent.hash,
                                     AuditEvent.action, AuditEvent.occurred_at)
                              .where(AuditEvent.id > before).order_by(AuditEvent.id)).all()
    assert [row.case_id for row in rows] == [case_id for case_id, _, _ in targets]
    assert [row.object_id for row in rows] == list(range(1, 40))
    # each record got the id of its own row (PostgreSQL matches them by hash)
    assert [(row.id, row.hash) for row in rows] == [(event.id, event.hash) for event in events]
    assert {row.action for row in rows} == {AuditAction.READ}
    assert rows[0].occurred_at == events[0].occurred_at
    assert verify(db.session).intact


def test_bulk_append_moves_the_head_in_the_same_statement(ctx: Flask) -> None:
    """Lock and read the head, then the records and the head's move: two statements whatever the
    number of records (PostgreSQL: one INSERT ... WITH of the head's UPDATE; SQLite, which has no
    round trips, moves the head in a third). The head names the last record."""
    from sqlalchemy import event

    from mda.audit.models import AuditChainHead
    from mda.audit.trail import CHAIN_HEAD_ID
    coordinator = make.user(Role.COORDINATOR)
    db.session.commit()
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        # outside a request: appended at once, not at the commit
        events = record_many(AuditAction.READ, [(n, "case", n) for n in range(1, 26)], by=coordinator,
                             detail="lijst")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    appends = [s for s in statements if "audit_" in s]
    expected = 3 if db.engine.dialect.name == "sqlite" else 2
    assert len(appends) == expected, appends
    head = db.session.get(AuditChainHead, CHAIN_HEAD_ID)
    db.session.refresh(head)
    assert head.last_event_id == events[-1].id and head.last_hash == events[-1].hash
    db.session.commit()
    assert verify(db.session).intact


def test_caseload_and_header_show_label_and_the_list_read_is_audited(app: Flask) -> None:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        cases = [make.case(coordinator) for _ in range(3)]
        for number, case in enumerate(cases):
            case.family_label = f"Gezin Lijst{number}"
        other = make.case()  # not the coordinator's
        other.family_label = "Gezin Vreemd"
        db.session.commit()
        case_ids = [case.id for case in cases]
        first = cases[0].id
    client = app.test_client()
    make.login(client, coordinator)
    with app.app_context():
        before = _last_id()
    page = client.get("/casussen/").get_data(as_text=True)
    assert all(f"Gezin Lijst{n}" in page for n in range(3)) and "Gezin Vreemd" not in page
    with app.app_context():
        reads = db.session.scalars(select(AuditEvent).where(
            AuditEvent.id > before, AuditEvent.action == AuditAction.READ, AuditEvent.detail == "casuslijst")).all()
        assert sorted(event.case_id for event in reads) == sorted(case_ids)
        assert all(event.user_id == coordinator.id for event in reads)
        assert verify(db.session).intact
    assert "Gezin Lijst0" in client.get(f"/casussen/{first}").get_data(as_text=True)


def test_coordinator_edits_the_label_with_version_check(app: Flask) -> None:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        db.session.commit()
        case_id, version = case.id, case.version
    client = app.test_client()
    make.login(client, coordinator)
    response = client.post(f"/casussen/{case_id}/gezinslabel",
                           data={"version": version, "family_label": "Gezin Bakker"})
    assert response.status_code == 302
    stale = client.post(f"/casussen/{case_id}/gezinslabel",
                        data={"version": version, "family_label": "Gezin Overschreven"})
    assert stale.status_code == 422
    too_long = client.post(f"/casussen/{case_id}/gezinslabel",
                           data={"version": version + 1, "family_label": "x" * 81})
    assert too_long.status_code == 422 and "te lang" in too_long.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Case, case_id).family_label == "Gezin Bakker"


def test_veilig_thuis_sees_its_label_and_after_acceptance_the_coordinator(app: Flask) -> None:
    with app.app_context():
        vt = make.user(Role.VT_REFERRER)
        lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD)
        coordinator = make.user(Role.COORDINATOR, org=make.organisation(OrganisationKind.MDA_TEAM, "MDA++ Noord"))
        coordinator.display_name = "Carla Contactpersoon"
        coordinator.work_contact = "06-11122233, carla@mda.example"
        referral = _referral(vt, "Gezin Warm")
        waiting = _referral(vt, "Gezin Wacht")
        case = referrals.accept(referral, by=lead, coordinator=coordinator)
        db.session.commit()
        referral_id, waiting_id, reference = referral.id, waiting.id, case.reference
    client = app.test_client()
    make.login(client, vt)
    with app.app_context():
        before = _last_id()
    listing = client.get("/verwijzingen/").get_data(as_text=True)
    assert "Gezin Warm" in listing and "Gezin Wacht" in listing
    with app.app_context():
        objects = db.session.scalars(select(AuditEvent.object_id).where(
            AuditEvent.id > before, AuditEvent.detail == "verwijzingenlijst")).all()
        assert sorted(objects) == sorted([referral_id, waiting_id])
    detail = client.get(f"/verwijzingen/{referral_id}").get_data(as_text=True)
    assert "Gezin Warm" in detail and "Carla Contactpersoon" in detail and "06-11122233" in detail
    assert reference not in detail  # the case file stays the team's
    assert "Carla Contactpersoon" not in client.get(f"/verwijzingen/{waiting_id}").get_data(as_text=True)


def test_api_takes_the_family_label(app: Flask) -> None:
    from mda.referrals.tokens import issue_token
    with app.app_context():
        admin = make.user(Role.ADMIN)
        vt_org = make.organisation(OrganisationKind.VEILIG_THUIS)
        _, secret = issue_token(organisation=vt_org, label="Registratiesysteem", by=admin)
        db.session.commit()
    response = app.test_client().post("/api/v1/verwijzingen", headers={"Authorization": f"Bearer {secret}"}, json={
        "family_label": "Gezin Api", "reason": "Regie nodig.", "municipality": "Venlo", "current_ave_level": 3,
        "actie_overleg_on": "2026-11-20", "partners_present": ["police"], "violence_forms": ["partner_violence"],
        "persons": [{"role": "undergoing_violence", "name": "A. Api"}]})
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        assert db.session.get(Referral, response.get_json()["id"]).family_label == "Gezin Api"
