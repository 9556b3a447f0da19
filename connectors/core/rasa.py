"""The gateway's client of the Rasa server: its REST channel and its HTTP API, both behind the token."""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """The Rasa server (or the action server behind it) could not answer: try again later."""


class RasaRefused(Exception):
    """The Rasa server refused the request (4xx) or answered something unreadable: trying again will
    not help."""


class RasaClient:
    def __init__(self, *, base_url: str, token: str, timeout_s: float) -> None:
        self._token = token
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s)

    async def close(self) -> None:
        await self._http.aclose()

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """Send one citizen message through the REST channel; return the bot's replies."""
        body = {"sender": sender_id, "message": text, "metadata": metadata}
        replies = await self._post("/webhooks/rest/webhook", body)
        if not isinstance(replies, list):
            raise RasaRefused(f"unexpected REST reply: {type(replies).__name__}")
        return replies

    async def trigger_intent(
        self, sender_id: str, intent: str, entities: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Start a conversation turn from outside (e.g. the rating after a case is resolved)."""
        body = {"name": intent, "entities": entities}
        answer = await self._post(f"/conversations/{sender_id}/trigger_intent", body)
        return list(answer.get("messages", []))

    async def execute(self, sender_id: str, action: str) -> list[dict[str, Any]]:
        """Run one action in a conversation (e.g. the active form, to ask its question again)."""
        answer = await self._post(f"/conversations/{sender_id}/execute", {"name": action})
        return list(answer.get("messages", []))

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Append events (pause, resume, slots) to a conversation's tracker."""
        await self._post(f"/conversations/{sender_id}/tracker/events", events)

    async def tracker(self, sender_id: str) -> dict[str, Any]:
        return await self._get(f"/conversations/{sender_id}/tracker")

    async def healthy(self) -> bool:
        try:
            response = await self._http.get("/status", params={"token": self._token}, timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def _post(self, path: str, body: Any) -> Any:
        try:
            response = await self._http.post(path, json=body, params={"token": self._token})
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"{type(error).__name__} on {path.split('/')[1]}") from error
        return self._json(response, path)

    async def _get(self, path: str) -> Any:
        try:
            response = await self._http.get(path, params={"token": self._token})
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"{type(error).__name__} on {path.split('/')[1]}") from error
        return self._json(response, path)

    @staticmethod
    def _json(response: httpx.Response, path: str) -> Any:
        where = path.split("/")[1]
        if response.status_code >= 500:
            raise RasaUnavailable(f"HTTP {response.status_code} on {where}")
        if response.status_code >= 400:
            raise RasaRefused(f"HTTP {response.status_code} on {where}")
        try:
            return response.json()
        except ValueError as error:
            raise RasaRefused(f"unreadable answer on {where}") from error
