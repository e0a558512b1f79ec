"""form_drafts: what a form held when it was posted after its session had ended (encrypted)

Revision ID: h16_1
Revises: h14_2
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'h16_1'
down_revision = 'h14_2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'form_drafts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('page', sa.String(length=300), nullable=False),
        sa.Column('fields_ciphertext', sa.LargeBinary(), nullable=True),
        sa.Column('kept_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('uuid', sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_form_drafts_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_form_drafts')),
        sa.UniqueConstraint('uuid', name=op.f('uq_form_drafts_uuid')),
    )
    with op.batch_alter_table('form_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_drafts_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('form_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_drafts_user_id'))
    op.drop_table('form_drafts')
