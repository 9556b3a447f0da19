"""A bot turn's parts: a stored message as the bot is given it, the bound on turns at once, and the
bot's answer split into replies and instructions to the gateway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from connectors.core.messages import Reply
from connectors.core.models import Conversation, Message
from connectors.core.notices import EMPTY_MESSAGE, STALE_BUTTON


class BotBusy(Exception):
    """Every turn the bot may take at once is taken, and none came free in time."""


@dataclass(frozen=True)
class Turn:
    """A stored citizen message as the bot is given it, read in a short transaction."""

    message_id: int
    text: str
    payload: dict[str, Any]

    @classmethod
    def of(cls, message: Message) -> Turn:
        return cls(message_id=message.id, text=message.text, payload=dict(message.payload or {}))

    @property
    def refusal(self) -> str | None:
        """The notice for a message the bot is not given (a stale button, nothing in it)."""
        if self.payload.get("stale_button"):
            return STALE_BUTTON
        return None if self.text else EMPTY_MESSAGE

    @property
    def remembers(self) -> bool:
        """A photo or a location pin: kept in the bot's tracker, not a message to answer."""
        return bool(self.payload.get("remember"))

    def for_bot(self, conversation: Conversation) -> tuple[str, dict[str, Any]]:
        payload = {k: v for k, v in self.payload.items() if k not in ("attempts", "remember")}
        text = payload.pop("rasa_text", self.text)
        return text, {"channel": conversation.channel, "identity": conversation.identity, **payload}


class BotSlots:
    """At most `max_in_flight` turns go to the bot at once; at most `max_waiting` more wait up to
    `queue_wait_s` for one of them; beyond that, BotBusy."""

    def __init__(self, *, max_in_flight: int, max_waiting: int, queue_wait_s: float) -> None:
        self._slots = asyncio.Semaphore(max_in_flight)
        self.max_waiting, self.queue_wait_s = max_waiting, queue_wait_s
        self._waiting = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """One of the turns the bot may take at once; BotBusy when none comes free in time."""
        if self._waiting >= self.max_waiting:
            raise BotBusy(f"{self._waiting} turns already wait for the bot")
        self._waiting += 1
        try:
            async with asyncio.timeout(self.queue_wait_s):
                await self._slots.acquire()
        except TimeoutError:
            raise BotBusy(f"no turn came free in {self.queue_wait_s:g} s") from None
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._slots.release()


def split_custom(raw: list[dict[str, Any]]) -> tuple[list[Reply], dict[str, Any] | None]:
    """Separate the bot's visible replies from its instructions to the gateway (hand-off)."""
    replies: list[Reply] = []
    handoff: dict[str, Any] | None = None
    for message in raw:
        custom = message.get("custom")
        if isinstance(custom, dict) and "handoff" in custom:
            handoff = dict(custom["handoff"] or {})
            continue
        if message.get("text") or message.get("buttons") or message.get("image"):
            replies.append(Reply.from_rasa(message))
    return replies, handoff
