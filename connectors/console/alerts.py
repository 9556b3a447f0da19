"""Overdue alerts, live: read the backend's alert feed and tell the consoles concerned (the alert's
unit and the supervisors). The cursor is kept in the gateway's database, so a restart tells no
console twice; a console that opens later reads the current alerts from the backend."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.console.hub import ConsoleHub
from connectors.core.models import FeedCursor

log = logging.getLogger(__name__)
CURSOR = "alerts"


class AlertFeed:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        hub: ConsoleHub,
        backend: httpx.AsyncClient,
        token: str,
    ) -> None:
        self.sessions = sessions
        self.hub = hub
        self.backend = backend
        self.headers = {"Authorization": f"Bearer {token}"}

    async def run(self, interval_s: float) -> None:
        while True:
            try:
                await self.poll_once()
            except httpx.HTTPError as error:
                log.warning("alert feed unavailable: %s", type(error).__name__)
            except Exception:
                log.exception("alert feed round failed")
            await asyncio.sleep(interval_s)

    async def poll_once(self) -> int:
        """Tell the consoles of the alerts after the cursor; return how many were read."""
        async with self.sessions() as session:
            cursor = await session.get(FeedCursor, CURSOR)
            position = cursor.position if cursor else 0
        answer = await self.backend.get(
            "/api/v1/supervision/alerts/feed", params={"after": position, "limit": 100}, headers=self.headers
        )
        answer.raise_for_status()
        alerts: list[dict[str, Any]] = answer.json()
        for alert in alerts:
            await self.hub.alert(alert)
        if alerts:
            async with self.sessions() as session:
                cursor = await session.get(FeedCursor, CURSOR)
                if cursor is None:
                    cursor = FeedCursor(name=CURSOR, position=0)
                    session.add(cursor)
                cursor.position = max(cursor.position, alerts[-1]["id"])
                await session.commit()
        return len(alerts)
