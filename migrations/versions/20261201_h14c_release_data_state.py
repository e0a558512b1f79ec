"""metrics_releases: the data state of each slice a release was computed from

Revision ID: h14c_1
Revises: w23_1
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'h14c_1'
down_revision = 'w23_1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Earlier releases keep NULL: their states are unknown, and the audit treats them as one state.
    with op.batch_alter_table('metrics_releases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_state', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('metrics_releases', schema=None) as batch_op:
        batch_op.drop_column('data_state')
