"""referral API tokens, referrals written through the API, versioned consultation questions

- ``api_tokens``: per-organisation keys for the referral API; only a SHA-256 digest is stored.
- ``referrals``: ``created_by_id`` becomes optional because a registration system can be the
  author (``api_token_id``); one of the two is always there. ``requesting_team_id`` names the
  local team behind a coordination request via Veilig Thuis.
- ``consultation_questions``: who recorded it and when, and a version counter for optimistic
  locking (existing rows start at 1).

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-23 13:41:22.991540
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_prefix', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_tokens_created_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_api_tokens_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_api_tokens_revoked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_organisation_id'), ['organisation_id'], unique=False)

    with op.batch_alter_table('consultation_questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.create_foreign_key(batch_op.f('fk_consultation_questions_recorded_by_id_users'), 'users', ['recorded_by_id'], ['id'])
    # The default only fills existing rows; the application sets the version itself.
    with op.batch_alter_table('consultation_questions', schema=None) as batch_op:
        batch_op.alter_column('version', existing_type=sa.Integer(), existing_nullable=False, server_default=None)

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_token_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('requesting_team_id', sa.Integer(), nullable=True))
        batch_op.alter_column('created_by_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_referrals_requesting_team_id_organisations'), 'organisations', ['requesting_team_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_referrals_api_token_id_api_tokens'), 'api_tokens', ['api_token_id'], ['id'])
        batch_op.create_check_constraint(op.f('ck_referrals_has_author'),
                                         'created_by_id IS NOT NULL OR api_token_id IS NOT NULL')


def downgrade() -> None:
    # Referrals that came in through the API have no author account; they cannot survive the
    # return to a schema that requires one, and neither can the keys they refer to.
    op.execute("DELETE FROM persons WHERE referral_id IN "
               "(SELECT id FROM referrals WHERE created_by_id IS NULL) AND case_id IS NULL")
    op.execute("UPDATE persons SET referral_id = NULL WHERE referral_id IN "
               "(SELECT id FROM referrals WHERE created_by_id IS NULL)")
    op.execute("UPDATE consultation_questions SET referral_id = NULL WHERE referral_id IN "
               "(SELECT id FROM referrals WHERE created_by_id IS NULL)")
    op.execute("DELETE FROM referrals WHERE created_by_id IS NULL")
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_referrals_has_author'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_referrals_api_token_id_api_tokens'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_referrals_requesting_team_id_organisations'), type_='foreignkey')
        batch_op.alter_column('created_by_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('requesting_team_id')
        batch_op.drop_column('api_token_id')

    with op.batch_alter_table('consultation_questions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_consultation_questions_recorded_by_id_users'), type_='foreignkey')
        batch_op.drop_column('version')
        batch_op.drop_column('recorded_at')
        batch_op.drop_column('recorded_by_id')

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_organisation_id'))

    op.drop_table('api_tokens')
