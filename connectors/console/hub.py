"""Live events for the console over WebSocket; an operator who disconnects gives conversations back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import WebSocket

from connectors.console.auth import Operator
from connectors.console.takeover import Takeover
from connectors.core.models import Conversation

log = logging.getLogger(__name__)
ALERTED_ROLES = frozenset({"supervisor", "admin"})


class ConsoleHub:
    def __init__(self, takeover: Takeover, grace_s: float) -> None:
        self.takeover = takeover
        self.grace_s = grace_s
        self.sockets: dict[WebSocket, Operator] = {}
        self._leaving: dict[str, asyncio.Task[None]] = {}

    async def listener(self, kind: str, conversation: Conversation, event: dict[str, Any]) -> None:
        """A conversation event, sent to every console that handles conversations."""
        frame = {
            "type": kind,
            "conversation_id": conversation.id,
            "handling": conversation.handling,
            "operator": conversation.operator,
            "event": event,
        }
        for socket, operator in list(self.sockets.items()):
            if operator.handles_conversations:
                await self._send(socket, frame)

    async def alert(self, alert: dict[str, Any]) -> None:
        """An overdue alert (督办提醒), sent to the consoles of its unit and of the supervisors."""
        frame = {"type": "case_alert", "alert": alert}
        for socket, operator in list(self.sockets.items()):
            if operator.role in ALERTED_ROLES or (
                operator.unit_code and operator.unit_code == alert["unit_code"]
            ):
                await self._send(socket, frame)

    async def _send(self, socket: WebSocket, frame: dict[str, Any]) -> None:
        try:
            await socket.send_json(frame)
        except (RuntimeError, OSError):
            self.sockets.pop(socket, None)

    def online(self) -> dict[str, Operator]:
        """The staff members who handle conversations and have a console open here, by username."""
        return {o.username: o for o in self.sockets.values() if o.handles_conversations}

    def session_digests(self) -> set[str]:
        """The console logins that have a WebSocket open here."""
        return {operator.session_digest for operator in self.sockets.values()}

    async def close_sessions(self, digests: set[str]) -> None:
        """Close the WebSockets of logins that ended (4401: log in again); `disconnected` follows."""
        for socket, operator in list(self.sockets.items()):
            if operator.session_digest in digests:
                with contextlib.suppress(RuntimeError, OSError):
                    await socket.close(code=4401)

    def connected(self, socket: WebSocket, operator: Operator) -> None:
        self.sockets[socket] = operator
        leaving = self._leaving.pop(operator.username, None)
        if leaving is not None:
            leaving.cancel()

    def disconnected(self, socket: WebSocket) -> None:
        operator = self.sockets.pop(socket, None)
        if operator is None or not operator.handles_conversations:
            return
        if any(o.username == operator.username for o in self.sockets.values()):
            return
        self._leaving[operator.username] = asyncio.create_task(self._give_back(operator.username))

    async def _give_back(self, username: str) -> None:
        await asyncio.sleep(self.grace_s)
        self._leaving.pop(username, None)
        returned = await self.takeover.requeue(username)
        if returned:
            log.info("operator %s left; %d conversations back in the queue", username, len(returned))
