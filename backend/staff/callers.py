"""Who is calling: the bearer token, the caller it authenticates, and the checks of the caller's role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from backend.deps import DB
from backend.errors import Forbidden, Unauthorized
from backend.staff.principal import Principal
from backend.staff.roles import Role
from backend.staff.service import authenticate


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
