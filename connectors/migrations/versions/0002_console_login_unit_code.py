"""console_logins.unit becomes unit_code: it holds the operator's unit code (docs/glossary.md)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07

A database made by create_all from models after this rename has unit_code already, and 0001 gave it
the `unit` of its time, empty: that one is dropped instead.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("console_logins")}
    with op.batch_alter_table("console_logins", recreate="never") as batch:  # in place
        if "unit_code" in present:
            batch.drop_column("unit")
        else:
            batch.alter_column("unit", new_column_name="unit_code")


def downgrade() -> None:
    with op.batch_alter_table("console_logins", recreate="never") as batch:
        batch.alter_column("unit_code", new_column_name="unit")
