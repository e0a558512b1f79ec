"""Alembic environment: the engine comes from the app (``mda db ...``) or the tests."""
from __future__ import annotations

from alembic import context

from mda.db import UtcDateTime
from mda.models import metadata

def _render_item(type_, obj, _autogen_context):  # noqa: ANN001, ANN202
    # Migrations must not import app code: an aware UTC datetime is a plain DateTime there.
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    is_sqlite = connection.dialect.name == "sqlite"
    if is_sqlite:
        # Batch migrations rebuild tables on SQLite; with foreign keys enforced, dropping the
        # old table would fail (or cascade) while other tables refer to it.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
    if is_sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
