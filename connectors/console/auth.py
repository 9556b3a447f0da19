"""Console logins: checked by the backend, kept as a cookie session in the gateway.

The cookie holds the staff member's backend token; the gateway stores only its SHA-256, so a copy
of the gateway's database opens no session. Every few seconds `end_revoked` asks the backend which
logins still hold (a logout, a new password or a deactivated account ends one there) and ends the
others here, their WebSockets included.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import httpx
from fastapi import Depends, HTTPException, Request, WebSocket
from sqlalchemy import delete, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.core.models import ConsoleSession, utcnow
from connectors.upgrade import compact
from connectors.wiring import wired

if TYPE_CHECKING:
    from connectors.console.hub import ConsoleHub

log = logging.getLogger(__name__)
COOKIE = "jiesu_console"
CONVERSATION_ROLES = frozenset({"operator", "supervisor", "admin"})
CLIENT_ADDRESS_HEADER = "X-Jiesu-Client-Address"  # read by the backend only beside the service token
ACTIVE_BATCH = 1000
PLAINTEXT_TABLE = "console_sessions"


@dataclass(frozen=True)
class Operator:
    """The logged-in staff member behind a console request (the token lives in the cookie only)."""

    username: str
    display_name: str
    role: str
    unit_code: str | None
    unit_name: str | None
    backend_token: str

    @property
    def handles_conversations(self) -> bool:
        return self.role in CONVERSATION_ROLES

    @property
    def session_digest(self) -> str:
        return digest(self.backend_token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def log_in(request: Request, username: str, password: str) -> Operator:
    """Check the credentials with the backend (naming the client's address) and open a console session."""
    backend: httpx.AsyncClient = wired(request).console_backend
    service_token = wired(request).settings.backend_service_token.get_secret_value()
    headers = {"Authorization": f"Bearer {service_token}"}
    if request.client:
        headers[CLIENT_ADDRESS_HEADER] = request.client.host
    try:
        answer = await backend.post(
            "/api/v1/auth/login", json={"username": username, "password": password}, headers=headers
        )
    except httpx.HTTPError:
        raise HTTPException(503, "后台服务暂时不可用，请稍后再试") from None
    if answer.status_code in (401, 422):
        raise HTTPException(401, "用户名或密码不正确")
    if answer.status_code == 429:
        raise HTTPException(429, answer.json().get("detail") or "登录失败次数过多，请稍后再试")
    if answer.status_code != 200:
        raise HTTPException(503, "后台服务暂时不可用，请稍后再试")
    body: dict[str, Any] = answer.json()
    staff = body["staff"]
    record = ConsoleSession(
        token_hash=digest(body["token"]),
        username=staff["username"],
        display_name=staff["display_name"],
        role=staff["role"],
        unit_code=staff.get("unit_code"),
        unit_name=staff.get("unit_name"),
        expires_at=datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")),
    )
    async with wired(request).sessions() as session:
        await session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < utcnow()))
        session.add(record)
        await session.commit()
    return _operator(record, body["token"])


async def log_out(request: Request, token: str) -> Operator | None:
    async with wired(request).sessions() as session:
        record = await _login(session, token)
        if record is None:
            return None
        await session.delete(record)
        await session.commit()
    return _operator(record, token)


async def operator_of(connection: Request | WebSocket) -> Operator | None:
    """The operator of a request's session cookie, or None when not logged in (or expired)."""
    token = connection.cookies.get(COOKIE)
    if not token:
        return None
    async with wired(connection).sessions() as session:
        record = await _login(session, token)
    if record is None or record.expires_at <= utcnow():
        return None
    return _operator(record, token)


async def _login(session: AsyncSession, token: str) -> ConsoleSession | None:
    return await session.scalar(select(ConsoleSession).where(ConsoleSession.token_hash == digest(token)))


def _operator(record: ConsoleSession, token: str) -> Operator:
    return Operator(
        record.username, record.display_name, record.role, record.unit_code, record.unit_name, token
    )


async def end_revoked(
    sessions: async_sessionmaker[AsyncSession],
    backend: httpx.AsyncClient,
    service_token: str,
    hub: ConsoleHub,
) -> int:
    """End the console logins the backend no longer honours, and close every WebSocket whose login is
    gone (revoked, expired, or logged out through another gateway); return how many logins ended.
    When the backend cannot be asked, logins stay: it refuses a revoked token on every call anyway."""
    async with sessions() as session:
        await session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= utcnow()))
        digests = list(await session.scalars(select(ConsoleSession.token_hash)))
        await session.commit()
    ended: list[str] = []
    try:
        for start in range(0, len(digests), ACTIVE_BATCH):
            batch = digests[start : start + ACTIVE_BATCH]
            answer = await backend.post(
                "/api/v1/auth/sessions/active",
                json={"token_hashes": batch},
                headers={"Authorization": f"Bearer {service_token}"},
            )
            answer.raise_for_status()
            active = set(answer.json()["token_hashes"])
            ended += [d for d in batch if d not in active]
    except httpx.HTTPError as error:
        log.warning("could not check console logins with the backend: %s", type(error).__name__)
    async with sessions() as session:
        if ended:
            await session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash.in_(ended)))
            await session.commit()
        open_digests = hub.session_digests()
        held = select(ConsoleSession.token_hash).where(ConsoleSession.token_hash.in_(open_digests))
        kept = set(await session.scalars(held))
    await hub.close_sessions(open_digests - kept)
    return len(ended)


async def forget_plaintext_logins(engine: AsyncEngine) -> None:
    """Drop the console's login table of before console_logins, which held backend tokens in plain text;
    on SQLite the file is compacted too, so no freed page keeps one."""
    async with engine.connect() as connection:
        old = await connection.run_sync(lambda sync: inspect(sync).has_table(PLAINTEXT_TABLE))
    if not old:
        return
    async with engine.begin() as connection:
        await connection.execute(text(f"DROP TABLE {PLAINTEXT_TABLE}"))
    await compact(engine)
    log.info("dropped the old console login table (it held backend tokens in plain text)")


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
