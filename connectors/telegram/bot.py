"""Telegram handlers in python-telegram-bot's own shape, wired in one `build_application`."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Message, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from common.limits import RateLimiter
from connectors.core.conversation import ConversationCore
from connectors.core.messages import Inbound
from connectors.core.models import MessageState
from connectors.core.sanitize import clean_text
from connectors.settings import GatewaySettings
from connectors.telegram.channel import CHANNEL
from connectors.telegram.updates import FinishingProcessor, StoredUpdates

log = logging.getLogger(__name__)
HELP = (
    "您好，这里是12345市民服务热线。您可以：\n"
    "• 直接描述遇到的问题，我帮您提交工单\n"
    "• 发送“查进度 工单号”查询办理情况，/status 查看您的工单\n"
    "• 咨询常见政策问题\n"
    "• 说“转人工”联系人工客服\n"
    "反映问题时可以发送照片和位置。紧急情况请直接拨打110、119、120。"
)
TOO_FAST = "您发送得太快了，请稍等一分钟再发。刚才超出的消息没有处理，需要的话请稍后重新发送。"
CUT = "您的消息太长了，我只收到了前{max_chars}个字。后面的内容请分开再发一次。"
EDITED = "您修改了之前的消息。修改后的内容不会重新处理，需要更正或补充的话，请直接再发一条新消息。"
UNREADABLE = "抱歉，我暂时{verb}不了{kind}，只能看懂文字、照片和位置。请用文字告诉我您遇到的问题。"
IMAGE_FILE = "抱歉，我暂时读不了以文件方式发来的图片。请直接发送照片（不要选“以文件发送”），或用文字描述。"
# What a citizen can send that the bot cannot read, in the order Telegram's fields are checked (an
# animation is a document too): field, what to call it, and the verb for it.
UNREADABLE_KINDS = (
    ("voice", "语音", "听"),
    ("audio", "音频", "听"),
    ("video_note", "视频", "看"),
    ("video", "视频", "看"),
    ("animation", "动图", "看"),
    ("sticker", "表情贴纸", "看"),
    ("document", "文件", "读"),
    ("contact", "名片", "读"),
    ("poll", "投票", "读"),
    ("dice", "骰子", "读"),
)
UNREADABLE_FILTER = (
    filters.VOICE
    | filters.AUDIO
    | filters.VIDEO_NOTE
    | filters.VIDEO
    | filters.ANIMATION
    | filters.Sticker.ALL
    | filters.Document.ALL
    | filters.CONTACT
    | filters.POLL
    | filters.Dice.ALL
)
NEW = filters.UpdateType.MESSAGE  # a new message, not an edit: edits are never new turns


def core_of(context: ContextTypes.DEFAULT_TYPE) -> ConversationCore:
    return context.application.bot_data["core"]


def identity_of(update: Update) -> str:
    chat = update.effective_chat
    if chat is None:
        raise ValueError("update without a chat")
    return str(chat.id)


async def limit_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Keep a chat to its rate: an update over it is stored, refused, and said so once a minute."""
    chat = update.effective_chat
    if chat is None or _moving_pin(update):
        return
    bot_data = context.application.bot_data
    if bot_data["limiter"].allow(str(chat.id)):
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    notice = TOO_FAST if bot_data["notices"].allow(str(chat.id)) else None
    said = _said(update.effective_message) if update.callback_query is None else "[按钮]"
    await core_of(context).note(CHANNEL, str(chat.id), said, notice, state=MessageState.REJECTED)
    raise ApplicationHandlerStop


def _moving_pin(update: Update) -> bool:
    """A live location moving on: Telegram sends it as an edit every few seconds."""
    return bool(update.edited_message and update.edited_message.location)


