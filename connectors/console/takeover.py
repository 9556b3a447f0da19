"""Taking over a conversation, talking to the citizen, and handing it back to the bot.

Two operators never hold one conversation: a claim is a single conditional UPDATE. The Rasa tracker
records the takeover (a `pause` event) and the hand-back (`resume`); while an operator holds the
conversation the gateway sends nothing to the bot, and the bot resumes with its slots intact.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.console.auth import Operator
from connectors.core.conversation import ConversationCore
from connectors.core.messages import Reply
from connectors.core.models import Author, Conversation, Direction, Handling, Message, MessageState, utcnow
from connectors.core.rasa import RasaRefused, RasaUnavailable

log = logging.getLogger(__name__)
JOINED = "人工客服{name}已接入，请问有什么可以帮您？"
HANDED_BACK = "人工客服已结束服务，智能助手继续为您服务。您刚才填写的信息都还在。"
CLOSED = "本次服务已结束，感谢您的耐心。如还有需要，随时给我们留言。"
BACK_IN_QUEUE = "客服连接中断，已为您重新排队，请稍候。"
TRANSFERRED = "已为您转接人工客服{name}，请稍候。"
TRANSFER_RECORD = "会话由{old}转给{new}"


class TakeoverError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class HandBackBot(Protocol):
    """What taking over and handing back asks of the bot: pause and resume its dialogue, read where a
    form stood, and re-ask the form's question."""

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None: ...

    async def tracker(self, sender_id: str) -> dict[str, Any]: ...

    async def execute(self, sender_id: str, action: str) -> list[dict[str, Any]]: ...


