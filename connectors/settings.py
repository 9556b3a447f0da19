"""The channel gateway's settings, read once from the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from common.clock import Schedule
from common.settings import ServiceSettings
from connectors.wechat.crypto import aes_key

RASA_MARGIN_S = 5.0  # Rasa's own work in a turn besides the action: NLU, policies, the tracker store


class GatewaySettings(ServiceSettings):
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    gateway_public_url: str | None = None
    gateway_database_url: str | None = None
    gateway_secret_key: SecretStr  # the key of the conversation ids that leave the gateway
    gateway_forwarded_allow_ips: str = "127.0.0.1"  # proxies whose X-Forwarded-For is believed

    rasa_port: int = 5005
    rasa_url: str = ""  # default from RASA_PORT, as the Rasa server listens
    # several Rasa servers (scale-out), comma-separated; without it, the one at RASA_URL
    rasa_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rasa_token: SecretStr
    rasa_timeout_s: float = 30.0
    rasa_action_timeout_s: float = 20.0  # how long Rasa waits for an action (bot/server.py)
    rasa_max_in_flight: int = 8  # turns sent to the bot at once
    rasa_max_waiting: int = 64  # turns waiting for one of those; beyond, a message is queued at once
    rasa_queue_wait_s: float = 10.0  # how long a turn waits before the citizen is told it is queued
    rasa_tracker_db: str | None = None  # Rasa's SQL tracker store on SQLite (as ops/rasa_server.sh)
    rasa_tracker_url: str | None = None  # or its database URL (PostgreSQL in the scale-out profile)

    backend_port: int = 8000
    backend_url: str = ""  # default from BACKEND_PORT, as the backend listens
    action_server_url: str | None = None  # default from ACTION_SERVER_PORT, as the Rasa server does
    action_server_port: int = 5055
    backend_service_token: SecretStr
    backend_timeout_s: float = 5.0

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_secret: SecretStr | None = None

    wechat_token: SecretStr | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None  # EncodingAESKey: safe mode (安全模式) when set
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    wechat_template_id: str | None = None  # a case-progress template (模板消息) for after the 48 hours
    wechat_template_fields: str = "character_string1,phrase2,time3,thing4"  # number,status,limit,note
    wechat_passive_reply_s: float = 4.0  # how long a callback waits for the bot (WeChat waits 5 s)
    wechat_max_skew_s: float = 300.0  # a callback's timestamp may be this far from the gateway's clock

    sms_access_key_id: str | None = None  # Alibaba Cloud SMS (dysmsapi); SMS is off without it
    sms_access_key_secret: SecretStr | None = None
    sms_sign_name: str | None = None  # the approved signature (签名)
    sms_api_base_url: str = "https://dysmsapi.aliyuncs.com"
    sms_template_accepted: str | None = None  # template codes: ${number} ${limit}
    sms_template_resolved: str | None = None  # ${number} ${reply}, and the 1/2/3 rating question
    sms_template_rated: str | None = None  # ${number} ${rating}
    sms_webhook_secret: SecretStr | None = None  # in the URL the provider pushes replies to
    sms_timeout_s: float = 5.0

    chat_max_message_chars: int = 2000
    chat_messages_per_minute: int = 30  # per web chat sender and per Telegram chat
    chat_sessions_per_minute: int = 10  # new web chat conversations per client address
    chat_sockets_per_sender: int = 5  # open web chat pages (WebSockets) per conversation
    chat_max_photo_mb: int = Field(8, ge=1, le=32)  # a web chat photo (the body limit of its upload)
    retry_interval_s: float = 5.0
    feed_interval_s: float = 2.0
    console_wait_alert_s: int = 120
    console_session_hours: float = 8.0
    retention_days: int = 180
    jobs_retention_cron: Schedule = "30 2 * * *"  # crontab in Beijing time, or "off"
    jobs_lease_s: int = Field(600, ge=30)
    console_disconnect_grace_s: float = 5.0
    console_session_check_s: float = 3.0

    @field_validator("rasa_urls", mode="before")
    @classmethod
    def comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [url.strip() for url in value.split(",") if url.strip()]
        return value

    @model_validator(mode="after")
    def urls_follow_ports(self) -> GatewaySettings:
        """Without a URL, a service is on this machine at its port setting (one setting moves it)."""
        self.rasa_url = self.rasa_url or f"http://127.0.0.1:{self.rasa_port}"
        self.rasa_urls = self.rasa_urls or [self.rasa_url]
        self.backend_url = self.backend_url or f"http://127.0.0.1:{self.backend_port}"
        return self

    @model_validator(mode="after")
    def rasa_answers_before_the_gateway_gives_up(self) -> GatewaySettings:
        """A turn the gateway gives up on is sent again later: Rasa must have given up on a hung
        action before that, or the turn would be taken twice."""
        if self.rasa_timeout_s < self.rasa_action_timeout_s + RASA_MARGIN_S:
            raise ValueError(
                f"RASA_TIMEOUT_S ({self.rasa_timeout_s:g}) must exceed RASA_ACTION_TIMEOUT_S "
                f"({self.rasa_action_timeout_s:g}) by at least {RASA_MARGIN_S:g} s"
            )
        return self

    @model_validator(mode="after")
    def webhook_needs_a_secret(self) -> GatewaySettings:
        if self.telegram_bot_token and self.telegram_mode == "webhook":
            if not self.telegram_webhook_secret or not self.telegram_webhook_secret.get_secret_value():
                raise ValueError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET")
            if not self.gateway_public_url:
                raise ValueError(
                    "TELEGRAM_MODE=webhook needs GATEWAY_PUBLIC_URL (the address Telegram calls)"
                )
        return self

    @model_validator(mode="after")
    def wechat_is_all_or_nothing(self) -> GatewaySettings:
        given = [bool(self.wechat_token), bool(self.wechat_app_id), bool(self.wechat_app_secret)]
        if any(given) and not all(given):
            raise ValueError("WeChat needs WECHAT_TOKEN, WECHAT_APP_ID and WECHAT_APP_SECRET together")
        if self.wechat_aes_key is not None and self.wechat_aes_key.get_secret_value():
            aes_key(self.wechat_aes_key.get_secret_value())  # 43 characters that decode to 32 bytes
        if not 0.5 <= self.wechat_passive_reply_s <= 4.5:
            raise ValueError("WECHAT_PASSIVE_REPLY_S must leave time within WeChat's five seconds (0.5-4.5)")
        return self

    @model_validator(mode="after")
    def sms_is_all_or_nothing(self) -> GatewaySettings:
        if not self.sms_on:
            return self
        missing = [
            name.upper()
            for name in (
                "sms_access_key_secret",
                "sms_sign_name",
                "sms_template_accepted",
                "sms_template_resolved",
                "sms_template_rated",
                "sms_webhook_secret",
            )
            if not _given(getattr(self, name))
        ]
        if missing:
            raise ValueError(f"SMS (SMS_ACCESS_KEY_ID is set) also needs {', '.join(missing)}")
        return self

    @property
    def sms_on(self) -> bool:
        return bool(self.sms_access_key_id)

    @property
    def wechat_on(self) -> bool:
        return self.wechat_token is not None and bool(self.wechat_token.get_secret_value())

    @property
    def database_url(self) -> str:
        return self.gateway_database_url or self.sqlite_url("gateway.db")

    @property
    def tracker_store_url(self) -> str:
        """Rasa's tracker store, for retention and for moving conversations to new ids on upgrade:
        the URL, else the SQLite file Rasa is started with."""
        if self.rasa_tracker_url:
            return self.rasa_tracker_url
        path = Path(self.rasa_tracker_db) if self.rasa_tracker_db else self.data_path("rasa_tracker.db")
        return f"sqlite:///{path.resolve()}"

    @property
    def actions_url(self) -> str:
        return (self.action_server_url or f"http://127.0.0.1:{self.action_server_port}").rstrip("/")

    @property
    def public_url(self) -> str:
        return (self.gateway_public_url or f"http://127.0.0.1:{self.gateway_port}").rstrip("/")


def _given(value: object) -> bool:
    return bool(value.get_secret_value() if isinstance(value, SecretStr) else value)


@lru_cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()  # required fields come from the environment
