"""The console's desk in Debian's chromium (issue 22): common replies and the knowledge base into the
reply box, notes and times in the transcript, Chinese names and errors, unread badges and alerts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops.stack import Stack, wait_until
from tests.connectors.test_console import console, console_page, conversation_id
from tests.connectors.test_console_desk import desk, history  # noqa: F401 (fixtures)
from tests.fakes.rasa import FakeRasa

pytestmark = pytest.mark.browser
HELLO = "您好，我是12345人工客服，请问有什么可以帮您？"
ADDRESS = "请提供具体地址（区、街道、小区、楼号）。"
# Stand-ins for the desktop notification and Web Audio, counting what the page asks of them.
FAKE_ALERTS = """
window.__rings = 0; window.__notified = [];
window.AudioContext = class {
  constructor() { this.currentTime = 0; this.destination = {}; }
  resume() {}
  createGain() {
    return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect: (n) => n };
  }
  createOscillator() {
    return { frequency: {}, connect: (n) => n, start: () => { window.__rings += 1; }, stop() {} };
  }
};
window.Notification = class { constructor(title, options) { window.__notified.push(options.body); } };
window.Notification.permission = "granted";
"""


def waiting_conversation(stack: Stack, rasa: FakeRasa, lookup: str, **slots: str) -> tuple[str, int]:
    """A web citizen waiting for an operator, with what the bot collected; found by another operator."""
    sender = stack.new_web_sender()
    rasa.slots[stack.sender_id("webchat", sender)] = dict(slots)
    stack.say(sender, "转人工")
    return sender, conversation_id(stack, console(stack, lookup), sender)


def open_and_claim(page: Any, cid: int) -> None:
    page.click(f"#waiting li[data-id='{cid}']")
    page.wait_for_selector(".line.citizen:has-text('转人工')")
    page.click("#claim")
    page.wait_for_selector("#say:not([disabled])")


def test_common_replies_and_the_knowledge_base_fill_the_reply_box_in_chinese(
    desk: Stack,  # noqa: F811
    module_rasa: FakeRasa,
    browser: Any,
    tmp_path: Path,
) -> None:
    sender, cid = waiting_conversation(
        desk,
        module_rasa,
        "op2",
        description="楼下烧烤油烟很大",
        contact_phone="13700005678",
        appeal_type="complaint",
    )
    page, violations = console_page(desk, browser, "op1")
    page.set_viewport_size({"width": 1400, "height": 900})
    open_and_claim(page, cid)
    page.wait_for_selector("#replies li[data-key=hello]")
    page.click("#replies li[data-key=hello]")  # one click
    assert page.input_value("#say") == HELLO
    page.press("#say", "Enter")
    assert wait_until(lambda: history(desk, sender)[-1]["text"] == HELLO, 10)
    page.fill("#say", "")
    page.type("#say", "/addr")  # the shortcut in the box
    page.wait_for_selector("#slash li[data-key=address]")
    page.press("#say", "Enter")
    assert page.input_value("#say") == ADDRESS and page.is_hidden("#slash")

    page.fill("#say", "")
    page.fill("#kb-q", "暖气几号来")
    page.click("#kb-form button")
    page.wait_for_selector(".kb-hit:has-text('11月15日')")
    page.click(".kb-hit .kb-insert >> nth=0")
    assert "11月15日" in page.input_value("#say")

    shown = page.inner_text("body")
    assert "联系电话：13700005678" in page.inner_text("#collected") and "诉求类型：投诉" in shown
    assert "网页" in page.inner_text("#conv-title")
    for raw in ("webchat", "contact_phone", "appeal_type", "requested", "operator", "telegram"):
        assert raw not in shown, raw
    page.screenshot(path=str(tmp_path / "console-1400.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "console-390.png"), full_page=True)
    assert violations == []
    page.context.close()


# The page's fetch, made slow for one conversation's reload, as on a busy network.
SLOW_RELOAD = """(cid) => { const real = window.fetch;
  window.fetch = (url, options) =>
    String(url).endsWith(`/conversations/${cid}`) && !(options && options.method)
      ? new Promise((done) => setTimeout(done, 1500)).then(() => real(url, options))
      : real(url, options); }"""


def test_what_is_typed_while_a_reply_is_sent_stays_in_the_box(
    desk: Stack,  # noqa: F811
    module_rasa: FakeRasa,
    browser: Any,
) -> None:
    """An operator who starts the next reply while the last one is still being sent keeps it: the box is
    emptied of the sent text only (CI once lost a "/addr" typed in that moment)."""
    sender, cid = waiting_conversation(desk, module_rasa, "op2", description="路灯不亮")
    page, violations = console_page(desk, browser, "op1")
    open_and_claim(page, cid)
    page.evaluate(SLOW_RELOAD, cid)
    page.fill("#say", "您好，我看一下")
    page.press("#say", "Enter")
    page.type("#say", "/addr")  # while the conversation reloads after the send
    assert wait_until(lambda: history(desk, sender)[-1]["text"] == "您好，我看一下", 10)
    page.wait_for_timeout(2500)  # the slow reload is over
    assert page.input_value("#say") == "/addr"
    page.wait_for_selector("#slash li[data-key=address]")
    page.press("#say", "Enter")
    assert page.input_value("#say") == ADDRESS
    assert violations == []
    page.context.close()


def test_a_note_and_the_time_of_every_message(desk: Stack, module_rasa: FakeRasa, browser: Any) -> None:  # noqa: F811
    sender, cid = waiting_conversation(desk, module_rasa, "op4")
    page, violations = console_page(desk, browser, "op2", timezone_id="America/New_York")
    page.click(f"#waiting li[data-id='{cid}']")
    page.wait_for_selector(".line.citizen:has-text('转人工')")
    page.fill("#note", "市民说是第三次反映，注意跟进")
    page.click("#note-add")
    note = page.wait_for_selector(".line.note:has-text('第三次反映')")
    assert "备注 · op2名" in note.inner_text()  # type: ignore[union-attr]
    times = page.eval_on_selector_all(".line time", "nodes => nodes.map(n => n.textContent)")
    assert len(times) == page.locator(".line").count() >= 3
    assert all(re.fullmatch(r"\d\d:\d\d", t) for t in times)  # all of today
    earlier = page.evaluate(  # Beijing's time in a browser set to New York's
        "import('/console/static/common.js').then(m => ["
        "m.clock('2026-03-03T21:06:00Z', new Date('2026-12-06T02:00:00Z')),"
        " m.clock('2025-03-03T21:06:00Z', new Date('2026-12-06T02:00:00Z')),"
        " m.clock('2026-12-06T01:30:00Z', new Date('2026-12-06T02:00:00Z')),"
        " m.clock('2026-12-05T15:59:00Z', new Date('2026-12-06T02:00:00Z')),"
        " m.when('2026-12-05T16:01:00Z')])"
    )
    assert earlier == ["3月4日 05:06", "2025年3月4日 05:06", "09:30", "12月5日 23:59", "2026/12/6 00:01:00"]
    assert all("第三次反映" not in m["text"] for m in history(desk, sender))
    assert violations == []
    page.context.close()


def test_errors_show_in_the_page_in_chinese(desk: Stack, module_rasa: FakeRasa, browser: Any) -> None:  # noqa: F811
    _, cid = waiting_conversation(desk, module_rasa, "op4")
    page, _ = console_page(desk, browser, "op3")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.click(f"#waiting li[data-id='{cid}']")
    page.wait_for_selector("#note:not([disabled])")
    page.fill("#note", "长" * 2001)  # over the limit: the gateway refuses it (422, in English)
    page.click("#note-add")
    page.wait_for_selector(".toast.error:has-text('填写的内容不完整或格式不对')")
    page.fill("#kb-q", "？？？")  # the backend refuses it in English ("q has no words")
    page.click("#kb-form button")
    page.wait_for_selector(".toast.error >> nth=1")
    assert page.locator(".toast.error:has-text('填写的内容不完整或格式不对')").count() == 2
    assert "words" not in page.inner_text("body") and dialogs == []
    page.context.close()


def test_unread_badges_the_title_and_the_waiting_alert(desk: Stack, browser: Any) -> None:  # noqa: F811
    page, _ = console_page(desk, browser, "op5")
    page.wait_for_selector("#who:has-text('op5名')")  # logged in (console_page returns at the login page)
    page.add_init_script(FAKE_ALERTS)
    page.reload()
    page.wait_for_selector("#waiting li")
    online = lambda: [o["username"] for o in console(desk, "op6").get("/console/api/operators").json()]  # noqa: E731
    assert wait_until(lambda: "op5" in online(), 10)
    page.wait_for_timeout(1000)  # the socket of the page before the reload has gone
    sender = desk.new_web_sender()
    desk.say(sender, "转人工")
    cid = conversation_id(desk, console(desk, "op6"), sender)
    badge = f"#waiting li[data-id='{cid}'] .unread"
    page.wait_for_selector(f"{badge}:has-text('1')", timeout=10_000)
    assert page.evaluate("window.__rings") >= 2 and "有市民在等待人工服务" in page.evaluate(
        "window.__notified"
    )
    desk.say(sender, "我等了很久了")
    page.wait_for_selector(f"{badge}:has-text('2')", timeout=10_000)
    assert re.match(r"\(\d+\) 12345 坐席", page.title())
    page.click(f"#waiting li[data-id='{cid}']")
    page.wait_for_selector(".line.citizen:has-text('我等了很久了')")
    page.wait_for_selector(badge, state="detached", timeout=10_000)

    page.click("#alerts-toggle")  # sound and notification off
    assert page.inner_text("#alerts-toggle") == "提醒：关"
    rings = page.evaluate("window.__rings")
    other = desk.new_web_sender()
    desk.say(other, "转人工")
    other_id = conversation_id(desk, console(desk, "op6"), other)
    page.wait_for_selector(f"#waiting li[data-id='{other_id}'] .unread", timeout=10_000)
    assert page.evaluate("window.__rings") == rings
    assert httpx.get(f"{desk.url('gateway')}/console/static/console.js").status_code == 401  # login first
    page.context.close()
