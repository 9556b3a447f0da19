"""What the gateway is made of, once it has started: one typed object instead of FastAPI's `app.state` bag.

connectors/app.py builds it at start-up and keeps it on the app; a route asks for it with
`wired(request)` (or `wired(websocket)`), so a reader (and mypy) can see what each part is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

if TYPE_CHECKING:  # the parts import the routes' modules, which import this one
    import httpx
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from common.limits import RateLimiter
    from connectors.clock import Clock
    from connectors.console.hub import ConsoleHub
    from connectors.console.takeover import Takeover
    from connectors.core.conversation import ConversationCore
    from connectors.core.rasa_pool import RasaPool
    from connectors.push.feed import CaseFeed
    from connectors.settings import GatewaySettings
    from connectors.sms.channel import SmsUpdates
    from connectors.telegram.runner import TelegramRunner
    from connectors.webchat.channel import WebChatAdapter
    from connectors.wechat.routes import WeChatCallbacks


@dataclass(frozen=True, kw_only=True)
class Gateway:
    """The running gateway's parts. A channel that is off (no token set) is None."""

    settings: GatewaySettings
    sessions: async_sessionmaker[AsyncSession]
    core: ConversationCore
    bot: RasaPool  # the Rasa servers, for what is not a citizen's turn (health, a conversation's slots)
    webchat: WebChatAdapter
    uploads: Path  # the citizens' photos, as stored files
    chat_limiter: RateLimiter  # messages a minute per citizen
    session_limiter: RateLimiter  # new web chat sessions a minute per address
    console_backend: httpx.AsyncClient  # the console's calls to the backend, on the operator's behalf
    takeover: Takeover
    hub: ConsoleHub
    feed: CaseFeed
    clock: Clock
    telegram: TelegramRunner | None = None
    wechat: WeChatCallbacks | None = None
    sms: SmsUpdates | None = None


def wired(connection: HTTPConnection) -> Gateway:
    """The gateway a request or a WebSocket came to."""
    gateway: Gateway = connection.app.state.gateway
    return gateway
