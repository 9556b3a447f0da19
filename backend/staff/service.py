"""Staff accounts and sessions: argon2 password hashes, expiring opaque tokens, the audit log."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any, NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import BadInput, Conflict, NotFound, TooManyAttempts, Unauthorized
from backend.reference.units import Unit
from backend.staff import throttle
from backend.staff.models import AuditEntry, Staff, StaffSession
from backend.staff.principal import Principal
from backend.staff.roles import Role
from backend.staff.schemas import StaffCreate, StaffPatch
from common.database import utcnow

HASHER = PasswordHasher()
STAFF_ROLES = frozenset({Role.OPERATOR, Role.UNIT_STAFF, Role.SUPERVISOR, Role.ADMIN})
SERVICE = Principal(Role.SERVICE, "assistant")
# A constant hash to verify against when the user does not exist, so timing does not tell.
_DUMMY_HASH = HASHER.hash(secrets.token_hex(16))
LOCKED = {
    "account": "该账号密码错误次数过多，已暂时锁定，请{minutes}分钟后再试，或请管理员重设密码",
    "address": "本机登录失败次数过多，已暂时锁定，请{minutes}分钟后再试",
}
# Generated passwords are read out or typed by people: no 0, O, 1, l, I. 14 of 57 symbols: 81 bits.
GENERATED_SYMBOLS = "23456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
GENERATED_LENGTH = 14


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def audit(
    *,
    session: Session,
    principal: Principal,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record a staff or service action in the same transaction as the action itself."""
    session.add(
        AuditEntry(
            actor=principal.name, role=principal.role, action=action, target=target, detail=detail or {}
        )
    )


def create_staff(
    *,
    session: Session,
    username: str,
    password: str,
    display_name: str,
    role: Role,
    unit_code: str | None,
) -> Staff:
    if role not in STAFF_ROLES:
        raise BadInput(f"not a staff role: {role}")
    if role == Role.UNIT_STAFF:
        if not unit_code:
            raise BadInput("handling-unit staff need a unit")
        try:
            Unit.parse(unit_code)
        except ValueError as error:
            raise BadInput(str(error)) from None
    elif unit_code:
        raise BadInput("only handling-unit staff belong to a unit")
    if len(password) < 10:
        raise BadInput("password must have at least 10 characters")
    if session.scalar(select(Staff.id).where(Staff.username == username)) is not None:
        raise Conflict(f"username taken: {username}")
    staff = Staff(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        unit_code=unit_code,
    )
    session.add(staff)
    session.flush()
    return staff


def generate_password() -> str:
    """A new random password for an account, to be shown once to the admin who asked for it."""
    return "".join(secrets.choice(GENERATED_SYMBOLS) for _ in range(GENERATED_LENGTH))


def list_staff(*, session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).order_by(Staff.id)))


def find_staff(*, session: Session, staff_id: int | None = None, username: str | None = None) -> Staff:
    """The staff member with this id or username; NotFound if there is none."""
    if staff_id is not None:
        staff = session.get(Staff, staff_id)
    else:
        staff = session.scalar(select(Staff).where(Staff.username == username))
    if staff is None:
        raise NotFound(f"no staff member {staff_id if staff_id is not None else username}")
    return staff


def add_staff(*, session: Session, staff_in: StaffCreate, principal: Principal) -> Staff:
    """Create an account for an admin (console, API or command line) and audit it."""
    staff = create_staff(
        session=session,
        username=staff_in.username,
        password=staff_in.password,
        display_name=staff_in.display_name,
        role=staff_in.role,
        unit_code=staff_in.unit_code,
    )
    audit(
        session=session,
        principal=principal,
        action="staff.create",
        target=staff.username,
        detail={"role": staff.role, "unit": staff.unit_code},
    )
    return staff


def update_staff(
    *, session: Session, staff: Staff, patch: StaffPatch, principal: Principal, keep_token: str | None = None
) -> Staff:
    """Change an account; deactivating it or setting a password ends its sessions (but `keep_token`'s).

    Nobody deactivates themselves, and the last active admin stays: someone must be able to log in
    and manage staff. The audit entry says that a password changed, never what it is.
    """
    if patch.active is False and staff.active:
        if staff.id == principal.staff_id:
            raise BadInput("you cannot deactivate yourself")
        if staff.role == Role.ADMIN and _active_admins(session) <= 1:
            raise Conflict("the last active admin cannot be deactivated")
    if patch.active is not None:
        staff.active = patch.active
        if not staff.active:
            revoke_sessions(staff=staff)
    if patch.password is not None:
        change_password(session=session, staff=staff, password=patch.password, keep_token=keep_token)
    if patch.display_name is not None:
        staff.display_name = patch.display_name
    audit(
        session=session,
        principal=principal,
        action="staff.update",
        target=staff.username,
        detail=patch.model_dump(exclude={"password"}, exclude_none=True)
        | ({"password": "changed"} if patch.password else {}),
    )
    return staff


def reset_password(
    *, session: Session, staff: Staff, principal: Principal, keep_token: str | None = None
) -> str:
    """Give the account a generated password (returned once) and end its sessions."""
    password = generate_password()
    update_staff(
        session=session,
        staff=staff,
        patch=StaffPatch(password=password),
        principal=principal,
        keep_token=keep_token,
    )
    return password


