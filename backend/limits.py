"""Per-client rate limits for the public endpoints; our own services (the service token) are exempt.

A logged-in staff member is counted on their own, not by address: every operator reaches the backend
through the gateway, from one address, and must not use up each other's rate.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from backend.deps import DB, carries_service_token, client_address
from backend.errors import TooManyAttempts, Unauthorized
from backend.staff.service import authenticate
from common.limits import RateLimiter


def limit_public(request: Request, limiter: RateLimiter | None = None, caller: str | None = None) -> None:
    """Count this request against its caller's rate (the routing limiter unless another is given),
    unless it carries the service token; the caller is its client address unless named."""
    if carries_service_token(request):
        return
    key = caller or f"address:{client_address(request)}"
    if not (limiter or request.app.state.routing_limiter).allow(key):
        raise TooManyAttempts("too many requests: please slow down")


def limit_by_staff(request: Request, session: DB) -> None:
    """As `limit_public`, with a logged-in staff member counted as themselves."""
    limit_public(request, caller=_staff_key(request, session))


def _staff_key(request: Request, session: DB) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    service_token = request.app.state.settings.backend_service_token.get_secret_value()
    try:
        principal = authenticate(session=session, token=token.strip(), service_token=service_token)
    except Unauthorized:
        principal = None
    # End the lookup's transaction now: on SQLite it holds the write lock, and routing may take seconds.
    session.commit()
    return f"staff:{principal.staff_id}" if principal is not None else None


Limited = Annotated[None, Depends(limit_by_staff)]
