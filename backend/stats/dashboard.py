"""The supervisors' dashboard (数据, 督办): the monthly ranking, cases by place, deadlines now, 报到率.

Definitions are in docs/rates.md. The three rates themselves, and their weekly trend, come from
`service.three_rates`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.cases.alerts import near_deadline
from backend.cases.models import Case, Summons
from backend.cases.states import OPEN
from backend.reference.departments import DISTRICT_GOVERNMENT, STREET_OFFICE, departments
from backend.reference.gazetteer import gazetteer
from backend.reference.units import Unit
from backend.staff.principal import Principal
from backend.staff.roles import Role
from backend.stats.service import GroupBy, RateRow, hotspots, three_rates
from common.database import utcnow

UNIT_KINDS = ("all", "street", "department", "district")


def ranking(
    *,
    session: Session,
    principal: Principal,
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    unit_kind: str = "all",
    min_rated: int = 3,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The period's ranking by score (the mean of the three rates, in points out of 100): rows with
    all three rates and at least `min_rated` rated cases are ranked (ties share a rank), the others
    follow unranked."""
    rows = three_rates(session=session, principal=principal, start=start, end=end, group_by=group_by, now=now)
    rows = [r for r in rows if r.key is not None and _of_kind(r.key, group_by, unit_kind)]
    scored = [(r, _score(r, min_rated)) for r in rows]
    scored.sort(key=lambda pair: (pair[1] is None, -(pair[1] or 0), -pair[0].accepted))
    ranked: list[dict[str, Any]] = []
    for index, (row, score) in enumerate(scored):
        tied = index and ranked[-1]["score"] == score
        rank = None if score is None else ranked[-1]["rank"] if tied else index + 1
        ranked.append({"rank": rank, "score": score, **vars(row)})
    return ranked


def _of_kind(key: str, group_by: GroupBy, unit_kind: str) -> bool:
    if group_by != GroupBy.UNIT or unit_kind == "all":
        return True
    code = Unit.parse(key).code
    if unit_kind == "street":
        return code == STREET_OFFICE
    if unit_kind == "district":
        return code == DISTRICT_GOVERNMENT
    return departments()[code].functional


def _score(row: RateRow, min_rated: int) -> float | None:
    rates = list(row.rates.values())
    if row.rated < min_rated or any(rate is None for rate in rates):
        return None
    return round(100 * sum(rate or 0 for rate in rates) / len(rates), 1)


def cases_by_place(
    *, session: Session, start: datetime, end: datetime, streets: int = 5
) -> list[dict[str, Any]]:
    """Every district with its cases accepted in [start, end), its busiest streets, and which of
    them are hotspots (rising against the period before, `service.hotspots`)."""
    counts = session.execute(
        select(Case.district_code, Case.street_code, func.count())
        .where(Case.accepted_at >= start, Case.accepted_at < end, Case.district_code.is_not(None))
        .group_by(Case.district_code, Case.street_code)
    ).all()
    by_street: defaultdict[str, Counter[str | None]] = defaultdict(Counter)
    for district_code, street_code, count in counts:
        by_street[district_code or ""][street_code] += int(count)
    rising: defaultdict[str | None, list[str]] = defaultdict(list)
    for spot in hotspots(session=session, start=start, end=end, limit=100):
        rising[spot.street_code].append(spot.category_name)
    places = gazetteer()
    out = []
    for code, district in places.districts.items():
        tally = by_street.get(code, Counter())
        busiest = [(s, n) for s, n in tally.most_common() if s is not None][:streets]
        out.append(
            {
                "district_code": code,
                "district": district.name,
                "count": sum(tally.values()),
                "hotspots": sum(len(rising[s]) for s in tally if s is not None),
                "streets": [
                    {
                        "street_code": street,
                        "street": places.streets[street].name,
                        "count": n,
                        "rising": rising.get(street, []),
                    }
                    for street, n in busiest
                ],
            }
        )
    return out


def deadlines(
    *, session: Session, principal: Principal, share: float, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Open cases by lead unit now: how many, how many due soon (临期), how many overdue (超期);
    the units with most overdue first. Unit staff see their own unit."""
    now = now or utcnow()
    query = select(Case.lead_unit_code, Case.due_at, near_deadline(now, share)).where(Case.status.in_(OPEN))
    if principal.role == Role.UNIT_STAFF:
        query = query.where(Case.lead_unit_code == principal.unit_code)
    rows: dict[str | None, dict[str, Any]] = {}
    for unit, due, near in session.execute(query):
        name = Unit.parse(unit).name if unit else "待派单"
        row = rows.setdefault(unit, {"unit_code": unit, "name": name, "open": 0, "due_soon": 0, "overdue": 0})
        row["open"] += 1
        if now > due:
            row["overdue"] += 1
        elif near:
            row["due_soon"] += 1
    return sorted(rows.values(), key=lambda r: (-r["overdue"], -r["due_soon"], -r["open"]))


def check_in_rates(
    *, session: Session, principal: Principal, start: datetime, end: datetime, now: datetime | None = None
) -> list[dict[str, Any]]:
    """报到率 per summoned department over the summonses issued in [start, end) (docs/rates.md).
    Unit staff see the summonses their unit was summoned by or issued."""
    now = now or utcnow()
    query = select(Summons).where(Summons.summoned_at >= start, Summons.summoned_at < end)
    if principal.role == Role.UNIT_STAFF:
        query = query.where(
            (Summons.department_code == principal.unit_code) | (Summons.unit_code == principal.unit_code)
        )
    rows: dict[str, dict[str, Any]] = {}
    for summons in session.scalars(query):
        row = rows.setdefault(summons.department_code, _check_in_row(summons.department_code))
        _count_summons(row, summons, now)
    for row in rows.values():
        row["check_in_rate"] = round(row["on_time"] / row["due"], 4) if row["due"] else None
    return sorted(rows.values(), key=lambda r: (-r["summoned"], r["department_code"]))


def _check_in_row(department_code: str) -> dict[str, Any]:
    return {
        "department_code": department_code,
        "name": departments()[department_code].name,
        "summoned": 0,
        "due": 0,
        "on_time": 0,
        "late": 0,
        "missed": 0,
        "waiting": 0,
    }


def _count_summons(row: dict[str, Any], summons: Summons, now: datetime) -> None:
    row["summoned"] += 1
    if summons.checked_in_at is not None:
        row["due"] += 1
        row["late" if summons.late else "on_time"] += 1
        return
    ended = min(summons.closed_at or now, now)
    if ended > summons.due_at:
        row["due"] += 1
        row["missed"] += 1
    elif summons.is_open:
        row["waiting"] += 1
