"""吹哨报到 and 主动治理: summonses, their alerts, clusters of similar appeals, topics of the month

summonses: a street leading a case summons functional departments (吹哨), each to check in (报到) in
time. case_alerts.summons_id: an alert about a summons, once per summons (case alerts stay once per
case, kind and deadline, now a partial unique index). hotspot_clusters, hotspot_cluster_cases: similar
appeals in one street that the hotspot scan found, with their cases; monthly_topics: the clusters
supervisors chose as topics of the month (每月一题).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 14:20:00
"""

import sqlalchemy as sa
from alembic import op

import common.database

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotspot_clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("first_at", common.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", common.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["scan_id"],
            ["hotspot_scans.id"],
            name=op.f("fk_hotspot_clusters_scan_id_hotspot_scans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotspot_clusters")),
    )
    with op.batch_alter_table("hotspot_clusters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotspot_clusters_scan_id"), ["scan_id"], unique=False)

    op.create_table(
        "summonses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("summoned_by", sa.String(length=64), nullable=False),
        sa.Column("summoned_at", common.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", common.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checked_in_at", common.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_in_by", sa.String(length=64), nullable=True),
        sa.Column("check_in", sa.Text(), nullable=True),
        sa.Column("closed_at", common.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_summonses_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summonses")),
    )
    with op.batch_alter_table("summonses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_summonses_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_summonses_department_closed_at", ["department", "closed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_summonses_summoned_at"), ["summoned_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_summonses_unit"), ["unit"], unique=False)

    op.create_table(
        "hotspot_cluster_cases",
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_hotspot_cluster_cases_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["hotspot_clusters.id"],
            name=op.f("fk_hotspot_cluster_cases_cluster_id_hotspot_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cluster_id", "case_id", name=op.f("pk_hotspot_cluster_cases")),
    )
    with op.batch_alter_table("hotspot_cluster_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotspot_cluster_cases_case_id"), ["case_id"], unique=False)

    op.create_table(
        "monthly_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("marked_by", sa.String(length=64), nullable=False),
        sa.Column("marked_at", common.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["hotspot_clusters.id"],
            name=op.f("fk_monthly_topics_cluster_id_hotspot_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_topics")),
        sa.UniqueConstraint("month", "cluster_id", name=op.f("uq_monthly_topics_month")),
    )
    with op.batch_alter_table("monthly_topics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monthly_topics_month"), ["month"], unique=False)

    with op.batch_alter_table("case_alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summons_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_case_alerts_case_id"), type_="unique")
        batch_op.create_index(
            "uq_case_alerts_case_kind_due",
            ["case_id", "kind", "due_at"],
            unique=True,
            sqlite_where=sa.text("summons_id IS NULL"),
            postgresql_where=sa.text("summons_id IS NULL"),
        )
        batch_op.create_unique_constraint(batch_op.f("uq_case_alerts_summons_id"), ["summons_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_case_alerts_summons_id_summonses"),
            "summonses",
            ["summons_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("hotspot_scans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cluster_window_start", common.database.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("hotspot_scans", schema=None) as batch_op:
        batch_op.drop_column("cluster_window_start")

    with op.batch_alter_table("case_alerts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_case_alerts_summons_id_summonses"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_case_alerts_summons_id"), type_="unique")
        batch_op.drop_index(
            "uq_case_alerts_case_kind_due",
            sqlite_where=sa.text("summons_id IS NULL"),
            postgresql_where=sa.text("summons_id IS NULL"),
        )
        batch_op.create_unique_constraint(batch_op.f("uq_case_alerts_case_id"), ["case_id", "kind", "due_at"])
        batch_op.drop_column("summons_id")

    with op.batch_alter_table("monthly_topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monthly_topics_month"))

    op.drop_table("monthly_topics")
    with op.batch_alter_table("hotspot_cluster_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotspot_cluster_cases_case_id"))

    op.drop_table("hotspot_cluster_cases")
    with op.batch_alter_table("summonses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_summonses_unit"))
        batch_op.drop_index(batch_op.f("ix_summonses_summoned_at"))
        batch_op.drop_index("ix_summonses_department_closed_at")
        batch_op.drop_index(batch_op.f("ix_summonses_case_id"))

    op.drop_table("summonses")
    with op.batch_alter_table("hotspot_clusters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotspot_clusters_scan_id"))

    op.drop_table("hotspot_clusters")
