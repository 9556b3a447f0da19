"""Login, staff accounts (admins) and the audit log (admins, supervisors)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import select

from backend.db import LARGEST_ID
from backend.deps import DB, ClientAddress
from backend.errors import Forbidden
from backend.reference.units import Unit
from backend.staff import service
from backend.staff.callers import Caller, bearer_token, require
from backend.staff.models import AuditEntry, Staff
from backend.staff.principal import Principal
from backend.staff.roles import Role
from backend.staff.schemas import (
    AuditOut,
    LoginIn,
    LoginOut,
    PasswordReset,
    SessionsActive,
    SessionsQuery,
    StaffCreate,
    StaffOut,
    StaffPatch,
)

router = APIRouter(prefix="/api/v1", tags=["staff"])
AdminCaller = Annotated[Principal, Depends(require())]
Auditor = Annotated[Principal, Depends(require(Role.SUPERVISOR))]
ServiceCaller = Annotated[Principal, Depends(require(Role.SERVICE))]
StaffId = Annotated[int, Path(ge=1, le=LARGEST_ID)]


def staff_out(staff: Staff) -> StaffOut:
    return StaffOut(
        id=staff.id,
        username=staff.username,
        display_name=staff.display_name,
        role=staff.role,
        unit_code=staff.unit_code,
        unit_name=Unit.parse(staff.unit_code).name if staff.unit_code else None,
        active=staff.active,
    )


@router.post("/auth/login", response_model=LoginOut)
def login(request: Request, credentials: LoginIn, session: DB, address: ClientAddress) -> LoginOut:
    """Open a session; wrong passwords are counted per account and per address (429 past the limit)."""
    ttl = timedelta(minutes=request.app.state.settings.backend_session_ttl_minutes)
    token, record = service.login(
        session=session,
        username=credentials.username,
        password=credentials.password,
        address=address,
        ttl=ttl,
    )
    return LoginOut(token=token, expires_at=record.expires_at, staff=staff_out(record.staff))


@router.post("/auth/logout", status_code=204)
def logout(session: DB, _: Caller, token: Annotated[str, Depends(bearer_token)]) -> None:
    service.logout(session=session, token=token)


@router.post("/auth/sessions/active", response_model=SessionsActive)
def active_sessions(body: SessionsQuery, session: DB, _: ServiceCaller) -> SessionsActive:
    """Which of these token digests still open a session: the gateway ends console logins that do not."""
    return SessionsActive(token_hashes=service.active_sessions(session=session, digests=body.token_hashes))


@router.get("/auth/me", response_model=StaffOut)
def me(session: DB, caller: Caller) -> StaffOut:
    if caller.staff_id is None:
        raise Forbidden("the service token belongs to no staff member")
    return staff_out(session.get_one(Staff, caller.staff_id))


@router.get("/staff", response_model=list[StaffOut])
def list_staff(session: DB, _: AdminCaller) -> list[StaffOut]:
    return [staff_out(s) for s in service.list_staff(session=session)]


@router.post("/staff", response_model=StaffOut, status_code=201)
def create_staff(staff_in: StaffCreate, session: DB, caller: AdminCaller) -> StaffOut:
    return staff_out(service.add_staff(session=session, staff_in=staff_in, principal=caller))


@router.patch("/staff/{staff_id}", response_model=StaffOut)
def update_staff(
    staff_id: StaffId,
    patch: StaffPatch,
    session: DB,
    caller: AdminCaller,
    token: Annotated[str, Depends(bearer_token)],
) -> StaffOut:
    """Change a staff member; deactivating or setting a password ends their sessions (but the caller's)."""
    staff = service.find_staff(session=session, staff_id=staff_id)
    service.update_staff(session=session, staff=staff, patch=patch, principal=caller, keep_token=token)
    return staff_out(staff)


@router.post("/staff/{staff_id}/password-reset", response_model=PasswordReset)
def reset_password(
    staff_id: StaffId,
    session: DB,
    caller: AdminCaller,
    response: Response,
    token: Annotated[str, Depends(bearer_token)],
) -> PasswordReset:
    """Give a staff member a generated password, returned only this once; their sessions end."""
    staff = service.find_staff(session=session, staff_id=staff_id)
    password = service.reset_password(session=session, staff=staff, principal=caller, keep_token=token)
    response.headers["Cache-Control"] = "no-store"
    return PasswordReset(staff=staff_out(staff), password=password)


@router.get("/audit", response_model=list[AuditOut], tags=["supervision"])
def audit_log(
    session: DB,
    _: Auditor,
    target: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditOut]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if target:
        query = query.where(AuditEntry.target == target)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    return [
        AuditOut(
            id=a.id, actor=a.actor, role=a.role, action=a.action, target=a.target, detail=a.detail, at=a.at
        )
        for a in session.scalars(query)
    ]
