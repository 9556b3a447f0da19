"""The web chat adapter: issued tokens, live WebSocket connections, delivery of pushed replies.

A page holds a token (its `sender`), the citizen's only credential; the gateway keeps its SHA-256 as
the conversation's identity and never hands the token out again (see connectors.core.ids).
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from typing import Any

from fastapi import WebSocket
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocketState

from connectors.core.conversation import ConversationCore
from connectors.core.ids import identity_of_credential
from connectors.core.messages import Reply
from connectors.core.models import Author, Conversation, Direction, Message, MessageState

log = logging.getLogger(__name__)
CHANNEL = "webchat"
GREETING = (
    "您好，这里是12345市民服务热线在线服务。请问有什么可以帮您？您可以直接描述问题，也可以点下面的选项。"
)
# The bot's intents (bot/domain.yml) as offered buttons: a press goes to the bot as that intent.
MAIN_CHOICES = [
    {"title": "报事", "payload": "/report_issue"},
    {"title": "查进度", "payload": "/check_status"},
    {"title": "咨询", "payload": "/ask_question"},
]


class WebChatAdapter:
    name = CHANNEL
    synchronous_replies = True

    def __init__(self, sessions: async_sessionmaker[AsyncSession], core: ConversationCore) -> None:
        self.sessions = sessions
        self.core = core
        self.sockets: defaultdict[str, set[WebSocket]] = defaultdict(set)  # by identity

    async def issue_sender(self) -> str:
        """Create a conversation for a new unguessable token, greeted with the main choices (offered
        buttons of the bot, so a press is checked like any other), and return the token (kept only
        hashed)."""
        token = secrets.token_urlsafe(24)
        identity = identity_of_credential(token)
        async with self.sessions() as session:
            conversation = Conversation(
                channel=CHANNEL, identity=identity, sender_id=self.core.sender_id_for(CHANNEL, identity)
            )
            greeting = Message(
                conversation=conversation,
                direction=Direction.OUT,
                author=Author.BOT,
                text=GREETING,
                payload={"buttons": MAIN_CHOICES, "greeting": True},
                state=MessageState.PROCESSED,
            )
            session.add_all([conversation, greeting])
            await session.commit()
        return token

    async def known(self, identity: str) -> bool:
        async with self.sessions() as session:
            found = await session.scalar(
                select(Conversation.id).where(
                    Conversation.channel == CHANNEL, Conversation.identity == identity
                )
            )
        return found is not None

    async def history(self, identity: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """The conversation as the citizen saw it, oldest first."""
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Message)
                .join(Conversation)
                .where(Conversation.channel == CHANNEL, Conversation.identity == identity)
                .order_by(Message.id.desc())
                .limit(limit)
            )
            messages = list(rows)
        return [
            {
                "id": m.id,
                "author": m.author,
                "text": m.text,
                "buttons": (m.payload or {}).get("buttons", []),
                "created_at": m.created_at.isoformat(),
            }
            for m in reversed(messages)
            if not (m.payload or {}).get("internal")
        ]

    async def transmit(self, conversation: Conversation, message: Message) -> str | None:
        """Push a message to every open page of this citizen; a closed page shows it on reload.

        The message is in the transcript already, which is what the page shows, so it counts as
        delivered either way; pages drop a message id they have shown (never twice on screen).
        """
        reply = Reply(
            text=message.text,
            buttons=list((message.payload or {}).get("buttons", [])),
            author=message.author,
            id=message.id,
            created_at=message.created_at,
        )
        pages = self.sockets.get(conversation.identity, set())
        for socket in list(pages):
            if socket.application_state == WebSocketState.CONNECTING:
                continue  # counted but not yet open: the page reads the transcript once it is
            try:
                await socket.send_json({"type": "message", **reply.public()})
            except (RuntimeError, OSError):
                pages.discard(socket)
        return str(message.id)
