"""Staff administration in the console (issue 22), in Debian's chromium: an admin creates accounts,
deactivates one, gives one a new password and issues and revokes an Open311 key, by keyboard where a
person would type; other roles see no 人员管理 tab and the backend refuses them through the gateway."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops.stack import Stack
from tests.connectors.conftest import watch_csp
from tests.connectors.test_console import ADMIN_PASSWORD, PASSWORD, console, console_stack
from tests.fakes.rasa import FakeRasa

LIGHTS = {
    "service_code": "street_lights",
    "description": "小区门口路灯坏了一个多月",
    "address_string": "望京西园",
}
# Every control of the tab: a button with a name, or a field with a label; none taken out of the Tab order.
UNLABELLED = """() => [...document.querySelectorAll('#tab-staff input, #tab-staff select, #tab-staff button')]
  .filter((c) => c.offsetParent !== null)
  .filter((c) => c.tabIndex < 0 || (c.tagName === 'BUTTON' ? !c.textContent.trim() : !c.labels.length))
  .map((c) => c.outerHTML)"""


@pytest.fixture(scope="module")
def hotline(tmp_path_factory: pytest.TempPathFactory, module_rasa: FakeRasa) -> Iterator[Stack]:
    running = console_stack(tmp_path_factory.mktemp("staff"), module_rasa, [("op1", "operator", None)])
    yield running
    running.stop()


def logged_in(stack: Stack, browser: Any, user: str, password: str) -> tuple[Any, list[str], list[str]]:
    """A console page of this user, its CSP violations, and any dialog it opens (there should be none)."""
    page = browser.new_context(locale="zh-CN").new_page()
    violations = watch_csp(page)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{stack.url('gateway')}/console/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.press("#password", "Enter")
    page.wait_for_url(re.compile("/console/$"))
    page.wait_for_selector("#who:not(:empty)")
    return page, violations, dialogs


def backend_login(stack: Stack, username: str, password: str) -> int:
    body = {"username": username, "password": password}
    return httpx.post(f"{stack.url('backend')}/api/v1/auth/login", json=body, timeout=30).status_code


def test_an_admin_manages_staff_and_open311_keys_in_the_browser(
    hotline: Stack, browser: Any, tmp_path: Path
) -> None:
    page, violations, dialogs = logged_in(hotline, browser, "admin", ADMIN_PASSWORD)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.click("#nav a[data-tab=staff]")
    page.wait_for_selector("#staff-rows tr[data-username=op1]")
    assert page.inner_text("#staff-rows tr[data-username=admin]").split("\t")[:5] == [
        "admin",
        "系统管理员",
        "管理员",
        "—",
        "在用",
    ]
    assert page.evaluate(UNLABELLED) == []

    # by keyboard: a username too short is refused in the page, in Chinese, and nothing is sent
    page.focus("#staff-username")
    page.keyboard.type("wl")
    page.keyboard.press("Tab")
    page.keyboard.type("王丽")
    page.keyboard.press("Enter")
    page.wait_for_selector(".toast.error:has-text('用户名须为3到64位字母、数字或 . _ -')")
    assert page.get_attribute("#staff-username", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "staff-username"
    page.fill("#staff-username", "wangli")
    page.select_option("#staff-role", "operator")
    page.fill("#staff-password", "a long first password")
    page.press("#staff-password", "Enter")
    page.wait_for_selector("#staff-rows tr[data-username=wangli]:has-text('接线员')")
    assert backend_login(hotline, "wangli", "a long first password") == 200

    # a street office's staff member: the unit is picked from departments, then the street
    page.fill("#staff-username", "wangjing1")
    page.fill("#staff-name", "望京街道张三")
    page.select_option("#staff-role", "unit_staff")
    page.select_option("#staff-unit", "street_office")
    page.click("#staff-create")
    page.wait_for_selector(".toast.error:has-text('请选择街乡镇')")
    page.select_option("#staff-area", "110105026")
    page.fill("#staff-password", "another long password")
    page.click("#staff-create")
    row = page.wait_for_selector("#staff-rows tr[data-username=wangjing1]")
    assert "承办单位" in row.inner_text() and "朝阳区望京街道办事处" in row.inner_text()  # type: ignore[union-attr]
    page.fill("#staff-username", "wangli")
    page.fill("#staff-name", "重名")
    page.select_option("#staff-role", "operator")
    page.fill("#staff-password", "a long first password")
    page.click("#staff-create")
    page.wait_for_selector(".toast.error:has-text('用户名 wangli 已被使用')")

    page.click("#staff-rows tr[data-username=wangli] button[data-action=deactivate]")
    page.wait_for_selector("#staff-rows tr[data-username=wangli].inactive:has-text('已停用')")
    assert backend_login(hotline, "wangli", "a long first password") == 401
    assert page.is_disabled(
        "#staff-rows tr[data-username=admin] button[data-action=deactivate]"
    )  # not oneself

    page.click("#staff-rows tr[data-username=wangjing1] button[data-action=reset]")
    new_password = page.wait_for_selector("#staff-secret .secret__value").inner_text()  # type: ignore[union-attr]
    assert len(new_password) == 14 and "只显示这一次" in page.inner_text("#staff-secret")
    assert backend_login(hotline, "wangjing1", "another long password") == 401
    assert backend_login(hotline, "wangjing1", new_password) == 200

    page.fill("#key-name", "市城管委APP")
    page.press("#key-name", "Enter")
    key = page.wait_for_selector("#key-secret .secret__value").inner_text()  # type: ignore[union-attr]
    key_row = page.wait_for_selector("#key-rows tr:has-text('市城管委APP')")
    assert "有效" in key_row.inner_text() and key not in page.inner_text("#key-rows")  # type: ignore[union-attr]
    requests = f"{hotline.url('backend')}/open311/v2/requests.json"
    assert httpx.post(requests, data={**LIGHTS, "api_key": key}, timeout=30).status_code == 200

    page.screenshot(path=str(tmp_path / "staff-1400.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "staff-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # tables scroll inside their card

    page.click("#key-rows tr:has-text('市城管委APP') button[data-action=revoke]")
    page.wait_for_selector("#key-rows tr:has-text('市城管委APP'):has-text('已吊销')")
    assert httpx.post(requests, data={**LIGHTS, "api_key": key}, timeout=30).status_code == 403
    shown = page.inner_text("#tab-staff")
    for raw in ("operator", "unit_staff", "street_office", "detail"):  # codes shown in Chinese
        assert raw not in shown, raw
    assert violations == [] and dialogs == []
    page.context.close()


def test_other_roles_see_no_staff_tab_and_the_backend_refuses_them(hotline: Stack, browser: Any) -> None:
    page, _, _ = logged_in(hotline, browser, "op1", PASSWORD)
    assert page.is_hidden("#nav a[data-tab=staff]")
    page.goto(f"{hotline.url('gateway')}/console/#staff")
    page.wait_for_selector("#tab-queue:not([hidden])")
    assert page.is_hidden("#tab-staff")
    page.context.close()
    operator = console(hotline, "op1")
    for method, path in (
        ("GET", "staff"),
        ("POST", "staff"),
        ("PATCH", "staff/1"),
        ("POST", "staff/1/password-reset"),
        ("GET", "open311/keys"),
        ("POST", "open311/keys?name=mine"),
        ("POST", "open311/keys/1/revoke"),
    ):
        answer = operator.request(method, f"/console/api/backend/api/v1/{path}", json={})
        assert answer.status_code == 403, (method, path, answer.status_code)
    assert backend_login(hotline, "admin", ADMIN_PASSWORD) == 200  # nothing happened to the admin
