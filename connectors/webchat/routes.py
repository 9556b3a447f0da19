"""HTTP and WebSocket routes of the web chat.

The `sender` a page sends is its token, the citizen's credential: it is turned into the
conversation's identity here (connectors.core.ids) and goes no further. Every refusal a citizen can
meet is said in Chinese: the page shows it as it comes.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from string import Template
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.websockets import WebSocketState

from common.limits import RateLimiter
from connectors.core.conversation import ConversationCore
from connectors.core.ids import identity_of_credential
from connectors.core.messages import Inbound
from connectors.webchat.channel import CHANNEL, WebChatAdapter
from connectors.wiring import wired

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
router = APIRouter(prefix="/chat", tags=["web chat"])

UNKNOWN_SENDER = "这个对话已经失效了，请刷新页面重新开始。"
TOO_FAST = "您发送得太快了，请稍等一会儿再发。"
TOO_LONG = "消息太长了，一次最多{max_chars}个字，请分几次发送。"
EMPTY = "请输入您要说的内容后再发送。"
TOO_MANY_SESSIONS = "您所在的网络刚刚开启了太多新对话，请过一两分钟再试。紧急情况请直接拨打110、119或120。"
TOO_MANY_PAGES = "您同时打开的对话页面太多了，请关掉其他页面后刷新本页。"
CLOSE_TOO_MANY_PAGES = 4429
CLOSE_UNKNOWN_SENDER = 4404
NO_CACHE = {"Cache-Control": "no-cache"}


class ChatMessage(BaseModel):
    sender: Annotated[str, Field(min_length=8, max_length=64)]
    text: Annotated[str, Field(max_length=100_000)] = ""
    button: Annotated[str | None, Field(max_length=2000)] = None


class SessionOut(BaseModel):
    sender: str


def parts(
    request: Request | WebSocket,
) -> tuple[ConversationCore, WebChatAdapter, RateLimiter, int]:
    gateway = wired(request)
    return gateway.core, gateway.webchat, gateway.chat_limiter, gateway.settings.chat_max_message_chars


def client_address(request: Request | WebSocket) -> str:
    """The citizen's address (behind a proxy listed in GATEWAY_FORWARDED_ALLOW_IPS, the forwarded one)."""
    return request.client.host if request.client else "unknown"


@cache
def template(name: str) -> Template:
    return Template((STATIC.parent / "pages" / name).read_text(encoding="utf-8"))


@router.get("/", include_in_schema=False)
async def page(request: Request) -> HTMLResponse:
    days = wired(request).settings.retention_days
    return HTMLResponse(template("index.html").substitute(days=days), headers=NO_CACHE)


@router.get("/privacy", include_in_schema=False)
async def privacy(request: Request) -> HTMLResponse:
    """What the web chat keeps, for how long, and who sees it (the retention settings, as they are)."""
    days = wired(request).settings.retention_days
    return HTMLResponse(template("privacy.html").substitute(days=days), headers=NO_CACHE)


@router.post("/api/session", response_model=SessionOut)
async def new_session(request: Request) -> SessionOut:
    """Issue a new, unguessable sender token for a web chat conversation (a few per address a minute)."""
    _, webchat, _, _ = parts(request)
    if not wired(request).session_limiter.allow(client_address(request)):
        raise HTTPException(429, TOO_MANY_SESSIONS)
    return SessionOut(sender=await webchat.issue_sender())


@router.get("/api/history")
async def history(request: Request, sender: str) -> list[dict[str, Any]]:
    _, webchat, _, _ = parts(request)
    identity = identity_of_credential(sender)
    if not await webchat.known(identity):
        raise HTTPException(404, UNKNOWN_SENDER)
    return await webchat.history(identity)


@router.post("/api/messages")
async def post_message(request: Request, message: ChatMessage) -> list[dict[str, Any]]:
    """Send a citizen's message and answer with the bot's replies."""
    core, webchat, limiter, max_chars = parts(request)
    identity = identity_of_credential(message.sender)
    if not await webchat.known(identity):
        raise HTTPException(404, UNKNOWN_SENDER)
    check_message(message.text, identity, limiter, max_chars)
    if not message.text.strip() and not message.button:
        raise HTTPException(422, EMPTY)
    replies = await core.receive(
        Inbound(channel=CHANNEL, identity=identity, text=message.text, button=message.button)
    )
    return [reply.public() for reply in replies]


def check_rate(identity: str, limiter: RateLimiter) -> None:
    """Every attempt of a known conversation (a message, a photo, a pin) counts against its rate."""
    if not limiter.allow(identity):
        raise HTTPException(429, TOO_FAST)


def check_message(text: str, identity: str, limiter: RateLimiter, max_chars: int) -> None:
    """Count the attempt; an over-long message is refused."""
    check_rate(identity, limiter)
    if len(text) > max_chars:
        raise HTTPException(413, TOO_LONG.format(max_chars=max_chars))


@router.websocket("/ws")
async def socket(websocket: WebSocket, sender: str) -> None:
    """Carry one page's conversation: citizen messages in, replies and typing signals out."""
    core, webchat, limiter, max_chars = parts(websocket)
    identity = identity_of_credential(sender)
    known = await webchat.known(identity)
    pages = webchat.sockets[identity]
    # The page is counted before the handshake completes, so a page that sees itself open is already counted.
    counted = known and len(pages) < wired(websocket).settings.chat_sockets_per_sender
    if counted:
        pages.add(websocket)
    try:
        await websocket.accept()  # accepted to say why in Chinese: a refused handshake tells the page nothing
        if not known:
            await websocket.send_json({"type": "error", "status": 404, "detail": UNKNOWN_SENDER})
            await websocket.close(code=CLOSE_UNKNOWN_SENDER)
            return
        if not counted:
            await websocket.send_json({"type": "error", "status": 429, "detail": TOO_MANY_PAGES})
            await websocket.close(code=CLOSE_TOO_MANY_PAGES)
            return
        while True:
            data = await websocket.receive_json()
            if not isinstance(data, dict):
                continue
            await _on_socket_message(websocket, core, data, identity, limiter, max_chars)
    except (WebSocketDisconnect, ValueError):
        pass
    finally:
        pages.discard(websocket)
        if not pages:
            webchat.sockets.pop(identity, None)
        if websocket.application_state != WebSocketState.DISCONNECTED:
            await websocket.close()


async def _on_socket_message(
    websocket: WebSocket,
    core: ConversationCore,
    data: dict[str, Any],
    identity: str,
    limiter: RateLimiter,
    max_chars: int,
) -> None:
    text = str(data.get("text") or "")
    button = data.get("button")
    try:
        check_message(text, identity, limiter, max_chars)
    except HTTPException as refused:
        await websocket.send_json({"type": "error", "status": refused.status_code, "detail": refused.detail})
        return
    if not text.strip() and not button:
        await websocket.send_json({"type": "error", "status": 422, "detail": EMPTY})
        return
    await websocket.send_json({"type": "typing"})
    replies = await core.receive(
        Inbound(channel=CHANNEL, identity=identity, text=text, button=str(button) if button else None)
    )
    for reply in replies:
        await websocket.send_json({"type": "message", **reply.public()})
    await websocket.send_json({"type": "idle"})
