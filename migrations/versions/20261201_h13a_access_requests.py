"""access_requests: the register of requests for access (AVG art. 15) with their deadline

An access report is made only for a registered request, after the person was looked up by BSN
or by name with date of birth. Person and case are plain ids without foreign keys, like the
erasure requests.

Revision ID: h13a_3
Revises: h13a_2
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'h13a_3'
down_revision = 'h13a_2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'access_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('extended_until', sa.Date(), nullable=True),
        sa.Column('extension_reason_ciphertext', sa.LargeBinary(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.Enum('open', 'completed', name='access_request_status', native_enum=False,
                                    create_constraint=True), nullable=False),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('completed_by_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('uuid', sa.Uuid(), nullable=False),
        sa.CheckConstraint("status <> 'completed' OR completed_at IS NOT NULL",
                           name=op.f('ck_access_requests_completion_has_date')),
        sa.CheckConstraint("due_on > received_on", name=op.f('ck_access_requests_due_after_receipt')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_access_requests_recorded_by_id_users')),
        sa.ForeignKeyConstraint(['completed_by_id'], ['users.id'],
                                name=op.f('fk_access_requests_completed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_requests')),
        sa.UniqueConstraint('uuid', name=op.f('uq_access_requests_uuid')),
    )
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_requests_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_requests_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_requests_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_requests_status'))
        batch_op.drop_index(batch_op.f('ix_access_requests_person_id'))
        batch_op.drop_index(batch_op.f('ix_access_requests_case_id'))
    op.drop_table('access_requests')
