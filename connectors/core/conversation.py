"""The conversation core: store every message first, then let the bot (or an operator) answer.

Every channel adapter turns its updates into `Inbound` and calls `ConversationCore.receive`. The
core keeps the transcript, talks to Rasa's REST channel, queues messages while Rasa is down and
processes them when it is back, and honours hand-offs to operators: while an operator handles a
conversation the bot stays silent.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.core.messages import Inbound, Reply
from connectors.core.models import (
    Author,
    Conversation,
    Direction,
    Handling,
    Message,
    MessageState,
    utcnow,
)
from connectors.core.rasa import RasaClient, RasaUnavailable
from connectors.core.sanitize import clean_text, offered_payload

log = logging.getLogger(__name__)

APOLOGY = (
    "抱歉，智能助手暂时无法回复。您的消息已经保存，恢复后会第一时间回复您。"
    "如遇紧急情况，请直接拨打110、119或120。"
)
HANDOFF_NOTICE = "已为您转接人工客服，您前面还有{ahead}位市民在等待，请稍候，客服接入后会直接在这里回复您。"


class ChannelAdapter(Protocol):
    """What a channel must offer the core: deliver replies to one of its citizens."""

    name: str

    async def deliver(self, conversation: Conversation, replies: list[Reply]) -> None: ...


EventListener = Callable[[str, Conversation, dict[str, Any]], Awaitable[None]]


class ConversationCore:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        rasa: RasaClient,
        max_chars: int,
    ) -> None:
        self.sessions = sessions
        self.rasa = rasa
        self.max_chars = max_chars
        self.adapters: dict[str, ChannelAdapter] = {}
        self.listeners: list[EventListener] = []
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def add_adapter(self, adapter: ChannelAdapter) -> None:
        self.adapters[adapter.name] = adapter

    async def receive(self, inbound: Inbound) -> list[Reply]:
        """Store a citizen's message, then answer it (or queue it); return the replies."""
        sender_id = sender_id_for(inbound.channel, inbound.identity)
        async with self._locks[sender_id], self.sessions() as session:
            conversation = await self._conversation(session, inbound.channel, inbound.identity)
            text, metadata = await self._prepare(session, conversation, inbound)
            message = Message(
                conversation=conversation,
                direction=Direction.IN,
                author=Author.CITIZEN,
                text=text,
                payload=metadata,
                state=MessageState.RECEIVED,
            )
            conversation.last_message_at = utcnow()
            session.add(message)
            await session.commit()
            await self._notify("message", conversation, _message_event(message))
            if conversation.handling != Handling.BOT:
                message.state = MessageState.PROCESSED
                await session.commit()
                return []
            replies = await self._catch_up(session, conversation)
            replies += await self._answer(session, conversation, message)
            return replies

    async def deliver(self, conversation_id: int, replies: list[Reply], author: str) -> list[Reply]:
        """Store and send replies that do not answer a message (operators, case updates)."""
        async with self.sessions() as session:
            conversation = await session.get_one(Conversation, conversation_id)
            stored = await self._store_replies(session, conversation, replies, author)
            await session.commit()
        await self._push(conversation, stored)
        return stored

    async def process_pending(self) -> int:
        """Answer messages queued while the bot was down; return how many were answered."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(Message.conversation_id)
                .where(Message.state == MessageState.PENDING)
                .group_by(Message.conversation_id)
            )
            conversation_ids = [row[0] for row in rows]
        answered = 0
        for conversation_id in conversation_ids:
            answered += await self._process_pending_of(conversation_id)
        return answered

    async def set_handling(
        self,
        conversation_id: int,
        handling: Handling,
        *,
        operator: str | None = None,
        reason: str | None = None,
    ) -> Conversation:
        async with self.sessions() as session:
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
        await self._notify("handling", conversation, {"handling": handling, "operator": operator})
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

    async def _process_pending_of(self, conversation_id: int) -> int:
        async with self.sessions() as session:
            conversation = await session.get_one(Conversation, conversation_id)
            async with self._locks[conversation.sender_id]:
                replies = await self._catch_up(session, conversation)
        if replies:
            await self._push(conversation, replies)
        return len(replies)

    async def _catch_up(self, session: AsyncSession, conversation: Conversation) -> list[Reply]:
        """Answer this conversation's queued messages in order, before anything newer."""
        pending = await session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id, Message.state == MessageState.PENDING)
            .order_by(Message.id)
        )
        replies: list[Reply] = []
        for message in pending:
            answered = await self._answer(session, conversation, message, apologise=False)
            if message.state == MessageState.PENDING:
                break
            replies += answered
        return replies

    async def _answer(
        self,
        session: AsyncSession,
        conversation: Conversation,
        message: Message,
        *,
        apologise: bool = True,
    ) -> list[Reply]:
        payload = dict(message.payload or {})
        text = payload.pop("rasa_text", message.text)
        metadata = {"channel": conversation.channel, "identity": conversation.identity, **payload}
        try:
            raw = await self.rasa.send(conversation.sender_id, text, metadata)
        except RasaUnavailable as error:
            log.warning("bot unavailable for conversation %s: %s", conversation.id, error)
            message.state = MessageState.PENDING
            await session.commit()
            if not apologise:
                return []
            return await self._store_replies(session, conversation, [Reply(text=APOLOGY)], Author.SYSTEM)
        message.state = MessageState.PROCESSED
        replies, handoff = split_custom(raw)
        stored = await self._store_replies(session, conversation, replies, Author.BOT)
        if handoff is not None and conversation.handling == Handling.BOT:
            stored += await self._hand_off(session, conversation, handoff)
        await session.commit()
        return stored

    async def _hand_off(
        self, session: AsyncSession, conversation: Conversation, handoff: dict[str, Any]
    ) -> list[Reply]:
        conversation.handling = Handling.WAITING
        conversation.waiting_since = utcnow()
        conversation.handoff_reason = str(handoff.get("reason") or "requested")[:40]
        await session.flush()
        ahead = await self.queue_position(session, conversation)
        notice = Reply(text=HANDOFF_NOTICE.format(ahead=ahead))
        stored = await self._store_replies(session, conversation, [notice], Author.SYSTEM)
        await self._notify("handoff", conversation, {"reason": conversation.handoff_reason})
        return stored

    async def _prepare(
        self, session: AsyncSession, conversation: Conversation, inbound: Inbound
    ) -> tuple[str, dict[str, Any]]:
        """Turn an inbound message into the text for the transcript and the bot's metadata."""
        text = clean_text(inbound.text, max_chars=self.max_chars)
        metadata: dict[str, Any] = {}
        if inbound.button is not None:
            buttons = await self._last_buttons(session, conversation)
            payload = offered_payload(inbound.button, buttons)
            if payload is not None:
                metadata["rasa_text"] = payload
                title = next((b["title"] for b in buttons if b["payload"] == payload), payload)
                text = text or title
            else:
                text = text or clean_text(inbound.button, max_chars=self.max_chars)
        if inbound.location is not None:
            latitude, longitude = inbound.location
            metadata["location"] = {"latitude": latitude, "longitude": longitude}
            text = text or f"我的位置：{latitude:.5f},{longitude:.5f}"
        if inbound.attachments:
            metadata["attachments"] = list(inbound.attachments)
            text = text or "[图片]"
        return text, metadata

    async def _last_buttons(self, session: AsyncSession, conversation: Conversation) -> list[dict[str, str]]:
        last = await session.scalar(
            select(Message)
            .where(Message.conversation_id == conversation.id, Message.direction == Direction.OUT)
            .order_by(Message.id.desc())
            .limit(1)
        )
        return list((last.payload or {}).get("buttons", [])) if last else []

    async def _conversation(self, session: AsyncSession, channel: str, identity: str) -> Conversation:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.channel == channel, Conversation.identity == identity)
        )
        if conversation is None:
            conversation = Conversation(
                channel=channel, identity=identity, sender_id=sender_id_for(channel, identity)
            )
            session.add(conversation)
            await session.flush()
        return conversation

    async def _store_replies(
        self, session: AsyncSession, conversation: Conversation, replies: list[Reply], author: str
    ) -> list[Reply]:
        stored: list[Reply] = []
        for reply in replies:
            payload: dict[str, Any] = {"buttons": reply.buttons} if reply.buttons else {}
            if reply.image:
                payload["image"] = reply.image
            row = Message(
                conversation_id=conversation.id,
                direction=Direction.OUT,
                author=author,
                text=reply.text,
                payload=payload,
                state=MessageState.PROCESSED,
            )
            session.add(row)
            await session.flush()
            reply.id, reply.author = row.id, author
            stored.append(reply)
            await self._notify("message", conversation, _message_event(row))
        await session.commit()
        return stored

    async def _push(self, conversation: Conversation, replies: list[Reply]) -> None:
        adapter = self.adapters.get(conversation.channel)
        if adapter is not None and replies:
            await adapter.deliver(conversation, replies)

    async def _notify(self, kind: str, conversation: Conversation, event: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            try:
                await listener(kind, conversation, event)
            except Exception:
                log.exception("conversation listener failed on %s", kind)


def sender_id_for(channel: str, identity: str) -> str:
    """The conversation's id at the Rasa server: the channel and the citizen's identity there."""
    return f"{channel}-{identity}"


def split_custom(raw: list[dict[str, Any]]) -> tuple[list[Reply], dict[str, Any] | None]:
    """Separate the bot's visible replies from its instructions to the gateway (hand-off)."""
    replies: list[Reply] = []
    handoff: dict[str, Any] | None = None
    for message in raw:
        custom = message.get("custom")
        if isinstance(custom, dict) and "handoff" in custom:
            handoff = dict(custom["handoff"] or {})
            continue
        if message.get("text") or message.get("buttons") or message.get("image"):
            replies.append(Reply.from_rasa(message))
    return replies, handoff


def _message_event(message: Message) -> dict[str, Any]:
    created: datetime = message.created_at
    return {
        "id": message.id,
        "direction": message.direction,
        "author": message.author,
        "text": message.text,
        "buttons": (message.payload or {}).get("buttons", []),
        "created_at": created.isoformat(),
    }
