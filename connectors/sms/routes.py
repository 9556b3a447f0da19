"""The SMS provider's push of citizens' replies (Alibaba Cloud's SmsUp over HTTP: a JSON array of
{phone_number, content, send_time, dest_code, sequence_id}). The provider signs nothing, so the URL
it is given carries a shared secret (SMS_WEBHOOK_SECRET); each reply is taken once by its sequence id.
A non-200 answer makes the provider push again (three more times)."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy.exc import IntegrityError

from common.phone import normalise_mobile
from connectors.core.models import SeenInbound
from connectors.sms.channel import CHANNEL
from connectors.wiring import wired

log = logging.getLogger(__name__)
router = APIRouter(prefix="/sms", tags=["sms"])
MAX_BODY_BYTES = 200_000


@router.post("/inbound")
async def inbound(request: Request, secret: Annotated[str, Query(max_length=200)] = "") -> dict[str, Any]:
    """Take citizens' SMS replies (ratings answered with 1, 2 or 3)."""
    sms = wired(request).sms
    configured = wired(
        request
    ).settings.sms_webhook_secret  # required when SMS is on (connectors/settings.py)
    if sms is None or configured is None:
        raise HTTPException(404, "SMS is not on")
    expected = configured.get_secret_value().encode()
    if not hmac.compare_digest(secret.encode(), expected):
        raise HTTPException(403, "wrong secret")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(413, "too large")
    try:
        replies = [dict(item) for item in await request.json()]
    except (ValueError, TypeError):
        raise HTTPException(400, "not a JSON array of replies") from None
    for reply in replies:
        phone = normalise_mobile(str(reply.get("phone_number") or ""))
        if phone is None or not await _first_time(request, str(reply.get("sequence_id") or "")):
            continue
        if not await sms.answer(phone, str(reply.get("content") or "")):
            log.info("an SMS reply from a number with no case updates was ignored")
    await sms.submit(wired(request).feed.backend)
    return {"code": 0, "msg": "接收成功"}


async def _first_time(request: Request, sequence_id: str) -> bool:
    if not sequence_id:
        return True
    async with wired(request).sessions() as session:
        session.add(SeenInbound(key=f"{CHANNEL}:{sequence_id}"[:160]))
        try:
            await session.commit()
        except IntegrityError:
            return False
    return True
