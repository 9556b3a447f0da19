"""Reading cases: one by its number as its caller may see it, searches, the overdue list, the citizen's
view, the event feed, and output shapes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, literal, or_, select, update
from sqlalchemy import case as case_when
from sqlalchemy.orm import Session

from backend.cases.dispatch import territorial_plan
from backend.cases.models import Case, CaseAssignment, CaseLink, CaseUpdate, Channel
from backend.cases.numbers import normalise_number
from backend.cases.schemas.citizens import CaseEventOut, CitizenCaseOut
from backend.cases.schemas.detail import AlternativeOut, CaseDetailOut, CaseOut, UnitOut, UpdateOut
from backend.cases.schemas.ratings import RatingOut
from backend.cases.schemas.summonses import SummonsOut
from backend.cases.states import OPEN, CaseStatus
from backend.cases.summons import summons_out
from backend.errors import NotFound, TooManyAttempts
from backend.reference.categories import categories
from backend.reference.departments import department
from backend.reference.gazetteer import gazetteer
from backend.reference.units import Unit
from backend.staff.principal import Principal
from backend.staff.roles import Role
from common.database import UTCDateTime, utcnow
from common.masking import mask_name, mask_phone
from common.phone import parse_phone

MAX_FAILED_VERIFICATIONS = 5
LOCKOUT = timedelta(hours=1)
PUSHED_CHANNELS = (Channel.TELEGRAM, Channel.WEBCHAT, Channel.WECHAT)


def search_cases(
    *,
    session: Session,
    principal: Principal,
    q: str | None = None,
    status: CaseStatus | None = None,
    unit_code: str | None = None,
    district_code: str | None = None,
    category_code: str | None = None,
    overdue: bool | None = None,
    needs_review: bool | None = None,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> list[Case]:
    """Find cases by number, phone or place text, and filters; unit staff see their unit's only."""
    now = now or utcnow()
    query = _visible(select(Case), principal)
    if q:
        query = query.where(_matches(q))
    if status is not None:
        query = query.where(Case.status == status)
    if unit_code:
        query = query.where(
            Case.assignments.any((CaseAssignment.unit_code == unit_code) & CaseAssignment.active)
        )
    if district_code:
        query = query.where(Case.district_code == district_code)
    if category_code:
        query = query.where(Case.category_code == category_code)
    if overdue is not None:
        late = Case.status.in_(OPEN) & (Case.due_at < now)
        query = query.where(late if overdue else ~late)
    if needs_review is not None:
        query = query.where(Case.needs_review == needs_review)
    order = Case.due_at.asc() if overdue or needs_review else Case.accepted_at.desc()
    return list(session.scalars(query.order_by(order, Case.id.desc()).limit(limit).offset(offset)))


def _visible(query: Select[tuple[Case]], principal: Principal) -> Select[tuple[Case]]:
    if principal.sees_all_cases():
        return query
    return query.where(
        Case.assignments.any((CaseAssignment.unit_code == principal.unit_code) & CaseAssignment.active)
    )


def _matches(q: str) -> ColumnElement[bool]:
    q = q.strip()
    number = normalise_number(q)
    if number:
        return Case.number == number
    phone = parse_phone(q)
    if phone:  # a landline asked without its extension finds it with one too
        return or_(Case.contact_phone == phone.stored, Case.contact_phone.like(f"{phone.stored}转%"))
    like = f"%{q.replace('%', '').replace('_', '')}%"
    return or_(Case.address.like(like), Case.description.like(like))


def citizen_view(
    *,
    session: Session,
    number: str,
    phone_last4: str | None,
    channel_identity: str | None,
    now: datetime | None = None,
) -> CitizenCaseOut:
    """What a citizen sees of a case: details only for the same channel identity or the phone's last 4."""
    now = now or utcnow()
    normal = normalise_number(number)
    case = session.scalar(select(Case).where(Case.number == normal)) if normal else None
    if case is None:
        raise NotFound(f"no case {number}")
    verified = bool(channel_identity) and channel_identity == case.channel_identity
    if not verified and phone_last4:
        verified = _check_last4(session, case, phone_last4, now)
    if not verified:
        return CitizenCaseOut(number=case.number, verified=False)
    return citizen_details(case)


