"""The operators' console: logins and roles on every page and API, takeover through the API and in a
real browser, phone intake in the browser. The backend is real; the bot is the fake Rasa."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops.stack import Stack, wait_until
from tests.connectors.conftest import gateway, watch_csp
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
    running = console_stack(
        tmp_path,
        fake_rasa,
        STAFF,
        FEED_INTERVAL_S="0.3",
        CONSOLE_DISCONNECT_GRACE_S="1",
        CONSOLE_SESSION_CHECK_S="0.5",
    )
    yield running
    running.stop()


STAFF = (("op1", "operator", None), ("op2", "operator", None), ("heat", "unit_staff", "heating"))
STAFF += (("boss", "supervisor", None),)


def console_stack(
    folder: Path, rasa: FakeRasa, staff: Iterable[tuple[str, str, str | None]], **env: str
) -> Stack:
    """The backend and the gateway running against the fake Rasa, with these staff accounts (username,
    role, unit; password PASSWORD) besides the admin."""
    running = Stack.configure(folder, RASA_URL=rasa.url, RASA_TOKEN=RASA_TOKEN, **env)  # type: ignore[attr-defined]
    running.start("backend", "gateway", timeout_s=120)
    admin = login(running, "admin", ADMIN_PASSWORD)
    for username, role, unit in staff:
        body = {"username": username, "display_name": f"{username}名", "password": PASSWORD, "role": role}
        answer = backend_post(running, "/api/v1/staff", admin, {**body, "unit_code": unit})
        assert answer.status_code == 201, answer.text
    return running


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


def console(
    stack: Stack, username: str | None = None, password: str = PASSWORD, **headers: str
) -> httpx.Client:
    """A console client as the console's own pages make requests (Origin: the gateway)."""
    client = httpx.Client(
        base_url=stack.url("gateway"),
        timeout=30,
        follow_redirects=False,
        headers={"Origin": stack.url("gateway"), **headers},
    )
    if username:
        answer = client.post("/console/api/login", json={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
    return client


def live_socket(stack: Stack, client: httpx.Client, origin: str | None = None) -> Any:
    from websockets.sync.client import connect

    return connect(
        stack.url("gateway").replace("http", "ws") + "/console/ws",
        additional_headers={"Cookie": f"jiesu_console={client.cookies['jiesu_console']}"},
        origin=origin or stack.url("gateway"),  # type: ignore[arg-type]
    )


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
        connect(stack.url("gateway").replace("http", "ws") + "/console/ws", origin=stack.url("gateway"))  # type: ignore[arg-type]


def test_handling_units_see_cases_not_conversations(stack: Stack) -> None:
    unit = console(stack, "heat")
    for method, path in HOTLINE_APIS:
        assert unit.request(method, path, json={}).status_code == 403, path
    assert unit.get("/console/api/me").json()["unit_name"] == "北京市热力集团及供热单位"
    assert unit.get("/console/api/backend/api/v1/cases").status_code == 200
    assert unit.get("/console/api/backend/api/v1/staff").status_code == 403  # the backend: admins only
    assert unit.get("/console/").status_code == 200


def test_only_console_backend_paths_are_passed_on(stack: Stack) -> None:
    operator = console(stack, "op1")
    for path in (
        "/console/api/backend/api/v1/auth/sessions/active",
        "/console/api/backend/api/v1/staff/1/sessions",
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


def conversation_id(stack: Stack, operator: httpx.Client, sender: str) -> int:
    queue = operator.get("/console/api/queue").json()
    for item in queue["waiting"] + queue["held"] + queue["live"]:
        detail = operator.get(f"/console/api/conversations/{item['id']}").json()
        if detail["sender_id"] == stack.sender_id("webchat", sender):
            return int(item["id"])
    raise AssertionError("conversation not in the queue")


def test_takeover_through_the_api(stack: Stack, fake_rasa: FakeRasa) -> None:
    sender, replies = web_citizen(stack, "转人工")
    assert "前面还有" in replies[-1]["text"]
    op1, op2 = console(stack, "op1"), console(stack, "op2")
    cid = conversation_id(stack, op1, sender)
    waiting = op1.get("/console/api/queue").json()["waiting"]
    assert waiting[0]["reason"] == "requested" and waiting[0]["waited_s"] >= 0
    assert op1.post(f"/console/api/conversations/{cid}/claim").status_code == 200
    assert op2.post(f"/console/api/conversations/{cid}/claim").status_code == 409  # never two operators
    assert fake_rasa.appended[stack.sender_id("webchat", sender)][0]["event"] == "pause"
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
    assert fake_rasa.appended[stack.sender_id("webchat", sender)][-1]["event"] == "resume"
    assert stack.say(sender, "谢谢")[0]["text"] == "收到：谢谢"  # the bot is back
    assert fake_rasa.texts(stack.sender_id("webchat", sender)) == ["转人工", "谢谢"]


def test_a_case_from_a_conversation(stack: Stack) -> None:
    sender, _ = web_citizen(stack, "转人工")
    op1 = console(stack, "op1")
    cid = conversation_id(stack, op1, sender)
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
    sender, _ = web_citizen(stack, "转人工")
    op1 = console(stack, "op1")
    cid = conversation_id(stack, op1, sender)
    with live_socket(stack, op1):
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


def console_page(stack: Stack, browser: Any, user: str, **context: Any) -> tuple[Any, list[str]]:
    """A browser page logged in to the console as `user`, and the CSP violations it will report."""
    page = browser.new_context(locale="zh-CN", **context).new_page()
    violations = watch_csp(page)
    page.goto(f"{stack.url('gateway')}/console/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile("/console/"))
    return page, violations


@pytest.mark.browser
def test_an_operator_takes_over_in_the_browser(stack: Stack, browser: Any, fake_rasa: FakeRasa) -> None:
    sender, _ = web_citizen(stack, "转人工")
    page = browser.new_context(locale="zh-CN").new_page()
    violations = watch_csp(page)
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
    assert violations == []  # the console works under its Content Security Policy
    page.context.close()


@pytest.mark.browser
def test_phone_intake_in_the_browser_shows_routing_live_and_creates_a_case(
    stack: Stack, browser: Any
) -> None:
    page, violations = console_page(stack, browser, "op1")
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
    assert case["sms_updates"] is True  # the caller is told by SMS unless the operator unticks it
    assert violations == []
    page.context.close()


def audit_actions(stack: Stack, actor: str) -> list[str]:
    admin = {"Authorization": f"Bearer {login(stack, 'admin', ADMIN_PASSWORD)}"}
    url = f"{stack.url('backend')}/api/v1/audit"
    trail = httpx.get(url, params={"actor": actor}, headers=admin, timeout=30)
    return [entry["action"] for entry in trail.json()]


def test_wrong_passwords_lock_the_account_and_the_address_but_not_the_gateway(stack: Stack) -> None:
    """Behind a reverse proxy (X-Forwarded-For), each browser is its own address at the backend."""
    here = console(stack, **{"X-Forwarded-For": "198.51.100.7"})
    for _ in range(30):
        wrong = here.post("/console/api/login", json={"username": "op1", "password": "wrong password"})
        assert wrong.status_code in (401, 429)
    right = here.post("/console/api/login", json={"username": "op1", "password": PASSWORD})
    assert right.status_code == 429 and "锁定" in right.json()["detail"]
    assert "jiesu_console" not in here.cookies
    same_address = here.post("/console/api/login", json={"username": "op2", "password": PASSWORD})
    assert same_address.status_code == 429 and same_address.json()["detail"].startswith("本机")
    elsewhere = console(stack, "op2", **{"X-Forwarded-For": "198.51.100.8"})  # everyone else still logs in
    assert elsewhere.get("/console/api/me").status_code == 200
    assert audit_actions(stack, "op1").count("login_locked") == 2  # the account, and the address


def test_logout_deactivation_and_a_new_password_end_the_console_and_its_socket(stack: Stack) -> None:
    from websockets.exceptions import ConnectionClosed

    admin = login(stack, "admin", ADMIN_PASSWORD)
    staff = {
        s["username"]: s["id"]
        for s in httpx.get(
            f"{stack.url('backend')}/api/v1/staff", headers={"Authorization": f"Bearer {admin}"}, timeout=30
        ).json()
    }

    def patch(username: str, body: dict[str, Any]) -> None:
        answer = httpx.patch(
            f"{stack.url('backend')}/api/v1/staff/{staff[username]}",
            json=body,
            headers={"Authorization": f"Bearer {admin}"},
            timeout=30,
        )
        assert answer.status_code == 200

    def ended(client: httpx.Client, socket: Any) -> None:
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        assert client.get("/console/api/me").status_code == 401

    op1, op2, boss = console(stack, "op1"), console(stack, "op2"), console(stack, "boss")
    with live_socket(stack, op1) as one, live_socket(stack, op2) as two, live_socket(stack, boss) as three:
        started = time.monotonic()
        patch("op1", {"active": False})
        ended(op1, one)
        patch("op2", {"password": "a new staff password"})
        ended(op2, two)
        assert time.monotonic() - started < 10
        assert boss.post("/console/api/logout").status_code == 204
        with pytest.raises(ConnectionClosed):
            three.recv(timeout=5)
    token = op2.cookies["jiesu_console"]
    stored = (stack.data_dir / "gateway.db").read_bytes()
    assert token.encode() not in stored  # the gateway keeps no backend token in plain text
    old = httpx.get(f"{stack.url('backend')}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert old.status_code == 401  # nor does the old backend token work after the new password
    assert console(stack, "op2", password="a new staff password").get("/console/api/me").status_code == 200


def test_state_changing_console_requests_must_come_from_its_pages(stack: Stack) -> None:
    from websockets.exceptions import InvalidStatus

    operator = console(stack, "op1")
    cookie = {"jiesu_console": operator.cookies["jiesu_console"]}
    forged = httpx.Client(base_url=stack.url("gateway"), cookies=cookie, timeout=30)
    for headers in ({"Origin": "https://evil.example"}, {}, {"Referer": "https://evil.example/page"}):
        answer = forged.post("/console/api/logout", headers=headers)
        assert answer.status_code == 403 and "来源" in answer.json()["detail"], headers
    assert forged.get("/console/api/me").status_code == 200  # reading is fine, and nothing was changed
    with pytest.raises(InvalidStatus, match="403"):
        live_socket(stack, operator, origin="https://evil.example")
    assert operator.post("/console/api/logout").status_code == 204


def test_pages_carry_security_headers_and_the_cookie_is_secure_over_https(stack: Stack) -> None:
    client = console(stack)
    for page in ("/chat/", "/console/login", "/chat/static/chat.js"):
        headers = client.get(page).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, page
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "same-origin"
    plain = console(stack).post("/console/api/login", json={"username": "op1", "password": PASSWORD})
    assert "secure" not in plain.headers["set-cookie"].lower()
    proxied = console(stack, **{"X-Forwarded-Proto": "https"})  # TLS ended at a proxy in front
    answer = proxied.post("/console/api/login", json={"username": "op1", "password": PASSWORD})
    cookie = answer.headers["set-cookie"].lower()
    assert "; secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_the_old_login_table_of_plain_backend_tokens_is_dropped(tmp_path: Path, fake_rasa: FakeRasa) -> None:
    token = "an-old-plain-backend-token-0123456789"
    with closing(sqlite3.connect(tmp_path / "gateway.db")) as db, db:
        db.execute("CREATE TABLE console_sessions (id INTEGER PRIMARY KEY, backend_token TEXT)")
        db.execute("INSERT INTO console_sessions (backend_token) VALUES (?)", (token,))
    running = gateway(tmp_path, fake_rasa)
    try:
        with closing(sqlite3.connect(tmp_path / "gateway.db")) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "console_sessions" not in tables and "console_logins" in tables
        for path in tmp_path.glob("gateway.db*"):
            assert token.encode() not in path.read_bytes(), path
    finally:
        running.stop()


def test_overdue_alerts_reach_the_consoles_of_the_unit_and_the_supervisors_live(stack: Stack) -> None:
    """The overdue scan flags a case; the gateway's alert feed tells the lead unit's and the
    supervisors' consoles at once, not the operators'; the unit's console lists it (督办提醒)."""
    from sqlalchemy import select

    from backend.cases.alerts import raise_alerts
    from backend.cases.models import Case
    from backend.db import session_factory
    from common.database import make_engine

    body = {
        "category_code": "heating_not_warm",
        "description": "暖气片一直是凉的，屋里才十四五度",
        "address": "望京西园三区",
        "district_code": "110105",
        "street_code": "110105026",
        "contact_name": "周女士",
        "contact_phone": "13700001234",
        "channel": "webchat",
    }
    created = backend_post(stack, "/api/v1/cases", stack.env["BACKEND_SERVICE_TOKEN"], body)
    number = created.json()["case"]["number"]
    heat, boss, op1 = console(stack, "heat"), console(stack, "boss"), console(stack, "op1")
    with (
        live_socket(stack, heat) as unit,
        live_socket(stack, boss) as supervisor,
        live_socket(stack, op1) as op,
    ):
        engine = make_engine(f"sqlite:///{stack.data_dir / 'backend.db'}")
        with session_factory(engine).begin() as session:
            case = session.scalars(select(Case).where(Case.number == number)).one()
            raise_alerts(session=session, share=0.2, now=case.due_at - timedelta(hours=2))
        engine.dispose()
        for socket in (unit, supervisor):
            frame = json.loads(socket.recv(timeout=15))
            assert frame["type"] == "case_alert"
            assert (frame["alert"]["number"], frame["alert"]["kind"]) == (number, "due_soon")
            assert "周女士" not in str(frame) and "13700001234" not in str(frame)
        with pytest.raises(TimeoutError):
            op.recv(timeout=2)
    [listed] = heat.get("/console/api/backend/api/v1/supervision/alerts").json()
    assert listed["number"] == number and listed["kind_label"] == "临期"
    assert op1.get("/console/api/backend/api/v1/supervision/alerts").status_code == 403


def unsure_case(stack: Stack) -> str:
    """A web chat case whose routing was unsure of the department: at its street (属地), for review."""
    routing = {
        "category_code": "air_pollution",
        "department_code": "ecology_environment",
        "district_code": "110105",
        "street_code": "110105026",
        "confidence": 0.11,
        "department_confidence": 0.09,
        "needs_review": True,
        "alternatives": [
            {"category_code": "cooking_fumes", "department_code": "urban_enforcement", "confidence": 0.08}
        ],
    }
    body = {
        "description": "小区旁边那个厂子晚上偷偷排烟，味道刺鼻",
        "address": "望京西园三区",
        "contact_phone": "13700004321",
        "channel": "webchat",
        "routing": routing,
    }
    created = backend_post(stack, "/api/v1/cases", stack.env["BACKEND_SERVICE_TOKEN"], body)
    case = created.json()["case"]
    assert case["needs_review"] is True and case["lead_unit"]["key"] == "street_office:110105026"
    return str(case["number"])


def test_the_review_queue_and_a_pick_through_the_console_api(stack: Stack) -> None:
    number = unsure_case(stack)
    op = console(stack, "op1")
    queue = op.get("/console/api/backend/api/v1/cases", params={"needs_review": "true"}).json()
    assert [c["number"] for c in queue] == [number]
    assert [u["key"] for u in queue[0]["review_choices"]] == [
        "ecology_environment",
        "urban_enforcement",
        "street_office:110105026",
    ]
    heat = console(stack, "heat")
    path = f"/console/api/backend/api/v1/cases/{number}/transitions"
    assert heat.post(path, json={"move": "dispatch", "lead_unit_code": "heating"}).status_code in (403, 404)
    picked = op.post(path, json={"move": "dispatch", "lead_unit_code": "ecology_environment"})
    assert picked.status_code == 200, picked.text
    assert (
        picked.json()["lead_unit"]["key"] == "ecology_environment" and picked.json()["needs_review"] is False
    )
    assert op.get("/console/api/backend/api/v1/cases", params={"needs_review": "true"}).json() == []
    assert "case.dispatch" in audit_actions(stack, "op1")


@pytest.mark.browser
def test_an_operator_picks_the_unit_of_an_unsure_case_with_one_click(stack: Stack, browser: Any) -> None:
    number = unsure_case(stack)
    page, violations = console_page(stack, browser, "op1")
    page.click("a[data-tab=review]")
    row = f"#review-rows tr[data-number='{number}']"
    page.wait_for_selector(f"{row}:has-text('望京街道办事处')")
    page.click(f"{row} button[data-unit=urban_enforcement]")
    page.wait_for_selector(f"#review-result:has-text('{number}')")
    page.wait_for_selector(row, state="detached")
    case = console(stack, "op1").get(f"/console/api/backend/api/v1/cases/{number}").json()
    assert case["lead_unit"]["key"] == "urban_enforcement" and case["needs_review"] is False
    assert (
        case["timeline"][-1]["actor"] == "op1"
        and case["timeline"][-1]["note"] == "派至北京市城市管理综合行政执法局"
    )
    assert violations == []
    page.context.close()


@pytest.mark.browser
def test_a_case_made_from_a_conversation_carries_its_routing(
    stack: Stack, browser: Any, fake_rasa: FakeRasa
) -> None:
    sender, _ = web_citizen(stack, "转人工")
    carried = {
        "category_code": "cooking_fumes",
        "department_code": "urban_enforcement",
        "district_code": "110105",
        "street_code": "110105026",
        "confidence": 0.12,
        "department_confidence": 0.07,
        "needs_review": True,
        "alternatives": [],
    }
    fake_rasa.slots[stack.sender_id("webchat", sender)] = {
        "description": "小区旁边那个厂子晚上偷偷排烟，味道刺鼻",
        "address": "朝阳区望京西园三区",
        "contact_phone": "13700005678",
        "routing": carried,
    }
    page, _ = console_page(stack, browser, "op1")
    page.wait_for_selector("#waiting li[data-id]")
    page.click("#waiting li[data-id]")
    page.wait_for_selector("#collected:has-text('问题描述：')")
    assert "routing" not in page.inner_text("#collected")
    page.click("#make-case")
    page.click("#case-form button")
    page.wait_for_selector("#case-result:has-text('已创建工单')")
    number = re.search(r"\d{13}", page.inner_text("#case-result")).group(0)  # type: ignore[union-attr]
    case = console(stack, "op1").get(f"/console/api/backend/api/v1/cases/{number}").json()
    assert (case["category_code"], case["department_confidence"]) == (
        "cooking_fumes",
        0.07,
    )  # not routed again
    assert case["needs_review"] is True and case["lead_unit"]["key"] == "street_office:110105026"
    page.context.close()
