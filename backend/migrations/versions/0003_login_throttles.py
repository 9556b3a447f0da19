"""login throttles: wrong passwords counted per account and per client address

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import common.database

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_start", common.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", common.database.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )


def downgrade() -> None:
    op.drop_table("login_throttles")
