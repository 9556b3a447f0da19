"""HTTP and WebSocket routes of the web chat."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.websockets import WebSocketState

from common.limits import RateLimiter
from connectors.core.conversation import ConversationCore
from connectors.core.messages import Inbound
from connectors.webchat.channel import CHANNEL, WebChatAdapter

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
router = APIRouter(prefix="/chat", tags=["web chat"])


class ChatMessage(BaseModel):
    sender: Annotated[str, Field(min_length=8, max_length=64)]
    text: Annotated[str, Field(max_length=100_000)] = ""
    button: Annotated[str | None, Field(max_length=2000)] = None


class SessionOut(BaseModel):
    sender: str


def _parts(
    request: Request | WebSocket,
) -> tuple[ConversationCore, WebChatAdapter, RateLimiter, int]:
    state = request.app.state
    return state.core, state.webchat, state.chat_limiter, state.settings.chat_max_message_chars


@router.get("/", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


@router.post("/api/session", response_model=SessionOut)
async def new_session(request: Request) -> SessionOut:
    """Issue a new, unguessable sender id for a web chat conversation."""
    _, webchat, _, _ = _parts(request)
    return SessionOut(sender=await webchat.issue_sender())


@router.get("/api/history")
async def history(request: Request, sender: str) -> list[dict[str, Any]]:
    _, webchat, _, _ = _parts(request)
    if not await webchat.known(sender):
        raise HTTPException(404, "unknown sender: get one from POST /chat/api/session")
    return await webchat.history(sender)


@router.post("/api/messages")
async def post_message(request: Request, message: ChatMessage) -> list[dict[str, Any]]:
    """Send a citizen's message and answer with the bot's replies."""
    core, webchat, limiter, max_chars = _parts(request)
    check_message(message.text, message.sender, limiter, max_chars)
    if not await webchat.known(message.sender):
        raise HTTPException(404, "unknown sender: get one from POST /chat/api/session")
    if not message.text.strip() and not message.button:
        raise HTTPException(422, "text or button is required")
    replies = await core.receive(
        Inbound(channel=CHANNEL, identity=message.sender, text=message.text, button=message.button)
    )
    return [reply.public() for reply in replies]


def check_message(text: str, sender: str, limiter: RateLimiter, max_chars: int) -> None:
    """Every attempt counts against the sender's rate; an over-long message is refused."""
    if not limiter.allow(sender):
        raise HTTPException(429, "too many messages: please wait a moment")
    if len(text) > max_chars:
        raise HTTPException(413, f"message too long: at most {max_chars} characters")


@router.websocket("/ws")
async def socket(websocket: WebSocket, sender: str) -> None:
    """Carry one page's conversation: citizen messages in, replies and typing signals out."""
    core, webchat, limiter, max_chars = _parts(websocket)
    if not await webchat.known(sender):
        await websocket.close(code=4404, reason="unknown sender")
        return
    await websocket.accept()
    webchat.sockets[sender].add(websocket)
    try:
        while True:
            data = await websocket.receive_json()
            if not isinstance(data, dict):
                continue
            await _on_socket_message(websocket, core, data, sender, limiter, max_chars)
    except (WebSocketDisconnect, ValueError):
        pass
    finally:
        webchat.sockets[sender].discard(websocket)
        if websocket.application_state != WebSocketState.DISCONNECTED:
            await websocket.close()


async def _on_socket_message(
    websocket: WebSocket,
    core: ConversationCore,
    data: dict[str, Any],
    sender: str,
    limiter: RateLimiter,
    max_chars: int,
) -> None:
    text = str(data.get("text") or "")
    button = data.get("button")
    try:
        check_message(text, sender, limiter, max_chars)
    except HTTPException as refused:
        await websocket.send_json({"type": "error", "status": refused.status_code, "detail": refused.detail})
        return
    if not text.strip() and not button:
        await websocket.send_json({"type": "error", "status": 422, "detail": "text or button is required"})
        return
    await websocket.send_json({"type": "typing"})
    replies = await core.receive(
        Inbound(channel=CHANNEL, identity=sender, text=text, button=str(button) if button else None)
    )
    for reply in replies:
        await websocket.send_json({"type": "message", **reply.public()})
    await websocket.send_json({"type": "idle"})
