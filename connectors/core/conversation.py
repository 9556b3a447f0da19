"""The conversation core: store every message first, then let the bot (or an operator) answer.

Every channel adapter turns its updates into `Inbound` and calls `ConversationCore.receive`. The
core keeps the transcript, talks to Rasa's REST channel, queues messages while Rasa is down and
processes them when it is back, and honours hand-offs to operators: while an operator handles a
conversation the bot stays silent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.core.locks import KeyedLocks
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
from connectors.core.outbox import Outbox, Transmitter
from connectors.core.rasa import RasaClient, RasaUnavailable
from connectors.core.rasa_pool import RasaPool
from connectors.core.sanitize import clean_text, offered_payload

log = logging.getLogger(__name__)

APOLOGY = (
    "抱歉，智能助手暂时无法回复。您的消息已经保存，恢复后会第一时间回复您。"
    "如遇紧急情况，请直接拨打110、119或120。"
)
NOT_UNDERSTOOD = "抱歉，我没太明白您的意思。您可以直接描述遇到的问题，或者说“查进度”“咨询”“转人工”。"
STALE_BUTTON = "这个按钮已经失效了，请直接输入文字告诉我您的需要。"
EMPTY_MESSAGE = "您的消息好像是空的，请再说一遍。"
ATTACHED_PHOTO = "已收到图片，会附在您正在反映的问题里一并提交。"
ATTACHED_PLACE = (
    "已收到您的位置，会附在您反映的问题里。请再告诉我具体地址（区、街道、小区或道路），方便工作人员找到。"
)
ATTACH_FAILED = "抱歉，暂时没能接收，请稍后重新发送。"
STILL_WAITING = "已收到，人工客服接入后会看到您的每一条消息。您前面还有{ahead}位市民在等待，请稍候。"
HANDOFF_NOTICE = "已为您转接人工客服，您前面还有{ahead}位市民在等待，请稍候，客服接入后会直接在这里回复您。"


class ChannelAdapter(Transmitter, Protocol):
    """What a channel offers the core: sending one message, and whether replies go back in the request.

    A synchronous channel (the web chat) hands the bot's replies back in its own request; every other
    message to its citizens, and every message of an asynchronous channel (Telegram), goes through
    the outbox.
    """

    synchronous_replies: bool


EventListener = Callable[[str, Conversation, dict[str, Any]], Awaitable[None]]


class ConversationCore:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        rasa: RasaClient | RasaPool,
        max_chars: int,
    ) -> None:
        self.sessions = sessions
        self.rasa = rasa
        self.max_chars = max_chars
        self.adapters: dict[str, ChannelAdapter] = {}
        self.actions_healthy: Callable[[], Awaitable[bool]] | None = None
        self.outbox = Outbox(sessions)
        self.listeners: list[EventListener] = []
        self._locks = KeyedLocks()
        self._actions_down = False  # set when an empty answer came from a failed action server

    def lock(self, sender_id: str) -> AbstractAsyncContextManager[None]:
        """The lock that keeps one conversation's turns with the bot in order."""
        return self._locks.hold(sender_id)

    def add_adapter(self, adapter: ChannelAdapter) -> None:
        self.adapters[adapter.name] = adapter
        self.outbox.transmitters[adapter.name] = adapter

    async def receive(self, inbound: Inbound) -> list[Reply]:
        """Store a citizen's message, then answer it (or queue it); return the replies."""
        sender_id = sender_id_for(inbound.channel, inbound.identity)
        async with self._locks.hold(sender_id), self.sessions() as session:
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
                if conversation.handling != Handling.WAITING:
                    await session.commit()
                    return []  # an operator holds the conversation and answers it
                ahead = await self.queue_position(session, conversation)
                waiting = Reply(text=STILL_WAITING.format(ahead=ahead))
                replies = await self.store_replies(session, conversation, [waiting], Author.SYSTEM)
                await self._answer_out(session, conversation, replies)
                return replies
            if metadata.get("stale_button") or not text:
                message.state = MessageState.REJECTED
                notice = STALE_BUTTON if metadata.get("stale_button") else EMPTY_MESSAGE
                replies = await self.store_replies(session, conversation, [Reply(text=notice)], Author.SYSTEM)
                await self._answer_out(session, conversation, replies)
                return replies
            replies = await self._catch_up(session, conversation)
            replies += await self._answer(session, conversation, message)
            await self._answer_out(session, conversation, replies)
            return replies

    async def note(self, channel: str, identity: str, said: str, answer: str) -> list[Reply]:
        """Store a command the gateway answers itself (e.g. /help) and that answer."""
        async with self._locks.hold(sender_id_for(channel, identity)), self.sessions() as session:
            conversation = await self._conversation(session, channel, identity)
            session.add(
                Message(
                    conversation=conversation,
                    direction=Direction.IN,
                    author=Author.CITIZEN,
                    text=said,
                    state=MessageState.PROCESSED,
                )
            )
            stored = await self.store_replies(session, conversation, [Reply(text=answer)], Author.SYSTEM)
            await self._answer_out(session, conversation, stored)
            return stored

    async def attach(
        self,
        channel: str,
        identity: str,
        *,
        photo: str | None = None,
        location: tuple[float, float] | None = None,
        label: str | None = None,
    ) -> list[Reply]:
        """Keep a photo or a location pin for the case being reported (a slot in the bot's tracker)."""
        async with self._locks.hold(sender_id_for(channel, identity)), self.sessions() as session:
            conversation = await self._conversation(session, channel, identity)
            payload: dict[str, Any] = {}
            if photo:
                payload["attachments"] = [{"kind": "photo", "ref": photo}]
                said = "[图片]"
            elif location:
                payload["location"] = {"latitude": location[0], "longitude": location[1], "label": label}
                said = f"[位置] {label or ''} {location[0]:.5f},{location[1]:.5f}".replace("  ", " ")
            else:
                return []
            message = Message(
                conversation=conversation,
                direction=Direction.IN,
                author=Author.CITIZEN,
                text=said,
                payload=payload,
                state=MessageState.RECEIVED,
            )
            session.add(message)
            await session.commit()
            try:
                await self._remember(conversation.sender_id, payload)
                message.state = MessageState.PROCESSED
                answer = ATTACHED_PHOTO if photo else ATTACHED_PLACE
            except RasaUnavailable:
                message.state = MessageState.REJECTED
                answer = ATTACH_FAILED
            stored = await self.store_replies(session, conversation, [Reply(text=answer)], Author.SYSTEM)
            await self._answer_out(session, conversation, stored)
            return stored

    async def _remember(self, sender_id: str, payload: dict[str, Any]) -> None:
        """Add the photo to the tracker's `attachments` slot, or set its `location` slot."""
        if "location" in payload:
            events = [{"event": "slot", "name": "location", "value": payload["location"]}]
        else:
            tracker = await self.rasa.tracker(sender_id)
            kept = list((tracker.get("slots") or {}).get("attachments") or [])
            events = [
                {"event": "slot", "name": "attachments", "value": (kept + payload["attachments"])[-10:]}
            ]
        await self.rasa.append_events(sender_id, events)

    async def _answer_out(
        self, session: AsyncSession, conversation: Conversation, stored: list[Reply]
    ) -> None:
        adapter = self.adapters.get(conversation.channel)
        if adapter is None or not adapter.synchronous_replies:
            await self.enqueue(session, stored)
        else:
            await session.commit()

    async def deliver(self, conversation_id: int, replies: list[Reply], author: str) -> list[Reply]:
        """Store and send messages that answer nothing (operators, case updates) through the outbox."""
        async with self.sessions() as session:
            conversation = await session.get_one(Conversation, conversation_id)
            stored = await self.store_replies(session, conversation, replies, author)
            await self.enqueue(session, stored)
        return stored

    async def process_pending(self) -> int:
        """Answer messages queued while the bot was down; return how many were answered.

        Not while the action server is known to be down: each attempt would add the message to Rasa's
        tracker once more, and an attempt failing just as the action server comes back would pass for
        an answer."""
        if self._actions_down and self.actions_healthy is not None:
            if not await self.actions_healthy():
                return 0
            self._actions_down = False
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
            async with self._locks.hold(conversation.sender_id):
                replies = await self._catch_up(session, conversation)
                await self.enqueue(session, replies)
        return len(replies)

    async def enqueue(self, session: AsyncSession, replies: list[Reply]) -> None:
        """Queue stored replies for delivery, commit everything, and wake the outbox."""
        ids = [reply.id for reply in replies if reply.id is not None]
        if ids:
            messages = (await session.scalars(select(Message).where(Message.id.in_(ids)))).all()
            self.outbox.enqueue(session, messages)
        await session.commit()
        if ids:
            self.outbox.wake()

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
            if not raw:
                await self._confirm_handled(conversation.sender_id)
        except RasaUnavailable as error:
            log.warning("bot unavailable for conversation %s: %s", conversation.id, error)
            message.state = MessageState.PENDING
            await session.commit()
            if not apologise:
                return []
            apology = await self.store_replies(session, conversation, [Reply(text=APOLOGY)], Author.SYSTEM)
            await session.commit()
            return apology
        message.state = MessageState.PROCESSED
        replies, handoff = split_custom(raw)
        if not replies and handoff is None:  # the bot had nothing to say: never leave a citizen unanswered
            replies = [Reply(text=NOT_UNDERSTOOD)]
        stored = await self.store_replies(session, conversation, replies, Author.BOT)
        if handoff is not None and conversation.handling == Handling.BOT:
            stored += await self._hand_off(session, conversation, handoff)
        await session.commit()
        return stored

    async def _confirm_handled(self, sender_id: str) -> None:
        """An empty answer is a silent turn, or a failure Rasa swallowed: with the action server down,
        Rasa's REST channel answers 200 with nothing. Then the bot counts as unavailable, and the message
        is sent again once the actions are back (the form is still active, so it takes it then)."""
        if self.actions_healthy is None or await self.actions_healthy():
            return
        self._actions_down = True
        raise RasaUnavailable("the action server is unavailable")

    async def _hand_off(
        self, session: AsyncSession, conversation: Conversation, handoff: dict[str, Any]
    ) -> list[Reply]:
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
        stored = await self.store_replies(session, conversation, [notice], Author.SYSTEM)
        await self._notify("handoff", conversation, {"reason": conversation.handoff_reason})
        return stored

    async def _prepare(
        self, session: AsyncSession, conversation: Conversation, inbound: Inbound
    ) -> tuple[str, dict[str, Any]]:
        """Turn an inbound message into the text for the transcript and the bot's metadata."""
        text = clean_text(inbound.text, max_chars=self.max_chars)
        metadata: dict[str, Any] = {}
        if inbound.button is not None:
            offered_in, buttons = await self._last_buttons(session, conversation)
            payload = offered_payload(by_reference(inbound.button, offered_in, buttons), buttons)
            if payload is not None:
                metadata["rasa_text"] = payload
                title = next((b["title"] for b in buttons if b["payload"] == payload), payload)
                text = text or title
            elif inbound.button.startswith("#"):
                metadata["stale_button"] = True
                text = text or "[已失效的按钮]"
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

    async def _last_buttons(
        self, session: AsyncSession, conversation: Conversation
    ) -> tuple[int | None, list[dict[str, str]]]:
        """The newest bot message in this conversation and its buttons (older buttons are stale)."""
        last = await session.scalar(
            select(Message)
            .where(
                Message.conversation_id == conversation.id,
                Message.direction == Direction.OUT,
                Message.author == Author.BOT,
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        if last is None:
            return None, []
        return last.id, list((last.payload or {}).get("buttons", []))

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

    async def store_replies(
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
        return stored

    async def announce(self, kind: str, conversation: Conversation, event: dict[str, Any]) -> None:
        """Tell the listeners (the operator console) about something that happened."""
        await self._notify(kind, conversation, event)

    async def _notify(self, kind: str, conversation: Conversation, event: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            try:
                await listener(kind, conversation, event)
            except Exception:
                log.exception("conversation listener failed on %s", kind)


def sender_id_for(channel: str, identity: str) -> str:
    """The conversation's id at the Rasa server: the channel and the citizen's identity there."""
    return f"{channel}-{identity}"


def by_reference(chosen: str, offered_in: int | None, buttons: list[dict[str, str]]) -> str:
    """Resolve "#<message id>:<index>" (Telegram's callback data) to that button's payload."""
    if not chosen.startswith("#"):
        return chosen
    message_id, _, index = chosen[1:].partition(":")
    if message_id != str(offered_in) or not index.isdigit() or int(index) >= len(buttons):
        return ""
    return buttons[int(index)].get("payload", "")


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
