"""The gateway's tables: conversations and their whole transcript, the outbox, seen updates.

A conversation's `handling` says who talks to the citizen (bot, waiting for an operator, operator);
it is separate from any case's lifecycle status, which lives in the backend.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store timestamps as UTC and always hand back timezone-aware values (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Handling(enum.StrEnum):
    """Who is talking to the citizen right now."""

    BOT = "bot"
    WAITING = "waiting"  # handed off, waiting in the operators' queue
    OPERATOR = "operator"


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


class Author(enum.StrEnum):
    CITIZEN = "citizen"
    BOT = "bot"
    OPERATOR = "operator"
    SYSTEM = "system"


class MessageState(enum.StrEnum):
    RECEIVED = "received"  # stored, not yet answered
    PROCESSED = "processed"  # answered by the bot or seen by an operator
    PENDING = "pending"  # the bot was unavailable; processed again when it is back
    REJECTED = "rejected"  # refused before processing (over a limit); the citizen was told why


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    identity: Mapped[str] = mapped_column(String(128))
    sender_id: Mapped[str] = mapped_column(String(160), unique=True)
    handling: Mapped[str] = mapped_column(String(12), default=Handling.BOT)
    handoff_reason: Mapped[str | None] = mapped_column(String(40))
    waiting_since: Mapped[datetime | None]
    operator: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)

    messages: Mapped[list[Message]] = relationship(back_populates="conversation", order_by="Message.id")


class Message(Base):
    """One line of the transcript, stored before anything else happens with it."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_id_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))
    author: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(10), default=MessageState.PROCESSED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
