"""Staff-only parts of a conversation: private notes, and how far each operator has read it.

A note is a transcript message marked internal: the web chat's history leaves internal messages out,
and a note is never queued in the outbox, so no channel ever carries it to the citizen.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.console.auth import Operator
from connectors.console.takeover import TakeoverError
from connectors.core.conversation import ConversationCore
from connectors.core.models import (
    Author,
    Conversation,
    ConversationSeen,
    Direction,
    Message,
    MessageState,
    utcnow,
)


async def add_note(
    *,
    core: ConversationCore,
    sessions: async_sessionmaker[AsyncSession],
    conversation_id: int,
    operator: Operator,
    text: str,
) -> Message:
    """Keep a note on the conversation for staff alone, and show it on every console."""
    async with sessions() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            raise TakeoverError(404, "没有这个会话")
        note = Message(
            conversation_id=conversation.id,
            direction=Direction.OUT,
            author=Author.OPERATOR,
            text=text,
            payload={
                "internal": True,
                "note": True,
                "by": operator.username,
                "by_name": operator.display_name,
            },
            state=MessageState.PROCESSED,
        )
        session.add(note)
        await session.commit()
    await core.announce("note", conversation, {"id": note.id, "by": operator.username})
    return note


async def mark_seen(session: AsyncSession, username: str, conversation_id: int, message_id: int) -> None:
    """Remember that this staff member has read the conversation up to `message_id`."""
    seen = await session.get(ConversationSeen, (username, conversation_id))
    if seen is None:
        session.add(
            ConversationSeen(username=username, conversation_id=conversation_id, message_id=message_id)
        )
    else:
        seen.message_id = max(seen.message_id, message_id)
        seen.seen_at = utcnow()
    try:
        await session.commit()
    except IntegrityError:  # the same staff member opened it twice at once: the other one counts
        await session.rollback()


async def unread_counts(session: AsyncSession, username: str, conversation_ids: list[int]) -> dict[int, int]:
    """Citizens' messages each conversation got after this staff member last opened it."""
    if not conversation_ids:
        return {}
    seen = (
        select(ConversationSeen.conversation_id, ConversationSeen.message_id)
        .where(ConversationSeen.username == username)
        .subquery()
    )
    rows = await session.execute(
        select(Message.conversation_id, func.count())
        .outerjoin(seen, seen.c.conversation_id == Message.conversation_id)
        .where(
            Message.conversation_id.in_(conversation_ids),
            Message.direction == Direction.IN,
            Message.author == Author.CITIZEN,
            Message.id > func.coalesce(seen.c.message_id, 0),
        )
        .group_by(Message.conversation_id)
    )
    return {conversation_id: int(count) for conversation_id, count in rows.all()}


def transcript_line(message: Message) -> dict[str, Any]:
    """One message as the console shows it; a note says who wrote it."""
    payload = message.payload or {}
    return {
        "id": message.id,
        "direction": message.direction,
        "author": message.author,
        "text": message.text,
        "state": message.state,
        "attachments": payload.get("attachments", []),
        "location": payload.get("location"),
        "internal": bool(payload.get("internal")),
        "note": bool(payload.get("note")),
        "by_name": payload.get("by_name"),
        "created_at": message.created_at.isoformat(),
    }
