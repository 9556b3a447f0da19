"""The case lifecycle's moves after acceptance: dispatch (派), handle (办), rate (评), reopen and close.

`transition` is the one place a case's status changes: it checks the move is allowed for the case's
status and the caller's role, stamps the `*_at` timestamps, and writes the timeline and the audit log.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.cases.dispatch import DispatchPlan, plan_dispatch
from backend.cases.models import AppealType, Case, CaseAssignment
from backend.cases.states import MOVES, UNIT_MOVES, CaseStatus, Move
from backend.cases.timeline import record
from backend.errors import BadInput, Forbidden, InvalidMove
from backend.reference.categories import Category, categories
from backend.reference.time_limits import due_at
from backend.reference.units import Unit
from backend.staff.principal import SYSTEM, Principal
from backend.staff.roles import Role
from backend.staff.service import audit
from common.database import utcnow

# Timeline entries pushed to the citizen's channel (dispatched, replied to, resolved, reopened).
PUBLIC_MOVES = frozenset({Move.DISPATCH, Move.RESOLVE, Move.RESOLVE_ON_SPOT, Move.REOPEN})


# Moves that take the case from its lead street or finish it: its summonses (吹哨) close.
CLOSES_SUMMONSES = frozenset({Move.DISPATCH, Move.RETURN, Move.RESOLVE})


SUMMONED = "summoned"  # the assignment role of a department while its summons is open


ARCHIVE_RATED_AFTER = timedelta(days=3)


ARCHIVE_UNRATED_AFTER = timedelta(days=7)


def transition(
    *,
    session: Session,
    case: Case,
    move: Move,
    principal: Principal,
    lead_unit_code: str | None = None,
    co_unit_codes: list[str] | tuple[str, ...] = (),
    reason: str | None = None,
    reply: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Make one lifecycle move: check it, apply it, stamp it, and write timeline and audit."""
    now = now or utcnow()
    rule = MOVES[move]
    if principal.role not in rule.roles:
        raise Forbidden(f"{principal.role} may not {move} a case")
    if case.status not in rule.sources:
        raise InvalidMove(f"cannot {move} case {case.number}: it is {case.status.label} ({case.status})")
    if (
        move in UNIT_MOVES
        and principal.role == Role.UNIT_STAFF
        and principal.unit_code != case.lead_unit_code
    ):
        raise Forbidden("only the lead unit of a case can do this")
    before, in_review = case.status, case.needs_review
    if move in CLOSES_SUMMONSES:
        close_summonses(case, reason=move, now=now)
    unit, text = _apply(session, case, move, lead_unit_code, list(co_unit_codes), reason, reply, note, now)
    detail: dict[str, object] = {"from": before, "to": rule.target}
    if move == Move.DISPATCH:
        detail["unit"] = unit
    if in_review and not case.needs_review:
        detail["reviewed"] = True  # the operator picked the unit routing was unsure of
    case.status = rule.target
    record(
        session,
        case,
        move,
        before,
        rule.target,
        principal,
        unit_code=unit,
        note=text,
        public=move in PUBLIC_MOVES,
        now=now,
    )
    if principal.role != Role.SYSTEM:
        audit(
            session=session,
            principal=principal,
            action=f"case.{move}",
            target=case.number,
            detail=detail,
        )
    return case


def close_summonses(case: Case, *, reason: str, now: datetime) -> None:
    """End the case's open summonses (吹哨): the summoned departments are no longer on the case."""
    for summons in case.summonses:
        if summons.is_open:
            summons.closed_at, summons.close_reason = now, reason
    for assignment in case.assignments:
        if assignment.role == SUMMONED:
            assignment.active = False


def archive_due(*, session: Session, now: datetime | None = None) -> int:
    """Close (归档) rated cases after 3 days and resolved cases nobody rated after 7 days."""
    now = now or utcnow()
    due = session.scalars(
        select(Case).where(
            ((Case.status == CaseStatus.RATED) & (Case.rated_at < now - ARCHIVE_RATED_AFTER))
            | ((Case.status == CaseStatus.RESOLVED) & (Case.resolved_at < now - ARCHIVE_UNRATED_AFTER))
        )
    ).all()
    for case in due:
        transition(session=session, case=case, move=Move.CLOSE, principal=SYSTEM, now=now)
    return len(due)


def dispatch_plan(case: Case) -> DispatchPlan | None:
    category: Category | None = categories().get(case.category_code or "")
    return plan_dispatch(
        category=category,
        district_code=case.district_code,
        street_code=case.street_code,
        department_code=case.department_code,
        unsure=case.needs_review,
    )


def _apply(
    session: Session,
    case: Case,
    move: Move,
    lead_unit_code: str | None,
    co_unit_codes: list[str],
    reason: str | None,
    reply: str | None,
    note: str | None,
    now: datetime,
) -> tuple[str | None, str | None]:
    """Apply a move's own effects; return the unit concerned and the timeline note."""
    if move == Move.DISPATCH:
        plan = _manual_plan(lead_unit_code, co_unit_codes) if lead_unit_code else dispatch_plan(case)
        if plan is None:
            raise BadInput("no unit to dispatch to: give lead_unit_code, or a category and place")
        if lead_unit_code:
            case.needs_review = False  # a person chose the unit
        _assign(session, case, plan, now)
        case.dispatched_at, case.acknowledged_at, case.started_at = now, None, None
        co = "，协办：" + "、".join(u.name for u in plan.co_handlers) if plan.co_handlers else ""
        return plan.lead.key, f"派至{plan.lead.name}{co}"
    if move == Move.RETURN:
        if not reason:
            raise BadInput("returning a case (退单) needs a reason")
        case.returned_at, case.return_count = now, case.return_count + 1
        return case.lead_unit_code, reason
    if move == Move.ACKNOWLEDGE:
        case.acknowledged_at = now
    elif move == Move.START:
        case.started_at = now
    elif move in (Move.RESOLVE, Move.RESOLVE_ON_SPOT):
        if move == Move.RESOLVE_ON_SPOT and case.appeal_type != AppealType.CONSULTATION:
            raise BadInput("only a consultation (咨询) can be resolved at acceptance")
        if not reply:
            raise BadInput("resolving a case (办结) needs the reply to the citizen")
        case.reply, case.resolved_at = reply, now
        return case.lead_unit_code, reply
    elif move == Move.RATE:
        case.rated_at = now
    elif move == Move.REOPEN:
        case.reopen_count += 1
        case.reopened_at = case.dispatched_at = now
        case.acknowledged_at = case.started_at = case.resolved_at = None
        case.due_at = due_at(now, case.time_limit)
    elif move == Move.CLOSE:
        case.closed_at = now
    return case.lead_unit_code, note


def _manual_plan(lead_unit_code: str, co_unit_codes: list[str]) -> DispatchPlan:
    try:
        lead = Unit.parse(lead_unit_code)
        co = tuple(Unit.parse(u) for u in co_unit_codes if u != lead_unit_code)
    except ValueError as error:
        raise BadInput(str(error)) from None
    return DispatchPlan(lead, co, basis="manual")


def _assign(session: Session, case: Case, plan: DispatchPlan, now: datetime) -> None:
    for assignment in case.assignments:
        assignment.active = False
    case.assignments.append(CaseAssignment(unit_code=plan.lead.key, role="lead", assigned_at=now))
    for unit in plan.co_handlers:
        case.assignments.append(CaseAssignment(unit_code=unit.key, role="co", assigned_at=now))
    case.lead_unit_code = plan.lead.key
