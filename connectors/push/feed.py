"""Read the backend's case event feed and tell citizens: dispatched, replied to, resolved, reopened;
by SMS, accepted and resolved (with the rating question) for cases whose updates go by SMS.

Each event becomes one transcript message and one outbox entry, written in the same transaction as
the feed cursor, so an event is queued exactly once however often the gateway restarts. When a case
is resolved, the rating conversation is started through Rasa's trigger_intent API (once the bot, not
an operator, is talking to the citizen). A rating that fails to start is tried again after a back-off,
and the ones after it go on (one failing conversation once held back every later rating); only when
the whole bot is down or busy does the round stop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

import httpx
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.core.conversation import ConversationCore
from connectors.core.messages import Reply
from connectors.core.models import (
    Author,
    Conversation,
    FeedCursor,
    Handling,
    Message,
    MessageState,
    PendingRating,
    SenderRename,
)
from connectors.core.models import Direction as D
from connectors.core.outbox import backoff
from connectors.core.rasa import RasaRefused, RasaUnavailable
from connectors.core.turns import BotBusy
from connectors.sms.channel import SmsUpdates
from connectors.upgrade import compact

log = logging.getLogger(__name__)
CURSOR = "cases"
RATING_INTENT = "EXTERNAL_rate_case"


def case_of(event: dict[str, Any]) -> dict[str, Any]:
    """What a channel may need of the case besides the text (WeChat's template message, SMS)."""
    return {
        "number": event["number"],
        "kind": event["kind"],
        "status_text": event.get("status_text"),
        "time_limit_label": event.get("time_limit_label"),
        "due_at": event.get("due_at"),
        "note": event.get("note"),
    }


def compose(event: dict[str, Any]) -> str | None:
    """The short message a citizen gets for a case event, or None for events they need not see."""
    number, note = event["number"], event.get("note") or ""
    kind = event["kind"]
    if kind == "dispatch":
        return (
            f"【工单进展】您的工单 {number} 已派发至{event.get('unit_name') or '承办单位'}办理，请耐心等待。"
        )
    if kind in ("resolve", "resolve_on_spot"):
        return f"【工单办结】您的工单 {number} 已办结。答复：{note}"
    if kind == "reopen":
        return f"【工单重办】您的工单 {number} 已重新派发办理。{note}"
    if kind == "note":
        return f"【工单答复】关于工单 {number}：{note}"
    return None


class RatingBot(Protocol):
    """What the feed asks of the bot: start the rating dialogue, and whether the bot is up at all."""

    async def trigger_intent(
        self, sender_id: str, intent: str, entities: dict[str, Any]
    ) -> list[dict[str, Any]]: ...

    async def healthy(self) -> bool: ...


class CaseFeed:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        core: ConversationCore,
        bot: RatingBot,
        backend_url: str,
        token: str,
        timeout_s: float,
        sms: SmsUpdates | None = None,
    ) -> None:
        self.sessions = sessions
        self.core = core  # its turn order (lock, bot_slot) and transcript
        self.bot = bot
        self.sms = sms
        self._http = httpx.AsyncClient(
            base_url=backend_url.rstrip("/"), timeout=timeout_s, headers={"Authorization": f"Bearer {token}"}
        )
        self._failed: dict[int, tuple[int, float]] = {}  # rating event -> (failures, when to try again)

    @property
    def backend(self) -> httpx.AsyncClient:
        """The backend, with the gateway's service token."""
        return self._http

    async def close(self) -> None:
        await self._http.aclose()

    async def run(self, interval_s: float) -> None:
        while True:
            try:
                await self.poll_once()
                await self.start_ratings()
                if self.sms is not None:
                    await self.sms.submit(self._http)
            except httpx.HTTPError as error:
                log.warning("case feed unavailable: %s", type(error).__name__)
            except Exception:
                log.exception("case feed round failed")
            await asyncio.sleep(interval_s)

    async def poll_once(self) -> int:
        """Take the events after the cursor; return how many were read."""
        await self.push_renames()
        async with self.sessions() as session:
            cursor = await session.get(FeedCursor, CURSOR) or FeedCursor(name=CURSOR, position=0)
            position = cursor.position
        response = await self._http.get("/api/v1/events", params={"after": position, "limit": 100})
        response.raise_for_status()
        events = response.json()
        for event in events:
            await self._take(event)
        if events:
            self.core.transcript.wake()
        return len(events)

    async def push_renames(self) -> int:
        """Tell the backend which conversations moved to new ids (connectors.upgrade), so that their
        cases follow, before any case event is read; return how many were sent."""
        sent = 0
        while True:
            async with self.sessions() as session:
                batch = list(
                    await session.scalars(
                        select(SenderRename).where(SenderRename.tracker_done.is_(True)).limit(200)
                    )
                )
            if not batch:
                if sent:
                    await compact(self.sessions.kw["bind"])  # the old ids held tokens
                return sent
            body = {"renames": [{"old": r.old_sender_id, "new": r.new_sender_id} for r in batch]}
            response = await self._http.post("/api/v1/citizen/renames", json=body)
            response.raise_for_status()
            async with self.sessions() as session:
                done = [r.old_sender_id for r in batch]
                await session.execute(delete(SenderRename).where(SenderRename.old_sender_id.in_(done)))
                await session.commit()
            sent += len(batch)

    async def _take(self, event: dict[str, Any]) -> None:
        async with self.sessions() as session:
            cursor = await session.get(FeedCursor, CURSOR)
            if cursor is None:
                cursor = FeedCursor(name=CURSOR, position=0)
                session.add(cursor)
            if event["id"] <= cursor.position:
                return
            cursor.position = event["id"]
            conversation = await session.scalar(
                select(Conversation).where(Conversation.sender_id == event.get("channel_identity"))
            )
            text = compose(event)
            if conversation is not None and text:
                message = Message(
                    conversation_id=conversation.id,
                    direction=D.OUT,
                    author=Author.SYSTEM,
                    text=text,
                    payload={"case_event": event["id"], "case": case_of(event)},
                    state=MessageState.PROCESSED,
                )
                session.add(message)
                await session.flush()
                self.core.transcript.queue_stored(session, [message])
                if event["kind"] in ("resolve", "resolve_on_spot"):
                    session.add(
                        PendingRating(
                            event_id=event["id"], conversation_id=conversation.id, case_number=event["number"]
                        )
                    )
            if self.sms is not None:
                await self.sms.tell(session, event, case_of(event))
            await session.commit()

    async def start_ratings(self) -> int:
        """Start the rating conversation for resolved cases whose citizen is talking to the bot."""
        async with self.sessions() as session:
            pending = (
                await session.execute(
                    select(PendingRating, Conversation).join(Conversation).order_by(PendingRating.event_id)
                )
            ).all()
        started = 0
        for rating, conversation in pending:
            if conversation.handling != Handling.BOT or not self._due(rating.event_id):
                continue
            try:
                async with self.core.lock(conversation.sender_id), self.core.bot_slot():
                    raw = await self.bot.trigger_intent(
                        conversation.sender_id, RATING_INTENT, {"case_number": rating.case_number}
                    )
                    await self._finish_rating(rating.event_id, conversation.id, raw)
            except BotBusy:
                break  # the bot is saturated: the rest next round
            except (RasaUnavailable, RasaRefused) as error:
                if isinstance(error, RasaUnavailable) and not await self.bot.healthy():
                    log.warning("could not start a rating yet: %s", error)
                    break  # the bot is down: every rating waits
                self._postpone(rating.event_id, error)
                continue
            self._failed.pop(rating.event_id, None)
            started += 1
        waiting = {rating.event_id for rating, _ in pending}
        self._failed = {event: failed for event, failed in self._failed.items() if event in waiting}
        return started

    def _due(self, event_id: int) -> bool:
        return self._failed.get(event_id, (0, 0.0))[1] <= time.monotonic()

    def _postpone(self, event_id: int, error: Exception) -> None:
        """This rating failed to start (its conversation, not the bot): try it again after a back-off."""
        failures = self._failed.get(event_id, (0, 0.0))[0] + 1
        delay = backoff(failures)
        self._failed[event_id] = (failures, time.monotonic() + delay)
        log.warning("rating of event %s failed to start (%s); again in %.0f s", event_id, error, delay)

    async def _finish_rating(self, event_id: int, conversation_id: int, raw: list[dict[str, Any]]) -> None:
        """Store and queue the bot's rating questions and drop the pending rating, in one transaction."""
        async with self.sessions() as session:
            rating = await session.get(PendingRating, event_id)
            if rating is None:
                return
            await session.delete(rating)
            conversation = await session.get_one(Conversation, conversation_id)
            replies = [Reply.from_rasa(m) for m in raw if m.get("text") or m.get("buttons")]
            stored = await self.core.transcript.store_replies(session, conversation, replies, Author.BOT)
            resolved = await self._case_told(session, conversation_id, event_id)
            for reply in stored:  # the rating question belongs to the case (WeChat's template message)
                message = await session.get_one(Message, reply.id)
                message.payload = {
                    **(message.payload or {}),
                    "case": {"number": rating.case_number, **resolved, "kind": "rating"},
                }
            await self.core.transcript.enqueue(session, stored)

    async def _case_told(self, session: AsyncSession, conversation_id: int, event_id: int) -> dict[str, Any]:
        """The case as the resolution message told it (for the rating question that follows it)."""
        told = await session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.author == Author.SYSTEM)
            .order_by(Message.id.desc())
            .limit(50)
        )
        for message in told:
            if (message.payload or {}).get("case_event") == event_id:
                return dict(message.payload.get("case") or {})
        return {}
