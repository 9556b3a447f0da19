"""Request dependencies: one database session per request (committed before the response), the caller."""

from __future__ import annotations

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


def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("log in first: send Authorization: Bearer <token>")
    return token.strip()


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
