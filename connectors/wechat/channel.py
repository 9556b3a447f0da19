"""Sending to WeChat: a passive reply while the callback still waits, else a customer-service message
within 48 hours of the citizen's last message, else a template message for case updates; anything
else waits (held) until the citizen writes again."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from connectors.core.models import Conversation, Message, utcnow
from connectors.core.outbox import Held, PermanentFailure, TransientFailure
from connectors.wechat.api import GONE, OUTSIDE_WINDOW, RATE_LIMITED, WeChatApi, WeChatError

CHANNEL = "wechat"
WINDOW = timedelta(hours=48) - timedelta(minutes=5)  # a margin for clocks and queues
BEIJING = timezone(timedelta(hours=8))
CHOOSE = "（回复数字即可）"
STATUS_WORDS = {  # at most five characters: a template's `phrase` field
    "accept": "已受理",
    "dispatch": "已派单",
    "resolve": "已办结",
    "resolve_on_spot": "已办结",
    "reopen": "重新办理",
    "note": "有新答复",
    "rating": "待评价",
}


def as_text(message: Message) -> str:
    """The message as WeChat text: buttons become numbered choices the citizen answers with a digit."""
    buttons = (message.payload or {}).get("buttons") or []
    image = (message.payload or {}).get("image")
    lines = [message.text] if message.text else []
    if image:
        lines.append(str(image))
    lines += [f"{i}. {b.get('title', '')}" for i, b in enumerate(buttons, start=1)]
    if buttons:
        lines.append(CHOOSE)
    return "\n".join(lines) or "…"


def template_data(fields: list[str], case: dict[str, Any], message: Message) -> dict[str, str]:
    """A case template's values: case number, status (≤ 5 characters), time limit, a note (≤ 20)."""
    kind = str(case.get("kind") or "")
    buttons = (message.payload or {}).get("buttons") or []
    if buttons:
        note = "回复" + "，".join(f"{i}{b.get('title', '')}" for i, b in enumerate(buttons, start=1))
    else:
        note = str(case.get("note") or case.get("status_text") or "")
    number, status = str(case.get("number") or ""), STATUS_WORDS.get(kind, "有进展")
    values = [number, status, _beijing(case.get("due_at")), note]
    return {key: _cut(value, 20) for key, value in zip(fields, values, strict=False)}


@dataclass
class Waiter:
    """A callback request waiting to carry the replies to its message back in its own response."""

    texts: list[str] = field(default_factory=list)
    ids: set[int] = field(default_factory=set)
    open: bool = True
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


class PassiveReplies:
    """Callbacks still within WeChat's five seconds, by citizen: the outbox hands them its messages."""

    def __init__(self) -> None:
        self._waiting: dict[str, list[Waiter]] = {}

    def open(self, openid: str) -> Waiter:
        waiter = Waiter()
        self._waiting.setdefault(openid, []).append(waiter)
        return waiter

    def close(self, openid: str, waiter: Waiter) -> None:
        waiter.open = False
        waiting = self._waiting.get(openid, [])
        if waiter in waiting:
            waiting.remove(waiter)
        if not waiting:
            self._waiting.pop(openid, None)

    def offer(self, openid: str, message_id: int, text: str) -> bool:
        """Give a message to the oldest open callback of this citizen; False when none waits."""
        for waiter in self._waiting.get(openid, []):
            if waiter.open:
                waiter.texts.append(text)
                waiter.ids.add(message_id)
                waiter.arrived.set()
                return True
        return False


class WeChatAdapter:
    name = CHANNEL
    synchronous_replies = False

    def __init__(
        self, api: WeChatApi, passive: PassiveReplies, *, template_id: str | None, template_fields: list[str]
    ) -> None:
        self.api = api
        self.passive = passive
        self.template_id = template_id
        self.template_fields = template_fields

    async def transmit(self, conversation: Conversation, message: Message) -> str | None:
        text = as_text(message)
        if self.passive.offer(conversation.identity, message.id, text):
            return "passive"
        case = (message.payload or {}).get("case")
        if utcnow() - conversation.last_message_at < WINDOW or not (case and self.template_id):
            try:  # WeChat knows best when the citizen last wrote (another gateway may have their message)
                return await self._sending(self.api.send_text(conversation.identity, text))
            except _OutsideWindow:
                pass
        if case and self.template_id:
            data = template_data(self.template_fields, case, message)
            send = self.api.send_template(
                conversation.identity, self.template_id, data, client_msg_id=f"jiesu-{message.id}"
            )
            return await self._sending(send)
        raise Held("the citizen's last message is more than 48 hours old")

    async def _sending(self, send: Any) -> str:
        """Await a send; WeChat's answers become the outbox's failures."""
        try:
            return str(await send)
        except WeChatError as error:
            if error.code == OUTSIDE_WINDOW:
                raise _OutsideWindow from error
            if error.code in RATE_LIMITED:
                raise TransientFailure(str(error), retry_after=RATE_LIMITED[error.code]) from error
            if error.code in GONE:
                raise PermanentFailure(str(error)) from error
            if error.code < 0 or error.code in (40001, 40014, 42001):  # busy, or a token refused twice
                raise TransientFailure(str(error)) from error
            raise PermanentFailure(str(error)) from error
        except httpx.HTTPError as error:
            raise TransientFailure(f"WeChat unreachable: {type(error).__name__}") from error


class _OutsideWindow(Exception):
    """WeChat says the 48 hours are over (45015)."""


def _beijing(value: Any) -> str:
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
