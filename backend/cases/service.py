"""Case services: accept (接), dispatch (派), handle (办), rate (评) and close; keyword-only and typed.

`transition` is the one place a case's status changes: it checks the move is allowed for the case's
status and the caller's role, stamps the `*_at` timestamps, and writes the timeline and the audit log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.cases.dispatch import DispatchPlan, plan_dispatch
from backend.cases.models import AppealType, Case, CaseAssignment, CaseUpdate, Channel, Rating, Satisfaction
from backend.cases.numbers import next_number
from backend.cases.related import link_related
from backend.cases.schemas import CaseCreate, CaseRouting, IdentityRename, RatingIn
from backend.cases.states import MOVES, UNIT_MOVES, CaseStatus, Move
from backend.errors import BadInput, Conflict, Forbidden, InvalidMove, NotFound
from backend.reference.categories import Category, categories
from backend.reference.gazetteer import gazetteer
from backend.reference.time_limits import TimeLimit, due_at
from backend.reference.units import Unit
from backend.staff.principal import SYSTEM, Principal
from backend.staff.roles import Role
from backend.staff.service import audit
from common.database import utcnow
from common.phone import is_mobile, normalise_mobile

# Timeline entries pushed to the citizen's channel (dispatched, replied to, resolved, reopened).
PUBLIC_MOVES = frozenset({Move.DISPATCH, Move.RESOLVE, Move.RESOLVE_ON_SPOT, Move.REOPEN})
# Moves that take the case from its lead street or finish it: its summonses (吹哨) close.
CLOSES_SUMMONSES = frozenset({Move.DISPATCH, Move.RETURN, Move.RESOLVE})
SUMMONED = "summoned"  # the assignment role of a department while its summons is open
ARCHIVE_RATED_AFTER = timedelta(days=3)
ARCHIVE_UNRATED_AFTER = timedelta(days=7)


Suggester = Callable[[str, str | None], CaseRouting]  # smart dispatch of a description and address


def create_case(
    *,
    session: Session,
    case_in: CaseCreate,
    principal: Principal,
    idempotency_key: str | None = None,
    router: Suggester | None = None,
    now: datetime | None = None,
) -> tuple[Case, bool]:
    """Accept an appeal (受理) and dispatch it when the rules can; return (case, created)."""
    fingerprint = hashlib.sha256(case_in.model_dump_json().encode()).hexdigest()
    if idempotency_key:
        existing = _by_idempotency_key(session, idempotency_key, fingerprint)
        if existing is not None:
            return existing, False
    now = now or utcnow()
    case = _new_case(session, case_in, router, now)
    case.idempotency_key, case.idempotency_hash = idempotency_key, fingerprint
    try:
        with session.begin_nested():
            session.add(case)
            session.flush()
    except IntegrityError:
        existing = _by_idempotency_key(session, idempotency_key or "", fingerprint)
        if existing is None:
            raise
        return existing, False
    _record(session, case, "accept", None, CaseStatus.ACCEPTED, principal, now=now)
    audit(
        session=session,
        principal=principal,
        action="case.create",
        target=case.number,
        detail={"channel": case.channel, "category": case.category_code},
    )
    if case_in.answer:
        transition(
            session=session,
            case=case,
            move=Move.RESOLVE_ON_SPOT,
            principal=principal,
            reply=case_in.answer,
            now=now,
        )
    else:
        _dispatch_at_acceptance(session, case, case_in, principal, now)
    link_related(session=session, case=case, now=now)
    return case, True


def transition(
    *,
    session: Session,
    case: Case,
    move: Move,
    principal: Principal,
    lead_unit: str | None = None,
    co_units: list[str] | tuple[str, ...] = (),
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
    if move in UNIT_MOVES and principal.role == Role.UNIT_STAFF and principal.unit != case.lead_unit:
        raise Forbidden("only the lead unit of a case can do this")
    before, in_review = case.status, case.needs_review
    if move in CLOSES_SUMMONSES:
        close_summonses(case, reason=move, now=now)
    unit, text = _apply(session, case, move, lead_unit, list(co_units), reason, reply, note, now)
    detail: dict[str, object] = {"from": before, "to": rule.target}
    if move == Move.DISPATCH:
        detail["unit"] = unit
    if in_review and not case.needs_review:
        detail["reviewed"] = True  # the operator picked the unit routing was unsure of
    case.status = rule.target
    _record(
        session,
        case,
        move,
        before,
        rule.target,
        principal,
        unit=unit,
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


def rename_channel_identities(
    *, session: Session, renames: list[IdentityRename], principal: Principal
) -> int:
    """Move cases from a conversation's old id to its new one (channel identity, conversation id and
    the idempotency keys the assistant made from it); return how many cases moved. Idempotent."""
    moved = 0
    for rename in renames:
        cases = session.scalars(
            select(Case).where(
                (Case.channel_identity == rename.old)
                | (Case.conversation_id == rename.old)
                | Case.idempotency_key.startswith(f"{rename.old}:", autoescape=True)
            )
        )
        for case in cases:
            if case.channel_identity == rename.old:
                case.channel_identity = rename.new
            if case.conversation_id == rename.old:
                case.conversation_id = rename.new
            if case.idempotency_key and case.idempotency_key.startswith(f"{rename.old}:"):
                # the request it was made for named the old id: the key stands for its case alone now
                case.idempotency_key = rename.new + case.idempotency_key[len(rename.old) :]
                case.idempotency_hash = None
            moved += 1
    audit(
        session=session,
        principal=principal,
        action="citizen.rename",
        detail={"conversations": len(renames), "cases": moved},
    )
    session.flush()
    return moved


def rate_case(
    *, session: Session, case: Case, rating_in: RatingIn, principal: Principal, now: datetime | None = None
) -> Case:
    """Record the citizen's rating (回访); a dissatisfied first rating reopens the case once (重办)."""
    now = now or utcnow()
    if principal.role == Role.SERVICE and not rated_by_its_citizen(case, rating_in):
        raise Forbidden("a citizen can rate only a case filed from the same channel identity")
    if case.status != CaseStatus.RESOLVED:
        raise InvalidMove(f"case {case.number} can be rated only after it is resolved ({case.status.label})")
    session.add(
        Rating(
            case=case,
            round=len(case.ratings) + 1,
            resolved=rating_in.resolved,
            satisfaction=rating_in.satisfaction,
            comment=rating_in.comment,
            rated_at=now,
        )
    )
    label = f"{'已解决' if rating_in.resolved else '未解决'}，{rating_in.satisfaction.label}"
    transition(
        session=session,
        case=case,
        move=Move.RATE,
        principal=principal,
        note=f"{label}{'：' + rating_in.comment if rating_in.comment else ''}",
        now=now,
    )
    if rating_in.satisfaction == Satisfaction.DISSATISFIED and case.reopen_count == 0:
        transition(
            session=session,
            case=case,
            move=Move.REOPEN,
            principal=SYSTEM,
            note=f"市民不满意，重新办理{'：' + rating_in.comment if rating_in.comment else ''}",
            now=now,
        )
    return case