def _check_last4(session: Session, case: Case, phone_last4: str, now: datetime) -> bool:
    """Count a guess of the phone's last 4 digits before checking it, in one UPDATE: concurrent
    guesses are all counted and none gets past a lockout. The fifth guess in a row locks the case for
    an hour (a right fifth guess still answers); a right guess starts the count again."""
    count = Case.failed_verifications + 1
    last = count >= MAX_FAILED_VERIFICATIONS
    counted = session.execute(
        update(Case)
        .where(
            Case.id == case.id,
            Case.verification_locked_until.is_(None) | (Case.verification_locked_until <= now),
        )
        .values(
            failed_verifications=case_when((last, 0), else_=count),
            verification_locked_until=case_when((last, literal(now + LOCKOUT, UTCDateTime())), else_=None),
        )
        .returning(Case.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    session.expire(case, ["failed_verifications", "verification_locked_until"])
    if counted is None:
        raise TooManyAttempts("too many wrong answers for this case: try again in an hour")
    phone = parse_phone(case.contact_phone or "")
    verified = phone is not None and phone.last4 == phone_last4
    if verified:
        session.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(failed_verifications=0, verification_locked_until=None)
            .execution_options(synchronize_session=False)
        )
    return verified


def citizen_details(case: Case) -> CitizenCaseOut:
    category = categories().get(case.category_code or "")
    latest = next(
        (u.note for u in reversed(case.updates) if u.public and u.note and u.kind != "dispatch"), None
    )
    return CitizenCaseOut(
        number=case.number,
        verified=True,
        status=case.status,
        status_text=case.status.citizen_text,
        appeal_type_label=_appeal_label(case),
        category_name=category.name if category else None,
        unit_name=Unit.parse(case.lead_unit_code).name if case.lead_unit_code else None,
        accepted_at=case.accepted_at,
        due_at=case.due_at,
        time_limit_label=case.time_limit.label,
        latest_reply=case.reply or latest,
        can_rate=case.status == CaseStatus.RESOLVED,
    )


def cases_of_identity(*, session: Session, channel_identity: str, limit: int = 10) -> list[CitizenCaseOut]:
    """The cases a channel identity filed, newest first ("我的工单")."""
    cases = session.scalars(
        select(Case)
        .where(Case.channel_identity == channel_identity)
        .order_by(Case.accepted_at.desc())
        .limit(limit)
    )
    return [citizen_details(case) for case in cases]


def events_after(*, session: Session, after: int, limit: int = 100) -> list[CaseEventOut]:
    """Public timeline entries after an id, of chat-channel cases and of cases whose updates go by SMS
    (with their acceptance, which tells the case number and time limit): the gateway's push feed."""
    told = or_(
        and_(CaseUpdate.public, Case.channel.in_(PUSHED_CHANNELS)),
        and_(Case.sms_updates, or_(CaseUpdate.public, CaseUpdate.kind == "accept")),
    )
    rows = session.execute(
        select(CaseUpdate, Case)
        .join(Case, CaseUpdate.case_id == Case.id)
        .where(CaseUpdate.id > after, told)
        .order_by(CaseUpdate.id)
        .limit(limit)
    ).all()
    return [
        CaseEventOut(
            id=update.id,
            number=case.number,
            kind=update.kind,
            status=update.to_status or case.status,
            status_text=(update.to_status or case.status).citizen_text,
            note=update.note,
            unit_name=Unit.parse(update.unit_code).name if update.unit_code else None,
            channel=case.channel,
            channel_identity=case.channel_identity,
            conversation_id=case.conversation_id,
            time_limit_label=case.time_limit.label,
            due_at=case.due_at,
            sms_to=case.contact_phone if case.sms_updates and not case.anonymised_at else None,
            created_at=update.created_at,
        )
        for update, case in rows
    ]


def case_out(case: Case, principal: Principal, now: datetime | None = None) -> CaseOut:
    return CaseOut(**_fields(case, principal, now or utcnow()))


def case_detail(
    session: Session, case: Case, principal: Principal, now: datetime | None = None
) -> CaseDetailOut:
    related = session.scalars(
        select(Case.number).join(CaseLink, CaseLink.related_id == Case.id).where(CaseLink.case_id == case.id)
    )
    return CaseDetailOut(
        **_fields(case, principal, now or utcnow()),
        timeline=[
            UpdateOut(
                id=u.id,
                kind=u.kind,
                from_status=u.from_status,
                to_status=u.to_status,
                actor_kind=u.actor_kind,
                actor=u.actor,
                unit_code=u.unit_code,
                unit_name=Unit.parse(u.unit_code).name if u.unit_code else None,
                note=u.note,
                public=u.public,
                created_at=u.created_at,
            )
            for u in case.updates
        ],
        ratings=[
            RatingOut(
                round=r.round,
                resolved=r.resolved,
                satisfaction=r.satisfaction,
                satisfaction_label=r.satisfaction.label,
                comment=r.comment,
                rated_at=r.rated_at,
            )
            for r in case.ratings
        ],
        related=list(related),
        summonses=[SummonsOut(**summons_out(s, now or utcnow())) for s in case.summonses],
    )


def _fields(case: Case, principal: Principal, now: datetime) -> dict[str, object]:
    places = gazetteer()
    category = categories().get(case.category_code or "")
    hide_reporter = case.confidential and principal.role == Role.UNIT_STAFF
    return {
        "number": case.number,
        "status": case.status,
        "status_label": case.status.label,
        "appeal_type": case.appeal_type,
        "appeal_type_label": _appeal_label(case),
        "category_code": case.category_code,
        "category_name": category.name if category else None,
        "description": case.description,
        "address": case.address,
        "district_code": case.district_code,
        "district": places.districts[case.district_code].name if case.district_code else None,
        "street_code": case.street_code,
        "street": places.streets[case.street_code].name if case.street_code else None,
        "latitude": case.latitude,
        "longitude": case.longitude,
        "occurred_at": case.occurred_at,
        "contact_name": mask_name(case.contact_name)
        if hide_reporter and case.contact_name
        else case.contact_name,
        "contact_phone": mask_phone(case.contact_phone)
        if hide_reporter and case.contact_phone
        else case.contact_phone,
        "anonymous": case.anonymous,
        "confidential": case.confidential,
        "channel": case.channel,
        "sms_updates": case.sms_updates,
        "conversation_id": case.conversation_id,
        "attachments": case.attachments,
        "attributes": case.attributes,
        "time_limit": case.time_limit,
        "time_limit_label": case.time_limit.label,
        "accepted_at": case.accepted_at,
        "due_at": case.due_at,
        "overdue": case.is_overdue(now),
        "dispatched_at": case.dispatched_at,
        "acknowledged_at": case.acknowledged_at,
        "resolved_at": case.resolved_at,
        "rated_at": case.rated_at,
        "closed_at": case.closed_at,
        "supervised_at": case.supervised_at,
        "lead_unit": _unit_out(case.lead_unit_code, "lead") if case.lead_unit_code else None,
        "co_units": [_unit_out(a.unit_code, "co") for a in case.assignments if a.active and a.role == "co"],
        "reply": case.reply,
        "reopen_count": case.reopen_count,
        "return_count": case.return_count,
        "routing_confidence": case.routing_confidence,
        "department_code": case.department_code,
        "department_confidence": case.department_confidence,
        "needs_review": case.needs_review,
        "routing_alternatives": [_alternative_out(a) for a in case.routing_alternatives],
        "review_choices": [_unit_out(key, "choice") for key in review_choices(case)],
    }


def review_choices(case: Case) -> list[str]:
    """The units an operator picks from for a case routing was unsure of: the department routing chose,
    the departments of the categories ranked next, then the place's own unit (属地); none once picked."""
    if not case.needs_review:
        return []
    keys = [case.department_code, *(a.get("department_code") for a in case.routing_alternatives)]
    place = territorial_plan(district_code=case.district_code, street_code=case.street_code)
    if place is not None:
        keys.append(place.lead.key)
    return [key for key in dict.fromkeys(keys) if key]


def _alternative_out(alternative: dict[str, Any]) -> AlternativeOut:
    code = alternative.get("department_code")
    return AlternativeOut(
        category_code=alternative["category_code"],
        category_name=categories()[alternative["category_code"]].name,
        department_code=code,
        department_name=department(code).name if code else None,
        confidence=alternative["confidence"],
    )


def _unit_out(key: str, role: str) -> UnitOut:
    unit = Unit.parse(key)
    return UnitOut(key=key, code=unit.code, name=unit.name, role=role)


def _appeal_label(case: Case) -> str:
    return case.appeal_type.label


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
    return principal.sees_all_cases() or principal.unit_code in case.active_units()
