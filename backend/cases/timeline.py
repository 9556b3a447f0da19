"""A case's timeline (CaseUpdate): the one writer every entry goes through, and the entries that move
no status: notes and replies, supervision (督办), summonses and alerts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from backend.cases.models import Case, CaseUpdate
from backend.cases.states import CaseStatus
from backend.errors import Forbidden, InvalidMove
from backend.staff.principal import SYSTEM, Principal
from backend.staff.roles import Role
from backend.staff.service import audit
from common.database import utcnow


def record(
    session: Session,
    case: Case,
    kind: str,
    before: CaseStatus | None,
    after: CaseStatus | None,
    principal: Principal,
    *,
    unit_code: str | None = None,
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
        unit_code=unit_code,
        note=note,
        public=public,
        created_at=now,
    )
    case.updates.append(update)
    return update


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
    if principal.role == Role.UNIT_STAFF and principal.unit_code not in case.active_units():
        raise Forbidden("only units on the case can add notes")
    if principal.role not in (Role.OPERATOR, Role.UNIT_STAFF, Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden(f"{principal.role} may not add notes")
    update = record(
        session,
        case,
        "note",
        None,
        None,
        principal,
        unit_code=principal.unit_code,
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
    record(
        session, case, "supervise", None, None, principal, unit_code=case.lead_unit_code, note=note, now=now
    )
    audit(session=session, principal=principal, action="case.supervise", target=case.number)
    return case


def log_update(
    *,
    session: Session,
    case: Case,
    kind: str,
    principal: Principal,
    unit_code: str | None,
    note: str,
    now: datetime,
) -> CaseUpdate:
    """A timeline entry that moves no status (吹哨, 报到, an alert), not shown to the citizen."""
    return record(session, case, kind, None, None, principal, unit_code=unit_code, note=note, now=now)


def flag(*, session: Session, case: Case, kind: str, note: str, now: datetime) -> CaseUpdate:
    """A system entry in the case's timeline that moves nothing (an overdue alert); not public."""
    return record(session, case, kind, None, None, SYSTEM, unit_code=case.lead_unit_code, note=note, now=now)
