"""The conversation core: store every message first, then let the bot (or an operator) answer.

Every channel adapter turns its updates into `Inbound` and calls `ConversationCore.receive`. The
core keeps the transcript, talks to Rasa's REST channel, queues messages while Rasa is down or busy
and processes them when it can, and honours hand-offs to operators: while an operator handles a
conversation the bot stays silent. No database session is open while Rasa thinks: a hung Rasa once
held every pooled connection, and messages arriving then were lost before they were stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.core.ids import derive_sender_id
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
from connectors.core.rasa import RasaClient, RasaRefused, RasaUnavailable
from connectors.core.rasa_pool import RasaPool
from connectors.core.sanitize import clean_text, offered_payload

log = logging.getLogger(__name__)

APOLOGY = (
    "抱歉，智能助手暂时无法回复。您的消息已经保存，恢复后会第一时间回复您。"
    "如遇紧急情况，请直接拨打110、119或120。"
)
# The bot had nothing to say: the message is kept in the transcript, and the citizen is asked what they need.
NOTHING_SAID = "收到。请问有什么可以帮您？您可以直接描述遇到的问题或想咨询的事，也可以说“查进度”“转人工”。"
STALE_BUTTON = "这个按钮已经失效了，请直接输入文字告诉我您的需要。"
EMPTY_MESSAGE = "您的消息好像是空的，请再说一遍。"
ATTACHED_PHOTO = "已收到图片，会附在您正在反映的问题里一并提交。"
ATTACHED_PLACE = (
    "已收到您的位置，会附在您反映的问题里。请再告诉我具体地址（区、街道、小区或道路），方便工作人员找到。"
)
QUEUED = (
    "现在咨询的市民比较多，您的消息已经收到、正在排队，稍后会按顺序回复您，不用重复发送。"
    "如遇紧急情况，请直接拨打110、119或120。"
)
STILL_WAITING = "已收到，人工客服接入后会看到您的每一条消息。您前面还有{ahead}位市民在等待，请稍候。"
HANDOFF_NOTICE = "已为您转接人工客服，您前面还有{ahead}位市民在等待，请稍候，客服接入后会直接在这里回复您。"
MAX_ATTEMPTS = 3  # times a message may be left unanswered (the gateway stopped mid-turn) before an operator


class ChannelAdapter(Transmitter, Protocol):
    """What a channel offers the core: sending one message, and whether replies go back in the request.

    A synchronous channel (the web chat) hands the bot's replies back in its own request; every other
    message to its citizens, and every message of an asynchronous channel (Telegram), goes through
    the outbox.
    """

    synchronous_replies: bool


EventListener = Callable[[str, Conversation, dict[str, Any]], Awaitable[None]]


class BotBusy(Exception):
    """Every turn the bot may take at once is taken, and none came free in time."""


@dataclass(frozen=True)
class Turn:
    """A stored citizen message as the bot is given it, read in a short transaction."""

    message_id: int
    text: str
    payload: dict[str, Any]

    @classmethod
    def of(cls, message: Message) -> Turn:
        return cls(message_id=message.id, text=message.text, payload=dict(message.payload or {}))

    @property
    def refusal(self) -> str | None:
        """The notice for a message the bot is not given (a stale button, nothing in it)."""
        if self.payload.get("stale_button"):
            return STALE_BUTTON
        return None if self.text else EMPTY_MESSAGE

    @property
    def remembers(self) -> bool:
        """A photo or a location pin: kept in the bot's tracker, not a message to answer."""
        return bool(self.payload.get("remember"))

    def for_bot(self, conversation: Conversation) -> tuple[str, dict[str, Any]]:
        payload = {k: v for k, v in self.payload.items() if k not in ("attempts", "remember")}
        text = payload.pop("rasa_text", self.text)
        return text, {"channel": conversation.channel, "identity": conversation.identity, **payload}


