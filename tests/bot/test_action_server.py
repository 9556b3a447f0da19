"""The action server process (`python -m bot.actions`): it answers only the Rasa server (the token
Rasa sends as bot/endpoints.yml says) and refuses bodies over its limit, chunked or compressed."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.actions.__main__ import MAX_BODY_BYTES
from ops.stack import Stack
from tests.bot.conftest import shown


@pytest.fixture(scope="module")
def actions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack.configure(Path(tmp_path_factory.mktemp("actions")))
    stack.start("actions", timeout_s=90)
    yield stack
    stack.stop()


def action_call(padding: str = "") -> dict[str, Any]:
    """What Rasa posts to run action_greet (which needs nothing from the backend)."""
    return {
        "next_action": "action_greet",
        "sender_id": "webchat-test",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": "webchat-test",
            "slots": {},
            "latest_message": {"text": padding, "intent": {"name": "greet"}, "entities": []},
            "events": [],
        },
    }


def rasa_headers(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.env['ACTION_SERVER_TOKEN']}"}


def test_only_the_rasa_server_may_run_actions(actions: Stack) -> None:
    url = actions.url("actions")
    assert httpx.get(f"{url}/health", timeout=10).json() == {"status": "ok"}  # open: readiness
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": actions.env["ACTION_SERVER_TOKEN"]},
    ):
        assert (
            httpx.post(f"{url}/webhook", json=action_call(), headers=headers, timeout=10).status_code == 401
        )
        assert httpx.get(f"{url}/actions", headers=headers, timeout=10).status_code == 401
    answer = httpx.post(f"{url}/webhook", json=action_call(), headers=rasa_headers(actions), timeout=10)
    assert answer.status_code == 200
    assert "12345" in shown(answer.json()["responses"][0])["text"]


def test_bodies_over_the_limit_are_refused_chunked_or_compressed(actions: Stack) -> None:
    url = f"{actions.url('actions')}/webhook"
    headers = {**rasa_headers(actions), "Content-Type": "application/json"}
    big = json.dumps(action_call("x" * (MAX_BODY_BYTES + 1))).encode()
    declared = httpx.post(url, content=big, headers=headers, timeout=30)
    assert declared.status_code == 413

    def chunked() -> Iterator[bytes]:
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    assert httpx.post(url, content=chunked(), headers=headers, timeout=30).status_code == 413
    deflate = {**headers, "Content-Encoding": "deflate"}
    bomb = zlib.compress(big, 9)  # some 10 KB on the wire
    assert len(bomb) < MAX_BODY_BYTES // 100
    assert httpx.post(url, content=bomb, headers=deflate, timeout=30).status_code == 413
    small = zlib.compress(json.dumps(action_call()).encode())
    assert httpx.post(url, content=small, headers=deflate, timeout=30).status_code == 200  # Rasa may compress


def test_a_failing_action_answers_without_the_citizens_tracker(actions: Stack) -> None:
    call = action_call()
    call["tracker"]["slots"] = {"contact_phone": "13912345678", "contact_name": "欧阳晓明"}
    call["tracker"]["latest_message"] = "我叫欧阳晓明 电话13912345678"  # not a message: the action fails
    url = actions.url("actions")
    answer = httpx.post(f"{url}/webhook", json=call, headers=rasa_headers(actions), timeout=10)
    assert answer.status_code == 500
    assert "13912345678" not in answer.text and "欧阳" not in answer.text
    assert answer.json() == {"error": "the action failed"}
