"""cases.ave_outside_band_since: when a case left AVE 3-4

The "too long outside AVE 3-4" flag counted from the last change of level, so a case that went
3 -> 2 and later 2 -> 1 started counting again. It now counts from when the case left the band,
kept in this column by the case operations. Filled here from the AVE history: for a case outside
the band now, the first change of level after its last change into the band (or its first
change at all); ``ave_since`` where a case has no history.

Added with plain ALTER TABLE: rebuilding ``cases`` on SQLite would cascade-delete its children.

Revision ID: h13b_1
Revises: 0007
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'h13b_1'
down_revision = '0007'
branch_labels = None
depends_on = None

OUTSIDE = "NOT BETWEEN 3 AND 4"  # mda.cases.rules.MDA_BAND


def upgrade() -> None:
    op.add_column('cases', sa.Column('ave_outside_band_since', sa.DateTime(timezone=True), nullable=True))
    left_band = (
        "SELECT MIN(c.changed_at) FROM ave_changes c WHERE c.case_id = cases.id "
        f"AND c.to_level {OUTSIDE} AND NOT EXISTS (SELECT 1 FROM ave_changes i WHERE i.case_id = cases.id "
        "AND i.to_level BETWEEN 3 AND 4 AND (i.changed_at > c.changed_at "
        "OR (i.changed_at = c.changed_at AND i.id > c.id)))")
    op.execute(f"UPDATE cases SET ave_outside_band_since = COALESCE(({left_band}), ave_since) "
               f"WHERE ave_level {OUTSIDE}")


def downgrade() -> None:
    op.drop_column('cases', 'ave_outside_band_since')