def _active_admins(session: Session) -> int:
    return len(session.scalars(select(Staff.id).where(Staff.role == Role.ADMIN, Staff.active)).all())


def ensure_admin(*, session: Session, password: str | None) -> None:
    """Create the first admin account from BACKEND_ADMIN_PASSWORD when there is no staff yet."""
    if password and session.scalar(select(Staff.id).limit(1)) is None:
        create_staff(
            session=session,
            username="admin",
            password=password,
            display_name="系统管理员",
            role=Role.ADMIN,
            unit_code=None,
        )


def login(
    *,
    session: Session,
    username: str,
    password: str,
    address: str,
    ttl: timedelta,
    now: datetime | None = None,
) -> tuple[str, StaffSession]:
    """Check the password and open a session; the token is returned once and stored hashed.

    Wrong passwords are counted per client address and per account (`backend.staff.throttle`); past
    either limit a login is refused, the right password included, until the lockout ends.
    """
    now = now or utcnow()
    attempts = _count_attempt(session, username, address, now)
    staff = session.scalar(select(Staff).where(Staff.username == username))
    try:
        HASHER.verify(staff.password_hash if staff else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        staff_ok = False
    else:
        staff_ok = staff is not None and staff.active
    if not staff_ok or staff is None:
        _refuse(session, username, address, attempts)
    for attempt in attempts:
        throttle.succeeded(session=session, attempt=attempt, now=now)
    if HASHER.check_needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    token = secrets.token_urlsafe(32)
    record = StaffSession(token_hash=token_digest(token), staff=staff, expires_at=now + ttl)
    session.add(record)
    audit(session=session, principal=principal_of(staff), action="login", detail={"address": address})
    return token, record


def _count_attempt(session: Session, username: str, address: str, now: datetime) -> list[throttle.Attempt]:
    """Count the attempt for its address and its account, committed before any password is checked."""
    attempts = []
    for rule, subject in ((throttle.ADDRESS, address), (throttle.ACCOUNT, username)):
        attempt = throttle.take(session=session, rule=rule, subject=subject, now=now)
        attempts.append(attempt)
        if attempt.refused:
            _audit_lockouts(session, username, address, attempts)
            session.commit()
            raise TooManyAttempts(LOCKED[rule.scope].format(minutes=throttle.minutes_left(attempt, now)))
    session.commit()
    return attempts


def _refuse(session: Session, username: str, address: str, attempts: list[throttle.Attempt]) -> NoReturn:
    """Audit a wrong login (and the lockout it starts), commit that, and refuse."""
    session.add(
        AuditEntry(actor=username[:64], role="unknown", action="login_failed", detail={"address": address})
    )
    _audit_lockouts(session, username, address, attempts)
    session.commit()
    raise Unauthorized("wrong username or password")


def _audit_lockouts(session: Session, username: str, address: str, attempts: list[throttle.Attempt]) -> None:
    for attempt in (a for a in attempts if a.locks):
        until = attempt.locked_until.isoformat() if attempt.locked_until else None
        session.add(
            AuditEntry(
                actor=username[:64],
                role="unknown",
                action="login_locked",
                target=attempt.subject[:64],
                detail={"scope": attempt.rule.scope, "address": address, "until": until},
            )
        )


def logout(*, session: Session, token: str) -> None:
    record = session.scalar(select(StaffSession).where(StaffSession.token_hash == token_digest(token)))
    if record is not None:
        record.revoked = True
        audit(session=session, principal=principal_of(record.staff), action="logout")


def change_password(*, session: Session, staff: Staff, password: str, keep_token: str | None) -> int:
    """Set a new password: the account's other sessions end and a login lockout is lifted."""
    staff.password_hash = hash_password(password)
    throttle.forget(session=session, rule=throttle.ACCOUNT, subject=staff.username)
    return revoke_sessions(staff=staff, keep_digest=token_digest(keep_token) if keep_token else None)


def revoke_sessions(*, staff: Staff, keep_digest: str | None = None) -> int:
    """End the staff member's open sessions (all but `keep_digest`); return how many ended."""
    ended = [r for r in staff.sessions if not r.revoked and r.token_hash != keep_digest]
    for record in ended:
        record.revoked = True
    return len(ended)


def active_sessions(*, session: Session, digests: list[str], now: datetime | None = None) -> list[str]:
    """Which of these token digests still open a session (not revoked, not expired, account active)."""
    if not digests:
        return []
    rows = session.scalars(
        select(StaffSession.token_hash)
        .join(Staff, StaffSession.staff_id == Staff.id)
        .where(
            StaffSession.token_hash.in_(digests),
            ~StaffSession.revoked,
            StaffSession.expires_at > (now or utcnow()),
            Staff.active,
        )
    )
    return list(rows)


def authenticate(
    *, session: Session, token: str, service_token: str, now: datetime | None = None
) -> Principal:
    """Resolve a bearer token to the principal behind it; Unauthorized when it is not valid."""
    if hmac.compare_digest(token.encode(), service_token.encode()):
        return SERVICE
    now = now or utcnow()
    record = session.scalar(select(StaffSession).where(StaffSession.token_hash == token_digest(token)))
    if record is None or record.revoked or record.expires_at <= now or not record.staff.active:
        raise Unauthorized("not logged in, or the session has expired")
    return principal_of(record.staff)


def principal_of(staff: Staff) -> Principal:
    return Principal(staff.role, staff.username, staff.unit_code, staff.id)
