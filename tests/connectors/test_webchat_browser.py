"""The web chat page in a real headless browser (Debian's chromium), on a phone-sized screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ops.stack import Stack, wait_until
from tests.connectors.conftest import gateway, watch_csp
from tests.fakes.rasa import FakeRasa

pytestmark = pytest.mark.browser
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}


@pytest.fixture
def page(browser: Any, web_gateway: Stack) -> Any:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    violations = watch_csp(page)
    answer = page.goto(f"{web_gateway.url('gateway')}/chat/")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    page.wait_for_selector("#status:has-text('在线')")
    yield page
    context.close()
    assert violations == []  # the page works under its Content Security Policy


def send(page: Any, text: str) -> None:
    page.fill("#input", text)
    page.keyboard.press("Enter")


def test_a_conversation_on_a_phone_screen(page: Any, fake_rasa: FakeRasa, tmp_path: Path) -> None:
    send(page, "你好，楼下有人烧烤")
    page.wait_for_selector(".msg--bot:has-text('收到：你好，楼下有人烧烤')")
    assert page.locator(".msg--citizen").inner_text() == "你好，楼下有人烧烤"
    box = page.locator(".chat").bounding_box()
    assert box["width"] <= 390  # fits the phone's width, no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "webchat-phone.png"))


def test_buttons_are_clickable_once(page: Any, fake_rasa: FakeRasa) -> None:
    send(page, "给我按钮")
    page.wait_for_selector(".msg__buttons button:has-text('满意')")
    page.click(".msg__buttons button:has-text('满意')")
    assert wait_until(lambda: '/rate{"satisfaction": "satisfied"}' in fake_rasa.texts(), 10)
    assert page.locator(".msg__buttons button").first.is_disabled()
    page.wait_for_selector(".msg--citizen:has-text('满意')")


def test_the_typing_indicator_shows_while_the_bot_thinks(page: Any, fake_rasa: FakeRasa) -> None:
    fake_rasa.delay_s = 1.5
    send(page, "慢一点回答")
    page.wait_for_selector("#typing", state="visible", timeout=1000)
    page.wait_for_selector(".msg--bot:has-text('收到：慢一点回答')")
    page.wait_for_selector("#typing", state="hidden")


def test_the_conversation_survives_a_reload(page: Any) -> None:
    send(page, "第一句话")
    page.wait_for_selector(".msg--bot:has-text('收到：第一句话')")
    sender = page.evaluate("localStorage.getItem('jiesu.sender')")
    page.reload()
    page.wait_for_selector("#status:has-text('在线')")
    page.wait_for_selector(".msg--bot:has-text('收到：第一句话')")
    assert page.locator(".msg--citizen:has-text('第一句话')").count() == 1
    assert page.evaluate("localStorage.getItem('jiesu.sender')") == sender


def test_the_page_reconnects_after_the_gateway_restarts(page: Any, web_gateway: Stack) -> None:
    send(page, "重启前")
    page.wait_for_selector(".msg--bot:has-text('收到：重启前')")
    web_gateway.kill("gateway")
    page.wait_for_selector("#status:has-text('重连')", timeout=10_000)
    web_gateway.start("gateway", timeout_s=30)
    page.wait_for_selector("#status:has-text('在线')", timeout=40_000)
    send(page, "重启后")
    page.wait_for_selector(".msg--bot:has-text('收到：重启后')")
    assert page.locator(".msg--bot:has-text('收到：重启前')").count() == 1  # shown once


def test_case_updates_appear_live(page: Any, fake_rasa: FakeRasa, web_gateway: Stack) -> None:
    sender = page.evaluate("localStorage.getItem('jiesu.sender')")
    fake_rasa.events.append(
        {
            "id": 1,
            "number": "2026112700009",
            "kind": "note",
            "status": "in_progress",
            "status_text": "x",
            "note": "已安排维修师傅明天上午上门",
            "unit_name": "北京市热力集团及供热单位",
            "channel": "webchat",
            "channel_identity": web_gateway.sender_id("webchat", sender),
            "conversation_id": None,
            "created_at": "2026-11-27T10:00:00Z",
        }
    )
    page.wait_for_selector(".msg--system:has-text('已安排维修师傅明天上午上门')", timeout=15_000)


def test_limits_are_shown_to_the_citizen_in_chinese(
    browser: Any, tmp_path: Path, fake_rasa: FakeRasa
) -> None:
    stack = gateway(tmp_path, fake_rasa, CHAT_MESSAGES_PER_MINUTE="2", CHAT_SESSIONS_PER_MINUTE="1")
    first, second = browser.new_context(**PHONE), browser.new_context(**PHONE)
    try:
        page = first.new_page()
        page.goto(f"{stack.url('gateway')}/chat/")
        page.wait_for_selector("#status:has-text('在线')")
        for text in ("第一句", "第二句", "第三句"):
            send(page, text)
        page.wait_for_selector(".notice:has-text('您发送得太快了')", timeout=10_000)
        other = second.new_page()  # a second new conversation from the same address this minute
        other.goto(f"{stack.url('gateway')}/chat/")
        other.wait_for_selector(".notice:has-text('新对话')", timeout=10_000)
        assert other.evaluate("localStorage.getItem('jiesu.sender')") is None
    finally:
        first.close()
        second.close()
        stack.stop()
