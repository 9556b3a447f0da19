"""The conversation core: store every message first, then let the bot (or an operator) answer.

Every channel adapter turns its updates into `Inbound` and calls `ConversationCore.receive`. The
core takes bot turns: it sends stored messages to Rasa's REST channel in each conversation's order,
queues them while Rasa is down or busy and answers them when it can, and finds messages left
unanswered. The transcript (`Transcript`) stores and delivers messages, and hand-offs (`HandOffs`)
keep the operators' queue: while an operator handles a conversation the bot stays silent. No
database session is open while Rasa thinks: a hung Rasa once held every pooled connection, and
messages arriving then were lost before they were stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.core.attachments import attachment, remember
from connectors.core.events import EventListener, Listeners, message_event
from connectors.core.handoffs import HandOffs
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
from connectors.core.notices import APOLOGY, ATTACHED_PHOTO, ATTACHED_PLACE, NOTHING_SAID, QUEUED
from connectors.core.rasa import RasaRefused, RasaUnavailable
from connectors.core.rasa_pool import RasaPool
from connectors.core.transcript import ChannelAdapter, Transcript
from connectors.core.turns import BotBusy, BotSlots, Turn, split_custom

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # times a message may be left unanswered (the gateway stopped mid-turn) before an operator


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
        rasa: RasaPool,
        max_chars: int,
        secret_key: str,
        max_in_flight: int = 8,
        max_waiting: int = 64,
        queue_wait_s: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.rasa = rasa
        self.max_chars = max_chars
        self.events = Listeners()
        self.transcript = Transcript(
            sessions=sessions, secret_key=secret_key, max_chars=max_chars, events=self.events
        )
        self.handoffs = HandOffs(self.transcript)
        self.slots = BotSlots(max_in_flight=max_in_flight, max_waiting=max_waiting, queue_wait_s=queue_wait_s)
        self.outbox = self.transcript.outbox
        self.listeners: list[EventListener] = self.events.listeners
        self.actions_healthy: Callable[[], Awaitable[bool]] | None = None
        self._locks = KeyedLocks()  # one conversation's turns with the bot, in order
        self._storing = KeyedLocks()  # one conversation's inbound messages, stored one at a time
        self._actions_down = False  # set when an empty answer came from a failed action server
        self._answering: set[int] = set()  # stored messages whose turn is under way in this process

    # What channels, the console and the case feed use, kept where they live.

    def sender_id_for(self, channel: str, identity: str) -> str:
        return self.transcript.sender_id_for(channel, identity)

    def add_adapter(self, adapter: ChannelAdapter) -> None:
        self.transcript.add_adapter(adapter)

    def lock(self, sender_id: str) -> AbstractAsyncContextManager[None]:
        """The lock that keeps one conversation's turns with the bot in order."""
        return self._locks.hold(sender_id)

    def bot_slot(self) -> AbstractAsyncContextManager[None]:
        return self.slots.slot()

    async def deliver(self, conversation_id: int, replies: list[Reply], author: str) -> list[Reply]:
        return await self.transcript.deliver(conversation_id, replies, author)

    async def announce(self, kind: str, conversation: Conversation, event: dict[str, Any]) -> None:
        """Tell the listeners (the operator console) about something that happened."""
        await self.events.notify(kind, conversation, event)

    # Bot turns.

    async def receive(self, inbound: Inbound) -> list[Reply]:
        """Store a citizen's message, then answer it (or queue it); return the replies."""
        sender_id = self.sender_id_for(inbound.channel, inbound.identity)
        async with self._storing.hold(sender_id), self.sessions() as session:
            conversation = await self.transcript.conversation_of(session, inbound.channel, inbound.identity)
            text, metadata = await self.transcript.read_inbound(session, conversation, inbound)
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
            conversation = await self.transcript.conversation_of(session, channel, identity)
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
            stored = await self.transcript.store_replies(session, conversation, answers, Author.SYSTEM)
            await self.transcript.send(session, conversation, stored, live=True)
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
        kept = attachment(photo=photo, location=location, label=label)
        if kept is None:
            return []
        said, payload = kept
        async with self._storing.hold(self.sender_id_for(channel, identity)), self.sessions() as session:
            conversation = await self.transcript.conversation_of(session, channel, identity)
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
            await self.events.notify("message", conversation, message_event(message))
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
            unanswered = await self.transcript.unanswered(session, conversation_id, up_to=message_id)
            turns = [Turn.of(m) for m in unanswered]
            if conversation.handling != Handling.BOT:
                if not turns[-1].remembers:
                    return await self.handoffs.for_operators(session, conversation, unanswered)
                turns = turns[-1:]  # a photo or a pin still goes in the tracker, for the report
        return await self._answer_in_order(conversation, turns, live=True)

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
                await remember(self.rasa, conversation.sender_id, turn.payload)
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
            stored = await self.transcript.store_replies(session, conversation, replies, author)
            if handoff is not None and conversation.handling == Handling.BOT:
                stored += await self.handoffs.hand_off(session, conversation, handoff)
            await self.transcript.send(session, conversation, stored, live=live)
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
                stored = await self.transcript.store_replies(
                    session, conversation, [Reply(text=notice)], Author.SYSTEM
                )
            elif state == MessageState.PROCESSED and conversation.handling == Handling.BOT:
                stored = await self.handoffs.hand_off(session, conversation, {"reason": "bot_error"})
            await self.transcript.send(session, conversation, stored, live=live)
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
                .limit(self.slots.max_waiting)
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
                pending = await self.transcript.unanswered(session, conversation_id, up_to=None)
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
                        pending = await self.transcript.unanswered(session, conversation_id, up_to=None)
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

    async def _confirm_handled(self, sender_id: str) -> None:
        """An empty answer is a silent turn, or a failure Rasa swallowed: with the action server down,
        Rasa's REST channel answers 200 with nothing. Then the bot counts as unavailable, and the message
        is sent again once the actions are back (the form is still active, so it takes it then)."""
        if self.actions_healthy is None or await self.actions_healthy():
            return
        self._actions_down = True
        raise RasaUnavailable("the action server is unavailable")
