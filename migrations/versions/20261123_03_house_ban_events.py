"""house ban events: the history of each order, casemanagement start and end, provisional relief

Adds the event table behind the huisverbod timeline, the columns the steering metrics count
from (casemanagement start and end, provisional relief on appeals, last change) and a partial
unique index so the database refuses a second running order for the same removed person.

No step rebuilds ``house_bans``: on SQLite a rebuild drops the table, and with foreign keys on
that deletes the rows of every table that refers to it with ON DELETE CASCADE (appeals,
breaches, protected persons). Columns are added and dropped with plain ALTER TABLE instead
(SQLite 3.35 or later).

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 13:46:16.211426
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None

RUNNING = sa.text("status IN ('running', 'extended')")


def upgrade() -> None:
    op.create_table('house_ban_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('house_ban_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('imposed', 'written_up', 'reachability_stated', 'extended', 'not_extended', 'withdrawn', 'appeal_filed', 'hearing_set', 'ruling', 'breach', 'expired', 'casemanagement_started', 'casemanagement_ended', name='house_ban_event_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.Enum('mayor', 'mandated_officer', name='event_decided_by', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('new_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('uuid', sa.Uuid(), nullable=False),
    sa.CheckConstraint("kind <> 'extended' OR new_end IS NOT NULL", name=op.f('ck_house_ban_events_extension_has_end')),
    sa.ForeignKeyConstraint(['house_ban_id'], ['house_bans.id'], name=op.f('fk_house_ban_events_house_ban_id_house_bans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_house_ban_events_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_house_ban_events')),
    sa.UniqueConstraint('uuid', name=op.f('uq_house_ban_events_uuid'))
    )
    op.create_index(op.f('ix_house_ban_events_house_ban_id'), 'house_ban_events', ['house_ban_id'], unique=False)
    op.create_index(op.f('ix_house_ban_events_kind'), 'house_ban_events', ['kind'], unique=False)

    # Existing appeals were, as a rule, filed with a request for provisional relief.
    op.add_column('house_ban_appeals', sa.Column('provisional_relief', sa.Boolean(), nullable=False,
                                                 server_default=sa.true()))

    op.add_column('house_bans', sa.Column('casemanagement_started_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('house_bans', sa.Column('casemanagement_ended_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('house_bans', sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    # Fails, as it should, if the data already hold two running orders for one person.
    op.create_index('uq_house_bans_one_running_per_person', 'house_bans', ['removed_person_id'], unique=True,
                    sqlite_where=RUNNING, postgresql_where=RUNNING)


def downgrade() -> None:
    op.drop_index('uq_house_bans_one_running_per_person', table_name='house_bans',
                  sqlite_where=RUNNING, postgresql_where=RUNNING)
    op.drop_column('house_bans', 'updated_at')
    op.drop_column('house_bans', 'casemanagement_ended_at')
    op.drop_column('house_bans', 'casemanagement_started_at')
    op.drop_column('house_ban_appeals', 'provisional_relief')
    op.drop_index(op.f('ix_house_ban_events_kind'), table_name='house_ban_events')
    op.drop_index(op.f('ix_house_ban_events_house_ban_id'), table_name='house_ban_events')
    op.drop_table('house_ban_events')
