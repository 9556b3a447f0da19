"""A local fake of the Telegram Bot API: enough of it for python-telegram-bot to run for real.

Updates are queued by the test and served through getUpdates (long polling); everything the bot
sends is recorded. Failures can be injected per method: 429 with retry_after, or 5xx; and delays,
to hold the bot in the middle of an update (e.g. fetching a photo's file).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

TOKEN = "123456:TEST-fake-token"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "12345热线",
    "username": "jiesu_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
PHOTO_BYTES = b"\xff\xd8\xff\xe0fake-jpeg-bytes\xff\xd9"


@dataclass
class Failure:
    status: int
    retry_after: int | None = None


@dataclass
class FakeTelegram:
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    webhook: dict[str, Any] | None = None
    delays: dict[str, float] = field(default_factory=dict)  # method -> seconds before it answers
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what the test does -------------------------------------------------------------------
    def _update(self, **content: Any) -> dict[str, Any]:
        with self._lock:
            update = {"update_id": next(self._ids), **content}
            self.updates.append(update)
        return update

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "市民"},
            **content,
        }

    def say(self, chat_id: int, text: str) -> dict[str, Any]:
        entities = (
            [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
            if text.startswith("/")
            else []
        )
        extra = {"entities": entities} if entities else {}
        return self._update(message=self._message(chat_id, text=text, **extra))

    def click(self, chat_id: int, data: str) -> dict[str, Any]:
        message = self._message(123456, text="按钮")
        return self._update(
            callback_query={
                "id": str(next(self._ids)),
                "chat_instance": "1",
                "data": data,
                "from": {"id": chat_id, "is_bot": False, "first_name": "市民"},
                "message": {**message, "chat": {"id": chat_id, "type": "private"}},
            }
        )

    def share_location(self, chat_id: int, latitude: float, longitude: float) -> dict[str, Any]:
        return self._update(
            message=self._message(chat_id, location={"latitude": latitude, "longitude": longitude})
        )

    def send_photo(self, chat_id: int, caption: str | None = None) -> dict[str, Any]:
        sizes = [
            {"file_id": f"small-{chat_id}", "file_unique_id": "s", "width": 90, "height": 90},
            {"file_id": f"large-{chat_id}", "file_unique_id": "l", "width": 800, "height": 600},
        ]
        extra = {"caption": caption} if caption else {}
        return self._update(message=self._message(chat_id, photo=sizes, **extra))

    def edit(self, chat_id: int, message: dict[str, Any], text: str) -> dict[str, Any]:
        """The citizen edits a message they sent (`message` as `say` returned it, in its update)."""
        edited = {**message, "text": text, "edit_date": int(time.time())}
        return self._update(edited_message=edited)

    def send_voice(self, chat_id: int) -> dict[str, Any]:
        voice = {
            "file_id": f"voice-{chat_id}",
            "file_unique_id": "v",
            "duration": 4,
            "mime_type": "audio/ogg",
        }
        return self._update(message=self._message(chat_id, voice=voice))

    def send_document(self, chat_id: int, name: str, mime_type: str) -> dict[str, Any]:
        document = {
            "file_id": f"doc-{chat_id}",
            "file_unique_id": "d",
            "file_name": name,
            "mime_type": mime_type,
        }
        return self._update(message=self._message(chat_id, document=document))

    def send_sticker(self, chat_id: int) -> dict[str, Any]:
        sticker = {
            "file_id": f"sticker-{chat_id}",
            "file_unique_id": "t",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self._update(message=self._message(chat_id, sticker=sticker))

    def acknowledged(self, update_id: int) -> bool:
        """Whether the bot has told Telegram it has this update (a later getUpdates offset)."""
        return any(int(p.get("offset") or 0) > update_id for p in self.called("getUpdates"))

    def fail(self, method: str, status: int, times: int = 1, retry_after: int | None = None) -> None:
        self.failures.setdefault(method, []).extend(Failure(status, retry_after) for _ in range(times))

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent (successfully), optionally to one chat."""
        return [
            params
            for method, params in self.calls
            if method == "sendMessage"
            and "_failed" not in params
            and (chat_id is None or int(params["chat_id"]) == chat_id)
        ]

    def called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    # --- the API ---------------------------------------------------------------------------------
    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/bot{token}/{method}")
        async def call(token: str, method: str, request: Request) -> Response:
            if token != TOKEN:
                return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
            params = await _params(request)
            failure = self._next_failure(method)
            if failure is not None:
                self.calls.append((method, {**params, "_failed": failure.status}))
                body: dict[str, Any] = {"ok": False, "error_code": failure.status, "description": "injected"}
                if failure.retry_after is not None:
                    body["parameters"] = {"retry_after": failure.retry_after}
                return JSONResponse(body, failure.status)
            self.calls.append((method, params))
            if self.delays.get(method):
                await asyncio.sleep(self.delays[method])
            return JSONResponse({"ok": True, "result": await self._answer(method, params)})

        @api.get("/file/bot{token}/{path:path}")
        async def download(token: str, path: str) -> Response:
            return Response(PHOTO_BYTES, media_type="image/jpeg")

        return api

    def _next_failure(self, method: str) -> Failure | None:
        with self._lock:
            queue = self.failures.get(method) or []
            return queue.pop(0) if queue else None

    async def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getUpdates":
            return await self._updates(int(params.get("offset") or 0), float(params.get("timeout") or 0))
        if method == "sendMessage":
            return self._message(
                int(params["chat_id"]),
                text=params.get("text", ""),
                **{"from": {"id": 123456, "is_bot": True, "first_name": "12345热线"}},
            )
        if method == "getFile":
            return {
                "file_id": params["file_id"],
                "file_unique_id": "u",
                "file_size": len(PHOTO_BYTES),
                "file_path": f"photos/{params['file_id']}.jpg",
            }
        if method == "setWebhook":
            self.webhook = params
            return True
        if method == "getWebhookInfo":
            return {
                "url": (self.webhook or {}).get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
        return True  # deleteWebhook, answerCallbackQuery, editMessageReplyMarkup, close, logOut

    async def _updates(self, offset: int, wait_s: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + min(wait_s, 1.0)
        while True:
            with self._lock:
                if offset:
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = list(self.updates)
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.05)


async def _params(request: Request) -> dict[str, Any]:
    """python-telegram-bot posts JSON or form fields; nested values arrive as JSON strings."""
    if request.headers.get("content-type", "").startswith("application/json"):
        raw = await request.json()
    else:
        raw = dict((await request.form()).items())
    params = {}
    for key, value in (raw or {}).items():
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        params[key] = value
    return params