def wants_sms(case_in: CaseCreate) -> bool:
    """Whether a new case's updates and rating go by SMS: asked for, or by default a phone call's."""
    if case_in.sms_updates is not None:
        return case_in.sms_updates
    return case_in.channel == Channel.PHONE and is_mobile(case_in.contact_phone)


def rated_by_its_citizen(case: Case, rating_in: RatingIn) -> bool:
    """A service rates for the citizen: from the channel identity that filed the case, or by SMS from
    the phone that gets its updates."""
    if rating_in.channel_identity and rating_in.channel_identity == case.channel_identity:
        return True
    phone = normalise_mobile(rating_in.sms_phone or "")
    return bool(case.sms_updates and phone and phone == case.contact_phone)


def add_note(
    *,
    session: Session,
    case: Case,
    text: str,
    public: bool,
    principal: Principal,
    now: datetime | None = None,
) -> CaseUpdate:
    """A progress note or a reply to the citizen (public) from the hotline or a unit on the case."""
    if principal.role == Role.UNIT_STAFF and principal.unit not in case.active_units():
        raise Forbidden("only units on the case can add notes")
    if principal.role not in (Role.OPERATOR, Role.UNIT_STAFF, Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden(f"{principal.role} may not add notes")
    update = _record(
        session,
        case,
        "note",
        None,
        None,
        principal,
        unit=principal.unit,
        note=text,
        public=public,
        now=now or utcnow(),
    )
    session.flush()
    audit(
        session=session,
        principal=principal,
        action="case.note",
        target=case.number,
        detail={"public": public},
    )
    return update


def supervise(
    *, session: Session, case: Case, note: str, principal: Principal, now: datetime | None = None
) -> Case:
    """Press the unit on an open case (督办), typically an overdue one."""
    if principal.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden("only supervisors can supervise cases")
    if not case.status.is_open():
        raise InvalidMove(f"case {case.number} is no longer open")
    now = now or utcnow()
    case.supervised_at = now
    _record(session, case, "supervise", None, None, principal, unit=case.lead_unit, note=note, now=now)
    audit(session=session, principal=principal, action="case.supervise", target=case.number)
    return case


def close_summonses(case: Case, *, reason: str, now: datetime) -> None:
    """End the case's open summonses (吹哨): the summoned departments are no longer on the case."""
    for summons in case.summonses:
        if summons.is_open:
            summons.closed_at, summons.close_reason = now, reason
    for assignment in case.assignments:
        if assignment.role == SUMMONED:
            assignment.active = False


def log_update(
    *,
    session: Session,
    case: Case,
    kind: str,
    principal: Principal,
    unit: str | None,
    note: str,
    now: datetime,
) -> CaseUpdate:
    """A timeline entry that moves no status (吹哨, 报到, an alert), not shown to the citizen."""
    return _record(session, case, kind, None, None, principal, unit=unit, note=note, now=now)


def flag(*, session: Session, case: Case, kind: str, note: str, now: datetime) -> CaseUpdate:
    """A system entry in the case's timeline that moves nothing (an overdue alert); not public."""
    return _record(session, case, kind, None, None, SYSTEM, unit=case.lead_unit, note=note, now=now)


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


def get_case(*, session: Session, number: str, principal: Principal) -> Case:
    case = session.scalar(select(Case).where(Case.number == number))
    if case is None or not visible_to(principal, case):
        raise NotFound(f"no case {number}")
    return case


def submitted_case(*, session: Session, idempotency_key: str) -> Case:
    """The case a submission with this Idempotency-Key filed."""
    case = session.scalar(select(Case).where(Case.idempotency_key == idempotency_key))
    if case is None:
        raise NotFound("no case was filed with this idempotency key")
    return case


def visible_to(principal: Principal, case: Case) -> bool:
    """Handling-unit staff see a case only while their unit is on it (lead or co-unit); everyone else
    sees all. A unit the case was taken from (退单, then dispatched elsewhere) no longer reads it."""
    return principal.sees_all_cases() or principal.unit in case.active_units()


def _by_idempotency_key(session: Session, key: str, fingerprint: str) -> Case | None:
    existing = session.scalar(select(Case).where(Case.idempotency_key == key))
    if existing is not None and existing.idempotency_hash not in (None, fingerprint):
        raise Conflict("this idempotency key was used for a different case")
    return existing


def _new_case(session: Session, case_in: CaseCreate, router: Suggester | None, now: datetime) -> Case:
    district, street = case_in.district_code, case_in.street_code
    if street and not district:
        district = gazetteer().streets[street].district.code
    routing = case_in.routing
    if routing is None and router is not None and (case_in.category_code is None or district is None):
        routing = router(case_in.description, case_in.address)
    case = Case(
        number=next_number(session, now),
        appeal_type=case_in.appeal_type,
        category_code=case_in.category_code,
        description=case_in.description,
        address=case_in.address,
        district_code=district,
        street_code=street,
        latitude=case_in.latitude,
        longitude=case_in.longitude,
        occurred_at=case_in.occurred_at,
        contact_name=case_in.contact_name,
        contact_phone=case_in.contact_phone,
        anonymous=case_in.anonymous,
        confidential=case_in.confidential,
        channel=case_in.channel,
        channel_identity=case_in.channel_identity,
        sms_updates=wants_sms(case_in),
        conversation_id=case_in.conversation_id,
        attachments=[a.model_dump() for a in case_in.attachments],
        attributes=dict(case_in.attributes),
        status=CaseStatus.ACCEPTED,
        needs_review=False,
        routing_alternatives=[],
        accepted_at=now,
    )
    if routing is not None:
        _take_routing(case, routing, chosen_unit=case_in.lead_unit is not None)
    category = categories().get(case.category_code) if case.category_code else None
    emergency = routing is not None and routing.emergency
    limit = TimeLimit.EMERGENCY if emergency else category.time_limit if category else TimeLimit.GENERAL
    case.time_limit = limit
    case.due_at = due_at(now, limit)
    return case


def _take_routing(case: Case, routing: CaseRouting, *, chosen_unit: bool) -> None:
    """Use what smart dispatch decided where the intake left it open. A category or a unit the intake
    chose (an operator) stands, and then nothing is left to review."""
    if case.category_code is None:
        case.category_code, case.routing_confidence = routing.category_code, routing.confidence
        case.department_code = routing.department_code
        case.department_confidence = routing.department_confidence
        case.routing_alternatives = [a.model_dump() for a in routing.alternatives]
        case.needs_review = routing.needs_review and not chosen_unit
    if case.district_code is None and routing.district_code:
        case.district_code, case.street_code = routing.district_code, routing.street_code


def _dispatch_at_acceptance(
    session: Session, case: Case, case_in: CaseCreate, principal: Principal, now: datetime
) -> None:
    if case_in.lead_unit:
        transition(
            session=session,
            case=case,
            move=Move.DISPATCH,
            principal=principal,
            lead_unit=case_in.lead_unit,
            co_units=case_in.co_units,
            now=now,
        )
    elif _plan(case) is not None:
        transition(session=session, case=case, move=Move.DISPATCH, principal=SYSTEM, now=now)


def _plan(case: Case) -> DispatchPlan | None:
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
    lead_unit: str | None,
    co_units: list[str],
    reason: str | None,
    reply: str | None,
    note: str | None,
    now: datetime,
) -> tuple[str | None, str | None]:
    """Apply a move's own effects; return the unit concerned and the timeline note."""
    if move == Move.DISPATCH:
        plan = _manual_plan(lead_unit, co_units) if lead_unit else _plan(case)
        if plan is None:
            raise BadInput("no unit to dispatch to: give lead_unit, or a category and place")
        if lead_unit:
            case.needs_review = False  # a person chose the unit
        _assign(session, case, plan, now)
        case.dispatched_at, case.acknowledged_at, case.started_at = now, None, None
        co = "，协办：" + "、".join(u.name for u in plan.co_handlers) if plan.co_handlers else ""
        return plan.lead.key, f"派至{plan.lead.name}{co}"
    if move == Move.RETURN:
        if not reason:
            raise BadInput("returning a case (退单) needs a reason")
        case.returned_at, case.return_count = now, case.return_count + 1
        return case.lead_unit, reason
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
        return case.lead_unit, reply
    elif move == Move.RATE:
        case.rated_at = now
    elif move == Move.REOPEN:
        case.reopen_count += 1
        case.reopened_at = case.dispatched_at = now
        case.acknowledged_at = case.started_at = case.resolved_at = None
        case.due_at = due_at(now, case.time_limit)
    elif move == Move.CLOSE:
        case.closed_at = now
    return case.lead_unit, note


