"""notifications: a kind for the deadline of an access request (AVG art. 15)

``notifications.kind`` and ``notification_preferences.kind`` gain ``access_deadline``: the
worker tells the privacy officer when an inzageverzoek's one-month (or extended) term is near.
The CHECK constraints are named as h17_1 declared them (``sa.Enum(..., create_constraint=True)``
under the naming convention ``ck_<table>_<enum name>``). On SQLite both tables are rebuilt
(the migration environment switches foreign keys off meanwhile, so ``email_outbox`` rows
referring to a notification keep their reference).

Revision ID: h20_1
Revises: h16_1
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'h20_1'
down_revision = 'h16_1'
branch_labels = None
depends_on = None

KINDS = ('referral_submitted', 'referral_crisis', 'referral_decided', 'team_added', 'team_removed', 'task_assigned',
         'task_due_tomorrow', 'task_overdue', 'house_ban_reachability', 'house_ban_expiry', 'house_ban_extension',
         'house_ban_ended', 'safety_plan_review', 'erasure_deadline')
NEW_KIND = 'access_deadline'
CHECKS = {'notifications': 'ck_notifications_notification_kind',
          'notification_preferences': 'ck_notification_preferences_preference_kind'}


def _allow_kinds(kinds: tuple[str, ...]) -> None:
    for table, check in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(check), type_='check')
            batch_op.create_check_constraint(op.f(check), sa.column('kind').in_(kinds))


def upgrade() -> None:
    _allow_kinds(KINDS + (NEW_KIND,))


def downgrade() -> None:
    # The old schema cannot hold the new kind: its notifications and preferences go.
    op.execute(f"DELETE FROM notification_preferences WHERE kind = '{NEW_KIND}'")
    op.execute(f"DELETE FROM notifications WHERE kind = '{NEW_KIND}'")
    _allow_kinds(KINDS)
