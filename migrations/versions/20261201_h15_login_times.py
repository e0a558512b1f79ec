"""when an account last signed in, and the time before that

``users.previous_login_at`` is what "since my last visit" means on the start page (Veilig Thuis
sees the decisions on its referrals taken since then); ``last_login_at`` becomes it at the next
login.

Revision ID: h15_2
Revises: h15_1
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'h15_2'
down_revision = 'h15_1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('previous_login_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('previous_login_at')
        batch_op.drop_column('last_login_at')
