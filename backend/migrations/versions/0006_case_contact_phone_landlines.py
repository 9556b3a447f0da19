"""case contact_phone: room for landlines with their area code and extension (010-62345678转123)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.alter_column(
            "contact_phone",
            existing_type=sa.String(length=11),
            type_=sa.String(length=24),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.alter_column(
            "contact_phone",
            existing_type=sa.String(length=24),
            type_=sa.String(length=11),
            existing_nullable=True,
        )
