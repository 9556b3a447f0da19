"""The console's pages and JSON API under /console; every page and API needs a staff login."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, HTTPException, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.requests import HTTPConnection

from connectors.console.auth import COOKIE, Hotline, Staff, log_in, log_out, operator_of
from connectors.console.desk import mark_seen, transcript_line, unread_counts
from connectors.console.takeover import TakeoverError
from connectors.core.models import Conversation, Handling, Message, utcnow
from connectors.core.rasa import RasaUnavailable
from connectors.security import same_origin
from connectors.wiring import wired

STATIC = Path(__file__).resolve().parent / "static"
STATIC_FOLDERS = frozenset({STATIC, STATIC / "vendor"})  # vendor/: third-party files, PROVENANCE.md
PUBLIC_FILES = frozenset({"login.html", "login.js", "console.css"})
LIVE_WINDOW = timedelta(minutes=30)
BACKEND_PATHS = re.compile(
    r"^api/v1/(cases(/\d{13}(/(transitions|notes|supervise|rating|summonses(/\d{1,9}/check-in)?))?)?"
    r"|supervision/(overdue|alerts|summonses)"
    r"|stats/(rates|hotspots|hotspot-scans(/(latest|\d{1,9}))?|ranking|places|deadlines|check-ins|topics"
    r"|clusters(/\d{1,9}/topic)?)"
    r"|categories|departments|places|routing|knowledge/search|audit|auth/me"
    r"|staff(/\d{1,9}(/password-reset)?)?|open311/keys(/\d{1,9}/revoke)?)$"  # the backend lets only admins
)
WITH_BODY = frozenset({"POST", "PATCH"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def from_console_page(connection: HTTPConnection) -> None:
    """Refuse a state-changing request that no page of this gateway sent (CSRF, beside SameSite); the
    WebSocket checks its handshake itself."""
    if connection.scope["type"] != "http" or connection.scope["method"] in SAFE_METHODS:
        return
    if not same_origin(connection, wired(connection).settings.public_url):
        raise HTTPException(403, "请求来源不是本系统页面，已拒绝")


router = APIRouter(prefix="/console", tags=["console"], dependencies=[Depends(from_console_page)])


class LoginIn(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class SayIn(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class HandBackIn(BaseModel):
    close: bool = False


# --- pages ---------------------------------------------------------------------------------------
@router.get("/", include_in_schema=False, response_model=None)
async def index(request: Request) -> Response:
    if await operator_of(request) is None:
        return RedirectResponse("/console/login", 303)
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


@router.get("/login", include_in_schema=False)
async def login_page() -> FileResponse:
    return FileResponse(STATIC / "login.html", headers={"Cache-Control": "no-store"})


@router.get("/static/{name:path}", include_in_schema=False)
async def static(name: str, request: Request) -> FileResponse:
    path = (STATIC / name).resolve()
    if path.parent not in STATIC_FOLDERS or not path.is_file():
        raise HTTPException(404, "not found")
    if name not in PUBLIC_FILES and await operator_of(request) is None:
        raise HTTPException(401, "请先登录")
    return FileResponse(path, headers={"Cache-Control": "no-cache"})


@router.get("/uploads/{name}", include_in_schema=False)
async def upload(name: str, request: Request, _: Staff) -> FileResponse:
    folder = wired(request).settings.data_path("uploads").resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        raise HTTPException(404, "not found")
    return FileResponse(path)


# --- session ---------------------------------------------------------------------------------------
@router.post("/api/login")
async def login(request: Request, response: Response, credentials: LoginIn) -> dict[str, Any]:
    operator = await log_in(request, credentials.username, credentials.password)
    response.set_cookie(
        COOKIE,
        operator.backend_token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/console",
        max_age=int(wired(request).settings.console_session_hours * 3600),
    )
    return _me(operator)


@router.post("/api/logout", status_code=204)
async def logout(request: Request, response: Response, _: Staff) -> None:
    operator = await log_out(request, request.cookies.get(COOKIE, ""))
    if operator is not None:
        await wired(request).hub.close_sessions({operator.session_digest})
        await _backend(request, operator.backend_token, "POST", "api/v1/auth/logout")
    response.delete_cookie(COOKIE, path="/console", secure=_secure(request), httponly=True, samesite="strict")


def _secure(request: Request) -> bool:
    """The cookie goes only over HTTPS whenever the console is served over HTTPS."""
    public_url: str = wired(request).settings.public_url
    return public_url.lower().startswith("https://") or request.url.scheme == "https"


@router.get("/api/me")
async def me(operator: Staff) -> dict[str, Any]:
    return _me(operator)


def _me(operator: Any) -> dict[str, Any]:
    return {
        "username": operator.username,
        "display_name": operator.display_name,
        "role": operator.role,
        "unit_code": operator.unit_code,
        "unit_name": operator.unit_name,
        "handles_conversations": operator.handles_conversations,
    }


# --- conversations ---------------------------------------------------------------------------------
@router.get("/api/queue")
async def queue(request: Request, operator: Hotline) -> dict[str, Any]:
    """Who waits for a person (and why, how long), who is held by whom, and live bot conversations;
    each with the citizen's messages this operator has not read, and in all for those that need them."""
    alert = wired(request).settings.console_wait_alert_s
    now = utcnow()
    async with wired(request).sessions() as session:
        rows = list(
            await session.scalars(
                select(Conversation)
                .where(
                    (Conversation.handling != Handling.BOT)
                    | (Conversation.last_message_at > now - LIVE_WINDOW)
                )
                .order_by(Conversation.waiting_since.asc().nulls_last(), Conversation.last_message_at.desc())
                .limit(200)
            )
        )
        items = [await _summary(session, c, now, alert) for c in rows]
        unread = await unread_counts(session, operator.username, [c.id for c in rows])
    for item in items:
        item["unread"] = unread.get(item["id"], 0)
    return {
        "waiting": [i for i in items if i["handling"] == Handling.WAITING],
        "held": [i for i in items if i["handling"] == Handling.OPERATOR],
        "live": [i for i in items if i["handling"] == Handling.BOT],
        "alert_after_s": alert,
        "unread_total": sum(
            i["unread"]
            for i in items
            if i["handling"] == Handling.WAITING or i["operator"] == operator.username
        ),
    }


