"""吹哨报到: a street summons the departments.

On a case it leads, a street or township office (a unit of the `street_office` kind) blows the whistle
(吹哨): it summons one or more functional departments, with a reason. Each summoned department must
check in (报到), saying what it will do, within the summons' time limit (SUMMONS_HOURS, 24 hours by
default). While a summons is open its department is on the case as a `summoned` unit: it finds the case
in its queue and reads it. A summons closes when the case is resolved, returned, or dispatched
elsewhere (`service.close_summonses`, from the one transition function). A summons not checked in by
its time limit raises an alert (报到超时) for its department and the supervisors, once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.cases.models import AlertKind, Case, CaseAlert, CaseAssignment, Summons
from backend.cases.numbers import BEIJING
from backend.cases.states import CaseStatus
from backend.cases.timeline import log_update
from backend.cases.transitions import SUMMONED
from backend.errors import BadInput, Conflict, Forbidden, InvalidMove, NotFound
from backend.reference.categories import categories
from backend.reference.departments import STREET_OFFICE, departments
from backend.reference.gazetteer import gazetteer
from backend.reference.units import Unit
from backend.staff.principal import SYSTEM, Principal
from backend.staff.roles import Role
from backend.staff.service import audit
from common.database import utcnow

# A street summons while it handles the case: dispatched to it, acknowledged or in progress.
SUMMONABLE = frozenset({CaseStatus.DISPATCHED, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS})
MAX_DEPARTMENTS = 8


def summon(
    *,
    session: Session,
    case: Case,
    department_codes: list[str],
    reason: str,
    principal: Principal,
    limit: timedelta,
    now: datetime | None = None,
) -> list[Summons]:
    """吹哨: the case's lead street summons functional departments to check in within `limit`."""
    now = now or utcnow()
    _check_summoner(case, principal)
    codes = _departments(department_codes)
    if not reason.strip():
        raise BadInput("a summons (吹哨) needs a reason")
    already = {s.department_code for s in case.summonses if s.is_open}
    if repeated := sorted(set(codes) & already):
        raise Conflict(f"already summoned and not yet closed: {', '.join(repeated)}")
    made = []
    for code in codes:
        summons = Summons(
            unit_code=case.lead_unit_code,
            department_code=code,
            reason=reason.strip(),
            summoned_by=principal.name,
            summoned_at=now,
            due_at=now + limit,
        )
        case.summonses.append(summons)
        case.assignments.append(CaseAssignment(unit_code=code, role=SUMMONED, assigned_at=now))
        made.append(summons)
    names = "、".join(departments()[code].name for code in codes)
    deadline = (now + limit).astimezone(BEIJING).strftime("%m月%d日 %H:%M")
    log_update(
        session=session,
        case=case,
        kind="summon",
        principal=principal,
        unit_code=case.lead_unit_code,
        note=f"吹哨：召集{names}，请于{deadline}前报到。事由：{reason.strip()}",
        now=now,
    )
    session.flush()
    audit(
        session=session,
        principal=principal,
        action="case.summon",
        target=case.number,
        detail={"departments": codes, "summonses": [s.id for s in made], "due_at": (now + limit).isoformat()},
    )
    return made


def _check_summoner(case: Case, principal: Principal) -> None:
    if principal.role not in (Role.UNIT_STAFF, Role.ADMIN):
        raise Forbidden("only the street or township leading the case can summon departments (吹哨)")
    if principal.role == Role.UNIT_STAFF and principal.unit_code != case.lead_unit_code:
        raise Forbidden("only the lead unit of a case can summon departments")
    if not case.lead_unit_code or Unit.parse(case.lead_unit_code).code != STREET_OFFICE:
        raise InvalidMove(f"case {case.number} is not led by a street or township office")
    if case.status not in SUMMONABLE:
        raise InvalidMove(f"cannot summon departments on case {case.number}: it is {case.status.label}")


def _departments(codes: list[str]) -> list[str]:
    unique = list(dict.fromkeys(code.strip() for code in codes))
    if not unique:
        raise BadInput("name at least one department to summon")
    if len(unique) > MAX_DEPARTMENTS:
        raise BadInput(f"at most {MAX_DEPARTMENTS} departments at once")
    known = departments()
    for code in unique:
        if code not in known or not known[code].functional:
            raise BadInput(f"not a functional department: {code}")
    return unique


