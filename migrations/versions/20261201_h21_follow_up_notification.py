"""notifications: the kind ``follow_up_due`` (the 12-month follow-up check after closure is due)

Widens the CHECK constraints of ``notifications.kind`` and ``notification_preferences.kind``.
Self-contained: the kinds before and after are listed here, so that another migration widening
the same constraints can be chained before or after this one by adjusting its tuple.

Revision ID: h21_1
Revises: h20_1
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'h21_1'
down_revision = 'h20_1'
branch_labels = None
depends_on = None

KINDS = ('referral_submitted', 'referral_crisis', 'referral_decided', 'team_added', 'team_removed',
         'task_assigned', 'task_due_tomorrow', 'task_overdue', 'house_ban_reachability', 'house_ban_expiry',
         'house_ban_extension', 'house_ban_ended', 'safety_plan_review', 'erasure_deadline', 'access_deadline')
NEW_KIND = 'follow_up_due'
# (table, CHECK constraint name as the naming convention makes it from the enum's name)
CHECKS = (('notifications', 'ck_notifications_notification_kind'),
          ('notification_preferences', 'ck_notification_preferences_preference_kind'))


def _allow_kinds(kinds: tuple[str, ...]) -> None:
    for table, check in CHECKS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(check), type_='check')
            batch_op.create_check_constraint(op.f(check), sa.column('kind').in_(kinds))


def upgrade() -> None:
    _allow_kinds(KINDS + (NEW_KIND,))


def downgrade() -> None:
    # The old schema cannot hold the new kind: its notifications (and the preference) go; an
    # e-mail already queued for one keeps its text (its notification_id is set to NULL).
    op.execute(f"UPDATE email_outbox SET notification_id = NULL WHERE notification_id IN "
               f"(SELECT id FROM notifications WHERE kind = '{NEW_KIND}')")
    op.execute(f"DELETE FROM notifications WHERE kind = '{NEW_KIND}'")
    op.execute(f"DELETE FROM notification_preferences WHERE kind = '{NEW_KIND}'")
    _allow_kinds(KINDS)
