"""The operators' console: logins and roles on every page and API, takeover through the API and in a
real browser, phone intake in the browser. The backend is real; the bot is the fake Rasa."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops.stack import Stack, wait_until
from tests.fakes.rasa import TOKEN as RASA_TOKEN
from tests.fakes.rasa import FakeRasa

ADMIN_PASSWORD = "admin-password-for-tests"
PASSWORD = "a long staff password"
PAGES = ["/console/", "/console/static/index.html", "/console/static/console.js"]
HOTLINE_APIS = [
    ("GET", "/console/api/queue"),
    ("GET", "/console/api/conversations/1"),
    ("POST", "/console/api/conversations/1/claim"),
    ("POST", "/console/api/conversations/1/messages"),
    ("POST", "/console/api/conversations/1/release"),
    ("POST", "/console/api/conversations/1/case"),
]
STAFF_APIS = [
    ("GET", "/console/api/me"),
    ("POST", "/console/api/logout"),
    ("GET", "/console/api/backend/api/v1/cases"),
    ("GET", "/console/api/backend/api/v1/stats/rates"),
    ("GET", "/console/api/backend/api/v1/supervision/overdue"),
    ("GET", "/console/uploads/x.jpg"),
]


@pytest.fixture
def stack(tmp_path: Path, fake_rasa: FakeRasa) -> Iterator[Stack]:
    running = Stack.configure(
        tmp_path,
        RASA_URL=fake_rasa.url,
        RASA_TOKEN=RASA_TOKEN,  # type: ignore[attr-defined]
        FEED_INTERVAL_S="0.3",
        CONSOLE_DISCONNECT_GRACE_S="1",
    )
    running.start("backend", "gateway", timeout_s=120)
    admin = login(running, "admin", ADMIN_PASSWORD)
    for username, role, unit in (
        ("op1", "operator", None),
        ("op2", "operator", None),
        ("heat", "unit_staff", "heating"),
        ("boss", "supervisor", None),
    ):
        body = {
            "username": username,
            "display_name": f"{username}名",
            "password": PASSWORD,
            "role": role,
            "unit": unit,
        }
        assert backend_post(running, "/api/v1/staff", admin, body).status_code == 201
    yield running
    running.stop()


def backend_post(stack: Stack, path: str, token: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{stack.url('backend')}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def login(stack: Stack, username: str, password: str) -> str:
    answer = httpx.post(
        f"{stack.url('backend')}/api/v1/auth/login",
        json={"username": username, "password": password},
        timeout=30,
    )
    return str(answer.json()["token"])


def console(stack: Stack, username: str | None = None) -> httpx.Client:
    client = httpx.Client(base_url=stack.url("gateway"), timeout=30, follow_redirects=False)
    if username:
        answer = client.post("/console/api/login", json={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
    return client


def test_nothing_of_the_console_without_a_login(stack: Stack) -> None:
    anonymous = console(stack)
    for page in PAGES:
        answer = anonymous.get(page)
        assert answer.status_code in (303, 401), page
        if answer.status_code == 303:
            assert answer.headers["location"] == "/console/login"
    for method, path in HOTLINE_APIS + STAFF_APIS:
        assert anonymous.request(method, path, json={}).status_code == 401, path
    assert anonymous.get("/console/login").status_code == 200
    assert (
        anonymous.post("/console/api/login", json={"username": "op1", "password": "wrong"}).status_code == 401
    )
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus, match="403"):
        connect(stack.url("gateway").replace("http", "ws") + "/console/ws")


def test_handling_units_see_cases_not_conversations(stack: Stack) -> None:
    unit = console(stack, "heat")
    for method, path in HOTLINE_APIS:
        assert unit.request(method, path, json={}).status_code == 403, path
    assert unit.get("/console/api/me").json()["unit_name"] == "北京市热力集团及供热单位"
    assert unit.get("/console/api/backend/api/v1/cases").status_code == 200
    assert unit.get("/console/api/backend/api/v1/staff").status_code == 404  # not a console path
    assert unit.get("/console/").status_code == 200


def test_only_console_backend_paths_are_passed_on(stack: Stack) -> None:
    operator = console(stack, "op1")
    for path in (
        "/console/api/backend/api/v1/staff",
        "/console/api/backend/health",
        "/console/api/backend/../x",
    ):
        assert operator.get(path).status_code == 404, path


def test_logout_ends_the_session(stack: Stack) -> None:
    operator = console(stack, "op1")
    assert operator.get("/console/api/me").status_code == 200
    assert operator.post("/console/api/logout").status_code == 204
    operator.cookies.clear()
    assert operator.get("/console/api/me").status_code == 401


def web_citizen(stack: Stack, text: str) -> tuple[str, list[dict[str, Any]]]:
    sender = stack.new_web_sender()
    return sender, stack.say(sender, text)


def conversation_id(operator: httpx.Client, sender: str) -> int:
    queue = operator.get("/console/api/queue").json()
    for item in queue["waiting"] + queue["held"] + queue["live"]:
        detail = operator.get(f"/console/api/conversations/{item['id']}").json()
        if detail["sender_id"] == f"webchat-{sender}":
            return int(item["id"])
    raise AssertionError("conversation not in the queue")


def test_takeover_through_the_api(stack: Stack, fake_rasa: FakeRasa) -> None:
    sender, replies = web_citizen(stack, "转人工")
    assert "前面还有" in replies[-1]["text"]
    op1, op2 = console(stack, "op1"), console(stack, "op2")
    cid = conversation_id(op1, sender)
    waiting = op1.get("/console/api/queue").json()["waiting"]
    assert waiting[0]["reason"] == "requested" and waiting[0]["waited_s"] >= 0
    assert op1.post(f"/console/api/conversations/{cid}/claim").status_code == 200
    assert op2.post(f"/console/api/conversations/{cid}/claim").status_code == 409  # never two operators
    assert fake_rasa.appended[f"webchat-{sender}"][0]["event"] == "pause"
    assert stack.say(sender, "我家暖气不热") == []  # the bot stays silent
    assert (
        op1.post(
            f"/console/api/conversations/{cid}/messages", json={"text": "您好，请问您家住哪里？"}
        ).status_code
        == 201
    )
    assert op2.post(f"/console/api/conversations/{cid}/messages", json={"text": "插话"}).status_code == 409
    history = httpx.get(
        f"{stack.url('gateway')}/chat/api/history", params={"sender": sender}, timeout=10
    ).json()
    assert [m["author"] for m in history][-3:] == ["system", "citizen", "operator"]
    assert op1.post(f"/console/api/conversations/{cid}/release", json={}).status_code == 200
    assert fake_rasa.appended[f"webchat-{sender}"][-1]["event"] == "resume"
    assert stack.say(sender, "谢谢")[0]["text"] == "收到：谢谢"  # the bot is back
    assert fake_rasa.texts(f"webchat-{sender}") == ["转人工", "谢谢"]


def test_a_case_from_a_conversation(stack: Stack) -> None:
    sender, _ = web_citizen(stack, "转人工")
    op1 = console(stack, "op1")
    cid = conversation_id(op1, sender)
    body = {
        "appeal_type": "complaint",
        "description": "小区暖气不热，室温十五度",
        "address": "海淀区中关村南大街5号院",
        "contact_name": "李女士",
        "contact_phone": "13912345678",
    }
    made = op1.post(f"/console/api/conversations/{cid}/case", json=body, headers={"Idempotency-Key": "c1"})
    assert made.status_code == 201, made.text
    case = made.json()["case"]
    assert case["channel"] == "webchat" and case["lead_unit"]["key"] == "heating"
    again = op1.post(f"/console/api/conversations/{cid}/case", json=body, headers={"Idempotency-Key": "c1"})
    assert again.json()["case"]["number"] == case["number"]
    heat = console(stack, "heat")
    assert heat.get(f"/console/api/backend/api/v1/cases/{case['number']}").status_code == 200


def test_an_operator_who_disconnects_gives_the_conversation_back(stack: Stack) -> None:
    from websockets.sync.client import connect

    sender, _ = web_citizen(stack, "转人工")
    op1 = console(stack, "op1")
    cid = conversation_id(op1, sender)
    cookie = f"jiesu_console={op1.cookies['jiesu_console']}"
    with connect(
        stack.url("gateway").replace("http", "ws") + "/console/ws", additional_headers={"Cookie": cookie}
    ):
        assert op1.post(f"/console/api/conversations/{cid}/claim").status_code == 200
    assert wait_until(
        lambda: any(i["id"] == cid for i in op1.get("/console/api/queue").json()["waiting"]), 15
    )
    assert wait_until(
        lambda: (
            "重新排队"
            in str(
                httpx.get(
                    f"{stack.url('gateway')}/chat/api/history", params={"sender": sender}, timeout=10
                ).json()
            )
        ),
        10,
    )


@pytest.mark.browser
def test_an_operator_takes_over_in_the_browser(stack: Stack, browser: Any, fake_rasa: FakeRasa) -> None:
    sender, _ = web_citizen(stack, "转人工")
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{stack.url('gateway')}/console/")
    page.wait_for_url(re.compile("/console/login"))
    page.fill("#username", "op1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#waiting li[data-id]")
    page.click("#waiting li[data-id]")
    page.wait_for_selector(".line.citizen:has-text('转人工')")
    page.click("#claim")
    page.wait_for_selector("#say:not([disabled])")
    stack.say(sender, "楼道灯坏了一个月")
    page.wait_for_selector(".line.citizen:has-text('楼道灯坏了一个月')", timeout=10_000)  # live, no reload
    page.fill("#say", "收到，我帮您登记")
    page.press("#say", "Enter")
    history = lambda: httpx.get(f"{stack.url('gateway')}/chat/api/history", params={"sender": sender}).json()  # noqa: E731
    assert wait_until(lambda: history()[-1]["text"] == "收到，我帮您登记", 10)
    page.click("#handback")
    page.wait_for_selector("#claim:not([disabled])")
    assert stack.say(sender, "好的")[0]["text"] == "收到：好的"
    page.context.close()


@pytest.mark.browser
def test_phone_intake_in_the_browser_shows_routing_live_and_creates_a_case(
    stack: Stack, browser: Any
) -> None:
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{stack.url('gateway')}/console/login")
    page.fill("#username", "op1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile("/console/"))
    page.click("a[data-tab=phone]")
    page.fill("#phone-description", "市民来电：家里暖气片一点都不热，屋里才十四度，老人冻得受不了")
    page.fill("#phone-address", "朝阳区望京西园三区")
    page.wait_for_selector("#suggested-category:has-text('供暖不热')", timeout=10_000)
    assert "热力" in page.inner_text("#suggested-target")
    page.fill("#phone-form input[name=contact_name]", "王先生")
    page.fill("#phone-form input[name=contact_phone]", "13800138000")
    page.click("#phone-submit")
    page.wait_for_selector("#phone-result:has-text('已受理')")
    number = re.search(r"\d{13}", page.inner_text("#phone-result")).group(0)  # type: ignore[union-attr]
    op = console(stack, "op1")
    case = op.get(f"/console/api/backend/api/v1/cases/{number}").json()
    assert case["channel"] == "phone" and case["category_code"] == "heating_not_warm"
    assert case["lead_unit"]["key"] == "heating"
    page.context.close()