def check_in(
    *,
    session: Session,
    case: Case,
    summons_id: int,
    text: str,
    principal: Principal,
    now: datetime | None = None,
) -> Summons:
    """报到: the summoned department acknowledges the summons and says what it will do."""
    now = now or utcnow()
    summons = next((s for s in case.summonses if s.id == summons_id), None)
    if summons is None:
        raise NotFound(f"case {case.number} has no summons {summons_id}")
    if principal.role not in (Role.UNIT_STAFF, Role.ADMIN):
        raise Forbidden("only the summoned department checks in (报到)")
    if principal.role == Role.UNIT_STAFF and principal.unit_code != summons.department_code:
        raise Forbidden("only the summoned department checks in (报到)")
    if not summons.is_open:
        raise InvalidMove(f"summons {summons_id} is closed ({summons.close_reason})")
    if summons.checked_in_at is not None:
        raise Conflict(f"summons {summons_id} was checked in already")
    if not text.strip():
        raise BadInput("checking in (报到) needs what the department will do")
    summons.checked_in_at, summons.checked_in_by, summons.check_in = now, principal.name, text.strip()
    late = "（超时报到）" if summons.late else ""
    log_update(
        session=session,
        case=case,
        kind="check_in",
        principal=principal,
        unit_code=summons.department_code,
        note=f"报到{late}：{departments()[summons.department_code].name}：{text.strip()}",
        now=now,
    )
    audit(
        session=session,
        principal=principal,
        action="case.check_in",
        target=case.number,
        detail={"summons": summons.id, "late": summons.late},
    )
    return summons


def raise_summons_alerts(*, session: Session, now: datetime | None = None) -> int:
    """Flag every open summons past its time limit without a check-in (报到超时), once each."""
    now = now or utcnow()
    late = session.scalars(
        select(Summons)
        .outerjoin(CaseAlert, CaseAlert.summons_id == Summons.id)
        .where(
            Summons.closed_at.is_(None),
            Summons.checked_in_at.is_(None),
            Summons.due_at < now,
            CaseAlert.id.is_(None),
        )
        .order_by(Summons.id)
    ).all()
    for summons in late:
        case = summons.case
        session.add(
            CaseAlert(
                case=case,
                kind=AlertKind.SUMMONS_LATE,
                unit_code=summons.department_code,
                due_at=summons.due_at,
                summons_id=summons.id,
                created_at=now,
            )
        )
        deadline = summons.due_at.astimezone(BEIJING).strftime("%m月%d日 %H:%M")
        log_update(
            session=session,
            case=case,
            kind="alert",
            principal=SYSTEM,
            unit_code=summons.department_code,
            note=f"报到超时提醒：{departments()[summons.department_code].name}未在{deadline}前报到",
            now=now,
        )
    session.flush()
    return len(late)


def list_summonses(
    *,
    session: Session,
    principal: Principal,
    state: str = "open",
    limit: int = 100,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Summonses by state (open, unanswered, overdue, all), those due first: a unit sees the ones it
    issued or was summoned by, supervisors and operators all."""
    now = now or utcnow()
    query = select(Summons).join(Case, Summons.case_id == Case.id)
    if state in ("open", "unanswered", "overdue"):
        query = query.where(Summons.closed_at.is_(None))
    if state in ("unanswered", "overdue"):
        query = query.where(Summons.checked_in_at.is_(None))
    if state == "overdue":
        query = query.where(Summons.due_at < now)
    if principal.role == Role.UNIT_STAFF:
        query = query.where(
            or_(Summons.department_code == principal.unit_code, Summons.unit_code == principal.unit_code)
        )
    order = (Summons.due_at.asc(),) if state != "all" else (Summons.summoned_at.desc(),)
    found = session.scalars(query.order_by(*order, Summons.id).limit(limit))
    return [summons_out(s, now) for s in found]


def summons_out(summons: Summons, now: datetime) -> dict[str, Any]:
    """A summons as staff see it: the case's matter and place, never the citizen's personal data."""
    case = summons.case
    category = categories().get(case.category_code or "")
    return {
        "id": summons.id,
        "number": case.number,
        "case_status": case.status,
        "category_name": category.name if category else None,
        "place": gazetteer().place_name(case.district_code, case.street_code),
        "unit_code": summons.unit_code,
        "unit_name": Unit.parse(summons.unit_code).name,
        "department_code": summons.department_code,
        "department_name": departments()[summons.department_code].name,
        "reason": summons.reason,
        "summoned_by": summons.summoned_by,
        "summoned_at": summons.summoned_at,
        "due_at": summons.due_at,
        "checked_in_at": summons.checked_in_at,
        "checked_in_by": summons.checked_in_by,
        "check_in": summons.check_in,
        "late": summons.late,
        "overdue": summons.is_overdue(now),
        "open": summons.is_open,
        "closed_at": summons.closed_at,
        "close_reason": summons.close_reason,
    }
