"""journal_entry_persons: the persons of the case a journal entry is about

Revision ID: h18_2
Revises: h18_1
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'h18_2'
down_revision = 'h18_1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('journal_entry_persons',
    sa.Column('journal_entry_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['journal_entry_id'], ['journal_entries.id'], name=op.f('fk_journal_entry_persons_journal_entry_id_journal_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_journal_entry_persons_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('journal_entry_id', 'person_id', name=op.f('pk_journal_entry_persons'))
    )
    with op.batch_alter_table('journal_entry_persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journal_entry_persons_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('journal_entry_persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journal_entry_persons_person_id'))

    op.drop_table('journal_entry_persons')
