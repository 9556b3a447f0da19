"""Hotspot scans: what the scheduled scan found, kept for the supervisors' 主动治理 (每月一题) work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Float, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.cases.models import Case
from backend.db import Base
from common.database import utcnow

finding_cases = Table(
    "hotspot_finding_cases",
    Base.metadata,
    Column("finding_id", ForeignKey("hotspot_findings.id", ondelete="CASCADE"), primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True),
)
cluster_cases = Table(
    "hotspot_cluster_cases",
    Base.metadata,
    Column("cluster_id", ForeignKey("hotspot_clusters.id", ondelete="CASCADE"), primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class HotspotScan(Base):
    """One run of the hotspot scan: the window it looked at and the thresholds it used."""

    __tablename__ = "hotspot_scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    min_count: Mapped[int] = mapped_column(Integer)
    min_growth: Mapped[float] = mapped_column(Float)
    cluster_window_start: Mapped[datetime | None]  # clusters of similar appeals from then to window_end

    findings: Mapped[list[HotspotFinding]] = relationship(
        back_populates="scan", order_by="HotspotFinding.id", cascade="all, delete-orphan"
    )
    clusters: Mapped[list[HotspotCluster]] = relationship(
        back_populates="scan", order_by="HotspotCluster.id", cascade="all, delete-orphan"
    )


class HotspotFinding(Base):
    """A category rising in one street (or district, where the street is unknown) in the window,
    against the window before it: a candidate problem, with the cases behind it."""

    __tablename__ = "hotspot_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("hotspot_scans.id", ondelete="CASCADE"), index=True)
    category_code: Mapped[str] = mapped_column(String(40))
    district_code: Mapped[str] = mapped_column(String(6))
    street_code: Mapped[str | None] = mapped_column(String(9))
    count: Mapped[int] = mapped_column(Integer)  # cases in the window
    previous: Mapped[int] = mapped_column(Integer)  # cases in the window before
    growth: Mapped[float | None] = mapped_column(Float)  # count / previous; None when previous is 0

    scan: Mapped[HotspotScan] = relationship(back_populates="findings")
    cases: Mapped[list[Case]] = relationship(secondary=finding_cases, order_by=Case.accepted_at)


class HotspotCluster(Base):
    """Similar appeals in one street within the scan's cluster window (same category, or descriptions
    alike by TF-IDF cosine): a candidate problem for 主动治理 (每月一题), with its cases."""

    __tablename__ = "hotspot_clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("hotspot_scans.id", ondelete="CASCADE"), index=True)
    district_code: Mapped[str] = mapped_column(String(6))
    street_code: Mapped[str] = mapped_column(String(9))
    category_code: Mapped[str | None] = mapped_column(String(40))  # the most frequent category
    size: Mapped[int] = mapped_column(Integer)
    terms: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the words its descriptions share most
    first_at: Mapped[datetime]  # its first and last case's acceptance
    last_at: Mapped[datetime]

    scan: Mapped[HotspotScan] = relationship(back_populates="clusters")
    cases: Mapped[list[Case]] = relationship(secondary=cluster_cases, order_by=Case.accepted_at)
    topics: Mapped[list[MonthlyTopic]] = relationship(back_populates="cluster", order_by="MonthlyTopic.id")


class MonthlyTopic(Base):
    """A cluster a supervisor chose as a topic of the month (每月一题): a problem to govern at its root."""

    __tablename__ = "monthly_topics"
    __table_args__ = (UniqueConstraint("month", "cluster_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # "2026-12", Beijing calendar month
    cluster_id: Mapped[int] = mapped_column(ForeignKey("hotspot_clusters.id", ondelete="CASCADE"))
    note: Mapped[str | None] = mapped_column(Text)
    marked_by: Mapped[str] = mapped_column(String(64))
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)

    cluster: Mapped[HotspotCluster] = relationship(back_populates="topics")
