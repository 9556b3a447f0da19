"""Case numbers shown to citizens: the acceptance date in Beijing and a daily sequence (13 digits)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.cases.models import CaseCounter

BEIJING = ZoneInfo("Asia/Shanghai")
NUMBER = re.compile(r"^\d{13}$")


def next_number(session: Session, now: datetime) -> str:
    """Take the next number of the day atomically (UPDATE ... RETURNING, or insert the day)."""
    day = now.astimezone(BEIJING).date()
    for _ in range(3):
        taken = session.scalar(
            update(CaseCounter)
            .where(CaseCounter.day == day)
            .values(last=CaseCounter.last + 1)
            .returning(CaseCounter.last)
        )
        if taken is None:
            try:
                with session.begin_nested():
                    session.execute(insert(CaseCounter).values(day=day, last=1))
                taken = 1
            except IntegrityError:
                continue  # another request created the day first: take a number from it
        return f"{day:%Y%m%d}{taken:05d}"
    raise RuntimeError("could not take a case number")


def normalise_number(raw: str) -> str | None:
    """Accept a case number written with spaces or dashes; None when it cannot be one."""
    digits = re.sub(r"[\s\-－—_]", "", raw.strip())
    return digits if NUMBER.match(digits) else None
