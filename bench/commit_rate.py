"""The disk's own durable commit rate: a loop of single-row INSERT + COMMIT, no app.

    python bench/commit_rate.py --database sqlite:////tmp/mda-bench/commit.sqlite
    python bench/commit_rate.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench

SQLite with the app's settings (WAL, synchronous=FULL: every commit is fsynced) and PostgreSQL
with its defaults (synchronous_commit=on: every commit waits for the WAL flush), so the figure
is what durability costs on this disk, the part of /floor that no code change can remove.
A scratch table is created and dropped again; nothing else in the database is touched.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TABLE = "bench_commit_rate_scratch"


def commit_rate(database_url: str, commits: int = 2000) -> dict[str, float]:
    from sqlalchemy import text

    from mda.db import make_engine  # the app's engine: on SQLite the same PRAGMAs as every request
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
            connection.execute(text(f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, payload VARCHAR(64))"))
            connection.commit()
            settings = (connection.execute(text("PRAGMA synchronous")).scalar_one() if engine.dialect.name == "sqlite"
                        else connection.execute(text("SHOW synchronous_commit")).scalar_one())
            insert = text(f"INSERT INTO {TABLE} (id, payload) VALUES (:id, :payload)")
            for warm in range(50):
                connection.execute(insert, {"id": -1 - warm, "payload": "warm-up"})
                connection.commit()
            started = time.perf_counter()
            for number in range(commits):
                connection.execute(insert, {"id": number, "payload": "a single durable row"})
                connection.commit()
            elapsed = time.perf_counter() - started
            connection.execute(text(f"DROP TABLE {TABLE}"))
            connection.commit()
    finally:
        engine.dispose()
    return {"commits": commits, "per_second": commits / elapsed, "ms_per_commit": elapsed / commits * 1000,
            "setting": str(settings)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True)
    parser.add_argument("--commits", type=int, default=2000)
    args = parser.parse_args()
    result = commit_rate(args.database, args.commits)
    print(f"{result['commits']} single-row durable commits: {result['per_second']:.0f}/s, "
          f"{result['ms_per_commit']:.3f} ms each (synchronous setting: {result['setting']})")


if __name__ == "__main__":
    main()
