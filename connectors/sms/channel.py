"""The SMS channel: what a case event says by SMS, sending it through the outbox, and the ratings
citizens answer by replying 1, 2 or 3 (submitted to the backend with the gateway's service token)."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.core.conversation import ConversationCore
from connectors.core.models import (
    Author,
    Conversation,
    Direction,
    Message,
    MessageState,
    SmsAttempt,
    SmsRating,
    utcnow,
)
from connectors.core.outbox import PermanentFailure, TransientFailure
from connectors.sms.provider import SmsProvider, SmsRefused, SmsUnavailable

log = logging.getLogger(__name__)
CHANNEL = "sms"
PARAM_CHARS = 35  # a template variable's length at the provider (Alibaba Cloud's default limit)
SATISFACTION = {"1": "satisfied", "2": "basically_satisfied", "3": "dissatisfied"}
LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
WORDS = (("基本满意", "basically_satisfied"), ("不满意", "dissatisfied"), ("满意", "satisfied"))
CASE_NUMBER = re.compile(r"(?<!\d)(\d{4})[\s-]?(\d{4})[\s-]?(\d{5})(?!\d)")  # 2026-1203-00042
DIGITS = str.maketrans("０１２３４５６７８９一二三", "0123456789123")


def compose(event: dict[str, Any]) -> tuple[str, str, dict[str, str]] | None:
    """(template, text for the transcript, template parameters) of a case event told by SMS."""
    number, kind = str(event["number"]), str(event["kind"])
    if kind == "accept":
        limit = str(event.get("time_limit_label") or "")
        text = f"您反映的问题已受理，工单号{number}，{limit}。"
        return "accepted", text, {"number": number, "limit": _cut(limit)}
    if kind in ("resolve", "resolve_on_spot"):
        reply = str(event.get("note") or "已办结")
        text = f"您的工单{number}已办结，答复：{reply}。请回复数字评价：1满意，2基本满意，3不满意。"
        return "resolved", text, {"number": number, "reply": _cut(reply)}
    return None


def answer_of(text: str) -> tuple[str | None, str | None]:
    """(satisfaction, case number) in a reply: "1", "２", "3 2026120300001", "基本满意"."""
    found = CASE_NUMBER.search(text)
    number = "".join(found.groups()) if found else None
    plain = text.strip().translate(DIGITS)
    if plain[:1] in SATISFACTION and (len(plain) == 1 or not plain[1].isdigit()):
        return SATISFACTION[plain[:1]], number
    for word, value in WORDS:
        if word in plain:
            return value, number
    return None, number


class SmsAdapter:
    name = CHANNEL
    synchronous_replies = False

    def __init__(
        self, provider: SmsProvider, sessions: async_sessionmaker[AsyncSession], templates: dict[str, str]
    ) -> None:
        self.provider = provider
        self.sessions = sessions
        self.templates = templates  # our template name -> the provider's template code

    async def transmit(self, conversation: Conversation, message: Message) -> str | None:
        sms = (message.payload or {}).get("sms") or {}
        template = self.templates.get(str(sms.get("template")))
        if not template:
            raise PermanentFailure("SMS goes only by an approved template; this message has none")
        phone, out_id = conversation.identity, str(message.id)
        try:
            attempted = await self._attempted(message.id)
            if attempted is not None:  # tried before: it may have gone out although we heard nothing
                sent = await self.provider.sent_before(phone=phone, out_id=out_id, since=attempted)
                if sent:
                    return sent
            return await self.provider.send(
                phone=phone, template=template, params=sms["params"], out_id=out_id
            )
        except SmsUnavailable as failure:
            raise TransientFailure(str(failure), retry_after=failure.retry_after) from failure
        except SmsRefused as refused:
            raise PermanentFailure(str(refused)) from refused

    async def _attempted(self, message_id: int) -> Any:
        """When this message was first handed to the provider; None (and recorded now) the first time."""
        async with self.sessions() as session:
            attempt = await session.get(SmsAttempt, message_id)
            if attempt is not None:
                return attempt.attempted_at
            session.add(SmsAttempt(message_id=message_id))
            await session.commit()
        return None


class SmsUpdates:
    """Case events told by SMS, and the ratings answered by SMS."""

    def __init__(self, core: ConversationCore, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.core = core
        self.sessions = sessions
        self._submitting = asyncio.Lock()  # the webhook and the feed's rounds both submit

    async def tell(self, session: AsyncSession, event: dict[str, Any], case: dict[str, Any]) -> None:
        """Store and queue the SMS for a case event, in the feed's transaction (with its cursor)."""
        composed = compose(event)
        if composed is None or not event.get("sms_to"):
            return
        template, text, params = composed
        conversation = await self.core.transcript.conversation_of(session, CHANNEL, str(event["sms_to"]))
        message = Message(
            conversation_id=conversation.id,
            direction=Direction.OUT,
            author=Author.SYSTEM,
            text=text,
            payload={
                "case_event": event["id"],
                "case": case,
                "sms": {"template": template, "params": params},
            },
            state=MessageState.PROCESSED,
        )
        session.add(message)
        await session.flush()
        self.core.transcript.queue_stored(session, [message])
        if template == "resolved":
            session.add(
                SmsRating(event_id=event["id"], conversation_id=conversation.id, case_number=event["number"])
            )

    async def answer(self, phone: str, text: str) -> bool:
        """Store a citizen's SMS and the rating it answers; False when no conversation has this phone."""
        async with self.sessions() as session:
            conversation = await session.scalar(
                select(Conversation).where(Conversation.channel == CHANNEL, Conversation.identity == phone)
            )
            if conversation is None:
                return False
            satisfaction, number = answer_of(text)
            session.add(
                Message(
                    conversation_id=conversation.id,
                    direction=Direction.IN,
                    author=Author.CITIZEN,
                    text=text[:1000],
                    state=MessageState.PROCESSED,
                )
            )
            conversation.last_message_at = utcnow()
            rating = await self._asked(session, conversation.id, number)
            if rating is not None and satisfaction is not None:
                rating.state, rating.satisfaction, rating.answered_at = "answered", satisfaction, utcnow()
            await session.commit()
        return True

    async def _asked(
        self, session: AsyncSession, conversation_id: int, number: str | None
    ) -> SmsRating | None:
        """The rating a reply answers: the named case's, else the newest one still asked."""
        query = select(SmsRating).where(
            SmsRating.conversation_id == conversation_id, SmsRating.state == "asked"
        )
        if number:
            query = query.where(SmsRating.case_number == number)
        return await session.scalar(query.order_by(SmsRating.id.desc()).limit(1))

    async def submit(self, backend: httpx.AsyncClient) -> int:
        """Send answered ratings to the backend (again after a failure); return how many it took."""
        async with self._submitting:
            return await self._submit(backend)

    async def _submit(self, backend: httpx.AsyncClient) -> int:
        async with self.sessions() as session:
            answered = list(await session.scalars(select(SmsRating).where(SmsRating.state == "answered")))
            phones = {
                c.id: c.identity
                for c in await session.scalars(
                    select(Conversation).where(Conversation.id.in_({r.conversation_id for r in answered}))
                )
            }
        taken = 0
        for rating in answered:
            satisfaction = str(rating.satisfaction)
            response = await backend.post(
                f"/api/v1/cases/{rating.case_number}/rating",
                json={
                    "resolved": satisfaction != "dissatisfied",
                    "satisfaction": satisfaction,
                    "sms_phone": phones[rating.conversation_id],
                },
            )
            if response.status_code >= 500 or response.status_code == 429:
                break  # the backend is not there: every answer waits for the next round
            taken += await self._settle(rating.id, ok=response.status_code == 200)
        return taken

    async def _settle(self, rating_id: int, *, ok: bool) -> int:
        async with self.sessions() as session:
            rating = await session.get_one(SmsRating, rating_id)
            if rating.state != "answered":  # another gateway process settled it first
                return 0
            rating.state = "submitted" if ok else "refused"
            if not ok:
                log.warning("the backend refused an SMS rating of case %s", rating.case_number)
                await session.commit()
                return 0
            label = LABELS[str(rating.satisfaction)]
            message = Message(
                conversation_id=rating.conversation_id,
                direction=Direction.OUT,
                author=Author.SYSTEM,
                text=f"感谢您对工单{rating.case_number}的评价（{label}）。",
                payload={
                    "sms": {"template": "rated", "params": {"number": rating.case_number, "rating": label}}
                },
                state=MessageState.PROCESSED,
            )
            session.add(message)
            await session.flush()
            self.core.transcript.queue_stored(session, [message])
            await session.commit()
        self.core.transcript.wake()
        return 1


def _cut(text: str) -> str:
    return text if len(text) <= PARAM_CHARS else text[: PARAM_CHARS - 1] + "…"
