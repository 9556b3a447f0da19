"""The WeChat API calls the channel makes: access token, customer-service and template messages, media.

The access token (stable_token, normal mode: every caller gets the same token, so several gateway
processes do not invalidate each other's) is cached and refreshed before it expires, one refresh at a
time however many sends wait for it. A send answered "invalid or expired token" (40001, 40014, 42001)
drops that token and is tried once more with a fresh one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

log = logging.getLogger(__name__)
STALE_TOKEN = frozenset({40001, 40014, 42001})
OUTSIDE_WINDOW = 45015  # the citizen's last message is more than 48 hours old
RATE_LIMITED = {45009: 600.0, 45047: 60.0}  # daily quota reached; too many messages without an answer
GONE = frozenset({43004, 40003})  # the citizen unfollowed the account; not a follower's openid
REFRESH_MARGIN_S = 300.0  # stable_token hands out the next token in the last five minutes


class WeChatError(Exception):
    """The API answered an error code (errcode)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"WeChat error {code}: {message}")
        self.code = code


class AccessToken:
    """The cached access token: fetched once, shared by concurrent sends, refreshed before expiry."""

    def __init__(self, fetch: Callable[[], Awaitable[tuple[str, float]]]) -> None:
        self._fetch = fetch
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()
        self.fetched = 0

    async def get(self) -> str:
        if self._token is not None and time.monotonic() < self._renew_at:
            return self._token
        async with self._lock:  # one refresh at a time; the others wait and take its token
            if self._token is None or time.monotonic() >= self._renew_at:
                token, lifetime = await self._fetch()
                self.fetched += 1
                self._token = token
                self._renew_at = time.monotonic() + max(lifetime - REFRESH_MARGIN_S, lifetime / 2)
            return self._token

    def drop(self, token: str) -> None:
        """Forget a token WeChat refused (unless another send has already replaced it)."""
        if self._token == token:
            self._token = None


class WeChatApi:
    def __init__(self, *, base_url: str, app_id: str, app_secret: str, timeout_s: float = 5.0) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self._app_id, self._app_secret = app_id, app_secret
        self.token = AccessToken(self._stable_token)

    async def close(self) -> None:
        await self._http.aclose()

    async def send_text(self, openid: str, text: str) -> str:
        """A customer-service message (客服消息); the citizen must have written within 48 hours."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        await self._call("/cgi-bin/message/custom/send", body)
        return "custom"

    async def send_template(
        self, openid: str, template_id: str, data: dict[str, str], *, client_msg_id: str
    ) -> str:
        """A template message (模板消息); WeChat sends one message per client_msg_id (its own guard
        against a repeated request within ten minutes)."""
        body = {
            "touser": openid,
            "template_id": template_id,
            "data": {key: {"value": value} for key, value in data.items()},
            "client_msg_id": client_msg_id,
        }
        answer = await self._call("/cgi-bin/message/template/send", body)
        return str(answer.get("msgid") or "template")

    async def create_menu(self, buttons: list[dict[str, str]]) -> None:
        """Set the account's menu (自定义菜单)."""
        await self._call("/cgi-bin/menu/create", {"button": buttons})

    async def media(self, media_id: str) -> bytes:
        """A file the citizen sent (a photo), by its media id."""
        for attempt in (1, 2):
            token = await self.token.get()
            response = await self._http.get(
                "/cgi-bin/media/get", params={"access_token": token, "media_id": media_id}
            )
            response.raise_for_status()
            if not response.headers.get("content-type", "").startswith(("application/json", "text/")):
                return response.content
            error = _error(response.json())
            if error is None:
                return response.content
            if error.code in STALE_TOKEN and attempt == 1:
                self.token.drop(token)
                continue
            raise error
        raise AssertionError("unreachable")

    async def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        for attempt in (1, 2):
            token = await self.token.get()
            response = await self._http.post(path, params={"access_token": token}, json=body)
            response.raise_for_status()
            answer: dict[str, Any] = response.json()
            error = _error(answer)
            if error is None:
                return answer
            if error.code in STALE_TOKEN and attempt == 1:
                log.info("WeChat refused the access token (%s); fetching a new one", error.code)
                self.token.drop(token)
                continue
            raise error
        raise AssertionError("unreachable")

    async def _stable_token(self) -> tuple[str, float]:
        response = await self._http.post(
            "/cgi-bin/stable_token",
            json={"grant_type": "client_credential", "appid": self._app_id, "secret": self._app_secret},
        )
        response.raise_for_status()
        answer = response.json()
        error = _error(answer)
        if error is not None:
            raise error
        return str(answer["access_token"]), float(answer.get("expires_in") or 7200)


def _error(answer: dict[str, Any]) -> WeChatError | None:
    code = int(answer.get("errcode") or 0)
    return WeChatError(code, str(answer.get("errmsg") or "")) if code else None
