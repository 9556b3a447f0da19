"""Run the action server: `python -m bot.actions` (rasa-sdk, speaking Rasa's action protocol).

Only the Rasa server may call it: every request but /health must carry ACTION_SERVER_TOKEN
(`Authorization: Bearer ...`, which Rasa sends as bot/endpoints.yml says). No body is larger than
MAX_BODY_BYTES, chunked or not (Sanic's REQUEST_MAX_SIZE), nor once inflated when Rasa compresses it
(COMPRESS_ACTION_SERVER_REQUEST), which rasa-sdk would otherwise inflate without a bound.
"""

from __future__ import annotations

import hmac
import zlib

from rasa_sdk.endpoint import create_app_for_serve
from rasa_sdk.executor import ActionExecutor
from sanic import HTTPResponse, Request, Sanic, response
from sanic.exceptions import SanicException

from bot.actions.settings import ActionSettings, get_settings
from common.masking import configure_logging
from common.memory import keep_memory_lean
from common.settings import load_settings

# Rasa sends the session's whole tracker with each call: 4.2 KB a turn (measured on a 30-turn report
# conversation through the gateway: 125 KB of tracker JSON, and 11 KB of domain), so this is some
# 2,000 turns in one session (a session ends after 4 idle hours), far beyond a citizen's conversation.
MAX_BODY_BYTES = 8 * 1024 * 1024
OPEN_PATHS = frozenset({"/health"})


def create_app(settings: ActionSettings) -> Sanic:
    """rasa-sdk's application with our actions, behind the token and the body limit."""
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    app = create_app_for_serve(executor, cors_origins=None, endpoints="bot/endpoints.yml")
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    # rasa-sdk answers every exception 500; Sanic's own (413 for a body over the limit) keep their status
    app.error_handler.add(SanicException, sanic_error)
    expected = f"Bearer {settings.action_server_token.get_secret_value()}".encode()

    @app.on_request
    async def only_rasa(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if not hmac.compare_digest(request.headers.get("authorization", "").encode(), expected):
            return response.json({"error": "the action server token is required"}, status=401)
        if request.headers.get("content-encoding") == "deflate":
            return inflated_refusal(request.body)
        return None

    @app.on_response
    async def no_tracker_in_errors(_request: Request, answer: HTTPResponse) -> HTTPResponse | None:
        """rasa-sdk answers an exception with the whole request, the tracker with the citizen's name,
        phone and address in its slots, and Rasa logs that answer; it has logged the error (masked)."""
        if answer.status == 500:
            return response.json({"error": "the action failed"}, status=500)
        return None

    return app


def sanic_error(_request: Request, error: SanicException) -> HTTPResponse:
    return response.json({"error": str(error)}, status=error.status_code)


def inflated_refusal(body: bytes) -> HTTPResponse | None:
    """Refuse a compressed body that is not zlib data or would inflate past MAX_BODY_BYTES."""
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(body, MAX_BODY_BYTES + 1)
    except zlib.error:
        return response.json({"error": "the body is not deflate data"}, status=400)
    if len(inflated) > MAX_BODY_BYTES:
        return response.json({"error": f"body too large: at most {MAX_BODY_BYTES} bytes"}, status=413)
    return None


def main() -> None:
    settings = load_settings(get_settings, "the action server")
    keep_memory_lean()
    configure_logging(settings.log_level)
    app = create_app(settings)
    # One process: rasa-sdk's own `run` rebuilds the application in a worker process from its own
    # factory, where the token check and the limit above would be missing.
    app.run(host=settings.action_server_host, port=settings.action_server_port, single_process=True)


if __name__ == "__main__":
    main()
