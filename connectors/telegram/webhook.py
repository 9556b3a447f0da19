"""Telegram's webhook: the secret-token header checked, repeated update ids ignored."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from sqlalchemy.exc import IntegrityError
from telegram import Update

from connectors.core.models import SeenUpdate

log = logging.getLogger(__name__)
router = APIRouter(prefix="/telegram", tags=["telegram"])
MAX_UPDATE_BYTES = 1_000_000  # the gateway's BodyLimit refuses a larger body (413)


@router.post("/webhook")
async def webhook(
    request: Request,
    secret: Annotated[str | None, Header(alias="X-Telegram-Bot-Api-Secret-Token")] = None,
) -> dict[str, Any]:
    """Take one update from Telegram and queue it for the bot's handlers."""
    runner = request.app.state.telegram
    settings = request.app.state.settings
    if runner is None or settings.telegram_mode != "webhook" or runner.application is None:
        raise HTTPException(404, "the Telegram webhook is not on")
    expected = settings.telegram_webhook_secret.get_secret_value().encode()
    if secret is None or not hmac.compare_digest(secret.encode(), expected):
        raise HTTPException(403, "wrong or missing secret token")
    try:
        data = await request.json()
        update_id = int(data["update_id"])
    except (ValueError, KeyError, TypeError):
        raise HTTPException(400, "not a Telegram update") from None
    async with request.app.state.sessions() as session:
        session.add(SeenUpdate(update_id=update_id))
        try:
            await session.commit()
        except IntegrityError:
            return {"ok": True, "duplicate": True}
    await runner.application.update_queue.put(Update.de_json(data, runner.application.bot))
    return {"ok": True}
