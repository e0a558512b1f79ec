"""family label on cases and referrals; a work contact line on accounts

- ``cases.uuid``: the row key that binds the case's own ciphertexts (filled for existing cases);
- ``cases.family_label_ciphertext`` and ``referrals.family_label_ciphertext``: the short label the
  team knows a family by ("Gezin De Vries"), encrypted like every other personal field;
- ``users.work_contact``: a coordinator's work telephone and e-mail, shown to Veilig Thuis on an
  accepted referral so a warm handover can start (staff business contact, not client data).

Revision ID: h15_1
Revises: h13b_2
Create Date: 2026-12-01
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op


revision = 'h15_1'
down_revision = 'h13b_2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uuid', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('family_label_ciphertext', sa.LargeBinary(), nullable=True))
    connection = op.get_bind()
    cases = sa.table('cases', sa.column('id', sa.Integer()), sa.column('uuid', sa.Uuid()))
    for (case_id,) in connection.execute(sa.select(cases.c.id)).all():
        connection.execute(sa.update(cases).where(cases.c.id == case_id).values(uuid=uuid.uuid4()))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('uuid', existing_type=sa.Uuid(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_cases_uuid'), ['uuid'])
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family_label_ciphertext', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('work_contact', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('work_contact')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_column('family_label_ciphertext')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_cases_uuid'), type_='unique')
        batch_op.drop_column('family_label_ciphertext')
        batch_op.drop_column('uuid')
