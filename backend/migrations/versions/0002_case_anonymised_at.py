"""cases.anonymised_at: retention marks the cases it anonymised

Cases anonymised before this column existed have it empty, so the next retention run goes over them
once more and masks the personal data inside their free text, which it did not do before.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 11:00:00
"""

import sqlalchemy as sa
from alembic import op

import common.database

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("anonymised_at", common.database.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")
