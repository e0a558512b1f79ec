"""attachments: a case's documents, encrypted in chunks, in versions

- ``attachments``: one version of a document (kind, type found in the content, size, encrypted
  file name, description and deletion reason; optional link to a huisverbod, a safety plan
  version or a journal entry, and the person it is about); ``previous_id`` names the version
  it replaced, unique so a version is replaced once.
- ``attachment_chunks``: the encrypted content, 64 KiB per row.

Revision ID: h18_1
Revises: h15_2
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'h18_1'
down_revision = 'h15_2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('decision', 'signed_safety_plan', 'report', 'minutes', 'other', name='attachment_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('file_type', sa.Enum('pdf', 'png', 'jpeg', 'gif', 'webp', 'docx', 'xlsx', 'odt', 'doc', name='attachment_file_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('chunk_count', sa.Integer(), nullable=False),
    sa.Column('file_name_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('description_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('house_ban_id', sa.Integer(), nullable=True),
    sa.Column('safety_plan_id', sa.Integer(), nullable=True),
    sa.Column('journal_entry_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_by_id', sa.Integer(), nullable=True),
    sa.Column('deletion_reason_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('content_removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_attachments_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['deleted_by_id'], ['users.id'], name=op.f('fk_attachments_deleted_by_id_users')),
    sa.ForeignKeyConstraint(['house_ban_id'], ['house_bans.id'], name=op.f('fk_attachments_house_ban_id_house_bans'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entries.id'], name=op.f('fk_attachments_journal_entry_id_journal_entries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_attachments_person_id_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['previous_id'], ['attachments.id'], name=op.f('fk_attachments_previous_id_attachments')),
    sa.ForeignKeyConstraint(['safety_plan_id'], ['safety_plans.id'], name=op.f('fk_attachments_safety_plan_id_safety_plans'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('previous_id', name=op.f('uq_attachments_previous_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_attachments_uuid'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_person_id'), ['person_id'], unique=False)

    op.create_table('attachment_chunks',
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_attachment_chunks_attachment_id_attachments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('attachment_id', 'number', name=op.f('pk_attachment_chunks'))
    )


def downgrade() -> None:
    op.drop_table('attachment_chunks')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_person_id'))
        batch_op.drop_index(batch_op.f('ix_attachments_case_id'))

    op.drop_table('attachments')
