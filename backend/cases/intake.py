"""Acceptance (受理): a new appeal becomes a case, is routed where the conversation left it open, and
is dispatched when the rules can; cases follow their conversation to a new id."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.cases.models import Case, Channel
from backend.cases.numbers import next_number
from backend.cases.related import link_related
from backend.cases.schemas.citizens import IdentityRename
from backend.cases.schemas.intake import CaseCreate, CaseRouting
from backend.cases.states import CaseStatus, Move
from backend.cases.timeline import record
from backend.cases.transitions import dispatch_plan, transition
from backend.errors import Conflict
from backend.reference.categories import categories
from backend.reference.gazetteer import gazetteer
from backend.reference.time_limits import TimeLimit, due_at
from backend.staff.principal import SYSTEM, Principal
from backend.staff.service import audit
from common.database import utcnow
from common.phone import is_mobile

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
    record(session, case, "accept", None, CaseStatus.ACCEPTED, principal, now=now)
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


def wants_sms(case_in: CaseCreate) -> bool:
    """Whether a new case's updates and rating go by SMS: asked for, or by default a phone call's."""
    if case_in.sms_updates is not None:
        return case_in.sms_updates
    return case_in.channel == Channel.PHONE and is_mobile(case_in.contact_phone)


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
        _take_routing(case, routing, chosen_unit=case_in.lead_unit_code is not None)
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
    if case_in.lead_unit_code:
        transition(
            session=session,
            case=case,
            move=Move.DISPATCH,
            principal=principal,
            lead_unit_code=case_in.lead_unit_code,
            co_unit_codes=case_in.co_unit_codes,
            now=now,
        )
    elif dispatch_plan(case) is not None:
        transition(session=session, case=case, move=Move.DISPATCH, principal=SYSTEM, now=now)
