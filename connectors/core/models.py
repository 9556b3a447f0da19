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
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from common.database import UTCDateTime, utcnow
from common.leases import lease_table


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


class OutboxState(enum.StrEnum):
    PENDING = "pending"  # waiting for (another) delivery attempt
    SENDING = "sending"  # claimed by a worker until its lease ends
    SENT = "sent"
    FAILED = "failed"  # permanently refused by the channel (e.g. the citizen blocked the bot)
    HELD = "held"  # the channel cannot deliver it until the citizen writes again (WeChat's 48 hours)


class OutboxItem(Base):
    """One transcript message to deliver on its channel: at least once, retried with back-off.

    The transcript message is the unit of delivery (unique), so a message is never queued twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(8), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    message: Mapped[Message] = relationship()
    conversation: Mapped[Conversation] = relationship()


class UpdateState(enum.StrEnum):
    RECEIVED = "received"  # stored, handed to the bot's handlers, not yet through them
    DONE = "done"  # handled (the citizen's message is in the transcript)
    FAILED = "failed"  # its handlers failed every time it was tried; kept to look at


class SeenUpdate(Base):
    """A Telegram update, stored before Telegram is told it arrived (polling's next offset, the
    webhook's 200): a repeated update is ignored, and one the gateway did not get through (a crash,
    a failure) is handled again at the next start. The update itself is kept only until then."""

    __tablename__ = "seen_updates"

    update_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(10), default=UpdateState.DONE, server_default="done")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SenderRename(Base):
    """A conversation moved from an earlier version's id to its derived id (connectors.upgrade),
    kept until Rasa's tracker store and the backend's cases have moved too."""

    __tablename__ = "sender_renames"

    old_sender_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    new_sender_id: Mapped[str] = mapped_column(String(160))
    tracker_done: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SeenInbound(Base):
    """Callbacks already taken in from channels that send them again when unsure (WeChat's MsgId, an
    SMS provider's sequence id), as "<channel>:<key>": a repeated one is ignored."""

    __tablename__ = "seen_inbound"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedCursor(Base):
    """How far the gateway has read the backend's case event feed, and which ratings it started."""

    __tablename__ = "feed_cursor"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class PendingRating(Base):
    """A resolved case whose rating conversation has not been started yet (e.g. an operator is talking)."""

    __tablename__ = "pending_ratings"

    event_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    case_number: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsRating(Base):
    """A rating question (回访) sent by SMS for a resolved case, and the citizen's answer (1, 2 or 3)
    until the backend has it: asked → answered → submitted (or refused by the backend)."""

    __tablename__ = "sms_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, unique=True)  # the resolution that asked it
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    case_number: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(10), default="asked")
    satisfaction: Mapped[str | None] = mapped_column(String(20))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]


class SmsAttempt(Base):
    """An SMS handed to the provider at least once: before trying it again the gateway asks the
    provider whether it went out (the provider's send is not idempotent)."""

    __tablename__ = "sms_attempts"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsoleSession(Base):
    """A staff login to the console. The cookie holds the staff member's backend token itself; the
    gateway keeps only its SHA-256 (the digest the backend keeps too), so this table opens nothing and
    the backend can say which logins still hold (`connectors.console.auth.end_revoked`)."""

    __tablename__ = "console_logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(String(40))
    unit_name: Mapped[str | None] = mapped_column(String(80))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationSeen(Base):
    """How far a staff member has read a conversation in the console: the newest message on screen
    when they last opened it. Citizens' messages after it are their unread ones."""

    __tablename__ = "conversation_seen"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    message_id: Mapped[int] = mapped_column(Integer, default=0)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


LEASES = lease_table(Base.metadata)  # the scheduled jobs' leases (connectors/clock.py)
