"""Several Rasa servers behind the gateway: each conversation sticks to one server (rendezvous
hashing of its sender id), and moves to the next one in its order when that server is down.

The open-source Redis lock store does not make two servers safe on one conversation, so the gateway
never lets that happen: one gateway sends a conversation's turns one at a time (its per-conversation
lock) to the first server of that conversation's order that is up. The tracker store is shared
(PostgreSQL), so the next server continues the conversation with its state.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from typing import Any

from connectors.core.rasa import RasaClient, RasaUnavailable

log = logging.getLogger(__name__)


class RasaPool:
    def __init__(self, *, urls: list[str], token: str, timeout_s: float, down_for_s: float = 15.0) -> None:
        self.urls = [u.rstrip("/") for u in urls]
        self.clients = [RasaClient(base_url=u, token=token, timeout_s=timeout_s) for u in self.urls]
        self.down_for_s = down_for_s
        self._down_until = [0.0] * len(self.clients)
        self.handled: Counter[str] = Counter()

    def order(self, sender_id: str) -> list[int]:
        """The servers for this conversation, most preferred first (rendezvous hashing)."""

        def weight(index: int) -> bytes:
            return hashlib.sha256(f"{self.urls[index]}|{sender_id}".encode()).digest()

        return sorted(range(len(self.clients)), key=weight, reverse=True)

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        return await self._call(sender_id, "send", sender_id, text, metadata)

    async def trigger_intent(
        self, sender_id: str, intent: str, entities: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return await self._call(sender_id, "trigger_intent", sender_id, intent, entities)

    async def execute(self, sender_id: str, action: str) -> list[dict[str, Any]]:
        return await self._call(sender_id, "execute", sender_id, action)

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        await self._call(sender_id, "append_events", sender_id, events)

    async def tracker(self, sender_id: str) -> dict[str, Any]:
        return await self._call(sender_id, "tracker", sender_id)

    async def healthy(self) -> bool:
        return any([await client.healthy() for client in self.clients])

    async def status(self) -> dict[str, dict[str, Any]]:
        return {
            url: {"up": await client.healthy(), "handled": self.handled[url]}
            for url, client in zip(self.urls, self.clients, strict=True)
        }

    async def close(self) -> None:
        for client in self.clients:
            await client.close()

    async def _call(self, sender_id: str, method: str, *args: Any) -> Any:
        now = time.monotonic()
        preferred = self.order(sender_id)
        up = [i for i in preferred if self._down_until[i] <= now]
        last: RasaUnavailable | None = None
        for index in up or preferred:
            try:
                result = await getattr(self.clients[index], method)(*args)
            except RasaUnavailable as error:
                log.warning("Rasa server %s unavailable (%s); trying the next", self.urls[index], error)
                self._down_until[index] = time.monotonic() + self.down_for_s
                last = error
                continue
            self._down_until[index] = 0.0
            self.handled[self.urls[index]] += 1
            return result
        raise last or RasaUnavailable("no Rasa server configured")
