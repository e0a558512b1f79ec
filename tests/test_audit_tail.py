"""The audit trail's tail (issue 13, item 6): the database refuses changes to audit records, and
removing the newest records with the chain head reset is named by `verify` with a checkpoint."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mda.accounts.models import Role
from mda.audit.checkpoints import CHECKPOINT_FILE, newest_checkpoint, write_checkpoint
from mda.audit.models import AuditAction
from mda.audit.trail import record, verify
from mda.db import db
from tests import factories as make
from tests.conftest import append_only_lifted, build_app


def _trail(count: int) -> list[int]:
    user = make.user(Role.COORDINATOR)
    ids = [record(AuditAction.READ, by=user, case_id=n, object_type="case", object_id=n).id for n in range(count)]
    db.session.commit()
    return ids


def _remove_newest_and_reset_head(ids: list[int], keep: int) -> None:
    """What the issue describes: delete the newest records, point the head at the last one left."""
    connection = db.session.connection()
    with append_only_lifted(connection):
        connection.execute(text("DELETE FROM audit_events WHERE id > :last"), {"last": ids[keep - 1]})
    connection.execute(text("UPDATE audit_chain_head SET last_event_id = :id, "
                            "last_hash = (SELECT hash FROM audit_events WHERE id = :id)"), {"id": ids[keep - 1]})
    db.session.commit()


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET detail = 'weg' WHERE id = :id",
                                       "UPDATE audit_events SET hash = hash WHERE id = :id",
                                       "DELETE FROM audit_events WHERE id = :id",
                                       "DELETE FROM audit_events"])
def test_the_database_refuses_to_change_or_remove_audit_records(ctx: Flask, statement: str) -> None:
    ids = _trail(3)
    before = verify(db.session)
    db.session.rollback()
    with pytest.raises(DBAPIError) as refused:
        with db.engine.begin() as connection:
            connection.execute(text(statement), {"id": ids[1]})
    assert "append-only" in str(refused.value.orig)
    after = verify(db.session)
    assert after.intact and after.checked == before.checked >= 3


def test_postgresql_refuses_truncate_too(ctx: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    _trail(2)
    before = verify(db.session).checked
    db.session.rollback()  # TRUNCATE waits for every open transaction that read the table
    with pytest.raises(DBAPIError):
        with db.engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_events"))
    assert verify(db.session).checked == before


def test_removed_newest_records_with_reset_head_are_named_against_the_checkpoint(ctx: Flask, tmp_path: Path) -> None:
    ids = _trail(6)
    key = ctx.extensions["mda.settings"].audit_key
    checkpoint = write_checkpoint(db.session, tmp_path, key)
    assert checkpoint.last_id == ids[-1] and checkpoint.records == verify(db.session).checked
    assert verify(db.session, checkpoint=checkpoint).intact

    _remove_newest_and_reset_head(ids, keep=4)
    # The finding: without a checkpoint the shortened chain still looks intact.
    assert verify(db.session).intact
    report = verify(db.session, checkpoint=newest_checkpoint(tmp_path / CHECKPOINT_FILE))
    assert not report.intact and report.first_broken_id == ids[4]
    assert f"records {ids[4]} tot en met {ids[5]} (2 records)" in report.problem
    assert "ketenkop is teruggezet" in report.problem


def test_removed_records_replaced_by_new_ones_are_found(ctx: Flask, tmp_path: Path) -> None:
    ids = _trail(4)
    key = ctx.extensions["mda.settings"].audit_key
    checkpoint = write_checkpoint(db.session, tmp_path, key)
    _remove_newest_and_reset_head(ids, keep=2)
    _trail(5)  # the app goes on appending after the removal
    assert verify(db.session).intact
    report = verify(db.session, checkpoint=checkpoint)
    assert not report.intact and report.first_broken_id is not None


def test_a_forged_checkpoint_is_refused(ctx: Flask, tmp_path: Path) -> None:
    ids = _trail(3)
    key = ctx.extensions["mda.settings"].audit_key
    write_checkpoint(db.session, tmp_path, key)
    path = tmp_path / CHECKPOINT_FILE
    line = json.loads(path.read_text())
    line["records"], line["last_id"] = 2, ids[1]  # someone lowers the checkpoint to match a shortened trail
    path.write_text(json.dumps(line) + "\n")
    report = verify(db.session, checkpoint=newest_checkpoint(path))
    assert not report.intact and "handtekening" in report.problem


def test_cli_checkpoint_then_verify_names_the_gap(migrated: str, keys, instance_dir, tmp_path: Path,
                                                  app: Flask) -> None:
    folder = tmp_path / "checkpoints"
    separate = build_app(migrated, keys, instance_dir, AUDIT_CHECKPOINT_DIR=str(folder))
    runner = separate.test_cli_runner()
    with separate.app_context():
        ids = _trail(5)
    written = runner.invoke(args=["audit", "checkpoint"])
    assert written.exit_code == 0 and f"up to record {ids[-1]}" in written.output
    lines = (folder / CHECKPOINT_FILE).read_text().splitlines()
    assert len(lines) == 1 and set(json.loads(lines[0])) == {"records", "last_id", "head_hash", "written_at",
                                                              "signature"}
    intact = runner.invoke(args=["audit", "verify"])
    assert intact.exit_code == 0 and "Tail checked against the checkpoint" in intact.output

    with separate.app_context():
        _remove_newest_and_reset_head(ids, keep=3)
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"AUDIT TRAIL BROKEN at record {ids[3]}" in broken.output
    assert f"records {ids[3]} tot en met {ids[4]}" in broken.output
    given = runner.invoke(args=["audit", "verify", "--checkpoint", str(folder / CHECKPOINT_FILE)])
    assert given.exit_code == 1
    missing = runner.invoke(args=["audit", "verify", "--checkpoint", str(tmp_path / "elders.jsonl")])
    assert missing.exit_code == 1 and "no checkpoint" in missing.output
    with separate.app_context():
        db.dispose()
