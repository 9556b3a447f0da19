"""WeChat's callback URL: the server-verification handshake (GET) and messages and events (POST).

Each callback is checked (signature over token, timestamp and nonce; in safe mode msg_signature over
the ciphertext too, and the body decrypted), taken once (WeChat sends a callback again when it had no
answer), and handed to the conversation core. The answer goes back in the callback's own response when
the bot is fast enough (WeChat waits five seconds); otherwise the response is "success" and the replies
follow through the outbox as customer-service messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from connectors.core.conversation import ConversationCore
from connectors.core.messages import Inbound, Reply
from connectors.core.models import SeenInbound
from connectors.wechat.api import WeChatError
from connectors.wechat.channel import CHANNEL
from connectors.wechat.crypto import DecryptError, SignatureError, check
from connectors.wechat.envelope import Callback, NotACallback, callback, encrypted_reply, parse, text_reply
from connectors.wiring import wired

log = logging.getLogger(__name__)
router = APIRouter(prefix="/wechat", tags=["wechat"])
MENU = {"REPORT": "我要反映问题", "STATUS": "我的工单"}  # the account menu's click keys (报事, 查进度)
MENU_BUTTONS = [
    {"type": "click", "name": "报事", "key": "REPORT"},
    {"type": "click", "name": "查进度", "key": "STATUS"},
]
UNSUPPORTED = "抱歉，目前只能处理文字、图片和位置。请用文字描述您的问题，也可以发照片或位置。"
PHOTO_FAILED = "抱歉，图片没能收到，请再发一次，或者用文字描述。"
DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
Param = Annotated[str, Query(max_length=128)]


@router.get("/callback", response_class=PlainTextResponse)
async def verify(request: Request, signature: Param, timestamp: Param, nonce: Param, echostr: Param) -> str:
    """WeChat's server verification: answer echostr when the signature matches the token."""
    wechat = _wechat(request)
    try:
        check(signature, wechat.token, timestamp, nonce)
    except SignatureError:
        raise HTTPException(403, "wrong signature") from None
    return echostr


@router.post("/callback")
async def receive(
    request: Request,
    signature: Param,
    timestamp: Param,
    nonce: Param,
    encrypt_type: Param = "raw",
    msg_signature: Param = "",
) -> Response:
    """Take one message or event from a citizen and answer it within WeChat's five seconds if we can."""
    wechat = _wechat(request)
    try:
        check(signature, wechat.token, timestamp, nonce)
        if abs(time.time() - int(timestamp)) > wechat.max_skew_s:
            raise SignatureError("timestamp too old or too new")
        fields = parse(await request.body())
        if encrypt_type == "aes":
            if wechat.crypto is None:
                raise HTTPException(400, "safe mode needs WECHAT_AES_KEY")
            plain = wechat.crypto.decrypt(
                fields.get("Encrypt", ""), msg_signature=msg_signature, timestamp=timestamp, nonce=nonce
            )
            fields = parse(plain)
        message = callback(fields)
    except (SignatureError, DecryptError, ValueError) as error:
        if isinstance(error, NotACallback):
            raise HTTPException(400, str(error)) from None
        raise HTTPException(403, "wrong signature") from None
    if not await _first_time(request, message):
        return PlainTextResponse("success")
    try:
        text = await wechat.answer(wired(request).core, message)
    except (CallbackFailed, SQLAlchemyError):  # perhaps not stored: WeChat sends it again unless 200
        await _forget(request, message)
        raise HTTPException(503, "not taken, send it again") from None
    if text is None:  # nothing to say in this response: "success" tells WeChat not to retry
        return PlainTextResponse("success")
    reply = text_reply(message.from_user, message.to_user, text)
    if encrypt_type == "aes" and wechat.crypto is not None:
        encrypted, signed = wechat.crypto.encrypt(reply.encode(), timestamp=timestamp, nonce=nonce)
        reply = encrypted_reply(encrypted, signed, timestamp, nonce)
    return Response(reply, media_type="application/xml")


def _wechat(request: Request) -> Any:
    wechat = wired(request).wechat
    if wechat is None:
        raise HTTPException(404, "WeChat is not on")
    return wechat


async def _first_time(request: Request, message: Callback) -> bool:
    """Record the callback; False when it was taken before (WeChat retries, or a replay)."""
    async with wired(request).sessions() as session:
        session.add(SeenInbound(key=f"{CHANNEL}:{message.dedupe_key}"[:160]))
        try:
            await session.commit()
        except IntegrityError:
            return False
    return True


