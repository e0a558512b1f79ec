"""cases.next_deadline: the stored next deadline that sorts the caseload

The earlier of a case's first open task and its latest safety plan's review date, kept current
by ``mda.cases.deadlines`` after every flush that touches tasks or safety plans. Filled here for
the cases that exist.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_deadline', sa.Date(), nullable=True))
        batch_op.create_index('ix_cases_next_deadline_reference', ['next_deadline', 'reference'], unique=False)
    task = "(SELECT MIN(due_on) FROM tasks WHERE tasks.case_id = cases.id AND tasks.done_at IS NULL)"
    plan = ("(SELECT review_on FROM safety_plans WHERE safety_plans.case_id = cases.id "
            "ORDER BY version_number DESC LIMIT 1)")
    op.execute(f"UPDATE cases SET next_deadline = CASE WHEN {task} IS NULL THEN {plan} "
               f"WHEN {plan} IS NULL THEN {task} WHEN {task} < {plan} THEN {task} ELSE {plan} END")


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_next_deadline_reference')
        batch_op.drop_column('next_deadline')
