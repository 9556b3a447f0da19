"""jobs that run by themselves: their leases, overdue alerts, hotspot scans

job_leases: one row per job, taken by a conditional update so that a job runs in one place at a
time. case_alerts: the overdue scan's flags (临期, 超期), once per case, kind and deadline.
hotspot_scans, hotspot_findings, hotspot_finding_cases: what the hotspot scan found, with its cases.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 12:30:00
"""

import sqlalchemy as sa
from alembic import op

import common.database

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotspot_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ran_at", common.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_start", common.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", common.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("min_count", sa.Integer(), nullable=False),
        sa.Column("min_growth", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotspot_scans")),
    )
    with op.batch_alter_table("hotspot_scans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotspot_scans_ran_at"), ["ran_at"], unique=False)

    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=True),
        sa.Column("expires_at", common.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", common.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", common.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )
    op.create_table(
        "case_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=True),
        sa.Column("due_at", common.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", common.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_alerts_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_alerts")),
        sa.UniqueConstraint("case_id", "kind", "due_at", name=op.f("uq_case_alerts_case_id")),
    )
    with op.batch_alter_table("case_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_alerts_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_alerts_unit"), ["unit"], unique=False)

    op.create_table(
        "hotspot_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("previous", sa.Integer(), nullable=False),
        sa.Column("growth", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["scan_id"],
            ["hotspot_scans.id"],
            name=op.f("fk_hotspot_findings_scan_id_hotspot_scans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotspot_findings")),
    )
    with op.batch_alter_table("hotspot_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotspot_findings_scan_id"), ["scan_id"], unique=False)

    op.create_table(
        "hotspot_finding_cases",
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_hotspot_finding_cases_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["hotspot_findings.id"],
            name=op.f("fk_hotspot_finding_cases_finding_id_hotspot_findings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("finding_id", "case_id", name=op.f("pk_hotspot_finding_cases")),
    )
    with op.batch_alter_table("hotspot_finding_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotspot_finding_cases_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hotspot_finding_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotspot_finding_cases_case_id"))

    op.drop_table("hotspot_finding_cases")
    with op.batch_alter_table("hotspot_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotspot_findings_scan_id"))

    op.drop_table("hotspot_findings")
    with op.batch_alter_table("case_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_alerts_unit"))
        batch_op.drop_index(batch_op.f("ix_case_alerts_case_id"))

    op.drop_table("case_alerts")
    op.drop_table("job_leases")
    with op.batch_alter_table("hotspot_scans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotspot_scans_ran_at"))

    op.drop_table("hotspot_scans")
