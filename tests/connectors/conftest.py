"""Channel tests: the real gateway process against a fake Telegram Bot API and a fake Rasa."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ops.stack import Stack
from tests.fakes.rasa import TOKEN as RASA_TOKEN
from tests.fakes.rasa import FakeRasa
from tests.fakes.server import ServerThread
from tests.fakes.telegram_api import TOKEN as TELEGRAM_TOKEN
from tests.fakes.telegram_api import FakeTelegram


def served(fake: Any) -> Iterator[Any]:
    """A fake served over HTTP on a free port, with its url on it, for as long as the fixture lasts."""
    with ServerThread(fake.app()) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    yield from served(FakeRasa())


@pytest.fixture(scope="module")
def module_rasa() -> Iterator[FakeRasa]:
    """One fake Rasa for a test module's one stack."""
    yield from served(FakeRasa())


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    yield from served(FakeTelegram())


def gateway(tmp_path: Path, fake_rasa: FakeRasa, **env: str) -> Stack:
    """A gateway process (configured like production) talking to the fakes."""
    stack = Stack.configure(
        tmp_path,
        **{
            "RASA_URL": fake_rasa.url,  # type: ignore[attr-defined]
            "RASA_TOKEN": RASA_TOKEN,
            "BACKEND_URL": fake_rasa.url,  # type: ignore[attr-defined]
            "RETRY_INTERVAL_S": "0.5",
            "FEED_INTERVAL_S": "0.3",
            **env,
        },
    )
    stack.start("gateway", timeout_s=30)
    return stack


@pytest.fixture
def telegram_gateway(tmp_path: Path, fake_rasa: FakeRasa, fake_telegram: FakeTelegram) -> Iterator[Stack]:
    stack = gateway(
        tmp_path,
        fake_rasa,
        TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
        TELEGRAM_API_BASE_URL=f"{fake_telegram.url}/bot",
    )  # type: ignore[attr-defined]
    yield stack
    stack.stop()


@pytest.fixture
def web_gateway(tmp_path: Path, fake_rasa: FakeRasa) -> Iterator[Stack]:
    stack = gateway(tmp_path, fake_rasa)
    yield stack
    stack.stop()


def watch_csp(page: Any) -> list[str]:
    """Collect the page's Content Security Policy violations (Chromium reports each on its console)."""
    violations: list[str] = []

    def seen(message: Any) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", seen)
    return violations
