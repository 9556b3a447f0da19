"""case routing carried from the conversation: department, its confidence, review and alternatives

cases.department_code, department_confidence: the functional department smart dispatch chose and how
sure it was; needs_review: it was unsure, the case went to its place (属地) or waits at the hotline,
and an operator picks the unit; routing_alternatives: the categories ranked next, in codes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 18:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("department_code", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("department_confidence", sa.Float(), nullable=True))
        batch.add_column(sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("routing_alternatives", sa.JSON(), nullable=False, server_default="[]"))
        batch.create_index(batch.f("ix_cases_needs_review"), ["needs_review"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index(batch.f("ix_cases_needs_review"))
        batch.drop_column("routing_alternatives")
        batch.drop_column("needs_review")
        batch.drop_column("department_confidence")
        batch.drop_column("department_code")