async def _summary(session: Any, conversation: Conversation, now: Any, alert: int) -> dict[str, Any]:
    last = await session.scalar(
        select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id.desc()).limit(1)
    )
    waited = int((now - conversation.waiting_since).total_seconds()) if conversation.waiting_since else None
    return {
        "id": conversation.id,
        "channel": conversation.channel,
        "identity": conversation.sender_id[-6:],  # derived: never a piece of the citizen's own id
        "handling": conversation.handling,
        "reason": conversation.handoff_reason,
        "operator": conversation.operator,
        "waited_s": waited,
        "too_long": waited is not None and waited > alert and conversation.handling == Handling.WAITING,
        "last_text": last.text[:80] if last else "",
        "last_at": conversation.last_message_at.isoformat(),
    }


@router.get("/api/conversations/{conversation_id}")
async def conversation_detail(conversation_id: int, request: Request, operator: Hotline) -> dict[str, Any]:
    """The whole transcript, and what the bot has collected so far (its slots); now read by this operator."""
    async with wired(request).sessions() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            raise HTTPException(404, "没有这个会话")
        messages = list(
            await session.scalars(
                select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
            )
        )
        if messages:
            await mark_seen(session, operator.username, conversation_id, messages[-1].id)
    handoff: dict[str, Any] = next(
        (m.payload["handoff"] for m in reversed(messages) if (m.payload or {}).get("handoff")), {}
    )
    collected = dict(handoff.get("collected") or {})
    try:
        tracker = await wired(request).bot.tracker(conversation.sender_id)
    except RasaUnavailable:
        tracker = {}  # the transcript is still useful without the bot's slots
    slots = {k: v for k, v in (tracker.get("slots") or {}).items() if v not in (None, [], "")}
    collected.update({k: v for k, v in slots.items() if k in COLLECTED_SLOTS})
    return {
        "id": conversation.id,
        "channel": conversation.channel,
        "sender_id": conversation.sender_id,
        "handling": conversation.handling,
        "operator": conversation.operator,
        "reason": conversation.handoff_reason,
        "collected": collected,
        "transcript": [transcript_line(m) for m in messages],
    }


COLLECTED_SLOTS = frozenset(
    {
        "description",
        "address",
        "district",
        "street",
        "category_code",
        "category_name",
        "unit_name",
        "contact_name",
        "contact_phone",
        "appeal_type",
        "filed_case_number",
        "attachments",
        "location",
        "routing",  # the conversation's routing in codes: a case made from it carries it
    }
)


