"""safety_plans: the structured plan (per person, the family's and the network's part), encrypted

Revision ID: h22_1
Revises: h21_1
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'h22_1'
down_revision = 'h21_1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('safety_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('structure_ciphertext', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('safety_plans', schema=None) as batch_op:
        batch_op.drop_column('structure_ciphertext')