async def _forget(request: Request, message: Callback) -> None:
    async with wired(request).sessions() as session:
        seen = await session.get(SeenInbound, f"{CHANNEL}:{message.dedupe_key}"[:160])
        if seen is not None:
            await session.delete(seen)
            await session.commit()


class CallbackFailed(Exception):
    """Handling a callback failed within the time WeChat waits."""


class WeChatCallbacks:
    """What the callback route needs: the account's secrets, the API, the waiting passive replies."""

    def __init__(self, *, token: str, crypto: Any, api: Any, passive: Any, uploads: Any, **limits: float):
        self.token, self.crypto, self.api, self.passive, self.uploads = token, crypto, api, passive, uploads
        self.passive_s = limits.get("passive_s", 4.0)
        self.max_skew_s = limits.get("max_skew_s", 300.0)
        self._tasks: set[asyncio.Task[list[Reply]]] = set()

    async def answer(self, core: ConversationCore, message: Callback) -> str | None:
        """Hand the callback to the core; the text of the replies that arrived in time, if any.
        Raises when handling failed within the time (the message may not be stored)."""
        openid = message.from_user
        waiter = self.passive.open(openid)  # first: messages released now come back in this response
        try:
            await self._release_held(core, openid)
        except BaseException:
            self.passive.close(openid, waiter)
            raise
        task = asyncio.create_task(self.handle(core, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        deadline = time.monotonic() + self.passive_s
        try:
            done, _ = await asyncio.wait({task}, timeout=self.passive_s)
            if task in done and task.exception() is not None:
                raise CallbackFailed("the callback failed") from task.exception()
            if task in done:
                expected = {reply.id for reply in task.result() if reply.id is not None}
                while not expected <= waiter.ids and time.monotonic() < deadline:
                    waiter.arrived.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(waiter.arrived.wait(), deadline - time.monotonic())
        finally:
            self.passive.close(openid, waiter)
        return "\n\n".join(waiter.texts) if waiter.texts else None

    async def handle(self, core: ConversationCore, message: Callback) -> list[Reply]:
        """Turn one callback into what the core understands."""
        openid, kind = message.from_user, message.kind
        if kind == "text":
            text = message.get("Content")
            digit = text.strip().translate(DIGITS)
            choice = int(digit) if digit.isdigit() and len(digit) <= 2 else None
            return await core.receive(Inbound(channel=CHANNEL, identity=openid, text=text, choice=choice))
        if kind == "location":
            place = (float(message.get("Location_X")), float(message.get("Location_Y")))
            return await core.attach(CHANNEL, openid, location=place, label=message.get("Label") or None)
        if kind == "image":
            return await self._photo(core, openid, message.get("MediaId"))
        if kind == "event":
            return await self._event(core, openid, message.get("Event").lower(), message.get("EventKey"))
        return await core.note(CHANNEL, openid, f"[{kind}]", UNSUPPORTED)

    async def _event(self, core: ConversationCore, openid: str, event: str, key: str) -> list[Reply]:
        if event == "subscribe":
            return await core.receive(Inbound(channel=CHANNEL, identity=openid, text="你好"))
        if event == "click" and key in MENU:
            return await core.receive(Inbound(channel=CHANNEL, identity=openid, text=MENU[key]))
        return []  # unsubscribe, menu links, the periodic location report: nothing to answer

    async def _photo(self, core: ConversationCore, openid: str, media_id: str) -> list[Reply]:
        """Keep the photo (downloaded through the media API) for the case being reported."""
        try:
            content = await self.api.media(media_id)
        except (WeChatError, OSError, ValueError) as error:
            log.warning("a WeChat photo could not be downloaded: %s", error)
            return await core.note(CHANNEL, openid, "[图片]", PHOTO_FAILED)
        name = f"{uuid.uuid4().hex}.jpg"
        await asyncio.to_thread((self.uploads / name).write_bytes, content)
        return await core.attach(CHANNEL, openid, photo=f"upload:{name}")

    async def _release_held(self, core: ConversationCore, openid: str) -> None:
        """The citizen wrote: messages held for the 48-hour window can go now."""
        await core.transcript.release_held(CHANNEL, openid)

    async def close(self) -> None:
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        await self.api.close()


def _log_failure(task: asyncio.Task[list[Reply]]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a WeChat callback failed", exc_info=task.exception())
