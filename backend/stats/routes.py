"""Rates and hotspots for supervisors, operators and (their own unit's) handling units."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select

from backend.cases.numbers import BEIJING
from backend.cases.states import Role
from backend.db import LARGEST_ID
from backend.deps import DB, require
from backend.errors import BadInput, NotFound
from backend.staff.principal import Principal
from backend.stats.models import HotspotScan
from backend.stats.scans import scan_out
from backend.stats.service import GroupBy, hotspots, three_rates
from common.database import utcnow

router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])
Viewer = Annotated[Principal, Depends(require(Role.OPERATOR, Role.UNIT_STAFF, Role.SUPERVISOR))]
Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR))]
MAX_DAYS = 366


def period(start: date | None, end: date | None) -> tuple[datetime, datetime]:
    """Beijing calendar days [start, end], both inclusive; the last 30 days by default."""
    today = utcnow().astimezone(BEIJING).date()
    end = end or today
    start = start or end - timedelta(days=29)
    if start > end:
        raise BadInput("start is after end")
    if (end - start).days >= MAX_DAYS:
        raise BadInput(f"a period is at most {MAX_DAYS} days")
    return (
        datetime.combine(start, time.min, BEIJING),
        datetime.combine(end + timedelta(days=1), time.min, BEIJING),
    )


@router.get("/rates")
def rates(
    session: DB,
    caller: Viewer,
    start: date | None = None,
    end: date | None = None,
    group_by: GroupBy = GroupBy.NONE,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    district_code: Annotated[str | None, Query(max_length=6)] = None,
    category_code: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """响应率, 解决率, 满意率 of the cases accepted in the period (definitions: docs/rates.md)."""
    begin, finish = period(start, end)
    rows = three_rates(
        session=session,
        principal=caller,
        start=begin,
        end=finish,
        group_by=group_by,
        unit=unit,
        district_code=district_code,
        category_code=category_code,
    )
    return {"start": begin, "end": finish, "group_by": group_by, "rows": [vars(r) for r in rows]}


@router.get("/hotspots")
def hot(
    session: DB,
    _: Viewer,
    start: date | None = None,
    end: date | None = None,
    min_count: Annotated[int, Query(ge=1, le=1000)] = 3,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """Category × place combinations rising against the previous period (主动治理, 每月一题)."""
    begin, finish = period(start, end)
    found = hotspots(session=session, start=begin, end=finish, min_count=min_count, limit=limit)
    return {"start": begin, "end": finish, "hotspots": [vars(h) for h in found]}


@router.get("/hotspot-scans")
def hotspot_scans(
    session: DB, _: Supervisor, limit: Annotated[int, Query(ge=1, le=100)] = 10
) -> list[dict[str, Any]]:
    """The latest runs of the scheduled hotspot scan (newest first), without their findings."""
    found = session.scalars(select(HotspotScan).order_by(HotspotScan.id.desc()).limit(limit))
    return [scan_out(scan, with_findings=False) for scan in found]


@router.get("/hotspot-scans/latest")
def latest_hotspot_scan(session: DB, _: Supervisor) -> dict[str, Any]:
    """The newest scan with its findings and their cases: candidate problems for 主动治理."""
    scan = session.scalar(select(HotspotScan).order_by(HotspotScan.id.desc()).limit(1))
    if scan is None:
        raise NotFound("no hotspot scan has run yet")
    return scan_out(scan, with_findings=True)


@router.get("/hotspot-scans/{scan_id}")
def hotspot_scan(
    session: DB, _: Supervisor, scan_id: Annotated[int, Path(ge=1, le=LARGEST_ID)]
) -> dict[str, Any]:
    """One scan with its findings (category, place, counts, growth) and their cases' numbers."""
    scan = session.get(HotspotScan, scan_id)
    if scan is None:
        raise NotFound(f"no hotspot scan {scan_id}")
    return scan_out(scan, with_findings=True)
