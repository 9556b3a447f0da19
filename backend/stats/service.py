"""The three rates (三率) per period, unit, district and category, and rising hotspots.

Definitions (also in docs/rates.md). The cohort is the cases accepted in [start, end).
- 响应率 response rate = responded / due_for_response, where due_for_response counts cohort cases
  dispatched to a unit whose response window has passed or which were acknowledged, and responded
  counts those acknowledged (签收) within the window of their time-limit class (emergency 30 min,
  utility 2 h, general and complex 24 h) after their latest dispatch.
- 解决率 resolution rate = rated cases whose latest rating says resolved (已解决) / rated cases.
- 满意率 satisfaction rate = rated cases whose latest rating is 满意 or 基本满意 / rated cases.
A rate with an empty denominator is null, not zero.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.cases.models import Case, Rating, Satisfaction
from backend.cases.numbers import BEIJING
from backend.cases.states import OPEN, CaseStatus
from backend.reference.categories import categories
from backend.reference.gazetteer import gazetteer
from backend.reference.units import Unit
from backend.staff.principal import Principal
from common.database import utcnow


class GroupBy(enum.StrEnum):
    NONE = "none"
    UNIT = "unit"
    DISTRICT = "district"
    STREET = "street"
    CATEGORY = "category"
    WEEK = "week"  # Beijing weeks from Monday: the trend, every week of the period present


@dataclass
class RateRow:
    key: str | None
    name: str
    accepted: int = 0
    dispatched: int = 0
    due_for_response: int = 0
    responded: int = 0
    resolved: int = 0
    rated: int = 0
    rated_resolved: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    overdue: int = 0
    rates: dict[str, float | None] = field(default_factory=dict)

    def finish(self) -> RateRow:
        self.rates = {
            "response_rate": _ratio(self.responded, self.due_for_response),
            "resolution_rate": _ratio(self.rated_resolved, self.rated),
            "satisfaction_rate": _ratio(self.satisfied + self.basically_satisfied, self.rated),
        }
        return self


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def three_rates(
    *,
    session: Session,
    principal: Principal,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    unit_code: str | None = None,
    district_code: str | None = None,
    category_code: str | None = None,
    now: datetime | None = None,
) -> list[RateRow]:
    """The three rates of the cases accepted in [start, end), grouped as asked."""
    now = now or utcnow()
    query = select(Case).where(Case.accepted_at >= start, Case.accepted_at < end)
    if not principal.sees_all_cases():
        unit_code = principal.unit_code
    if unit_code:
        query = query.where(Case.lead_unit_code == unit_code)
    if district_code:
        query = query.where(Case.district_code == district_code)
    if category_code:
        query = query.where(Case.category_code == category_code)
    cases = list(session.scalars(query))
    latest = _latest_ratings(session, (c.id for c in cases))
    rows: dict[str | None, RateRow] = {}
    if group_by == GroupBy.WEEK:
        for monday in _mondays(start, end):
            rows[monday] = RateRow(key=monday, name=_group_name(monday, group_by))
    for case in cases:
        key = _group_key(case, group_by)
        row = rows.setdefault(key, RateRow(key=key, name=_group_name(key, group_by)))
        _count(row, case, latest.get(case.id), now)
    finished = [row.finish() for row in rows.values()]
    if group_by == GroupBy.WEEK:
        return sorted(finished, key=lambda r: r.key or "")
    return sorted(finished, key=lambda r: -r.accepted)


def _week_of(moment: datetime) -> str:
    day = moment.astimezone(BEIJING).date()
    return (day - timedelta(days=day.weekday())).isoformat()


def _mondays(start: datetime, end: datetime) -> list[str]:
    """The Monday of every Beijing week that [start, end) touches."""
    first = date.fromisoformat(_week_of(start))
    last = (end - timedelta(microseconds=1)).astimezone(BEIJING).date()
    return [(first + timedelta(weeks=i)).isoformat() for i in range((last - first).days // 7 + 1)]


def _count(row: RateRow, case: Case, rating: Rating | None, now: datetime) -> None:
    row.accepted += 1
    if case.lead_unit_code and case.dispatched_at:
        row.dispatched += 1
        window_end = case.dispatched_at + case.time_limit.response_window
        if case.acknowledged_at or now > window_end:
            row.due_for_response += 1
            if case.acknowledged_at and case.acknowledged_at <= window_end:
                row.responded += 1
    if case.status in (CaseStatus.RESOLVED, CaseStatus.RATED, CaseStatus.CLOSED):
        row.resolved += 1
    if case.status in OPEN and now > case.due_at:
        row.overdue += 1
    if rating is not None:
        row.rated += 1
        row.rated_resolved += int(rating.resolved)
        row.satisfied += int(rating.satisfaction == Satisfaction.SATISFIED)
        row.basically_satisfied += int(rating.satisfaction == Satisfaction.BASICALLY_SATISFIED)
        row.dissatisfied += int(rating.satisfaction == Satisfaction.DISSATISFIED)


def _latest_ratings(session: Session, case_ids: Iterable[int]) -> dict[int, Rating]:
    ids = list(case_ids)
    latest: dict[int, Rating] = {}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for rating in session.scalars(select(Rating).where(Rating.case_id.in_(chunk)).order_by(Rating.id)):
            latest[rating.case_id] = rating
    return latest


def _group_key(case: Case, group_by: GroupBy) -> str | None:
    if group_by == GroupBy.UNIT:
        return case.lead_unit_code
    if group_by == GroupBy.DISTRICT:
        return case.district_code
    if group_by == GroupBy.STREET:
        return case.street_code
    if group_by == GroupBy.CATEGORY:
        return case.category_code
    if group_by == GroupBy.WEEK:
        return _week_of(case.accepted_at)
    return "all"


def _group_name(key: str | None, group_by: GroupBy) -> str:
    if key is None:
        unknown = {"unit": "未派单", "district": "地点不明", "street": "街乡镇不明", "category": "未分类"}
        return unknown.get(group_by, "全部")
    if group_by == GroupBy.UNIT:
        return Unit.parse(key).name
    if group_by == GroupBy.DISTRICT:
        return gazetteer().districts[key].name
    if group_by == GroupBy.STREET:
        street = gazetteer().streets[key]
        return f"{street.district.name}{street.name}"
    if group_by == GroupBy.CATEGORY:
        category = categories().get(key)
        return category.name if category else key
    if group_by == GroupBy.WEEK:
        monday = date.fromisoformat(key)
        return f"{monday.month}月{monday.day}日起"
    return "全部"


@dataclass(frozen=True)
class Hotspot:
    category_code: str
    category_name: str
    district_code: str
    district: str
    street_code: str | None
    street: str | None
    count: int
    previous: int
    growth: float | None  # count / previous; None when nothing was there before


def hotspots(
    *,
    session: Session,
    start: datetime,
    end: datetime,
    min_count: int = 3,
    min_growth: float = 1.5,
    limit: int = 20,
) -> list[Hotspot]:
    """Category × place combinations whose volume rose against the previous period of equal length."""
    previous_start = start - (end - start)
    current = _volumes(session, start, end)
    before = _volumes(session, previous_start, start)
    places, cats = gazetteer(), categories()
    found = []
    for (category_code, district_code, street_code), count in current.items():
        earlier = before.get((category_code, district_code, street_code), 0)
        growth = count / earlier if earlier else None
        if count >= min_count and (growth is None or growth >= min_growth):
            found.append(
                Hotspot(
                    category_code=category_code,
                    category_name=cats[category_code].name if category_code in cats else category_code,
                    district_code=district_code,
                    district=places.districts[district_code].name,
                    street_code=street_code,
                    street=places.streets[street_code].name if street_code else None,
                    count=count,
                    previous=earlier,
                    growth=round(growth, 2) if growth else None,
                )
            )
    found.sort(key=lambda h: (h.count - h.previous, h.count), reverse=True)
    return found[:limit]


def _volumes(session: Session, start: datetime, end: datetime) -> dict[tuple[str, str, str | None], int]:
    rows = session.execute(
        select(Case.category_code, Case.district_code, Case.street_code, func.count())
        .where(
            Case.accepted_at >= start,
            Case.accepted_at < end,
            Case.category_code.is_not(None),
            Case.district_code.is_not(None),
        )
        .group_by(Case.category_code, Case.district_code, Case.street_code)
    ).all()
    volumes: defaultdict[tuple[str, str, str | None], int] = defaultdict(int)
    for category_code, district_code, street_code, count in rows:
        if category_code and district_code:
            volumes[(category_code, district_code, street_code)] += int(count)
    return dict(volumes)
