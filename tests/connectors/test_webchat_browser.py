"""The web chat page in a real headless browser (Debian's chromium), on a phone-sized screen."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from connectors.webchat.channel import GREETING
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
    assert page.locator(".msg--citizen .msg__bubble").inner_text() == "你好，楼下有人烧烤"
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


def open_chat(browser: Any, stack: Stack, **options: Any) -> tuple[Any, Any, list[str]]:
    """A phone-sized page of the web chat, online, and the CSP violations it will see."""
    context = browser.new_context(**{**PHONE, **options})
    page = context.new_page()
    violations = watch_csp(page)
    page.goto(f"{stack.url('gateway')}/chat/")
    page.wait_for_selector("#status:has-text('在线')")
    return context, page, violations


def png(width: int = 4, height: int = 3) -> bytes:
    """A small red PNG, written here so the thumbnail has a real picture to show."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xc0\x39\x2b" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_the_greeting_and_main_choices_are_there_before_the_citizen_types(
    page: Any, fake_rasa: FakeRasa, tmp_path: Path
) -> None:
    greeting = page.locator(".msg--bot").first
    assert greeting.locator(".msg__bubble").inner_text() == GREETING
    choices = greeting.locator(".msg__buttons button")
    assert choices.all_inner_texts() == ["报事", "查进度", "咨询"]
    assert all(button.is_visible() and button.is_enabled() for button in choices.all())
    page.screenshot(path=str(tmp_path / "webchat-greeting.png"))
    choices.first.click()
    assert wait_until(lambda: fake_rasa.texts() == ["/report_issue"], 10)
    page.wait_for_selector(".msg--bot:has-text('意图：/report_issue')")
    assert page.locator(".msg--citizen .msg__bubble").inner_text() == "报事"
    assert not any(button.is_enabled() for button in choices.all())


def test_every_message_shows_its_time(page: Any) -> None:
    send(page, "几点了")
    page.wait_for_selector(".msg--bot:has-text('收到：几点了')")
    times = page.locator(".msg .msg__time").all_inner_texts()
    assert len(times) == 3 and all(re.fullmatch(r"\d\d:\d\d", t) for t in times), times
    shown = page.evaluate(
        """async () => {
            const { when } = await import("/chat/static/render.js");
            const now = new Date(2026, 11, 6, 21, 30);
            return [when(new Date(2026, 11, 6, 8, 5).toISOString(), now),
                    when(new Date(2026, 10, 27, 14, 0).toISOString(), now),
                    when(new Date(2025, 10, 27, 14, 0).toISOString(), now)];
        }"""
    )
    assert shown == ["08:05", "11月27日 14:00", "2025年11月27日 14:00"]


def test_web_addresses_become_links_and_nothing_else_does(page: Any) -> None:
    send(page, "详情见 https://www.beijing.gov.cn/a?b=1&c=2。<b>别点</b> javascript:alert(1) 和 ftp://x.cn")
    page.wait_for_selector(".msg--bot:has-text('详情见')")
    reply = page.locator(".msg--bot .msg__bubble").last
    links = reply.locator("a")
    assert links.count() == 1
    assert links.get_attribute("href") == "https://www.beijing.gov.cn/a?b=1&c=2"
    assert links.get_attribute("target") == "_blank"
    assert links.get_attribute("rel") == "noopener noreferrer"
    assert reply.locator("b").count() == 0  # text, never markup
    assert "<b>别点</b> javascript:alert(1) 和 ftp://x.cn" in reply.inner_text()


def test_after_a_reload_only_the_newest_buttons_work(page: Any, fake_rasa: FakeRasa) -> None:
    send(page, "给我按钮")
    page.wait_for_selector(".msg__buttons button:has-text('满意')")
    page.reload()
    page.wait_for_selector("#status:has-text('在线')")
    page.wait_for_selector(".msg__buttons button:has-text('满意')")
    greeting, offer = page.locator(".msg__buttons").all()
    assert not any(b.is_enabled() for b in greeting.locator("button").all())
    assert "msg__buttons--used" in (greeting.get_attribute("class") or "")
    assert all(b.is_enabled() for b in offer.locator("button").all())
    offer.locator("button").first.click()
    assert wait_until(lambda: fake_rasa.texts()[-1] == '/rate{"satisfaction": "satisfied"}', 10)
    page.wait_for_selector(".msg--bot:has-text('意图：/rate')")
    send(page, "再说一句")
    page.wait_for_selector(".msg--bot:has-text('收到：再说一句')")
    page.reload()  # something was said after the newest buttons: none of them is offered any more
    page.wait_for_selector(".msg--bot:has-text('收到：再说一句')")
    assert page.locator(".msg__buttons button").count() == 5
    assert not any(b.is_enabled() for b in page.locator(".msg__buttons button").all())


