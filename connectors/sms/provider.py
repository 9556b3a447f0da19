"""What the SMS channel needs of a provider: template-based sending (as Chinese providers require),
asking whether a message went out, and the errors that tell the outbox what to do."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class SmsRefused(Exception):
    """The provider will not send this message (a bad number, a template problem): do not retry."""


class SmsUnavailable(Exception):
    """Try again later: throttled, the provider down, or no answer (the message may have gone out)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class SmsProvider(Protocol):
    async def send(self, *, phone: str, template: str, params: dict[str, str], out_id: str) -> str:
        """Send one templated SMS; return the provider's id for it."""
        ...

    async def sent_before(self, *, phone: str, out_id: str, since: datetime) -> str | None:
        """The provider's id of a message with this out_id sent to this phone since then, if any."""
        ...

    async def close(self) -> None: ...
