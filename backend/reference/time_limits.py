"""Time limits (办理时限): the classes a category has, fixed on a case at acceptance."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta


class TimeLimit(enum.StrEnum):
    EMERGENCY = "emergency"  # danger to life or property: feedback within 2 hours
    UTILITY = "utility"  # water, power, gas, heating: 24 hours
    GENERAL = "general"  # 7 days
    COMPLEX = "complex"  # 15 days

    @property
    def hours(self) -> int:
        return HOURS[self]

    @property
    def response_window(self) -> timedelta:
        """How soon the unit must acknowledge (签收) for the response rate (响应率)."""
        return RESPONSE_WINDOWS[self]

    @property
    def label(self) -> str:
        return LABELS[self]


HOURS = {TimeLimit.EMERGENCY: 2, TimeLimit.UTILITY: 24, TimeLimit.GENERAL: 7 * 24, TimeLimit.COMPLEX: 15 * 24}
RESPONSE_WINDOWS = {
    TimeLimit.EMERGENCY: timedelta(minutes=30),
    TimeLimit.UTILITY: timedelta(hours=2),
    TimeLimit.GENERAL: timedelta(hours=24),
    TimeLimit.COMPLEX: timedelta(hours=24),
}
LABELS = {
    TimeLimit.EMERGENCY: "2小时内反馈",
    TimeLimit.UTILITY: "24小时内办理",
    TimeLimit.GENERAL: "7天内办结",
    TimeLimit.COMPLEX: "15天内办结",
}


def due_at(accepted_at: datetime, limit: TimeLimit) -> datetime:
    return accepted_at + timedelta(hours=limit.hours)
