"""Per-client rate limits for the public endpoints; our own services (the service token) are exempt."""

from __future__ import annotations

import hmac

from fastapi import Request

from backend.errors import TooManyAttempts
from common.limits import RateLimiter


def limit_public(request: Request, limiter: RateLimiter | None = None) -> None:
    """Count this request against its client's rate (the routing limiter unless another is given),
    unless it carries the service token."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    service = request.app.state.settings.backend_service_token.get_secret_value()
    if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), service.encode()):
        return
    client = request.client.host if request.client else "unknown"
    if not (limiter or request.app.state.routing_limiter).allow(client):
        raise TooManyAttempts("too many requests: please slow down")