def _said(message: Message | None) -> str:
    """What a message was, in a line of the transcript."""
    if message is None:
        return "[消息]"
    if message.text or message.caption:
        return str(message.text or message.caption)
    if message.photo:
        return "[图片]"
    if message.location:
        return "[位置]"
    return f"[{next((kind for field, kind, _ in UNREADABLE_KINDS if getattr(message, field)), '消息')}]"


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pass a citizen's text to the conversation core (saying so first when it had to be cut)."""
    if update.effective_message and update.effective_message.text:
        await _receive_text(update, context, update.effective_message.text)


async def _receive_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    core, identity = core_of(context), identity_of(update)
    if len(clean_text(text, max_chars=len(text))) > core.max_chars:
        await core.note(CHANNEL, identity, None, CUT.format(max_chars=core.max_chars))
    await core.receive(Inbound(channel=CHANNEL, identity=identity, text=text))


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Keep an edited message in the transcript and say that edits are not answered."""
    message = update.edited_message
    if message is None:
        return
    await core_of(context).note(CHANNEL, identity_of(update), f"[修改] {_said(message)}", EDITED)


async def on_unreadable(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot can read when a citizen sends what it cannot (voice, a file, a sticker)."""
    message = update.effective_message
    if message is None:
        return
    _, kind, verb = next(k for k in UNREADABLE_KINDS if getattr(message, k[0]))
    image_file = bool(message.document and (message.document.mime_type or "").startswith("image/"))
    answer = IMAGE_FILE if image_file and not message.animation else UNREADABLE.format(verb=verb, kind=kind)
    await core_of(context).note(CHANNEL, identity_of(update), _said(message), answer)


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet a citizen who opens the bot."""
    await core_of(context).receive(Inbound(channel=CHANNEL, identity=identity_of(update), intent="greet"))


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain what the bot does."""
    await core_of(context).note(CHANNEL, identity_of(update), "/help", HELP)


async def on_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the citizen's cases."""
    await core_of(context).receive(Inbound(channel=CHANNEL, identity=identity_of(update), intent="my_cases"))


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
    await core_of(context).attach(CHANNEL, identity_of(update), photo=f"upload:{name}")
    if message.caption:
        await _receive_text(update, context, message.caption)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error first; the update stays stored and is handled again at the next start."""
    log.error("telegram update failed: %s", type(context.error).__name__, exc_info=context.error)
    if isinstance(update, Update):
        context.application.bot_data["updates"].failed.add(update.update_id)


def build_application(
    settings: GatewaySettings,
    core: ConversationCore,
    uploads: Path,
    sessions: async_sessionmaker[AsyncSession],
) -> Application:
    """Wire the bot: settings, rate limiters, handlers, the stored update queue, and the core."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    base = settings.telegram_api_base_url.rstrip("/")
    updates = StoredUpdates(sessions)
    builder = (
        Application.builder()
        .token(token)
        .base_url(base)
        .base_file_url(base.removesuffix("/bot") + "/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=0))
        .update_queue(updates)
        .concurrent_updates(FinishingProcessor(64, updates))
    )
    if settings.telegram_mode == "webhook":
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data.update(
        core=core,
        uploads=uploads,
        updates=updates,
        limiter=RateLimiter(limit=settings.chat_messages_per_minute),
        notices=RateLimiter(limit=1),
    )
    application.add_handler(TypeHandler(Update, limit_chat), group=-1)
    application.add_handler(CommandHandler("start", on_start, filters=NEW))
    application.add_handler(CommandHandler("help", on_help, filters=NEW))
    application.add_handler(CommandHandler("status", on_status, filters=NEW))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(NEW & filters.LOCATION, on_location))
    application.add_handler(MessageHandler(NEW & filters.PHOTO, on_photo))
    application.add_handler(MessageHandler(NEW & filters.TEXT, on_text))  # text, and unknown commands
    application.add_handler(MessageHandler(NEW & UNREADABLE_FILTER, on_unreadable))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & ~filters.LOCATION, on_edited))
    application.add_error_handler(on_error)
    return application