class Takeover:
    def __init__(
        self, core: ConversationCore, *, bot: HandBackBot, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self.core = core  # the conversation's turn lock, delivery, hand-offs and events
        self.bot = bot
        self.sessions = sessions

    async def claim(self, conversation_id: int, operator: Operator) -> Conversation:
        """Hold a waiting conversation, or a live bot conversation, for this operator alone."""
        async with self.sessions() as session:
            result = await session.execute(
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.operator.is_(None),
                    Conversation.handling.in_((Handling.WAITING, Handling.BOT)),
                )
                .values(handling=Handling.OPERATOR, operator=operator.username)
            )
            await session.commit()
            conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            raise TakeoverError(404, "没有这个会话")
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise TakeoverError(409, f"该会话已由{conversation.operator}接管")
        await self._tracker_event(conversation, "pause")
        await self.core.deliver(
            conversation.id, [Reply(text=JOINED.format(name=operator.display_name))], Author.SYSTEM
        )
        await self.core.announce("claimed", conversation, {"operator": operator.username})
        return conversation

    async def say(self, conversation_id: int, operator: Operator, text: str) -> Reply:
        conversation = await self._held(conversation_id, operator)
        [reply] = await self.core.deliver(conversation.id, [Reply(text=text)], Author.OPERATOR)
        return reply

    async def transfer(self, conversation_id: int, operator: Operator, to: Operator) -> Conversation:
        """Move a held conversation to another operator: its holder may, and an admin may move anyone's."""
        async with self.sessions() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None:
                raise TakeoverError(404, "没有这个会话")
            holder = _transferable(conversation, operator, to)
            await _move(session, conversation_id, holder, to.username, by=operator.username)
            await session.refresh(conversation)
        await self.core.deliver(
            conversation_id, [Reply(text=TRANSFERRED.format(name=to.display_name))], Author.SYSTEM
        )
        await self.core.announce("transferred", conversation, {"from": holder, "to": to.username})
        return conversation

    async def hand_back(self, conversation_id: int, operator: Operator, *, close: bool) -> Conversation:
        """Give the conversation back to the bot (resume), or close the operator's part of it."""
        conversation = await self._held(conversation_id, operator)
        try:
            await self.bot.append_events(conversation.sender_id, [{"event": "resume"}])
        except RasaUnavailable as error:
            raise TakeoverError(503, "智能助手暂时不可用，暂不能转回；请继续人工服务或稍后再试") from error
        conversation = await self.core.handoffs.set_handling(conversation.id, Handling.BOT)
        await self.core.deliver(
            conversation.id, [Reply(text=CLOSED if close else HANDED_BACK)], Author.SYSTEM
        )
        await self._resume_loop(conversation, close=close)
        return conversation

    async def _resume_loop(self, conversation: Conversation, *, close: bool) -> None:
        """Go on with the form the citizen was filling, or end it when the operator closed the conversation.

        Asking for a person inside a form left the form "rejected" in Rasa (the request filled no slot).
        Going on means: mark the form active again and ask its current question (our forms' questions
        are the responses `utter_ask_<form>_<slot>`), so the citizen's next answer fills the slot."""
        try:
            tracker = await self.bot.tracker(conversation.sender_id)
            loop = (tracker.get("active_loop") or {}).get("name")
            if not loop:
                return
            slot = (tracker.get("slots") or {}).get("requested_slot")
            async with self.core.lock(conversation.sender_id):
                if close:
                    raw = await self.bot.execute(conversation.sender_id, "action_deactivate_loop")
                else:
                    await self.bot.append_events(
                        conversation.sender_id, [{"event": "active_loop", "name": loop}]
                    )
                    raw = (
                        await self.bot.execute(conversation.sender_id, f"utter_ask_{loop}_{slot}")
                        if slot
                        else []
                    )
        except (RasaUnavailable, RasaRefused) as error:
            log.warning("could not resume the form of conversation %s: %s", conversation.id, error)
            return
        replies = [Reply.from_rasa(m) for m in raw if m.get("text") or m.get("buttons")]
        if replies:
            await self.core.deliver(conversation.id, replies, Author.BOT)

    async def requeue(self, username: str) -> list[int]:
        """Put the conversations of an operator who went away back in the queue."""
        async with self.sessions() as session:
            held = list(
                await session.scalars(
                    select(Conversation.id).where(
                        Conversation.operator == username, Conversation.handling == Handling.OPERATOR
                    )
                )
            )
        for conversation_id in held:
            await self.core.handoffs.set_handling(conversation_id, Handling.WAITING, reason="operator_left")
            await self.core.deliver(conversation_id, [Reply(text=BACK_IN_QUEUE)], Author.SYSTEM)
        return held

    async def _held(self, conversation_id: int, operator: Operator) -> Conversation:
        async with self.sessions() as session:
            conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            raise TakeoverError(404, "没有这个会话")
        if conversation.handling != Handling.OPERATOR or conversation.operator != operator.username:
            raise TakeoverError(409, "您没有接管这个会话")
        return conversation

    async def _tracker_event(self, conversation: Conversation, event: str) -> None:
        try:
            await self.bot.append_events(
                conversation.sender_id, [{"event": event, "timestamp": utcnow().timestamp()}]
            )
        except RasaUnavailable as error:
            log.warning("could not record %s for conversation %s: %s", event, conversation.id, error)


def _transferable(conversation: Conversation, operator: Operator, to: Operator) -> str:
    """The conversation's holder, when this operator may give it to `to`."""
    holder = conversation.operator
    if conversation.handling != Handling.OPERATOR or holder is None:
        raise TakeoverError(409, "这个会话没有人工客服在服务，不能转接")
    if holder != operator.username and operator.role != "admin":
        raise TakeoverError(403, "只有接管该会话的客服或管理员可以转接")
    if holder == to.username:
        raise TakeoverError(409, "会话已由该客服服务")
    return holder


async def _move(session: AsyncSession, conversation_id: int, holder: str, to: str, *, by: str) -> None:
    """Hand the conversation from its holder to `to` (unless it changed meanwhile) and record it, internal."""
    result = await session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            Conversation.handling == Handling.OPERATOR,
            Conversation.operator == holder,
        )
        .values(operator=to)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise TakeoverError(409, "会话刚刚有了变化，请刷新后再试")
    session.add(
        Message(
            conversation_id=conversation_id,
            direction=Direction.OUT,
            author=Author.SYSTEM,
            text=TRANSFER_RECORD.format(old=holder, new=to),
            payload={"internal": True, "event": "transfer", "from": holder, "to": to, "by": by},
            state=MessageState.PROCESSED,
        )
    )
    await session.commit()
