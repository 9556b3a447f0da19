"""The scheduled hotspot scan: the rising category × place combinations of the last window (the same
rule as `hotspots`), stored with their cases so the supervisors' dashboard can show and pick from
them (主动治理, 每月一题) without scanning again; beside them, the clusters of similar appeals in one
street (backend/stats/clusters.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.cases.models import Case
from backend.reference.categories import categories
from backend.reference.gazetteer import gazetteer
from backend.stats.clusters import as_cluster, find_clusters
from backend.stats.models import HotspotFinding, HotspotScan
from backend.stats.service import hotspots
from common.database import utcnow

MAX_FINDINGS = 100
MAX_CLUSTERS = 100
MAX_CASES = 200  # per finding: the cases to read through, newest kept when there are more


@dataclass(frozen=True)
class ClusterRule:
    """Which similar appeals make a cluster (主动治理): see backend/stats/clusters.py."""

    window: timedelta
    min_size: int
    min_similarity: float


def scan_hotspots(
    *,
    session: Session,
    window: timedelta,
    min_count: int,
    min_growth: float,
    clusters: ClusterRule | None = None,
    now: datetime | None = None,
) -> HotspotScan:
    """Find the window's rising hotspots and store them, each with its cases; with a cluster rule,
    also the clusters of similar appeals in each street over the cluster window."""
    end = now or utcnow()
    start = end - window
    scan = HotspotScan(
        ran_at=end, window_start=start, window_end=end, min_count=min_count, min_growth=min_growth
    )
    if clusters is not None:
        scan.cluster_window_start = end - clusters.window
        similar = find_clusters(
            session=session,
            start=end - clusters.window,
            end=end,
            min_size=clusters.min_size,
            min_similarity=clusters.min_similarity,
        )
        scan.clusters.extend(as_cluster(f) for f in similar[:MAX_CLUSTERS])
    found = hotspots(
        session=session, start=start, end=end, min_count=min_count, min_growth=min_growth, limit=MAX_FINDINGS
    )
    for spot in found:
        place = Case.street_code == spot.street_code if spot.street_code else Case.street_code.is_(None)
        cases = session.scalars(
            select(Case)
            .where(
                Case.accepted_at >= start,
                Case.accepted_at < end,
                Case.category_code == spot.category_code,
                Case.district_code == spot.district_code,
                place,
            )
            .order_by(Case.accepted_at.desc())
            .limit(MAX_CASES)
        ).all()
        scan.findings.append(
            HotspotFinding(
                category_code=spot.category_code,
                district_code=spot.district_code,
                street_code=spot.street_code,
                count=spot.count,
                previous=spot.previous,
                growth=spot.growth,
                cases=list(cases),
            )
        )
    session.add(scan)
    session.flush()
    return scan


def scan_out(scan: HotspotScan, *, with_findings: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": scan.id,
        "ran_at": scan.ran_at,
        "window_start": scan.window_start,
        "window_end": scan.window_end,
        "min_count": scan.min_count,
        "min_growth": scan.min_growth,
        "finding_count": len(scan.findings),
        "cluster_window_start": scan.cluster_window_start,
        "cluster_count": len(scan.clusters),
    }
    if with_findings:
        out["findings"] = [finding_out(f) for f in scan.findings]
    return out


def finding_out(finding: HotspotFinding) -> dict[str, Any]:
    """A finding with its names and its cases' numbers (no citizen's personal data)."""
    category = categories().get(finding.category_code)
    places = gazetteer()
    street = places.streets.get(finding.street_code or "")
    return {
        "id": finding.id,
        "category_code": finding.category_code,
        "category_name": category.name if category else finding.category_code,
        "district_code": finding.district_code,
        "district": places.districts[finding.district_code].name,
        "street_code": finding.street_code,
        "street": street.name if street else None,
        "count": finding.count,
        "previous": finding.previous,
        "growth": finding.growth,
        "cases": [case.number for case in finding.cases],
    }
