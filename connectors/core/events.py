"""Who hears what happens in conversations (the operators' console): listeners and their events."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from connectors.core.models import Conversation, Message

log = logging.getLogger(__name__)

EventListener = Callable[[str, Conversation, dict[str, Any]], Awaitable[None]]


class Listeners:
    """Listeners told of each stored message, hand-off and change of handling; one failing listener
    never stops a turn or the others."""

    def __init__(self) -> None:
        self.listeners: list[EventListener] = []

    async def notify(self, kind: str, conversation: Conversation, event: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            try:
                await listener(kind, conversation, event)
            except Exception:
                log.exception("conversation listener failed on %s", kind)


def message_event(message: Message) -> dict[str, Any]:
    """A stored message as listeners get it."""
    created: datetime = message.created_at
    return {
        "id": message.id,
        "direction": message.direction,
        "author": message.author,
        "text": message.text,
        "buttons": (message.payload or {}).get("buttons", []),
        "created_at": created.isoformat(),
    }
