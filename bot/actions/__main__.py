"""Run the action server: `python -m bot.actions` (rasa-sdk, speaking Rasa's action protocol)."""

from __future__ import annotations

import os

from rasa_sdk.endpoint import run
from rasa_sdk.executor import ActionExecutor

from bot.actions.settings import get_settings
from common.masking import configure_logging
from common.memory import limit_malloc_arenas


def main() -> None:
    settings = get_settings()
    limit_malloc_arenas()
    configure_logging(settings.log_level)
    os.environ.setdefault("SANIC_HOST", settings.action_server_host)
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    run(executor, port=settings.action_server_port, cors_origins=None, endpoints="bot/endpoints.yml")


if __name__ == "__main__":
    main()
