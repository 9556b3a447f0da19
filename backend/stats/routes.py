"""Rates and hotspots for supervisors, operators and (their own unit's) handling units."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from backend.cases.numbers import BEIJING
from backend.db import LARGEST_ID
from backend.deps import DB
from backend.errors import BadInput, NotFound
from backend.staff.callers import require
from backend.staff.principal import Principal
from backend.staff.roles import Role
from backend.stats import clusters, dashboard
from backend.stats.models import HotspotScan
from backend.stats.scans import scan_out
from backend.stats.service import GroupBy, hotspots, three_rates
from common.database import utcnow

router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])
Viewer = Annotated[Principal, Depends(require(Role.OPERATOR, Role.UNIT_STAFF, Role.SUPERVISOR))]
Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR))]
Hotline = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR))]
MAX_DAYS = 366
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
Month = Annotated[str | None, Query(pattern=MONTH, description="a Beijing calendar month, 2026-11")]
RANKED = (GroupBy.UNIT, GroupBy.DISTRICT, GroupBy.STREET)


class TopicIn(BaseModel):
    """A cluster chosen as a topic of the month (每月一题); this month when no month is given."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    month: Annotated[str | None, Field(pattern=MONTH)] = None
    note: Annotated[str | None, Field(max_length=1000)] = None


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
    unit_code: Annotated[str | None, Query(max_length=40)] = None,
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
        unit_code=unit_code,
        district_code=district_code,
        category_code=category_code,
    )
    return {"start": begin, "end": finish, "group_by": group_by, "rows": [vars(r) for r in rows]}


def this_month() -> str:
    return utcnow().astimezone(BEIJING).strftime("%Y-%m")


def month_period(month: str) -> tuple[datetime, datetime]:
    """The Beijing calendar month "2026-11" as [first day, first day of the next)."""
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return datetime.combine(first, time.min, BEIJING), datetime.combine(following, time.min, BEIJING)


@router.get("/ranking")
def ranking(
    session: DB,
    caller: Hotline,
    month: Month = None,
    group_by: GroupBy = GroupBy.UNIT,
    unit_kind: Annotated[str, Query(pattern="^(all|street|department|district)$")] = "all",
    min_rated: Annotated[int, Query(ge=1, le=1000)] = 3,
) -> dict[str, Any]:
    """The month's ranking (月度排名) of units, districts or streets by the mean of the three rates
    (docs/rates.md); this month by default."""
    if group_by not in RANKED:
        raise BadInput("a ranking is by unit, district or street")
    month = month or this_month()
    begin, finish = month_period(month)
    rows = dashboard.ranking(
        session=session,
        principal=caller,
        start=begin,
        end=finish,
        group_by=group_by,
        unit_kind=unit_kind,
        min_rated=min_rated,
    )
    return {"month": month, "start": begin, "end": finish, "group_by": group_by, "rows": rows}


@router.get("/places")
def places(session: DB, _: Hotline, start: date | None = None, end: date | None = None) -> dict[str, Any]:
    """Cases of the period in each of the 16 districts, with their busiest streets and the rising ones
    (热点): the dashboard's district map."""
    begin, finish = period(start, end)
    return {
        "start": begin,
        "end": finish,
        "districts": dashboard.cases_by_place(session=session, start=begin, end=finish),
    }


@router.get("/deadlines")
def deadlines(request: Request, session: DB, caller: Viewer) -> dict[str, Any]:
    """Open cases by lead unit now: due soon (临期) and overdue (超期); a unit sees its own."""
    share = request.app.state.settings.due_soon_share
    rows = dashboard.deadlines(session=session, principal=caller, share=share)
    return {"due_soon_share": share, "rows": rows}


@router.get("/check-ins")
def check_ins(
    session: DB, caller: Viewer, start: date | None = None, end: date | None = None
) -> dict[str, Any]:
    """报到率 per summoned department over the summonses (吹哨) issued in the period (docs/rates.md)."""
    begin, finish = period(start, end)
    rows = dashboard.check_in_rates(session=session, principal=caller, start=begin, end=finish)
    return {"start": begin, "end": finish, "rows": rows}


@router.get("/clusters")
def clusters_of_scan(
    session: DB,
    _: Supervisor,
    scan_id: Annotated[int | None, Query(ge=1, le=LARGEST_ID)] = None,
) -> dict[str, Any]:
    """A scan's clusters of similar appeals in one street (the newest scan's by default): candidate
    problems for 主动治理, each with its cases and the months it is a topic of."""
    query = select(HotspotScan).order_by(HotspotScan.id.desc()).limit(1)
    scan = session.get(HotspotScan, scan_id) if scan_id else session.scalar(query)
    if scan is None:
        raise NotFound("no hotspot scan has run yet" if scan_id is None else f"no hotspot scan {scan_id}")
    return {
        "scan": scan_out(scan, with_findings=False),
        "clusters": [clusters.cluster_out(c) for c in scan.clusters],
    }


@router.post("/clusters/{cluster_id}/topic", status_code=201)
def mark_topic(
    session: DB,
    caller: Supervisor,
    cluster_id: Annotated[int, Path(ge=1, le=LARGEST_ID)],
    topic: TopicIn,
) -> dict[str, Any]:
    """Choose a cluster as a topic of the month (每月一题); audited."""
    marked = clusters.mark_topic(
        session=session,
        cluster_id=cluster_id,
        month=topic.month or this_month(),
        note=topic.note,
        principal=caller,
    )
    return {**clusters.topic_summary(marked), "cluster": clusters.cluster_out(marked.cluster)}


@router.get("/topics")
def topics(session: DB, _: Hotline, month: Month = None) -> dict[str, Any]:
    """The month's topics (每月一题), each with its cluster and cases; this month by default."""
    month = month or this_month()
    return {"month": month, "topics": clusters.topics_of(session=session, month=month)}


@router.delete("/topics/{topic_id}", status_code=204)
def withdraw_topic(
    session: DB, caller: Supervisor, topic_id: Annotated[int, Path(ge=1, le=LARGEST_ID)]
) -> Response:
    """Take a cluster off its month's topics; audited."""
    clusters.withdraw_topic(session=session, topic_id=topic_id, principal=caller)
    return Response(status_code=204)


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
