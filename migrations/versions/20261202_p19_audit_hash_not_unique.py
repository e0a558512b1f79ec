"""audit_events: no unique index on ``hash``

Every page appends audit records, and each record put an entry at a random place in this index
(a hash is random by design): at national scale the index outgrows the database's cache and the
list pages waited for its pages to be read from disk. Nothing looks a record up by its hash, and
the index guaranteed nothing that ``mda audit verify`` does not: a copied, altered, removed or
forked record breaks the chain, whatever its hash.

On SQLite the table is rebuilt (batch mode): this takes a while on a large trail, and the rebuilt
table gets the append-only triggers of migration h13a_2 again (they go with the old table).

Revision ID: p19_1
Revises: h14c_1
Create Date: 2026-12-02
"""
from __future__ import annotations

from alembic import op


revision = 'p19_1'
down_revision = 'h14c_1'
branch_labels = None
depends_on = None

UNIQUE = 'uq_audit_events_hash'
MESSAGE = "audit_events is append-only: records are never changed or removed"


def _sqlite_append_only_triggers() -> None:
    # As migration h13a_2 (PostgreSQL keeps its triggers: it alters the table in place).
    for event in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                   f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(UNIQUE, 'audit_events', type_='unique')
        return
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(UNIQUE, type_='unique')
    _sqlite_append_only_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_unique_constraint(UNIQUE, 'audit_events', ['hash'])
        return
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_unique_constraint(UNIQUE, ['hash'])
    _sqlite_append_only_triggers()
