"""Notifications in the app, e-mail preferences, the e-mail outbox and the worker's job leases

Revision ID: h17_1
Revises: h18_2
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'h17_1'
down_revision = 'h18_2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('worker_leases',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=80), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_run_on', sa.Date(), nullable=True),
    sa.Column('last_outcome', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_worker_leases'))
    )
    op.create_table('notification_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('referral_submitted', 'referral_crisis', 'referral_decided', 'team_added', 'team_removed', 'task_assigned', 'task_due_tomorrow', 'task_overdue', 'house_ban_reachability', 'house_ban_expiry', 'house_ban_extension', 'house_ban_ended', 'safety_plan_review', 'erasure_deadline', name='preference_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('delivery', sa.Enum('immediate', 'digest', 'off', name='delivery', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preferences')),
    sa.UniqueConstraint('user_id', 'kind', name=op.f('uq_notification_preferences_user_id'))
    )
    with op.batch_alter_table('notification_preferences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_preferences_user_id'), ['user_id'], unique=False)

    op.create_table('notification_settings',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('digest_hour', sa.Integer(), nullable=False),
    sa.Column('last_digest_on', sa.Date(), nullable=True),
    sa.CheckConstraint('digest_hour BETWEEN 0 AND 23', name=op.f('ck_notification_settings_digest_hour_range')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_settings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_settings'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('referral_submitted', 'referral_crisis', 'referral_decided', 'team_added', 'team_removed', 'task_assigned', 'task_due_tomorrow', 'task_overdue', 'house_ban_reachability', 'house_ban_expiry', 'house_ban_extension', 'house_ban_ended', 'safety_plan_review', 'erasure_deadline', name='notification_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('case_reference', sa.String(length=20), nullable=True),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('due_key', sa.String(length=40), nullable=True),
    sa.Column('link', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('digest_pending', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notifications_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_notifications_recipient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('recipient_id', 'kind', 'subject_type', 'subject_id', 'due_key', name='uq_notifications_once')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_digest_pending'), ['digest_pending'], unique=False)
        batch_op.create_index('ix_notifications_inbox', ['recipient_id', 'read_at', 'created_at'], unique=False)

    op.create_table('email_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('is_digest', sa.Boolean(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', 'no_address', name='outbox_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=80), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_email_outbox_notification_id_notifications'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_email_outbox_recipient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_email_outbox_message_id'))
    )
    with op.batch_alter_table('email_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_email_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_outbox_recipient_id'), ['recipient_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('email_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_outbox_recipient_id'))
        batch_op.drop_index('ix_email_outbox_due')

    op.drop_table('email_outbox')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_inbox')
        batch_op.drop_index(batch_op.f('ix_notifications_digest_pending'))
        batch_op.drop_index(batch_op.f('ix_notifications_case_id'))

    op.drop_table('notifications')
    op.drop_table('notification_settings')
    with op.batch_alter_table('notification_preferences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_preferences_user_id'))

    op.drop_table('notification_preferences')
    op.drop_table('worker_leases')