class ConversationCore:
    """Turns: a message is stored in a transaction of its own, then answered with no database session
    open while the bot thinks; at most `max_in_flight` turns go to the bot at once, at most
    `max_waiting` more wait up to `queue_wait_s` for one of them, and beyond that a message waits
    stored (PENDING) and the citizen is told. Every stored message ends answered: by the bot, later by
    the pending worker, or by an operator when the bot refuses it or it was left behind too often."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        rasa: RasaClient | RasaPool,
        max_chars: int,
        secret_key: str,
        max_in_flight: int = 8,
        max_waiting: int = 64,
        queue_wait_s: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.secret_key = secret_key
        self.rasa = rasa
        self.max_chars = max_chars
        self.adapters: dict[str, ChannelAdapter] = {}
        self.actions_healthy: Callable[[], Awaitable[bool]] | None = None
        self.outbox = Outbox(sessions)
        self.listeners: list[EventListener] = []
        self._locks = KeyedLocks()  # one conversation's turns with the bot, in order
        self._storing = KeyedLocks()  # one conversation's inbound messages, stored one at a time
        self._actions_down = False  # set when an empty answer came from a failed action server
        self._slots = asyncio.Semaphore(max_in_flight)
        self.max_waiting, self.queue_wait_s = max_waiting, queue_wait_s
        self._waiting = 0
        self._answering: set[int] = set()  # stored messages whose turn is under way in this process

    def sender_id_for(self, channel: str, identity: str) -> str:
        """The conversation's id at the Rasa server and on cases (derived: see connectors.core.ids)."""
        return derive_sender_id(self.secret_key, channel, identity)

    def lock(self, sender_id: str) -> AbstractAsyncContextManager[None]:
        """The lock that keeps one conversation's turns with the bot in order."""
        return self._locks.hold(sender_id)

    @asynccontextmanager
    async def bot_slot(self) -> AsyncIterator[None]:
        """One of the turns the bot may take at once; BotBusy when none comes free in time."""
        if self._waiting >= self.max_waiting:
            raise BotBusy(f"{self._waiting} turns already wait for the bot")
        self._waiting += 1
        try:
            async with asyncio.timeout(self.queue_wait_s):
                await self._slots.acquire()
        except TimeoutError:
            raise BotBusy(f"no turn came free in {self.queue_wait_s:g} s") from None
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._slots.release()

    def add_adapter(self, adapter: ChannelAdapter) -> None:
        self.adapters[adapter.name] = adapter
        self.outbox.transmitters[adapter.name] = adapter

    async def receive(self, inbound: Inbound) -> list[Reply]:
        """Store a citizen's message, then answer it (or queue it); return the replies."""
        sender_id = self.sender_id_for(inbound.channel, inbound.identity)
        async with self._storing.hold(sender_id), self.sessions() as session:
            conversation = await self._conversation(session, inbound.channel, inbound.identity)
            text, metadata = await self._prepare(session, conversation, inbound)
            message = await self._store_inbound(session, conversation, text, metadata)
        return await self._take_turn(conversation, message)

    async def note(
        self,
        channel: str,
        identity: str,
        said: str | None,
        answer: str | None,
        *,
        state: MessageState = MessageState.PROCESSED,
    ) -> list[Reply]:
        """Store what the gateway answers itself (a /help, a voice message, a message over the rate
        limit, a text that had to be cut) and its answer; either may be None (nothing said, no answer)."""
        async with self._locks.hold(self.sender_id_for(channel, identity)), self.sessions() as session:
            conversation = await self._conversation(session, channel, identity)
            if said is not None:
                session.add(
                    Message(
                        conversation=conversation,
                        direction=Direction.IN,
                        author=Author.CITIZEN,
                        text=said,
                        state=state,
                    )
                )
            answers = [Reply(text=answer)] if answer else []
            stored = await self.store_replies(session, conversation, answers, Author.SYSTEM)
            await self._send(session, conversation, stored, live=True)
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
        payload: dict[str, Any] = {"remember": True}
        if photo:
            payload["attachments"] = [{"kind": "photo", "ref": photo}]
            said = "[图片]"
        elif location:
            payload["location"] = {"latitude": location[0], "longitude": location[1], "label": label}
            said = f"[位置] {label or ''} {location[0]:.5f},{location[1]:.5f}".replace("  ", " ")
        else:
            return []
        async with self._storing.hold(self.sender_id_for(channel, identity)), self.sessions() as session:
            conversation = await self._conversation(session, channel, identity)
            message = await self._store_inbound(session, conversation, said, payload)
        return await self._take_turn(conversation, message)

    async def _store_inbound(
        self, session: AsyncSession, conversation: Conversation, text: str, payload: dict[str, Any]
    ) -> Message:
        """Store a citizen's message in its own transaction; its turn is under way in this process."""
        message = Message(
            conversation=conversation,
            direction=Direction.IN,
            author=Author.CITIZEN,
            text=text,
            payload=payload,
            state=MessageState.RECEIVED,
        )
        conversation.last_message_at = utcnow()
        session.add(message)
        await session.flush()
        self._answering.add(message.id)
        try:
            await session.commit()
        except BaseException:
            self._answering.discard(message.id)
            raise
        return message

    async def _take_turn(self, conversation: Conversation, message: Message) -> list[Reply]:
        """Answer a stored message in its conversation's order (no session open while the bot thinks)."""
        try:
            await self._notify("message", conversation, _message_event(message))
            async with self._locks.hold(conversation.sender_id):
                return await self._turn(conversation.id, message.id)
        finally:
            self._answering.discard(message.id)

    async def _turn(self, conversation_id: int, message_id: int) -> list[Reply]:
        async with self.sessions() as session:
            conversation = await session.get_one(Conversation, conversation_id)
            message = await session.get_one(Message, message_id)
            if message.state != MessageState.RECEIVED:
                return []  # a turn before answered it, in order
            unanswered = await self._unanswered(session, conversation_id, up_to=message_id)
            turns = [Turn.of(m) for m in unanswered]
            if conversation.handling != Handling.BOT:
                if not turns[-1].remembers:
                    return await self._for_operators(session, conversation, unanswered)
                turns = turns[-1:]  # a photo or a pin still goes in the tracker, for the report
        return await self._answer_in_order(conversation, turns, live=True)

    async def _for_operators(
        self, session: AsyncSession, conversation: Conversation, unanswered: list[Message]
    ) -> list[Reply]:
        """An operator holds the conversation (or is awaited): the bot stays silent."""
        for message in unanswered:
            message.state = MessageState.PROCESSED
        replies: list[Reply] = []
        if conversation.handling == Handling.WAITING:
            ahead = await self.queue_position(session, conversation)
            waiting = Reply(text=STILL_WAITING.format(ahead=ahead))
            replies = await self.store_replies(session, conversation, [waiting], Author.SYSTEM)
        await self._send(session, conversation, replies, live=True)
        return replies

    async def _answer_in_order(
        self, conversation: Conversation, turns: list[Turn], *, live: bool
    ) -> list[Reply]:
        """Answer a conversation's waiting messages oldest first; stop at the first the bot cannot take
        (it and the rest wait, PENDING). `live`: a citizen has just written and waits for the answer."""
        replies: list[Reply] = []
        for position, turn in enumerate(turns):
            if turn.refusal is not None:
                replies += await self._conclude(conversation, turn, [], live=live)
                continue
            try:
                raw = await self._ask_bot(conversation, turn)
            except BotBusy as busy:
                log.warning("conversation %s queued: %s", conversation.id, busy)
                notice = QUEUED
            except RasaUnavailable as error:
                log.warning("bot unavailable for conversation %s: %s", conversation.id, error)
                notice = APOLOGY
            except RasaRefused as error:
                log.error("the bot refused a message of conversation %s: %s", conversation.id, error)
                return replies + await self._set_aside(
                    conversation, turns[position:], MessageState.PROCESSED, live=live
                )
            else:
                replies += await self._conclude(conversation, turn, raw, live=live)
                continue
            waiting = MessageState.PENDING
            return replies + await self._set_aside(
                conversation, turns[position:], waiting, live=live, notice=notice if live else None
            )
        return replies

    async def _ask_bot(self, conversation: Conversation, turn: Turn) -> list[dict[str, Any]]:
        """The bot's raw answer to one message (a photo or pin is put in its tracker instead)."""
        async with self.bot_slot():
            if turn.remembers:
                await self._remember(conversation.sender_id, turn.payload)
                return [{"text": ATTACHED_PHOTO if "attachments" in turn.payload else ATTACHED_PLACE}]
            text, metadata = turn.for_bot(conversation)
            raw = await self.rasa.send(conversation.sender_id, text, metadata)
            if not raw:
                await self._confirm_handled(conversation.sender_id)
            return raw

    async def _conclude(
        self, conversation: Conversation, turn: Turn, raw: list[dict[str, Any]], *, live: bool
    ) -> list[Reply]:
        """Store the answer to one message and mark the message answered, in one short transaction."""
        async with self.sessions() as session:
            conversation = await session.get_one(Conversation, conversation.id)
            message = await session.get_one(Message, turn.message_id)
            if turn.refusal is not None:
                message.state = MessageState.REJECTED
                replies, handoff = [Reply(text=turn.refusal)], None
            else:
                message.state = MessageState.PROCESSED
                replies, handoff = split_custom(raw)
                if not replies and handoff is None:  # never leave a citizen unanswered
                    replies = [Reply(text=NOTHING_SAID)]
            author = Author.BOT if turn.refusal is None and not turn.remembers else Author.SYSTEM
            stored = await self.store_replies(session, conversation, replies, author)
            if handoff is not None and conversation.handling == Handling.BOT:
                stored += await self._hand_off(session, conversation, handoff)
            await self._send(session, conversation, stored, live=live)
        return stored

    async def _set_aside(
        self,
        conversation: Conversation,
        turns: list[Turn],
        state: MessageState,
        *,
        live: bool,
        notice: str | None = None,
    ) -> list[Reply]:
        """Mark messages the bot did not answer: PENDING for the pending worker (with a notice telling
        the citizen why), or PROCESSED when the operators take them (the conversation joins their queue)."""
        async with self.sessions() as session:
            conversation = await session.get_one(Conversation, conversation.id)
            await session.execute(
                update(Message).where(Message.id.in_([t.message_id for t in turns])).values(state=state)
            )
            stored: list[Reply] = []
            if notice is not None:
                stored = await self.store_replies(session, conversation, [Reply(text=notice)], Author.SYSTEM)
            elif state == MessageState.PROCESSED and conversation.handling == Handling.BOT:
                stored = await self._hand_off(session, conversation, {"reason": "bot_error"})
            await self._send(session, conversation, stored, live=live)
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

    async def _send(
        self, session: AsyncSession, conversation: Conversation, stored: list[Reply], *, live: bool
    ) -> None:
        """Commit; replies go back in the citizen's request on a synchronous channel, else the outbox."""
        adapter = self.adapters.get(conversation.channel)
        if live and adapter is not None and adapter.synchronous_replies:
            await session.commit()
        else:
            await self.enqueue(session, stored)

    async def deliver(self, conversation_id: int, replies: list[Reply], author: str) -> list[Reply]:
        """Store and send messages that answer nothing (operators, case updates) through the outbox."""
        async with self.sessions() as session:
            conversation = await session.get_one(Conversation, conversation_id)
            stored = await self.store_replies(session, conversation, replies, author)
            await self.enqueue(session, stored)
        return stored

    async def process_pending(self) -> int:
        """Answer messages that wait for the bot (it was down or busy); return how many replies went out.

        Not while the action server is known to be down: each attempt would add the message to Rasa's
        tracker once more, and an attempt failing just as the action server comes back would pass for
        an answer. Conversations go concurrently, each through the bounded turns."""
        if self._actions_down and self.actions_healthy is not None:
            if not await self.actions_healthy():
                return 0
            self._actions_down = False
        async with self.sessions() as session:
            rows = await session.execute(
                select(Message.conversation_id, Conversation.sender_id)
                .join(Conversation)
                .where(Message.state == MessageState.PENDING, Conversation.handling == Handling.BOT)
                .group_by(Message.conversation_id, Conversation.sender_id)
                .order_by(func.min(Message.id))
                .limit(self.max_waiting)
            )
            waiting = rows.all()
        answered = await asyncio.gather(*(self._answer_pending_of(c, s) for c, s in waiting))
        return sum(answered)

    async def _answer_pending_of(self, conversation_id: int, sender_id: str) -> int:
        async with self._locks.hold(sender_id):
            async with self.sessions() as session:
                conversation = await session.get_one(Conversation, conversation_id)
                if conversation.handling != Handling.BOT:
                    return 0
                pending = await self._unanswered(session, conversation_id, up_to=None)
            replies = await self._answer_in_order(conversation, [Turn.of(m) for m in pending], live=False)
        return len(replies)

    async def recover(self) -> int:
        """Give messages left unanswered (the gateway stopped mid-turn, an error) to the pending worker,
        or to an operator once they were left behind MAX_ATTEMPTS times; return how many were found.

        Run at start-up and with the pending worker. Each conversation is looked at under its turn lock,
        so a turn that ends while this runs is never taken for a message left behind (that answered the
        message a second time, through the outbox); messages whose turn is waiting are left alone."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(Message.conversation_id, Conversation.sender_id)
                .join(Conversation)
                .where(Message.state == MessageState.RECEIVED, Message.direction == Direction.IN)
                .group_by(Message.conversation_id, Conversation.sender_id)
                .order_by(func.min(Message.id))
            )
            candidates = rows.all()
        found = given_up = 0
        for conversation_id, sender_id in candidates:
            async with self._locks.hold(sender_id):
                claimed, most_attempts = await self._claim_left_behind(conversation_id)
                found += claimed
                if claimed and most_attempts >= MAX_ATTEMPTS:
                    given_up += 1
                    async with self.sessions() as session:
                        conversation = await session.get_one(Conversation, conversation_id)
                        pending = await self._unanswered(session, conversation_id, up_to=None)
                    turns = [Turn.of(m) for m in pending]
                    await self._set_aside(conversation, turns, MessageState.PROCESSED, live=False)
        if found:
            log.warning("%d messages were left unanswered; %d handed to operators", found, given_up)
        return found

    async def _claim_left_behind(self, conversation_id: int) -> tuple[int, int]:
        """Mark a conversation's messages left RECEIVED (no turn under way) PENDING, counting the times
        each was left behind; return how many, and the most times one was. Under the conversation's lock."""
        async with self.sessions() as session:
            stored = await session.scalars(
                select(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.direction == Direction.IN,
                    Message.state == MessageState.RECEIVED,
                )
                .order_by(Message.id)
            )
            left = [message for message in stored if message.id not in self._answering]
            most = 0
            for message in left:
                attempts = int((message.payload or {}).get("attempts", 0)) + 1
                message.payload = {**(message.payload or {}), "attempts": attempts}
                message.state = MessageState.PENDING
                most = max(most, attempts)
            await session.commit()
        return len(left), most

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

    async def enqueue(self, session: AsyncSession, replies: list[Reply]) -> None:
        """Queue stored replies for delivery, commit everything, and wake the outbox."""
        ids = [reply.id for reply in replies if reply.id is not None]
        if ids:
            messages = (await session.scalars(select(Message).where(Message.id.in_(ids)))).all()
            self.outbox.enqueue(session, messages)
        await session.commit()
        if ids:
            self.outbox.wake()

    async def _unanswered(
        self, session: AsyncSession, conversation_id: int, *, up_to: int | None
    ) -> list[Message]:
        """A conversation's messages still to answer, oldest first: those waiting (PENDING), and with
        `up_to` also those stored and not yet taken (RECEIVED) up to that message."""
        states = (MessageState.PENDING,) if up_to is None else (MessageState.PENDING, MessageState.RECEIVED)
        query = select(Message).where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.IN,
            Message.state.in_(states),
        )
        if up_to is not None:
            query = query.where(Message.id <= up_to)
        return list(await session.scalars(query.order_by(Message.id)))

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
            else:  # an older message's button, or one never offered: never the bot's text
                metadata["stale_button"] = True
                text = text or "[已失效的按钮]"
        if inbound.choice is not None and inbound.button is None:
            _, buttons = await self._last_buttons(session, conversation)
            if 1 <= inbound.choice <= len(buttons):  # else the digit is an answer in words ("2楼")
                metadata["rasa_text"] = offered_payload(buttons[inbound.choice - 1]["payload"], buttons)
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

    async def conversation_of(self, session: AsyncSession, channel: str, identity: str) -> Conversation:
        """A channel identity's conversation, created in the caller's transaction when it is new."""
        return await self._conversation(session, channel, identity)

    async def _conversation(self, session: AsyncSession, channel: str, identity: str) -> Conversation:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.channel == channel, Conversation.identity == identity)
        )
        if conversation is None:
            conversation = Conversation(
                channel=channel, identity=identity, sender_id=self.sender_id_for(channel, identity)
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
            reply.id, reply.author, reply.created_at = row.id, author, row.created_at
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
