"""Encrypted backups: restore into a fresh database and read the records back with the keys."""
from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from mda.accounts.models import Role
from mda.audit.trail import verify
from mda.db import db
from mda.lifecycle.backup import BackupError, create_backup, restore_backup
from mda.people.models import Person, PersonRole
from mda.people.operations import add_person, find_by_bsn
from tests import factories as make
from tests.conftest import build_app, empty_database

NAME, ADDRESS = "Zzbackupnaam Qqvoorbeeld", "Zzbackupstraat 9, Venlo"


@pytest.fixture
def backup_app(migrated: str, keys: dict[str, Any], instance_dir: Path) -> Iterator[Flask]:
    app = build_app(migrated, keys, instance_dir, BACKUP_KEY=base64.b64encode(secrets.token_bytes(32)).decode())
    yield app
    with app.app_context():
        empty_database()
        db.dispose()


@pytest.fixture
def fresh_url(migrated: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the suite's kind."""
    if not migrated.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"
        return
    url = make_url(migrated)
    name = f"{url.database}_restore_{secrets.token_hex(4)}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _contents(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {table: sorted((tuple(row) for row in connection.execute(text(f'SELECT * FROM "{table}"'))), key=repr)
                    for table in sorted(inspect(connection).get_table_names())}
    finally:
        engine.dispose()


def _write_family(app: Flask) -> tuple[int, str]:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        person = add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, name=NAME,
                            bsn=make.BSN_A, address=ADDRESS)
        db.session.commit()
        return person.id, case.reference


def test_backup_restore_and_read_back(backup_app: Flask, fresh_url: str, tmp_path: Path,
                                      keys: dict[str, Any], instance_dir: Path) -> None:
    person_id, reference = _write_family(backup_app)
    output = tmp_path / "mda.backup"
    result = backup_app.test_cli_runner().invoke(args=["backup", "create", str(output)])
    assert result.exit_code == 0, result.output
    assert output.stat().st_mode & 0o777 == 0o600
    source_url = backup_app.extensions["mda.settings"].database_url

    result = backup_app.test_cli_runner().invoke(args=["backup", "restore", str(output), "--target-url", fresh_url])
    assert result.exit_code == 0, result.output
    assert _contents(fresh_url) == _contents(source_url)

    restored = build_app(fresh_url, keys, instance_dir)
    with restored.app_context():
        person = db.session.get(Person, person_id)
        assert (person.name, person.bsn, person.address) == (NAME, make.BSN_A, ADDRESS)
        assert [found.id for found in find_by_bsn(make.BSN_A)] == [person_id]
        assert verify(db.session).intact
        db.dispose()

    # Restoring again into the now filled database is refused.
    with backup_app.app_context(), pytest.raises(BackupError, match="niet leeg"):
        restore_backup(output, fresh_url)


def test_backup_without_its_key_reveals_nothing(backup_app: Flask, tmp_path: Path, fresh_url: str) -> None:
    _, reference = _write_family(backup_app)
    output = tmp_path / "mda.backup"
    with backup_app.app_context():
        create_backup(backup_app.extensions["mda.settings"].database_url, output)
    raw = output.read_bytes()
    # Not only the personal fields (already encrypted in the database) but the whole file.
    for needle in (NAME, ADDRESS, make.BSN_A, reference, "persons", "CREATE TABLE", "SQLite format", "PGDMP"):
        assert needle.encode() not in raw, needle
    backup_app.config["BACKUP_KEY"] = base64.b64encode(os.urandom(32)).decode()
    with backup_app.app_context(), pytest.raises(BackupError, match="verkeerde sleutel"):
        restore_backup(output, fresh_url)
    assert _contents(fresh_url) == {} or fresh_url.startswith("sqlite")


def test_tampered_or_truncated_backup_is_refused(backup_app: Flask, tmp_path: Path) -> None:
    _write_family(backup_app)
    output = tmp_path / "mda.backup"
    url = backup_app.extensions["mda.settings"].database_url
    with backup_app.app_context():
        create_backup(url, output)
        data = output.read_bytes()
        target_kind = "sqlite" if url.startswith("sqlite") else None
        if target_kind is None:
            pytest.skip("the container checks are the same for both kinds")
        for bad in (data[:-20], data[:60] + bytes([data[60] ^ 1]) + data[61:]):
            broken = tmp_path / "broken.backup"
            broken.write_bytes(bad)
            with pytest.raises(BackupError):
                restore_backup(broken, f"sqlite:///{tmp_path / 'x.sqlite'}")
        assert not (tmp_path / "x.sqlite").exists() or (tmp_path / "x.sqlite").stat().st_size == 0


