"""Telegram handlers in python-telegram-bot's own shape, wired in one `build_application`."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from connectors.core.conversation import ConversationCore
from connectors.core.messages import Inbound
from connectors.settings import GatewaySettings
from connectors.telegram.channel import CHANNEL

log = logging.getLogger(__name__)
HELP = (
    "您好，这里是12345市民服务热线。您可以：\n"
    "• 直接描述遇到的问题，我帮您提交工单\n"
    "• 发送“查进度 工单号”查询办理情况，/status 查看您的工单\n"
    "• 咨询常见政策问题\n"
    "• 说“转人工”联系人工客服\n"
    "反映问题时可以发送照片和位置。紧急情况请直接拨打110、119、120。"
)


def core_of(context: ContextTypes.DEFAULT_TYPE) -> ConversationCore:
    return context.application.bot_data["core"]


def identity_of(update: Update) -> str:
    chat = update.effective_chat
    if chat is None:
        raise ValueError("update without a chat")
    return str(chat.id)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pass a citizen's text to the conversation core."""
    if update.effective_message and update.effective_message.text:
        text = update.effective_message.text
        await core_of(context).receive(Inbound(channel=CHANNEL, identity=identity_of(update), text=text))


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet a citizen who opens the bot."""
    await core_of(context).receive(Inbound(channel=CHANNEL, identity=identity_of(update), text="你好"))


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain what the bot does."""
    await core_of(context).note(CHANNEL, identity_of(update), "/help", HELP)


async def on_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the citizen's cases."""
    await core_of(context).receive(Inbound(channel=CHANNEL, identity=identity_of(update), text="我的工单"))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the callback query and pass the chosen button on."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    button = _chosen(query.data or "", context)
    if button is not None:
        await core_of(context).receive(Inbound(channel=CHANNEL, identity=identity_of(update), button=button))


def _chosen(data: str, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Our callback data is b:<message id>:<index>; the core checks it against what was offered."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != "b" or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return f"#{parts[1]}:{parts[2]}"


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Turn a location pin (or a venue) into the place of the case being reported."""
    message = update.effective_message
    if message is None or message.location is None:
        return
    venue = message.venue.address if message.venue else None
    await core_of(context).attach(
        CHANNEL,
        identity_of(update),
        location=(message.location.latitude, message.location.longitude),
        label=venue,
    )


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Keep the photo and attach it to the case being reported; a caption is passed on as text."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    uploads: Path = context.application.bot_data["uploads"]
    name = f"{uuid.uuid4().hex}.jpg"
    file = await context.bot.get_file(message.photo[-1].file_id)
    await file.download_to_drive(uploads / name)
    identity = identity_of(update)
    await core_of(context).attach(CHANNEL, identity, photo=f"upload:{name}")
    if message.caption:
        await core_of(context).receive(Inbound(channel=CHANNEL, identity=identity, text=message.caption))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error first; the citizen's message is already stored by then."""
    log.error("telegram update failed: %s", type(context.error).__name__, exc_info=context.error)


def build_application(settings: GatewaySettings, core: ConversationCore, uploads: Path) -> Application:
    """Wire the bot: settings, rate limiter, handlers, and the core it hands everything to."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    base = settings.telegram_api_base_url.rstrip("/")
    builder = (
        Application.builder()
        .token(token)
        .base_url(base)
        .base_file_url(base.removesuffix("/bot") + "/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=0))
        .concurrent_updates(64)
    )
    if settings.telegram_mode == "webhook":
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data.update(core=core, uploads=uploads)
    application.add_handler(CommandHandler("start", on_start))
    application.add_handler(CommandHandler("help", on_help))
    application.add_handler(CommandHandler("status", on_status))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(filters.LOCATION, on_location))
    application.add_handler(MessageHandler(filters.PHOTO, on_photo))
    application.add_handler(MessageHandler(filters.TEXT, on_text))  # text, and unknown commands
    application.add_error_handler(on_error)
    return application
