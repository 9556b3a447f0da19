"""Login throttling (登录限制): wrong passwords counted per account and per client address.

An attempt is counted before its password is checked, in one INSERT … ON CONFLICT DO UPDATE, so
concurrent attempts are all counted and none slips under the limit between a read and a write. The
attempt that reaches the limit is still checked and locks the key; every later one in the lockout is
refused unchecked. A right password gives the attempt back: the account's count starts again, the
address's goes down by one (so a valid login between guesses does not clear an address's count).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, delete, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.staff.models import LoginThrottle
from common.database import UTCDateTime

WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
FORGET_AFTER = timedelta(days=1)
ROW = LoginThrottle.__table__.c


@dataclass(frozen=True)
class Rule:
    scope: str
    limit: int  # wrong passwords within WINDOW before a lockout of LOCKOUT
    reset_on_success: bool


ACCOUNT = Rule("account", limit=5, reset_on_success=True)
ADDRESS = Rule("address", limit=20, reset_on_success=False)


@dataclass(frozen=True)
class Attempt:
    rule: Rule
    subject: str
    count: int
    locked_until: datetime | None

    @property
    def refused(self) -> bool:
        """The key was locked before this attempt: refuse it without checking the password."""
        return self.count > self.rule.limit

    @property
    def locks(self) -> bool:
        """This attempt reached the limit: if its password is wrong, the lockout has begun."""
        return self.count == self.rule.limit


def take(*, session: Session, rule: Rule, subject: str, now: datetime) -> Attempt:
    """Count one attempt of this account or address and return the count after it."""
    key = _key(rule, subject)
    at = _at(now)
    locked = ROW.locked_until.is_not(None) & (ROW.locked_until > at)
    fresh = ~locked & (
        (ROW.window_start < _at(now - WINDOW)) | (ROW.locked_until.is_not(None) & (ROW.locked_until <= at))
    )
    count = case((fresh, 1), else_=ROW.attempts + 1)
    statement = (
        _insert(session)(LoginThrottle)
        .values(key=key, attempts=1, window_start=now, locked_until=None)  # limits are above 1
        .on_conflict_do_update(
            index_elements=[ROW.key],
            set_={
                "attempts": count,
                "window_start": case((fresh, at), else_=ROW.window_start),
                "locked_until": case(
                    (locked, ROW.locked_until), (count >= rule.limit, _at(now + LOCKOUT)), else_=None
                ),
            },
        )
        .returning(ROW.attempts, ROW.locked_until)
    )
    attempts, locked_until = session.execute(statement).one()
    return Attempt(rule, subject, attempts, locked_until)


def succeeded(*, session: Session, attempt: Attempt, now: datetime) -> None:
    """Give a right password's attempt back (and lift the lock it may have started)."""
    key = _key(attempt.rule, attempt.subject)
    if attempt.rule.reset_on_success:
        forget(session=session, rule=attempt.rule, subject=attempt.subject)
    else:
        session.execute(
            update(LoginThrottle)
            .where(ROW.key == key, ROW.attempts > 0)
            .values(
                attempts=ROW.attempts - 1,
                locked_until=case((ROW.attempts - 1 < attempt.rule.limit, None), else_=ROW.locked_until),
            )
        )
    session.execute(
        delete(LoginThrottle).where(
            ROW.window_start < _at(now - FORGET_AFTER),
            ROW.locked_until.is_(None) | (ROW.locked_until < _at(now)),
        )
    )


def forget(*, session: Session, rule: Rule, subject: str) -> None:
    """Start this key's count again (a right password, or an admin setting a new one)."""
    session.execute(delete(LoginThrottle).where(ROW.key == _key(rule, subject)))


def minutes_left(attempt: Attempt, now: datetime) -> int:
    if attempt.locked_until is None:
        return 0
    return max(1, -(-int((attempt.locked_until - now).total_seconds()) // 60))


def _key(rule: Rule, subject: str) -> str:
    return f"{rule.scope}:{subject}"[:120]


def _at(moment: datetime) -> ColumnElement[datetime]:
    """A timestamp bound as the columns store it (UTC), for comparisons inside the statement."""
    return literal(moment, UTCDateTime())


def _insert(session: Session) -> Any:
    """INSERT with ON CONFLICT for the session's database (both have it; SQLAlchemy spells it per dialect)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
