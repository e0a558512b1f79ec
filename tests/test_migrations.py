"""The migrations build exactly the models' schema, and run down and up with data present."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import Engine

from mda.db import make_engine
from mda.migrate import alembic_config, downgrade, upgrade
from mda.models import metadata
from tests.conftest import reset_postgres_schema

SCRATCH_SCHEMA = "migration_scratch"


@pytest.fixture
def scratch_engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the same kind as the suite's, apart from it."""
    if database_url.startswith("postgresql"):
        reset_postgres_schema(database_url, SCRATCH_SCHEMA)
        engine = create_engine(database_url, connect_args={"options": f"-csearch_path={SCRATCH_SCHEMA}"})
    else:
        engine = make_engine(f"sqlite:///{tmp_path / 'scratch.sqlite'}")
    yield engine
    engine.dispose()
    if database_url.startswith("postgresql"):
        cleanup = create_engine(database_url)
        with cleanup.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{SCRATCH_SCHEMA}" CASCADE'))
        cleanup.dispose()


def _differences(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def test_upgrade_head_matches_models(scratch_engine: Engine) -> None:
    upgrade(scratch_engine)
    assert _differences(scratch_engine) == []


def test_one_head_and_every_revision_down_and_up_with_data(scratch_engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config(scratch_engine))
    assert len(script.get_heads()) == 1
    revisions = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    for revision in revisions:
        upgrade(scratch_engine, revision)
        _insert_sample_rows(scratch_engine, revision)
    for revision in reversed(revisions[:-1]):
        downgrade(scratch_engine, revision)  # one revision down at a time, data present
    downgrade(scratch_engine, "base")
    assert set(inspect(scratch_engine).get_table_names()) <= {"alembic_version"}
    upgrade(scratch_engine)
    assert _differences(scratch_engine) == []


def test_reference_data_seeded(scratch_engine: Engine) -> None:
    upgrade(scratch_engine)
    with scratch_engine.connect() as connection:
        tables = metadata.tables
        assert connection.scalar(select(func.count()).select_from(tables["municipalities"])) == 14
        subregions = dict(connection.execute(select(tables["municipalities"].c.name,
                                                    tables["municipalities"].c.subregion)).all())
        assert subregions["Venlo"] == "noord_limburg" and subregions["Weert"] == "midden_limburg"
        assert connection.scalar(select(func.count()).select_from(tables["ave_levels"])) == 5
        assert connection.scalar(select(func.count()).select_from(tables["disciplines"])) == 4


def _insert_sample_rows(engine: Engine, revision: str) -> None:
    """Rows present while the next revisions run up and down."""
    tables = inspect(engine).get_table_names()
    with engine.begin() as connection:
        if "organisations" in tables:
            connection.execute(text("INSERT INTO organisations (name, kind, active) VALUES (:name, 'police', true)"),
                               {"name": f"Migratietest {revision}"})


def test_upgrade_and_downgrade_keep_existing_family_data(scratch_engine: Engine) -> None:
    """A filled 0001 database: persons, their relations and an order survive every step."""
    upgrade(scratch_engine, "0001")
    with scratch_engine.begin() as connection:
        run = connection.exec_driver_sql
        run("INSERT INTO organisations (id, name, kind, active) VALUES (1, 'Team', 'mda_team', true)")
        run("INSERT INTO users (id, username, display_name, organisation_id, password_hash, password_changed_at, "
            "failed_logins, session_generation, active, created_at, uuid) VALUES (1, 'c', 'C', 1, 'x', "
            "'2026-01-01 00:00:00+00', 0, 1, true, '2026-01-01 00:00:00+00', '11111111111111111111111111111111')")
        run("INSERT INTO cases (id, reference, municipality_id, intake_route, status, phase, phase_since, ave_level, "
            "ave_since, opened_on, version) VALUES (1, 'MDA-2026-0001', 1, 'actie_overleg', 'open', "
            "'directe_veiligheid', '2026-01-01 00:00:00+00', 3, '2026-01-01 00:00:00+00', '2026-01-01', 1)")
        for person_id, role, uuid in ((1, "undergoing_violence", "2" * 32), (2, "using_violence", "3" * 32)):
            run(f"INSERT INTO persons (id, case_id, role, age_band, gender, uuid) VALUES ({person_id}, 1, "
                f"'{role}', '25-44', 'unknown', '{uuid}')")
        run("INSERT INTO person_relations (person_id, other_person_id, kind) VALUES (1, 2, 'partner')")
        run("INSERT INTO house_bans (id, case_id, municipality_id, imposed_at, imposed_by, form, route, "
            "removed_person_id, child_abuse_reason, status, ends_at, casemanagement_until, recorded_by_id, "
            "recorded_at, version, uuid) VALUES (1, 1, 1, '2026-01-01 10:00:00+00', 'mayor', 'written', 'a', 2, "
            "false, 'running', '2026-01-11 10:00:00+00', '2027-01-01', 1, '2026-01-01 10:00:00+00', 1, '"
            + "4" * 32 + "')")
    upgrade(scratch_engine)
    with scratch_engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version FROM persons ORDER BY id").scalars().all() == [1, 1]
        assert connection.exec_driver_sql("SELECT count(*) FROM person_relations").scalar() == 1
        assert connection.exec_driver_sql("SELECT count(*) FROM house_bans").scalar() == 1
    downgrade(scratch_engine, "0001")
    with scratch_engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM persons").scalar() == 2
        assert connection.exec_driver_sql("SELECT count(*) FROM person_relations").scalar() == 1
        assert connection.exec_driver_sql("SELECT count(*) FROM house_bans").scalar() == 1
    assert _differences(scratch_engine) != []  # at 0001 the schema is the old one
    upgrade(scratch_engine)
    assert _differences(scratch_engine) == []
