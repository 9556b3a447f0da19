"""Browser-facing protections of the gateway's pages: security headers and same-origin checks.

The console's cookie is SameSite=Strict; beside it, every state-changing console request and the
console's WebSocket must come from a page of this gateway (`same_origin`), and every response
carries a Content Security Policy that allows only the gateway's own scripts, styles and
connections and no framing.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HOST = re.compile(r"^(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def content_security_policy(host: str | None) -> str:
    """Only this gateway's scripts, styles, images and connections (its WebSockets named, since older
    browsers do not count ws:// as 'self'); no inline code, plugins, base changes or framing."""
    sockets = f" ws://{host} wss://{host}" if host and HOST.match(host) else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"connect-src 'self'{sockets}; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


class SecurityHeaders:
    """Add the security headers to every HTTP response of the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = HTTPConnection(scope).headers.get("host")
        extra = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
        extra.append((b"content-security-policy", content_security_policy(host).encode()))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def same_origin(connection: HTTPConnection, public_url: str) -> bool:
    """Whether a request comes from a page of this gateway: its Origin (or, without one, its Referer)
    is the public URL's origin or the host the request was sent to. A request naming neither is
    refused too: browsers send Origin with every POST and WebSocket, and only pages need the console."""
    source = connection.headers.get("origin") or connection.headers.get("referer")
    if not source or source == "null":
        return False
    sent = urlsplit(source)
    public = urlsplit(public_url)
    if (sent.scheme, sent.netloc) == (public.scheme, public.netloc):
        return True
    return bool(sent.netloc) and sent.netloc == connection.headers.get("host")