def _manual_plan(lead_unit: str, co_units: list[str]) -> DispatchPlan:
    try:
        lead = Unit.parse(lead_unit)
        co = tuple(Unit.parse(u) for u in co_units if u != lead_unit)
    except ValueError as error:
        raise BadInput(str(error)) from None
    return DispatchPlan(lead, co, basis="manual")


def _assign(session: Session, case: Case, plan: DispatchPlan, now: datetime) -> None:
    for assignment in case.assignments:
        assignment.active = False
    case.assignments.append(CaseAssignment(unit=plan.lead.key, role="lead", assigned_at=now))
    for unit in plan.co_handlers:
        case.assignments.append(CaseAssignment(unit=unit.key, role="co", assigned_at=now))
    case.lead_unit = plan.lead.key


def _record(
    session: Session,
    case: Case,
    kind: str,
    before: CaseStatus | None,
    after: CaseStatus | None,
    principal: Principal,
    *,
    unit: str | None = None,
    note: str | None = None,
    public: bool = False,
    now: datetime,
) -> CaseUpdate:
    update = CaseUpdate(
        kind=kind,
        from_status=before,
        to_status=after,
        actor_kind=principal.role,
        actor=principal.name,
        unit=unit,
        note=note,
        public=public,
        created_at=now,
    )
    case.updates.append(update)
    return update
