"""email_outbox: the status ``withdrawn`` (not sent: the recipient's access ended before sending)

Widens the CHECK constraint of ``email_outbox.status``. Self-contained: the statuses before and
after are listed here.

Revision ID: w23_1
Revises: h22_1
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'w23_1'
down_revision = 'h22_1'
branch_labels = None
depends_on = None

STATUSES = ('pending', 'sending', 'sent', 'failed', 'no_address')
NEW_STATUS = 'withdrawn'
CHECK = 'ck_email_outbox_outbox_status'


def _allow(statuses: tuple[str, ...]) -> None:
    with op.batch_alter_table('email_outbox', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_='check')
        batch_op.create_check_constraint(op.f(CHECK), sa.column('status').in_(statuses))


def upgrade() -> None:
    _allow(STATUSES + (NEW_STATUS,))


def downgrade() -> None:
    # The old schema cannot hold the new status: a withdrawn e-mail is recorded as failed.
    op.execute(f"UPDATE email_outbox SET status = 'failed' WHERE status = '{NEW_STATUS}'")
    _allow(STATUSES)
