"""Console logins: checked by the backend, kept as a cookie session in the gateway."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import Depends, HTTPException, Request, WebSocket
from sqlalchemy import delete, select

from connectors.core.models import ConsoleSession, utcnow

COOKIE = "jiesu_console"
CONVERSATION_ROLES = frozenset({"operator", "supervisor", "admin"})


@dataclass(frozen=True)
class Operator:
    """The logged-in staff member behind a console request."""

    username: str
    display_name: str
    role: str
    unit: str | None
    unit_name: str | None
    backend_token: str

    @property
    def handles_conversations(self) -> bool:
        return self.role in CONVERSATION_ROLES


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def log_in(request: Request, username: str, password: str) -> tuple[str, Operator]:
    """Check the credentials with the backend and open a console session; return the cookie value."""
    backend: httpx.AsyncClient = request.app.state.console_backend
    try:
        answer = await backend.post("/api/v1/auth/login", json={"username": username, "password": password})
    except httpx.HTTPError:
        raise HTTPException(503, "后台服务暂时不可用，请稍后再试") from None
    if answer.status_code in (401, 422):
        raise HTTPException(401, "用户名或密码不正确")
    if answer.status_code != 200:
        raise HTTPException(503, "后台服务暂时不可用，请稍后再试")
    body: dict[str, Any] = answer.json()
    staff = body["staff"]
    token = secrets.token_urlsafe(32)
    record = ConsoleSession(
        token_hash=_digest(token),
        username=staff["username"],
        display_name=staff["display_name"],
        role=staff["role"],
        unit=staff.get("unit"),
        unit_name=staff.get("unit_name"),
        backend_token=body["token"],
        expires_at=datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")),
    )
    async with request.app.state.sessions() as session:
        await session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < utcnow()))
        session.add(record)
        await session.commit()
    return token, _operator(record)


async def log_out(request: Request, token: str) -> Operator | None:
    async with request.app.state.sessions() as session:
        record = await session.scalar(
            select(ConsoleSession).where(ConsoleSession.token_hash == _digest(token))
        )
        if record is None:
            return None
        await session.delete(record)
        await session.commit()
    return _operator(record)


async def operator_of(connection: Request | WebSocket) -> Operator | None:
    """The operator of a request's session cookie, or None when not logged in (or expired)."""
    token = connection.cookies.get(COOKIE)
    if not token:
        return None
    async with connection.app.state.sessions() as session:
        record = await session.scalar(
            select(ConsoleSession).where(ConsoleSession.token_hash == _digest(token))
        )
    if record is None or record.expires_at <= utcnow():
        return None
    return _operator(record)


def _operator(record: ConsoleSession) -> Operator:
    return Operator(
        record.username, record.display_name, record.role, record.unit, record.unit_name, record.backend_token
    )


async def require_operator(request: Request) -> Operator:
    operator = await operator_of(request)
    if operator is None:
        raise HTTPException(401, "请先登录")
    return operator


async def require_conversations(operator: Annotated[Operator, Depends(require_operator)]) -> Operator:
    """Conversations (citizens' transcripts) are for the hotline, not for handling units."""
    if not operator.handles_conversations:
        raise HTTPException(403, "承办单位人员不能查看市民会话")
    return operator


Staff = Annotated[Operator, Depends(require_operator)]
Hotline = Annotated[Operator, Depends(require_conversations)]
