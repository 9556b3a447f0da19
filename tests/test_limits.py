"""The in-memory rate limiter of the public endpoints cannot be grown without bound."""

from __future__ import annotations

import time

from common.limits import RateLimiter


def test_a_flood_of_new_keys_cannot_grow_the_limiter() -> None:
    limiter = RateLimiter(limit=2, window_s=60, max_keys=100)
    assert all(limiter.allow(f"203.0.113.{n}") for n in range(100))
    assert not limiter.allow("198.51.100.1")  # full of active keys: a new one is refused
    assert limiter.allow("203.0.113.5") and not limiter.allow("203.0.113.5")  # known keys as before
    assert len(limiter._events) == 100


def test_idle_keys_make_room() -> None:
    limiter = RateLimiter(limit=1, window_s=0.01, max_keys=10)
    assert all(limiter.allow(f"k{n}") for n in range(10))
    time.sleep(0.05)
    assert limiter.allow("new") and len(limiter._events) == 1