@router.post("/api/conversations/{conversation_id}/claim")
async def claim(conversation_id: int, request: Request, operator: Hotline) -> dict[str, Any]:
    conversation = await _takeover(wired(request).takeover.claim(conversation_id, operator))
    return {"id": conversation.id, "handling": conversation.handling, "operator": conversation.operator}


@router.post("/api/conversations/{conversation_id}/messages", status_code=201)
async def say(conversation_id: int, body: SayIn, request: Request, operator: Hotline) -> dict[str, Any]:
    reply = await _takeover(wired(request).takeover.say(conversation_id, operator, body.text))
    return reply.public()


@router.post("/api/conversations/{conversation_id}/release")
async def release(
    conversation_id: int, body: HandBackIn, request: Request, operator: Hotline
) -> dict[str, Any]:
    conversation = await _takeover(
        wired(request).takeover.hand_back(conversation_id, operator, close=body.close)
    )
    return {"id": conversation.id, "handling": conversation.handling}


async def _takeover(pending: Any) -> Any:
    try:
        return await pending
    except TakeoverError as error:
        raise HTTPException(error.status, error.message) from None


@router.post("/api/conversations/{conversation_id}/case", status_code=201)
async def case_from_conversation(conversation_id: int, request: Request, operator: Hotline) -> Response:
    """Create a case for the citizen of this conversation, with the operator's own backend login."""
    async with wired(request).sessions() as session:
        conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise HTTPException(404, "没有这个会话")
    body = await request.json()
    if not isinstance(body, dict):
        raise HTTPException(422, "需要一个JSON对象")
    body.update(
        channel=conversation.channel,
        channel_identity=conversation.sender_id,
        conversation_id=conversation.sender_id,
    )
    return await _backend(
        request,
        operator.backend_token,
        "POST",
        "api/v1/cases",
        json=body,
        headers={"Idempotency-Key": request.headers.get("Idempotency-Key", "")[:100] or None},
    )


# --- the backend, with the operator's own token ------------------------------------------------------
@router.api_route("/api/backend/{path:path}", methods=["GET", "POST", "PATCH"])
async def backend(path: str, request: Request, operator: Staff) -> Response:
    """Cases, supervision, rates, staff: the backend decides what this operator may see and do."""
    if not BACKEND_PATHS.match(path):
        raise HTTPException(404, "not a console backend path")
    body = await request.body() if request.method in WITH_BODY else None
    key = request.headers.get("Idempotency-Key")
    return await _backend(
        request,
        operator.backend_token,
        request.method,
        path,
        content=body,
        params=dict(request.query_params),
        headers={"Idempotency-Key": key} if key else {},
    )


async def _backend(request: Request, token: str, method: str, path: str, **kwargs: Any) -> Response:
    headers = {k: v for k, v in (kwargs.pop("headers", None) or {}).items() if v}
    headers["Authorization"] = f"Bearer {token}"
    if kwargs.get("content") is not None:
        headers["Content-Type"] = "application/json"
    client: httpx.AsyncClient = wired(request).console_backend
    try:
        answer = await client.request(method, f"/{path}", headers=headers, **kwargs)
    except httpx.HTTPError:
        raise HTTPException(503, "后台服务暂时不可用，请稍后再试") from None
    if answer.status_code == 401:
        raise HTTPException(401, "登录已过期，请重新登录")
    kept = {"Cache-Control": answer.headers["cache-control"]} if "cache-control" in answer.headers else None
    return Response(
        answer.content, answer.status_code, headers=kept, media_type=answer.headers.get("content-type")
    )  # a new password or key is marked no-store by the backend, and stays so


# --- live events -------------------------------------------------------------------------------------
@router.websocket("/ws")
async def live(websocket: WebSocket) -> None:
    operator = await operator_of(websocket)
    if not same_origin(websocket, wired(websocket).settings.public_url):
        operator = None
    if operator is None:  # every staff member: conversations for the hotline, alerts for units too
        await websocket.close(code=4401)
        return
    await websocket.accept()
    hub = wired(websocket).hub
    hub.connected(websocket, operator)
    try:
        while True:
            await websocket.receive_text()  # keep-alive pings from the page
    except WebSocketDisconnect:
        pass
    finally:
        hub.disconnected(websocket)
