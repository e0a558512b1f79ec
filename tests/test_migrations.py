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
        _insert_sample_rows(scratch_engine)
    for revision in reversed(revisions):
        downgrade(scratch_engine, revision)
        downgrade(scratch_engine, "-1")
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


def _insert_sample_rows(engine: Engine) -> None:
    """A row in a table the revision created, so a downgrade must cope with data present."""
    tables = inspect(engine).get_table_names()
    if "organisations" in tables:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO organisations (name, kind, active) "
                                    "VALUES ('Migratietest', 'police', true)"))
