"""The takeover round trip through the whole system: a citizen on the Telegram fake and one on the web
chat hand off → the queue → an operator in a real browser claims → messages both ways → hand back →
the bot resumes with its slots (the report form goes on where it was)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops.stack import Stack, wait_until
from tests.fakes.telegram_api import TOKEN, FakeTelegram

pytestmark = [pytest.mark.stack, pytest.mark.browser]
CHAT = 777001
PASSWORD = "operator password 1"


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, telegram: FakeTelegram) -> Iterator[Stack]:
    stack = Stack.configure(
        Path(tmp_path_factory.mktemp("takeover")),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"{telegram.url}/bot",
    )  # type: ignore[attr-defined]
    stack.start(timeout_s=300)
    admin = httpx.post(
        f"{stack.url('backend')}/api/v1/auth/login",
        json={"username": "admin", "password": stack.env["BACKEND_ADMIN_PASSWORD"]},
    ).json()["token"]
    httpx.post(
        f"{stack.url('backend')}/api/v1/staff",
        headers={"Authorization": f"Bearer {admin}"},
        json={"username": "operator7", "display_name": "小李", "password": PASSWORD, "role": "operator"},
    )
    yield stack
    stack.stop()


def sent(telegram: FakeTelegram) -> list[str]:
    return [m["text"] for m in telegram.sent(CHAT)]


def test_takeover_round_trip(system: Stack, telegram: FakeTelegram, browser: Any) -> None:
    telegram.say(CHAT, "我要投诉")
    assert wait_until(lambda: any("描述" in t for t in sent(telegram)), 60)
    telegram.say(CHAT, "小区垃圾站好几天没人清运了 到处是苍蝇")
    assert wait_until(lambda: any("哪里" in t for t in sent(telegram)), 60)
    telegram.say(CHAT, "转人工")
    assert wait_until(lambda: any("前面还有" in t for t in sent(telegram)), 60)
    web = system.new_web_sender()
    assert "前面还有" in str(system.say(web, "我要找人工客服"))

    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{system.url('gateway')}/console/login")
    page.fill("#username", "operator7")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#waiting li[data-id]")
    assert page.locator("#waiting li[data-id]").count() == 2
    page.locator("#waiting li", has_text="电报").click()
    page.wait_for_selector(".line.citizen:has-text('小区垃圾站好几天没人清运了')")
    assert "问题描述" in page.inner_text("#collected")  # what the bot collected so far
    page.click("#claim")
    page.wait_for_selector("#say:not([disabled])")
    assert wait_until(lambda: any("小李" in t for t in sent(telegram)), 20)  # the citizen is told

    page.fill("#say", "您好，我是人工客服，请问垃圾站具体在哪个小区？")
    page.press("#say", "Enter")
    assert wait_until(lambda: "请问垃圾站具体在哪个小区" in " ".join(sent(telegram)), 20)
    telegram.say(CHAT, "就是我们小区北门那个")
    page.wait_for_selector(".line.citizen:has-text('就是我们小区北门那个')", timeout=20_000)

    page.click("#handback")
    assert wait_until(lambda: any("智能助手继续为您服务" in t for t in sent(telegram)), 20)
    before = len(sent(telegram))
    telegram.say(CHAT, "朝阳区望京西园三区")
    assert wait_until(lambda: len(sent(telegram)) > before and "称呼" in sent(telegram)[-1], 60), sent(
        telegram
    )[-3:]

    page.locator("#waiting li", has_text="网页").click()
    page.wait_for_selector("#conv-title:has-text('网页')")
    page.click("#claim")
    page.wait_for_selector("#say:not([disabled])")
    page.fill("#say", "您好，请讲")
    page.press("#say", "Enter")
    assert wait_until(
        lambda: any(
            m["text"] == "您好，请讲"
            for m in httpx.get(f"{system.url('gateway')}/chat/api/history", params={"sender": web}).json()
        ),
        20,
    )
    page.click("#close")
    page.wait_for_selector("#claim:not([disabled])")
    assert re.search(
        "感谢", str(httpx.get(f"{system.url('gateway')}/chat/api/history", params={"sender": web}).json())
    )
    page.context.close()
