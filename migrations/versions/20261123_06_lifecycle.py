"""erasure requests (AVG art. 17) for the privacy officer

- ``erasure_requests``: a request to erase one person's data, the decision (granted, or refused
  with its legal ground) and its execution. Person and case are plain ids without foreign keys,
  like the audit trail, so the record outlives what it erased.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('erasure_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('received', 'granted', 'refused', 'executed', name='erasure_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('refusal_ground', sa.Enum('interest_of_another', 'legal_obligation', 'legal_claims', 'public_task', 'other', name='refusal_ground', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('explanation_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('executed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('executed_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.Uuid(), nullable=False),
    sa.CheckConstraint("status <> 'executed' OR executed_at IS NOT NULL", name=op.f('ck_erasure_requests_execution_has_date')),
    sa.CheckConstraint("status <> 'refused' OR refusal_ground IS NOT NULL", name=op.f('ck_erasure_requests_refusal_has_ground')),
    sa.CheckConstraint("status = 'received' OR decided_at IS NOT NULL", name=op.f('ck_erasure_requests_decision_has_date')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_erasure_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['executed_by_id'], ['users.id'], name=op.f('fk_erasure_requests_executed_by_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_erasure_requests_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_requests')),
    sa.UniqueConstraint('uuid', name=op.f('uq_erasure_requests_uuid'))
    )
    with op.batch_alter_table('erasure_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasure_requests_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_erasure_requests_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_erasure_requests_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('erasure_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erasure_requests_status'))
        batch_op.drop_index(batch_op.f('ix_erasure_requests_person_id'))
        batch_op.drop_index(batch_op.f('ix_erasure_requests_case_id'))

    op.drop_table('erasure_requests')