def test_a_new_conversation_forgets_this_one_on_the_page(page: Any, fake_rasa: FakeRasa) -> None:
    send(page, "我家住在幸福小区3号楼")
    page.wait_for_selector(".msg--bot:has-text('收到：我家住在幸福小区3号楼')")
    before = page.evaluate("localStorage.getItem('jiesu.sender')")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#new")
    assert page.locator(".msg--citizen:has-text('幸福小区')").count() == 1  # not confirmed: nothing changes
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("#new")
    # polled from here: wait_for_function evaluates a string in the page, which its CSP forbids
    assert wait_until(lambda: page.evaluate("localStorage.getItem('jiesu.sender')") not in (None, before), 10)
    page.wait_for_selector("#status:has-text('在线')")
    assert asked == ["开始新会话后，本页不再显示之前的对话。确定吗？"]
    assert (
        page.locator(".msg").count() == 1 and page.locator(".msg--bot .msg__bubble").inner_text() == GREETING
    )
    assert page.locator(".msg__buttons button:enabled").count() == 3
    send(page, "新的问题")
    page.wait_for_selector(".msg--bot:has-text('收到：新的问题')")
    after = page.evaluate("localStorage.getItem('jiesu.sender')")
    assert fake_rasa.received[-1]["sender"] != fake_rasa.received[0]["sender"] and after != before
    page.reload()
    page.wait_for_selector(".msg--bot:has-text('收到：新的问题')")
    assert page.locator(".msg--citizen:has-text('幸福小区')").count() == 0


def test_a_photo_shows_as_a_thumbnail_and_reaches_the_report(
    page: Any, fake_rasa: FakeRasa, web_gateway: Stack
) -> None:
    assert page.locator("#photo").get_attribute("accept") == "image/*"
    page.set_input_files("#photo", files=[{"name": "路灯.png", "mimeType": "image/png", "buffer": png()}])
    thumbnail = page.locator(".msg--citizen img.msg__image")
    thumbnail.wait_for()
    assert thumbnail.get_attribute("src").startswith("blob:")
    assert wait_until(lambda: thumbnail.evaluate("img => img.naturalWidth") == 4, 10)
    page.wait_for_selector(".msg--system:has-text('已收到图片')")
    sender = web_gateway.sender_id("webchat", page.evaluate("localStorage.getItem('jiesu.sender')"))
    [kept] = fake_rasa.slots[sender]["attachments"]
    assert (web_gateway.data_dir / "uploads" / kept["ref"].removeprefix("upload:")).read_bytes() == png()


def test_the_citizens_location_is_sent_with_permission(
    browser: Any, web_gateway: Stack, fake_rasa: FakeRasa
) -> None:
    place = {"latitude": 39.90469, "longitude": 116.40717}
    context, page, violations = open_chat(
        browser, web_gateway, geolocation=place, permissions=["geolocation"]
    )
    try:
        page.click("#place")
        page.wait_for_selector(".msg--system:has-text('已收到您的位置')")
        assert page.locator(".msg--citizen .msg__bubble").inner_text() == "[位置] 39.90469,116.40717"
        sender = web_gateway.sender_id("webchat", page.evaluate("localStorage.getItem('jiesu.sender')"))
        assert fake_rasa.slots[sender]["location"] == {**place, "label": None}
    finally:
        context.close()
    assert violations == []


def test_without_permission_the_citizen_is_asked_for_an_address(page: Any, fake_rasa: FakeRasa) -> None:
    page.click("#place")
    page.wait_for_selector(".notice:has-text('无法获取您的位置，请直接输入地址')")
    assert fake_rasa.slots == {}


def test_failures_are_told_in_chinese_never_as_they_came(page: Any) -> None:
    english = {"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required"}]}
    page.route("**/chat/api/photo", lambda route: route.fulfill(status=422, json=english))
    page.set_input_files("#photo", files=[{"name": "a.png", "mimeType": "image/png", "buffer": png()}])
    page.wait_for_selector(".notice:has-text('发送的内容不对')")
    page.unroute("**/chat/api/photo")
    page.route("**/chat/api/photo", lambda route: route.fulfill(status=502, body="Bad Gateway"))
    page.set_input_files("#photo", files=[{"name": "b.png", "mimeType": "image/png", "buffer": png()}])
    page.wait_for_selector(".notice:has-text('服务暂时出了问题')")
    page.unroute("**/chat/api/photo")
    page.route("**/chat/api/photo", lambda route: route.abort("internetdisconnected"))
    page.set_input_files("#photo", files=[{"name": "c.png", "mimeType": "image/png", "buffer": png()}])
    page.wait_for_selector(".notice:has-text('网络连接失败')")
    notices = page.locator(".notice").all_inner_texts()
    assert len(notices) == 3 and not any(re.search("[A-Za-z]", n) for n in notices), notices


def test_the_privacy_notice_links_to_what_is_kept(page: Any) -> None:
    notice = page.locator(".chat__privacy")
    assert "对话内容仅用于办理您的诉求，保存180天。" in notice.inner_text()
    with page.context.expect_page() as opened:
        notice.locator("a:has-text('了解详情')").click()
    privacy = opened.value
    violations = watch_csp(privacy)
    privacy.wait_for_load_state()
    assert privacy.url.endswith("/chat/privacy")
    assert "保存多久" in privacy.locator("h2").all_inner_texts()
    assert "12345" in privacy.inner_text("main")
    privacy.reload()
    assert violations == []
