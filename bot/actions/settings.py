"""The action server's settings, read once from the environment."""

from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr

from common.settings import ServiceSettings


class ActionSettings(ServiceSettings):
    action_server_host: str = "127.0.0.1"
    action_server_port: int = 5055
    backend_url: str = "http://127.0.0.1:8000"
    backend_service_token: SecretStr
    backend_timeout_s: float = 5.0


@lru_cache
def get_settings() -> ActionSettings:
    return ActionSettings()  # required fields come from the environment
