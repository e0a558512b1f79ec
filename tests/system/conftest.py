"""System tests (load, soak, crash consistency) against gunicorn on 127.0.0.1.

Slow, so skipped unless MDA_SYSTEM_TESTS=1 (.ci/run sets it). SQLite by default; when
MDA_DATABASE_URL points at PostgreSQL they use their own database beside it
(<name>_system), never the one the rest of the suite empties.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from tests.system.harness import Manifest, make_app, new_keys, reset_postgres, seed, server_env

ENABLED = os.environ.get("MDA_SYSTEM_TESTS") == "1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "system: load/crash tests against gunicorn; run with MDA_SYSTEM_TESTS=1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.system)
            if not ENABLED:
                item.add_marker(pytest.mark.skip(reason="system test (gunicorn load/crash): set MDA_SYSTEM_TESTS=1 to run"))


def _system_database_url(tmp: Path, name: str) -> str:
    url = os.environ.get("MDA_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return f"sqlite:///{tmp / (name + '.sqlite')}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    base = make_url(url)
    target = f"{base.database}_{name}"
    engine = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target}):
            connection.execute(text(f'CREATE DATABASE "{target}"'))
    engine.dispose()
    system_url = base.set(database=target).render_as_string(hide_password=False)
    reset_postgres(system_url)
    return system_url


class Prepared:
    def __init__(self, env: dict[str, str], manifest: Manifest, url: str, workdir: Path):
        self.env, self.manifest, self.url, self.workdir = env, manifest, url, workdir

    def app(self):  # noqa: ANN201
        return make_app(self.env)


def prepare(tmp: Path, name: str, **scale: int) -> Prepared:
    url = _system_database_url(tmp, name)
    instance = tmp / f"instance-{name}"
    instance.mkdir(exist_ok=True)
    env = server_env(url, instance, new_keys())
    manifest = seed(make_app(env), **scale)
    return Prepared(env, manifest, url, tmp)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Prepared]:
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    yield prepare(tmp_path_factory.mktemp(name), name)
