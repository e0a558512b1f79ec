"""closure_outcomes and follow_up_checks: the safety judgement at closure and twelve months later

Revision ID: h14_2
Revises: h14_1
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'h14_2'
down_revision = 'h14_1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'closure_outcomes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('status_change_id', sa.Integer(), nullable=False),
        sa.Column('closed_on', sa.Date(), nullable=False),
        sa.Column('judgement', sa.Enum('lasting', 'partly', 'not', name='safety_judgement', native_enum=False,
                                       create_constraint=True, length=7), nullable=False),
        sa.Column('professional_rating', sa.Integer(), nullable=False),
        sa.Column('family_rating', sa.Integer(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.CheckConstraint('professional_rating BETWEEN 0 AND 10',
                           name=op.f('ck_closure_outcomes_professional_rating_range')),
        sa.CheckConstraint('family_rating IS NULL OR family_rating BETWEEN 0 AND 10',
                           name=op.f('ck_closure_outcomes_family_rating_range')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_closure_outcomes_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['status_change_id'], ['case_status_changes.id'],
                                name=op.f('fk_closure_outcomes_status_change_id_case_status_changes'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_closure_outcomes_recorded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_closure_outcomes')),
        sa.UniqueConstraint('status_change_id', name=op.f('uq_closure_outcomes_status_change_id')),
    )
    op.create_index(op.f('ix_closure_outcomes_case_id'), 'closure_outcomes', ['case_id'], unique=False)
    op.create_table(
        'follow_up_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('closure_outcome_id', sa.Integer(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('family_safe', sa.Enum('yes', 'partly', 'no', 'unknown', name='family_safe', native_enum=False,
                                         create_constraint=True, length=7), nullable=True),
        sa.Column('new_vt_report', sa.Boolean(), nullable=True),
        sa.Column('new_house_ban', sa.Boolean(), nullable=True),
        sa.Column('new_referral', sa.Boolean(), nullable=True),
        sa.CheckConstraint('(recorded_at IS NULL) = (family_safe IS NULL)',
                           name=op.f('ck_follow_up_checks_recorded_has_answer')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_follow_up_checks_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['closure_outcome_id'], ['closure_outcomes.id'],
                                name=op.f('fk_follow_up_checks_closure_outcome_id_closure_outcomes'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_follow_up_checks_task_id_tasks'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_follow_up_checks_recorded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_checks')),
        sa.UniqueConstraint('closure_outcome_id', name=op.f('uq_follow_up_checks_closure_outcome_id')),
    )
    op.create_index(op.f('ix_follow_up_checks_case_id'), 'follow_up_checks', ['case_id'], unique=False)
    op.create_index(op.f('ix_follow_up_checks_due_on'), 'follow_up_checks', ['due_on'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_follow_up_checks_due_on'), table_name='follow_up_checks')
    op.drop_index(op.f('ix_follow_up_checks_case_id'), table_name='follow_up_checks')
    op.drop_table('follow_up_checks')
    op.drop_index(op.f('ix_closure_outcomes_case_id'), table_name='closure_outcomes')
    op.drop_table('closure_outcomes')
