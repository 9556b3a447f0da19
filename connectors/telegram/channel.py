"""Sending to Telegram: the adapter the outbox hands messages to."""

from __future__ import annotations

from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from connectors.core.models import Conversation, Message
from connectors.core.outbox import PermanentFailure, TransientFailure

CHANNEL = "telegram"


def keyboard(message: Message) -> InlineKeyboardMarkup | None:
    """Rasa buttons as an inline keyboard; a button's data names the message and the button."""
    buttons = (message.payload or {}).get("buttons") or []
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(str(b.get("title", "")), callback_data=f"b:{message.id}:{i}")]
            for i, b in enumerate(buttons)
        ]
    )


class TelegramAdapter:
    name = CHANNEL
    synchronous_replies = False

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def transmit(self, conversation: Conversation, message: Message) -> str | None:
        try:
            sent = await self.bot.send_message(
                chat_id=int(conversation.identity), text=message.text or "…", reply_markup=keyboard(message)
            )
        except RetryAfter as limited:
            wait = limited.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise TransientFailure("rate limited (429)", retry_after=seconds) from limited
        except (BadRequest, Forbidden) as refused:
            raise PermanentFailure(f"{type(refused).__name__}: {refused.message}") from refused
        except (TimedOut, NetworkError) as failed:
            raise TransientFailure(f"{type(failed).__name__}: {failed.message}") from failed
        return str(sent.message_id)
