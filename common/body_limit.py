"""Bound every request body, whether it says its length (Content-Length) or not (chunked)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Refusal = Callable[[Scope, str], Response]


def json_refusal(_scope: Scope, message: str) -> Response:
    return JSONResponse({"detail": message}, 413)


class BodyLimit:
    """ASGI middleware: a body over its limit is answered 413 before the application sees any of it.

    A declared length over the limit is refused at once. Any other body is read here up to the limit
    and then handed on whole: a chunked body has no length to check in advance, and checking while the
    application reads would leave the refusal to whatever the application does with an error (FastAPI
    turns one into 400). `paths` gives routes their own limit (the longest matching prefix wins).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        paths: Mapping[str, int] | None = None,
        refuse: Refusal = json_refusal,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.paths = sorted((paths or {}).items(), key=lambda item: len(item[0]), reverse=True)
        self.refuse = refuse

    def limit(self, path: str) -> int:
        return next((limit for prefix, limit in self.paths if path.startswith(prefix)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope["path"])
        too_large = f"request body too large: at most {limit} bytes"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self.refuse(scope, too_large)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its whole body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self.refuse(scope, too_large)(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that gives the body already read, then whatever the client sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
