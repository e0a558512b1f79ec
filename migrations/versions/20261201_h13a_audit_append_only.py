"""audit_events append-only in the database itself: triggers refuse UPDATE and DELETE

The ORM already refuses to change audit records; these triggers make the database refuse it
too, for every client (psql, a script, a compromised app). On PostgreSQL TRUNCATE is refused as
well (it is not a row event, so it needs its own statement trigger). The trigger is a guard, not
the only one: the app's database role should not have UPDATE, DELETE or TRUNCATE on the table
at all (see README, "Deploying on PostgreSQL"), and `mda audit verify` with a checkpoint finds
records removed by anyone who could get round both (a superuser, or whoever holds the SQLite file).

Note for later migrations: an SQLite batch migration that recreates audit_events drops these
triggers with the old table; it must create them again.

Revision ID: h13a_2
Revises: h13a_1
Create Date: 2026-12-01
"""
from __future__ import annotations

from alembic import op

revision = 'h13a_2'
down_revision = 'h13a_1'
branch_labels = None
depends_on = None

MESSAGE = "audit_events is append-only: records are never changed or removed"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
            END
            $$""")
        op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")
        op.execute("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                       f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{event}")
