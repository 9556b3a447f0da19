"""Overdue alerts (督办提醒): the scan that flags open cases close to their time limit (临期) or past it
(超期), and the lists the console reads. Each flag is a `CaseAlert` row and a timeline entry; its
lead unit and the supervisors see it in the console, live through the gateway's alert feed. The same
scan flags summonses (吹哨) whose department has not checked in (报到) in time, for that department.

A case is 临期 when less than `share` of its time limit is left (0.2: 24 minutes of an emergency's
2 hours, 4.8 hours of a utility case's 24, 1.4 days of a general case's 7).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from backend.cases import timeline
from backend.cases.models import AlertKind, Case, CaseAlert, Summons
from backend.cases.numbers import BEIJING
from backend.cases.states import OPEN
from backend.cases.summons import raise_summons_alerts
from backend.reference.categories import categories
from backend.reference.gazetteer import gazetteer
from backend.reference.time_limits import TimeLimit
from backend.reference.units import Unit
from backend.staff.principal import Principal
from backend.staff.roles import Role
from common.database import utcnow


def near_deadline(now: datetime, share: float) -> ColumnElement[bool]:
    """Less than `share` of the case's time limit left, or past it (the status is not checked)."""
    return or_(
        *(
            (Case.time_limit == limit) & (Case.due_at <= now + timedelta(hours=limit.hours * share))
            for limit in TimeLimit
        )
    )


def raise_alerts(*, session: Session, share: float, now: datetime | None = None) -> dict[AlertKind, int]:
    """Flag every open case close to or past its time limit that is not flagged so yet; summonses
    past their time limit without a check-in are counted under SUMMONS_LATE."""
    now = now or utcnow()
    cases = session.scalars(select(Case).where(Case.status.in_(OPEN), near_deadline(now, share))).all()
    known: set[tuple[int, str, datetime]] = set()
    ids = [case.id for case in cases]
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        rows = session.execute(
            select(CaseAlert.case_id, CaseAlert.kind, CaseAlert.due_at).where(
                CaseAlert.case_id.in_(chunk), CaseAlert.summons_id.is_(None)
            )
        )
        known |= {(case_id, kind, due) for case_id, kind, due in rows}
    raised = dict.fromkeys(AlertKind, 0)
    for case in cases:
        kind = AlertKind.OVERDUE if now > case.due_at else AlertKind.DUE_SOON
        if (case.id, kind.value, case.due_at) not in known:
            _flag(session, case, kind, now)
            raised[kind] += 1
    raised[AlertKind.SUMMONS_LATE] = raise_summons_alerts(session=session, now=now)
    return raised


def _flag(session: Session, case: Case, kind: AlertKind, now: datetime) -> None:
    session.add(
        CaseAlert(case=case, kind=kind, unit_code=case.lead_unit_code, due_at=case.due_at, created_at=now)
    )
    deadline = case.due_at.astimezone(BEIJING).strftime("%m月%d日 %H:%M")
    if kind == AlertKind.OVERDUE:
        note = f"超期提醒：已超过办理时限（{deadline}），请尽快办理"
    else:
        hours = max(1, round((case.due_at - now).total_seconds() / 3600))
        note = f"临期提醒：距办理时限（{deadline}）还有约{hours}小时"
    timeline.flag(session=session, case=case, kind="alert", note=note, now=now)


def current_alerts(*, session: Session, principal: Principal, limit: int = 100) -> list[dict[str, Any]]:
    """The alerts of cases still open on the same deadline, and of summonses still open and not
    checked in, newest first; unit staff see their unit's (the cases it leads, the summonses to it or
    from it), supervisors all."""
    case_alert = CaseAlert.summons_id.is_(None)
    query = (
        select(CaseAlert, Case)
        .join(Case, CaseAlert.case_id == Case.id)
        .outerjoin(Summons, CaseAlert.summons_id == Summons.id)
        .where(
            Case.status.in_(OPEN),
            or_(
                case_alert & (CaseAlert.due_at == Case.due_at),
                Summons.closed_at.is_(None) & Summons.checked_in_at.is_(None),
            ),
        )
    )
    if principal.role == Role.UNIT_STAFF:
        query = query.where(
            or_(
                case_alert & (Case.lead_unit_code == principal.unit_code),
                (Summons.department_code == principal.unit_code) | (Summons.unit_code == principal.unit_code),
            )
        )
    rows = session.execute(query.order_by(CaseAlert.id.desc()).limit(limit)).all()
    return [alert_out(alert, case) for alert, case in rows]


def alerts_after(*, session: Session, after: int, limit: int = 100) -> list[dict[str, Any]]:
    """Alerts after an id, oldest first: the gateway's feed for telling consoles live."""
    rows = session.execute(
        select(CaseAlert, Case)
        .join(Case, CaseAlert.case_id == Case.id)
        .where(CaseAlert.id > after)
        .order_by(CaseAlert.id)
        .limit(limit)
    ).all()
    return [alert_out(alert, case) for alert, case in rows]


def alert_out(alert: CaseAlert, case: Case) -> dict[str, Any]:
    """An alert with what the console shows: no citizen's personal data, only the case's matter."""
    category = categories().get(case.category_code or "")
    return {
        "id": alert.id,
        "kind": alert.kind,
        "kind_label": alert.kind.label,
        "number": case.number,
        "category_name": category.name if category else None,
        "place": gazetteer().place_name(case.district_code, case.street_code),
        "unit_code": alert.unit_code,
        "unit_name": Unit.parse(alert.unit_code).name if alert.unit_code else None,
        "status": case.status,
        "due_at": alert.due_at,
        "summons_id": alert.summons_id,
        "created_at": alert.created_at,
    }
