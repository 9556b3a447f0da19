"""columns that hold codes end in _code (docs/glossary.md): unit_code, lead_unit_code, department_code

cases.lead_unit, case_updates.unit, case_assignments.unit, case_alerts.unit, summonses.unit,
summonses.department and staff.unit hold a unit's code (`housing`, `street_office:110105026`) or a
department's; they are renamed, with the indexes named after them. The rows stay as they are.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 05:20:00
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# table: (old column, new column), and the indexes on them: (old name, new name, new columns)
COLUMNS = {
    "cases": [("lead_unit", "lead_unit_code")],
    "case_updates": [("unit", "unit_code")],
    "case_assignments": [("unit", "unit_code")],
    "case_alerts": [("unit", "unit_code")],
    "summonses": [("unit", "unit_code"), ("department", "department_code")],
    "staff": [("unit", "unit_code")],
}
INDEXES = {
    "cases": [("ix_cases_lead_unit_status", "ix_cases_lead_unit_code_status", ["lead_unit_code", "status"])],
    "case_assignments": [("ix_case_assignments_unit", "ix_case_assignments_unit_code", ["unit_code"])],
    "case_alerts": [("ix_case_alerts_unit", "ix_case_alerts_unit_code", ["unit_code"])],
    "summonses": [
        ("ix_summonses_unit", "ix_summonses_unit_code", ["unit_code"]),
        (
            "ix_summonses_department_closed_at",
            "ix_summonses_department_code_closed_at",
            ["department_code", "closed_at"],
        ),
    ],
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        rename(table, columns, INDEXES.get(table, []))


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        back = {new: old for old, new in columns}
        indexes = [(new, old, [back.get(c, c) for c in on]) for old, new, on in INDEXES.get(table, [])]
        rename(table, [(new, old) for old, new in columns], indexes)


def rename(table: str, columns: list[tuple[str, str]], indexes: list[tuple[str, str, list[str]]]) -> None:
    """Rename the columns in place (ALTER TABLE ... RENAME COLUMN, SQLite 3.25 and later), never by
    batch mode's copy of the table: on SQLite with foreign keys on, dropping the old `cases` would
    delete every row that refers to it (ON DELETE CASCADE)."""
    with op.batch_alter_table(table, recreate="never") as batch:
        for old_index, _, _ in indexes:
            batch.drop_index(old_index)
        for old, new in columns:
            batch.alter_column(old, new_column_name=new)
        for _, new_index, on in indexes:
            batch.create_index(new_index, on, unique=False)