def test_backup_key_must_be_set_and_differ_from_the_field_keys(backup_app: Flask, keys: dict[str, Any],
                                                               tmp_path: Path) -> None:
    backup_app.config["BACKUP_KEY"] = keys["FIELD_KEYS"]["1"]
    result = backup_app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "a.backup")])
    assert result.exit_code != 0 and "verschillen" in result.output
    backup_app.config["BACKUP_KEY"] = None
    result = backup_app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "b.backup")])
    assert result.exit_code != 0 and "MDA_BACKUP_KEY" in result.output
    key_file = tmp_path / "backup.key"
    result = backup_app.test_cli_runner().invoke(args=["backup", "generate-key", "--path", str(key_file)])
    assert result.exit_code == 0 and key_file.stat().st_mode & 0o777 == 0o600
    backup_app.config["BACKUP_KEY_FILE"] = str(key_file)
    result = backup_app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "c.backup")])
    assert result.exit_code == 0, result.output


@pytest.fixture
def empty_postgres(migrated: str) -> Iterator[str]:
    """A new, empty PostgreSQL database beside the suite's (only when the suite runs on PostgreSQL)."""
    if not migrated.startswith("postgresql"):
        pytest.skip("moving to PostgreSQL needs a PostgreSQL server: run the suite with MDA_DATABASE_URL")
    url = make_url(migrated)
    name = f"{url.database}_move_{secrets.token_hex(4)}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_sqlite_installation_moves_to_postgresql(empty_postgres: str, keys: dict[str, Any], instance_dir: Path,
                                                  tmp_path: Path) -> None:
    """README, "Moving from SQLite to PostgreSQL": backup from SQLite, restore into PostgreSQL, verify."""
    from mda.cases.models import Case
    from mda.journal.models import JournalEntry, JournalKind
    from mda.journal.operations import write_journal_entry
    from mda.migrate import upgrade
    from mda.models import metadata
    from mda.timeutil import utcnow
    backup_key = base64.b64encode(secrets.token_bytes(32)).decode()
    sqlite_app = build_app(f"sqlite:///{tmp_path / 'installation.sqlite'}", keys, instance_dir, BACKUP_KEY=backup_key)
    with sqlite_app.app_context():
        upgrade(db.engine)
        db.dispose()
    with sqlite_app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        person_id = add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, name=NAME,
                               bsn=make.BSN_A, address=ADDRESS).id
        write_journal_entry(case, kind=JournalKind.CONTACT_FAMILY, occurred_at=utcnow(), body="Zzverhuisverslag",
                            by=coordinator)
        db.session.commit()
        case_id, reference = case.id, case.reference
        db.dispose()
    output = tmp_path / "move.backup"
    assert sqlite_app.test_cli_runner().invoke(args=["backup", "create", str(output)]).exit_code == 0
    with sqlite_app.app_context():  # as backed up (creating the backup added its own audit record)
        source_rows = {table.name: [dict(row) for row in db.session.execute(table.select().order_by(*table.primary_key))
                                    .mappings()] for table in metadata.sorted_tables}
        db.dispose()

    result = sqlite_app.test_cli_runner().invoke(args=["backup", "restore", str(output), "--target-url", empty_postgres])
    assert result.exit_code == 0, result.output

    moved = build_app(empty_postgres, keys, instance_dir)
    with moved.app_context():
        # Every row of every table arrived with the same values (dates, booleans, JSON, encrypted bytes).
        for table in metadata.sorted_tables:
            rows = [dict(row) for row in db.session.execute(table.select().order_by(*table.primary_key)).mappings()]
            assert rows == source_rows[table.name], table.name
        person = db.session.get(Person, person_id)
        assert (person.name, person.bsn, person.address) == (NAME, make.BSN_A, ADDRESS)
        assert [found.id for found in find_by_bsn(make.BSN_A)] == [person_id]
        assert db.session.get(Case, case_id).reference == reference
        assert verify(db.session).intact
        # The sequences moved past the copied ids: new records get new ids, and the chain goes on.
        coordinator = make.user(Role.COORDINATOR)
        new_case = make.case(coordinator)
        write_journal_entry(new_case, kind=JournalKind.CONTACT_FAMILY, occurred_at=utcnow(), body="Na de verhuizing",
                            by=coordinator)
        db.session.commit()
        assert new_case.id > case_id
        assert db.session.query(JournalEntry).count() == 2
        assert verify(db.session).intact
        db.dispose()
    assert moved.test_client().get("/health/ready").status_code == 200
    result = moved.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output
    with moved.app_context():
        db.dispose()

    # Moving into a database that is not empty is refused.
    with sqlite_app.app_context(), pytest.raises(BackupError, match="niet leeg"):
        restore_backup(output, empty_postgres)


def test_a_postgresql_backup_does_not_restore_into_sqlite(backup_app: Flask, tmp_path: Path) -> None:
    if not backup_app.extensions["mda.settings"].database_url.startswith("postgresql"):
        pytest.skip("needs a PostgreSQL backup")
    output = tmp_path / "pg.backup"
    assert backup_app.test_cli_runner().invoke(args=["backup", "create", str(output)]).exit_code == 0
    with backup_app.app_context(), pytest.raises(BackupError, match="ander soort"):
        restore_backup(output, f"sqlite:///{tmp_path / 'target.sqlite'}")
