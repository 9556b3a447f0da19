"""Request dependencies: one database session per request (committed before the response), the caller."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from backend.cases.states import Role
from backend.db import session_scope
from backend.errors import Forbidden, Unauthorized
from backend.staff.principal import Principal
from backend.staff.service import authenticate


def db_session(request: Request) -> Iterator[Session]:
    yield from session_scope(request.app.state.sessions)


DB = Annotated[Session, Depends(db_session, scope="function")]
CLIENT_ADDRESS_HEADER = "X-Jiesu-Client-Address"


def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("log in first: send Authorization: Bearer <token>")
    return token.strip()


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


def current_principal(
    request: Request, session: DB, token: Annotated[str, Depends(bearer_token)]
) -> Principal:
    service_token = request.app.state.settings.backend_service_token.get_secret_value()
    return authenticate(session=session, token=token, service_token=service_token)


Caller = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only these roles (and admins) through."""
    allowed = frozenset(roles) | {Role.ADMIN}

    def check(principal: Caller) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"this needs one of the roles: {', '.join(sorted(allowed))}")
        return principal

    return check
