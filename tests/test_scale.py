"""The scale-out profile: PostgreSQL, Redis locks, two Rasa servers behind the gateway.

Conversations spread over both servers; one server killed mid-conversation, the conversation goes on
at the other with its state (the form continues where it was)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from connectors.core.rasa_pool import RasaPool
from ops.databases import ensure
from ops.stack import Stack
from tests.postgres import POSTGRES_ADMIN_URL, postgres_available

pytestmark = [pytest.mark.stack, pytest.mark.postgres]


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not postgres_available() or not redis_available():
        pytest.skip("the scale-out profile needs PostgreSQL and Redis on this machine")
    stack = Stack.configure_scale(
        Path(tmp_path_factory.mktemp("scale")), servers=2, pg_url="postgresql://postgres@127.0.0.1:5432"
    )
    for url in stack.databases():
        ensure(url)
    stack.start("backend", "actions", "rasa1", "rasa2", "gateway", timeout_s=400)
    yield stack
    stack.stop()
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for url in stack.databases():
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))


def servers(stack: Stack) -> dict[str, dict[str, object]]:
    return dict(stack.health_details()["bot_servers"])


def test_conversations_spread_over_both_servers(scaled: Stack) -> None:
    for _ in range(16):
        assert scaled.say(scaled.new_web_sender(), "你好")[0]["text"]
    handled = {url: state["handled"] for url, state in servers(scaled).items()}
    assert len(handled) == 2 and all(count >= 3 for count in handled.values()), handled


def test_a_server_killed_mid_conversation_and_the_conversation_goes_on(scaled: Stack) -> None:
    urls = scaled.env["RASA_URLS"].split(",")
    pool = RasaPool(urls=urls, token="x", timeout_s=1)
    sender = next(
        s
        for s in (scaled.new_web_sender() for _ in range(20))
        if pool.order(scaled.sender_id("webchat", s))[0] == 0
    )
    assert "描述" in str(scaled.say(sender, "我要投诉"))
    asked = scaled.say(sender, "小区垃圾站三天没人清运了 臭得受不了")
    assert "哪里" in str(asked)  # the form now asks for the place
    scaled.kill("rasa1")  # the conversation's own server
    place = scaled.say(sender, "海淀区中关村街道 知春里小区")
    assert "称呼" in str(place)  # rasa2 continued the same form: it asks the next thing, not the first
    scaled.say(sender, "我姓孙")
    summary = scaled.say(sender, "13800001234")
    assert "小区垃圾站三天没人清运了" in str(summary)
    done = scaled.say(sender, "确认提交")
    number = re.search(r"\d{13}", str(done)).group(0)  # type: ignore[union-attr]
    headers = {"Authorization": f"Bearer {scaled.env['BACKEND_SERVICE_TOKEN']}"}
    filed = httpx.post(
        f"{scaled.url('backend')}/api/v1/citizen/lookup",
        headers=headers,
        timeout=10,
        json={"number": number, "channel_identity": scaled.sender_id("webchat", sender)},
    ).json()
    assert filed["verified"] and filed["category_name"] == "垃圾清运不及时"
    state = servers(scaled)
    assert state[urls[0]]["up"] is False and state[urls[1]]["up"] is True
