"""Telegram's webhook: the secret-token header checked, each update stored before the 200 that
acknowledges it (connectors.telegram.updates), repeated update ids ignored."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from telegram import Update

from connectors.wiring import wired

log = logging.getLogger(__name__)
router = APIRouter(prefix="/telegram", tags=["telegram"])
MAX_UPDATE_BYTES = 1_000_000  # the gateway's BodyLimit refuses a larger body (413)


@router.post("/webhook")
async def webhook(
    request: Request,
    secret: Annotated[str | None, Header(alias="X-Telegram-Bot-Api-Secret-Token")] = None,
) -> dict[str, Any]:
    """Take one update from Telegram and queue it for the bot's handlers."""
    runner = wired(request).telegram
    settings = wired(request).settings
    configured = settings.telegram_webhook_secret  # required in webhook mode (connectors/settings.py)
    if runner is None or settings.telegram_mode != "webhook" or runner.updates is None or configured is None:
        raise HTTPException(404, "the Telegram webhook is not on")
    if runner.application is None:
        raise HTTPException(503, "the Telegram bot is starting")
    expected = configured.get_secret_value().encode()
    if secret is None or not hmac.compare_digest(secret.encode(), expected):
        raise HTTPException(403, "wrong or missing secret token")
    try:
        data = await request.json()
        int(data["update_id"])
        update = Update.de_json(data, runner.application.bot)
    except (ValueError, KeyError, TypeError):
        raise HTTPException(400, "not a Telegram update") from None
    if not await runner.updates.take(update):
        return {"ok": True, "duplicate": True}
    return {"ok": True}
