"""house ban: a timely extension recorded late reopens the order; casemanagement ends one year after the order

- ``house_ban_events.kind`` gains ``expiry_retracted``: an order the clock had marked as ended
  is reopened when an extension the mayor decided before its end is recorded afterwards; the
  earlier ``expired`` event stays in the history, this one says it was retracted.
- ``house_bans.casemanagement_until`` is one year from the order again (domain brief section 12):
  recording the start of casemanagement used to move it to one year from that start.

Only ``house_ban_events`` is rebuilt on SQLite (nothing refers to it); ``house_bans`` is not.

Revision ID: h13b_2
Revises: h13b_1
Create Date: 2026-12-01
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op


revision = 'h13b_2'
down_revision = 'h13b_1'
branch_labels = None
depends_on = None

KINDS = ('imposed', 'written_up', 'reachability_stated', 'extended', 'not_extended', 'withdrawn', 'appeal_filed',
         'hearing_set', 'ruling', 'breach', 'expired', 'casemanagement_started', 'casemanagement_ended')
NEW_KIND = 'expiry_retracted'
CHECK = 'ck_house_ban_events_house_ban_event_kind'
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _allow_kinds(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table('house_ban_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_='check')
        batch_op.create_check_constraint(op.f(CHECK), sa.column('kind').in_(kinds))


def _one_year_after(imposed_at: object) -> date:
    """As mda.huisverbod.deadlines.casemanagement_end: the order's Dutch calendar day, a year on."""
    moment = datetime.fromisoformat(imposed_at) if isinstance(imposed_at, str) else imposed_at
    assert isinstance(moment, datetime)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    start = moment.astimezone(AMSTERDAM).date()
    try:
        return start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        return start.replace(year=start.year + 1, day=28)


def upgrade() -> None:
    _allow_kinds(KINDS + (NEW_KIND,))
    bans = sa.table('house_bans', sa.column('id', sa.Integer), sa.column('casemanagement_until', sa.Date))
    connection = op.get_bind()
    for ban_id, imposed_at, until in connection.execute(
            sa.text("SELECT id, imposed_at, casemanagement_until FROM house_bans")).all():
        expected = _one_year_after(imposed_at)
        if str(until) != expected.isoformat():
            connection.execute(bans.update().where(bans.c.id == ban_id).values(casemanagement_until=expected))


def downgrade() -> None:
    # The old schema cannot hold the new kind; the reopening itself stays in the order's state.
    op.execute(f"DELETE FROM house_ban_events WHERE kind = '{NEW_KIND}'")
    _allow_kinds(KINDS)
