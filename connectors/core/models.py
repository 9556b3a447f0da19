"""The gateway's tables: conversations and their whole transcript, the outbox, seen updates.

A conversation's `handling` says who talks to the citizen (bot, waiting for an operator, operator);
it is separate from any case's lifecycle status, which lives in the backend.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from common.database import UTCDateTime, utcnow


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
