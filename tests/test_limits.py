"""The in-memory rate limiter of the public endpoints cannot be grown without bound, and forgets the
keys that have gone quiet."""

from __future__ import annotations

import time

from common.limits import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_flood_of_new_keys_cannot_grow_the_limiter() -> None:
    limiter = RateLimiter(limit=2, window_s=60, max_keys=100)
    assert all(limiter.allow(f"203.0.113.{n}") for n in range(100))
    assert not limiter.allow("198.51.100.1")  # full of active keys: a new one is refused
    assert limiter.allow("203.0.113.5") and not limiter.allow("203.0.113.5")  # known keys as before
    assert limiter.tracked() == 100


def test_idle_keys_make_room() -> None:
    limiter = RateLimiter(limit=1, window_s=0.01, max_keys=10)
    assert all(limiter.allow(f"k{n}") for n in range(10))
    time.sleep(0.05)
    assert limiter.allow("new") and limiter.tracked() == 1


def test_senders_that_come_and_go_leave_only_the_last_windows_keys() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=10, window_s=60, clock=clock)
    for n in range(20_000):  # a new conversation every tenth of a second, seven messages each
        clock.now = n * 0.1
        assert all(limiter.allow(f"sender-{n}") for _ in range(7))
    assert limiter.tracked() <= 2 * 600 + 1  # the senders of the last two minutes, not all 20,000


def test_a_quiet_table_empties() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=3, window_s=60, clock=clock)
    for n in range(1_000):
        limiter.allow(f"sender-{n}")
    clock.now = 121.0
    assert limiter.allow("late")
    assert limiter.tracked() == 1


def test_forgetting_does_not_loosen_the_limit() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=3, window_s=60, clock=clock)
    assert [limiter.allow("busy") for _ in range(4)] == [True, True, True, False]
    clock.now = 59.0  # a sweep may run (another key's call); the busy key's events are in the window
    limiter._forget_idle(clock.now)
    assert not limiter.allow("busy")
    clock.now = 60.5
    assert limiter.allow("busy")
