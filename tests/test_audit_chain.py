"""The audit trail is a keyed hash chain: removal or alteration is found and named."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import select, text

from mda.accounts.models import Role
from mda.audit.models import AuditAction, AuditEvent
from mda.audit.trail import AuditRecord, record, verify
from mda.db import db
from tests import factories as make
from tests.conftest import append_only_lifted


def tamper(sql: str, **params: object) -> None:
    """What someone with write access to the database would do, past its append-only guard."""
    connection = db.session.connection()
    with append_only_lifted(connection):
        connection.execute(text(sql), params)


def _trail_of_five(app: Flask) -> list[int]:
    user = make.user(Role.COORDINATOR)
    ids = [record(AuditAction.READ, by=user, case_id=n, object_type="case", object_id=n).id for n in range(5)]
    db.session.commit()
    return ids


def test_a_record_on_its_way_has_exactly_the_columns_of_the_trail() -> None:
    # A column added to audit_events must be added to AuditRecord too (or it is never written).
    assert list(AuditRecord.__dataclass_fields__) == [column.key for column in AuditEvent.__table__.columns
                                                      if column.key != "id"] + ["id"]


def test_the_returned_record_carries_its_chain_id_and_seal(ctx: Flask) -> None:
    user = make.user(Role.COORDINATOR)
    appended = record(AuditAction.READ, by=user, case_id=7, object_type="case", object_id=7)
    db.session.commit()
    stored = db.session.get(AuditEvent, appended.id)
    assert (stored.case_id, stored.hash, stored.prev_hash) == (7, appended.hash, appended.prev_hash)


def test_intact_chain_verifies(ctx: Flask) -> None:
    _trail_of_five(ctx)
    report = verify(db.session)
    assert report.intact and report.checked >= 5


def test_altered_record_is_named(ctx: Flask) -> None:
    ids = _trail_of_five(ctx)
    tamper("UPDATE audit_events SET case_id = 999 WHERE id = :id", id=ids[2])
    db.session.commit()
    report = verify(db.session)
    assert not report.intact and report.first_broken_id == ids[2]


def test_a_record_copied_whole_is_named(ctx: Flask) -> None:
    # No unique index on the hash refuses a copy (migration p19_1): the chain finds it.
    ids = _trail_of_five(ctx)
    columns = ", ".join(column.key for column in AuditEvent.__table__.columns if column.key != "id")
    tamper(f"INSERT INTO audit_events ({columns}) SELECT {columns} FROM audit_events WHERE id = :id", id=ids[1])
    db.session.commit()
    report = verify(db.session)
    assert not report.intact and report.first_broken_id > ids[-1]


def test_deleted_record_is_named_by_its_successor(ctx: Flask) -> None:
    ids = _trail_of_five(ctx)
    tamper("DELETE FROM audit_events WHERE id = :id", id=ids[1])
    db.session.commit()
    report = verify(db.session)
    assert not report.intact and report.first_broken_id == ids[2]


def test_deleted_last_record_is_detected(ctx: Flask) -> None:
    ids = _trail_of_five(ctx)
    tamper("DELETE FROM audit_events WHERE id = :id", id=ids[-1])
    db.session.commit()
    assert not verify(db.session).intact


def test_orm_refuses_to_change_audit_rows(ctx: Flask) -> None:
    ids = _trail_of_five(ctx)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.id == ids[0])).one()
    event.detail = "gewijzigd"
    try:
        db.session.flush()
    except RuntimeError as refused:
        assert "append-only" in str(refused)
    else:
        raise AssertionError("an audit row was updated through the ORM")
    db.session.rollback()


def test_cli_verify_exit_code(app: Flask) -> None:
    with app.app_context():
        ids = _trail_of_five(app)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context():
        tamper("UPDATE audit_events SET detail = 'x' WHERE id = :id", id=ids[3])
        db.session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and f"record {ids[3]}" in broken.output


def _case_with_child(app: Flask) -> tuple:
    from mda.cases.models import Case
    from mda.people.models import PersonRole
    from mda.people.operations import add_person
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        add_person(db.session.get(Case, case.id), role=PersonRole.CHILD, name="Roos Auditkind", by=coordinator)
        db.session.commit()
        return coordinator, case.id


def test_a_page_read_is_recorded_once_when_the_request_commits(app: Flask) -> None:
    coordinator, case_id = _case_with_child(app)
    client = app.test_client()
    make.login(client, coordinator)
    with app.app_context():
        before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    assert "Roos Auditkind" in client.get(f"/casussen/{case_id}/clientsysteem/").get_data(as_text=True)
    with app.app_context():
        reads = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before,
                                                            AuditEvent.action == AuditAction.READ)).all()
        assert [(e.case_id, e.user_id) for e in reads if e.object_type == "person"] == [(case_id, coordinator.id)]
        assert verify(db.session).intact


def test_a_failed_audit_append_fails_the_request_and_shows_nothing(app: Flask, monkeypatch) -> None:  # noqa: ANN001
    """The read is chained when the request commits; if that fails, the page must not go out."""
    import mda.audit.trail as trail
    coordinator, case_id = _case_with_child(app)
    client = app.test_client()
    make.login(client, coordinator)
    with app.app_context():
        before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))

    def broken_seal(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError("audit storage unavailable")
    monkeypatch.setattr(trail, "_seal", broken_seal)
    response = client.get(f"/casussen/{case_id}/clientsysteem/")
    assert response.status_code == 500
    assert "Roos Auditkind" not in response.get_data(as_text=True)
    monkeypatch.undo()
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.id > before)) is None
        assert verify(db.session).intact
