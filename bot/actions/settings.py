"""The action server's settings, read once from the environment."""

from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr, model_validator

from common.settings import ServiceSettings

ANSWER_MARGIN_S = 2.0  # what an action needs besides its backend calls to answer Rasa


class ActionSettings(ServiceSettings):
    action_server_host: str = "127.0.0.1"
    action_server_port: int = 5055
    action_server_token: SecretStr  # the Rasa server's only: sent in every action call
    backend_port: int = 8000
    backend_url: str = ""  # default from BACKEND_PORT, as the backend listens
    backend_service_token: SecretStr
    backend_timeout_s: float = 5.0
    rasa_action_timeout_s: float = 20.0  # how long Rasa waits for an action (bot/server.py)

    @model_validator(mode="after")
    def url_follows_port(self) -> ActionSettings:
        """Without BACKEND_URL, the backend is on this machine at BACKEND_PORT."""
        self.backend_url = self.backend_url or f"http://127.0.0.1:{self.backend_port}"
        return self

    @model_validator(mode="after")
    def backend_calls_fit_in_an_action(self) -> ActionSettings:
        if self.backend_timeout_s > self.backend_budget_s:
            raise ValueError(
                f"BACKEND_TIMEOUT_S ({self.backend_timeout_s:g}) must leave an action time to answer "
                f"within RASA_ACTION_TIMEOUT_S ({self.rasa_action_timeout_s:g}) less {ANSWER_MARGIN_S:g} s"
            )
        return self

    @property
    def backend_budget_s(self) -> float:
        """How long an action's backend calls may take, retries included."""
        return self.rasa_action_timeout_s - ANSWER_MARGIN_S


@lru_cache
def get_settings() -> ActionSettings:
    return ActionSettings()  # required fields come from the environment
