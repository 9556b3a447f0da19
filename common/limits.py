"""Per-key rate limiting (a sender, a chat, a client address) for the public endpoints."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable


class RateLimiter:
    """Allow at most `limit` events per `window_s` seconds per key (a sliding window in memory).

    Keys idle for a whole window are forgotten once a window, so the table holds only the keys of
    the last two windows: web chat senders come and go, and a table that kept every sender ever
    seen was the gateway's leak in the soak drill (+0.3 MB a minute, 1-2 KB a conversation). At most
    `max_keys` keys are tracked: when that many are active, a new key is refused rather than letting
    a flood of distinct keys grow the table (idle keys are then swept at most once a second)."""

    def __init__(
        self,
        *,
        limit: int,
        window_s: float = 60.0,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._clock = clock
        self._events: defaultdict[str, deque[float]] = defaultdict(deque)
        self._swept_at = clock()

    def tracked(self) -> int:
        """How many keys the table holds (not __len__: an empty limiter must stay truthy, callers
        write `limiter or default`)."""
        return len(self._events)

    def allow(self, key: str) -> bool:
        now = self._clock()
        if now - self._swept_at >= self.window_s:
            self._forget_idle(now)
        if key not in self._events and len(self._events) >= self.max_keys:
            if now - self._swept_at >= 1.0:
                self._forget_idle(now)
            if len(self._events) >= self.max_keys:
                return False
        events = self._events[key]
        while events and now - events[0] > self.window_s:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        return True

    def _forget_idle(self, now: float) -> None:
        self._swept_at = now
        for key in [k for k, v in self._events.items() if not v or now - v[-1] > self.window_s]:
            del self._events[key]
