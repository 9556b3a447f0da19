"""Hand-offs: who handles a conversation (the bot, the operators' queue, an operator), the queue's
order, and what a citizen is told while waiting for a person."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.core.messages import Reply
from connectors.core.models import (
    Author,
    Conversation,
    Direction,
    Handling,
    Message,
    MessageState,
    utcnow,
)
from connectors.core.notices import HANDOFF_NOTICE, STILL_WAITING
from connectors.core.transcript import Transcript


class HandOffs:
    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript

    async def set_handling(
        self,
        conversation_id: int,
        handling: Handling,
        *,
        operator: str | None = None,
        reason: str | None = None,
    ) -> Conversation:
        async with self.transcript.sessions() as session:
            conversation = await session.get_one(Conversation, conversation_id)
            conversation.handling = handling
            conversation.operator = operator
            if handling == Handling.WAITING:
                conversation.waiting_since = utcnow()
                conversation.handoff_reason = reason
            elif handling == Handling.BOT:
                conversation.waiting_since = None
                conversation.handoff_reason = None
            await session.commit()
        await self.transcript.events.notify(
            "handling", conversation, {"handling": handling, "operator": operator}
        )
        return conversation

    async def queue_position(self, session: AsyncSession, conversation: Conversation) -> int:
        """How many conversations have been waiting longer than this one."""
        since = conversation.waiting_since or utcnow()
        ahead = await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.handling == Handling.WAITING, Conversation.waiting_since < since)
        )
        return int(ahead or 0)

    async def hand_off(
        self, session: AsyncSession, conversation: Conversation, handoff: dict[str, Any]
    ) -> list[Reply]:
        """Put the conversation in the operators' queue (in the caller's transaction); the citizen is
        told their place in it."""
        conversation.handling = Handling.WAITING
        conversation.waiting_since = utcnow()
        conversation.handoff_reason = str(handoff.get("reason") or "requested")[:40]
        session.add(
            Message(
                conversation_id=conversation.id,
                direction=Direction.OUT,
                author=Author.BOT,
                text="[转人工]",
                payload={"internal": True, "handoff": handoff},
                state=MessageState.PROCESSED,
            )
        )
        await session.flush()
        ahead = await self.queue_position(session, conversation)
        notice = Reply(text=HANDOFF_NOTICE.format(ahead=ahead))
        stored = await self.transcript.store_replies(session, conversation, [notice], Author.SYSTEM)
        await self.transcript.events.notify("handoff", conversation, {"reason": conversation.handoff_reason})
        return stored

    async def for_operators(
        self, session: AsyncSession, conversation: Conversation, unanswered: list[Message]
    ) -> list[Reply]:
        """An operator holds the conversation (or is awaited): the bot stays silent, and a citizen
        still waiting is told their place in the queue."""
        for message in unanswered:
            message.state = MessageState.PROCESSED
        replies: list[Reply] = []
        if conversation.handling == Handling.WAITING:
            ahead = await self.queue_position(session, conversation)
            waiting = Reply(text=STILL_WAITING.format(ahead=ahead))
            replies = await self.transcript.store_replies(session, conversation, [waiting], Author.SYSTEM)
        await self.transcript.send(session, conversation, replies, live=True)
        return replies
