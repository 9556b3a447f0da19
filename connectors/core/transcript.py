"""The transcript: conversations by channel identity, the messages in them, and their delivery.

A reply goes back in the citizen's own request on a synchronous channel (the web chat) and through
the outbox otherwise; everything stored is told to the listeners (the operators' console)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.database import insert_unless_present
from connectors.core.events import Listeners, message_event
from connectors.core.ids import derive_sender_id
from connectors.core.messages import Inbound, Reply
from connectors.core.models import Author, Conversation, Direction, Message, MessageState
from connectors.core.outbox import Outbox, Transmitter
from connectors.core.sanitize import clean_text, offered_payload


class ChannelAdapter(Transmitter, Protocol):
    """What a channel offers the core: sending one message, and whether replies go back in the request.

    A synchronous channel (the web chat) hands the bot's replies back in its own request; every other
    message to its citizens, and every message of an asynchronous channel (Telegram), goes through
    the outbox.
    """

    synchronous_replies: bool


class Transcript:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        secret_key: str,
        max_chars: int,
        events: Listeners,
    ) -> None:
        self.sessions = sessions
        self.secret_key = secret_key
        self.max_chars = max_chars
        self.events = events
        self.outbox = Outbox(sessions)
        self.adapters: dict[str, ChannelAdapter] = {}

    def sender_id_for(self, channel: str, identity: str) -> str:
        """The conversation's id at the Rasa server and on cases (derived: see connectors.core.ids)."""
        return derive_sender_id(self.secret_key, channel, identity)

    def add_adapter(self, adapter: ChannelAdapter) -> None:
        self.adapters[adapter.name] = adapter
        self.outbox.transmitters[adapter.name] = adapter

    async def conversation_of(self, session: AsyncSession, channel: str, identity: str) -> Conversation:
        """A channel identity's conversation, created in the caller's transaction when it is new.

        A citizen's first messages can race here (a notice stored beside a turn, two gateway
        instances): the insert does nothing when another one made the row first, and both read it."""
        mine = select(Conversation).where(Conversation.channel == channel, Conversation.identity == identity)
        conversation = await session.scalar(mine)
        if conversation is None:
            new = insert_unless_present(session.get_bind().dialect.name, Conversation).values(
                channel=channel, identity=identity, sender_id=self.sender_id_for(channel, identity)
            )
            await session.execute(new)
            conversation = (await session.scalars(mine)).one()
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
            await self.events.notify("message", conversation, message_event(row))
        return stored

    async def send(
        self, session: AsyncSession, conversation: Conversation, stored: list[Reply], *, live: bool
    ) -> None:
        """Commit; replies go back in the citizen's request on a synchronous channel, else the outbox."""
        adapter = self.adapters.get(conversation.channel)
        if live and adapter is not None and adapter.synchronous_replies:
            await session.commit()
        else:
            await self.enqueue(session, stored)

    async def enqueue(self, session: AsyncSession, replies: list[Reply]) -> None:
        """Queue stored replies for delivery, commit everything, and wake the outbox."""
        ids = [reply.id for reply in replies if reply.id is not None]
        if ids:
            messages = (await session.scalars(select(Message).where(Message.id.in_(ids)))).all()
            self.outbox.enqueue(session, messages)
        await session.commit()
        if ids:
            self.outbox.wake()

    def queue_stored(self, session: AsyncSession, messages: Sequence[Message]) -> None:
        """Queue messages stored in the caller's transaction (a case update, an SMS) for delivery; call
        `wake` after it commits."""
        self.outbox.enqueue(session, messages)

    def wake(self) -> None:
        """Deliver what was queued now, not at the outbox's next round."""
        self.outbox.wake()

    async def release_held(self, channel: str, identity: str) -> int:
        """The citizen wrote: the messages held for their channel's window can go now; return how many."""
        async with self.sessions() as session:
            conversation_id = await session.scalar(
                select(Conversation.id).where(
                    Conversation.channel == channel, Conversation.identity == identity
                )
            )
        return 0 if conversation_id is None else await self.outbox.release(conversation_id)

    async def deliver(self, conversation_id: int, replies: list[Reply], author: str) -> list[Reply]:
        """Store and send messages that answer nothing (operators, case updates) through the outbox."""
        async with self.sessions() as session:
            conversation = await session.get_one(Conversation, conversation_id)
            stored = await self.store_replies(session, conversation, replies, author)
            await self.enqueue(session, stored)
        return stored

    async def unanswered(
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

    async def read_inbound(
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
        if inbound.intent is not None:  # a command (Telegram's /start): trusted, not read by the NLU
            metadata["rasa_text"] = f"/{inbound.intent}"
            text = text or f"/{inbound.intent}"
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


def by_reference(chosen: str, offered_in: int | None, buttons: list[dict[str, str]]) -> str:
    """Resolve "#<message id>:<index>" (Telegram's callback data) to that button's payload."""
    if not chosen.startswith("#"):
        return chosen
    message_id, _, index = chosen[1:].partition(":")
    if message_id != str(offered_in) or not index.isdigit() or int(index) >= len(buttons):
        return ""
    return buttons[int(index)].get("payload", "")
