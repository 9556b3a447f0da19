"""Request dependencies: one database session per request (committed before the response), the
caller's network address. Who the caller is: `backend.staff.callers`."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from backend.db import session_scope


def db_session(request: Request) -> Iterator[Session]:
    yield from session_scope(request.app.state.sessions)


DB = Annotated[Session, Depends(db_session, scope="function")]
CLIENT_ADDRESS_HEADER = "X-Jiesu-Client-Address"


def carries_service_token(request: Request) -> bool:
    """Whether the request is from one of our own services (the assistant or the gateway)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    service = request.app.state.settings.backend_service_token.get_secret_value()
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), service.encode())


def client_address(request: Request) -> str:
    """The caller's network address; the gateway, proving itself with the service token, names the
    address of the client it serves (CLIENT_ADDRESS_HEADER), so its own address is never what counts."""
    forwarded = request.headers.get(CLIENT_ADDRESS_HEADER, "").strip()
    if forwarded and carries_service_token(request):
        return forwarded[:64]
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]
