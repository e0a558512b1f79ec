"""metrics_releases: published releases of the steering information

Revision ID: h14_1
Revises: h13a_3
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'h14_1'
down_revision = 'h13a_3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'metrics_releases',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('quarter', 'year', 'pilot_period', name='release_kind', native_enum=False,
                                  create_constraint=True, length=12), nullable=False),
        sa.Column('label', sa.String(length=80), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_by_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=300), nullable=True),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('audit_basis', sa.JSON(), nullable=False),
        sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_metrics_releases_release_period_order')),
        sa.CheckConstraint('version >= 1', name=op.f('ck_metrics_releases_release_version_positive')),
        sa.ForeignKeyConstraint(['published_by_id'], ['users.id'],
                                name=op.f('fk_metrics_releases_published_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_metrics_releases')),
        sa.UniqueConstraint('kind', 'starts_on', 'ends_on', 'version', name='period_version'),
    )


def downgrade() -> None:
    op.drop_table('metrics_releases')
