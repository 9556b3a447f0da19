"""吹哨报到 in the units' console, in Debian's chromium against a real backend (issue 22): the street office
leading a case summons a functional department with a reason; the department finds the case in its queue,
checks in (报到) with what it will do; both show in the case view and the backend holds them."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops.stack import Stack
from tests.connectors.test_console import ADMIN_PASSWORD, PASSWORD, backend_post, console_stack, login
from tests.connectors.test_console_staff_browser import logged_in
from tests.fakes.rasa import FakeRasa

SHOTS = Path(tempfile.gettempdir()) / "jiesu-dashboard"  # looked at by hand
STREET = "street_office:110105026"  # 朝阳区望京街道
REASON = "垃圾站外溢占道，请城管到场"
CHECK_IN = "明早九点派执法队到现场清理"


@pytest.fixture(scope="module")
def hotline(tmp_path_factory: pytest.TempPathFactory, module_rasa: FakeRasa) -> Iterator[Stack]:
    staff = [("wangjing", "unit_staff", STREET), ("chengguan", "unit_staff", "urban_enforcement")]
    running = console_stack(tmp_path_factory.mktemp("summons"), module_rasa, staff)
    admin = login(running, "admin", ADMIN_PASSWORD)
    filed = backend_post(
        running,
        "/api/v1/cases",
        admin,
        {
            "description": "小区门口垃圾站满了好几天，垃圾堆到路上",
            "address": "朝阳区望京西园三区",
            "district_code": "110105",
            "street_code": "110105026",
            "channel": "phone",
            "contact_name": "刘女士",
            "contact_phone": "13700001111",
            "lead_unit_code": STREET,
        },
    )
    assert filed.status_code == 201, filed.text
    running.number = filed.json()["case"]["number"]  # type: ignore[attr-defined]
    yield running
    running.stop()


def case_detail(stack: Stack, number: str) -> dict[str, Any]:
    token = login(stack, "admin", ADMIN_PASSWORD)
    answer = httpx.get(
        f"{stack.url('backend')}/api/v1/cases/{number}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    return dict(answer.json())


def test_a_street_summons_a_department_and_it_checks_in(hotline: Stack, browser: Any) -> None:
    number = hotline.number  # type: ignore[attr-defined]
    street, violations, dialogs = logged_in(hotline, browser, "wangjing", PASSWORD)
    street.goto(f"{hotline.url('gateway')}/console/#cases")
    street.click(f"#case-rows tr:has-text('{number}')")
    street.wait_for_selector("#summon-send")
    street.wait_for_selector("input[name=summon-department][value=urban_enforcement]")
    street.check("input[name=summon-department][value=urban_enforcement]")
    street.fill("#summon-reason", REASON)
    street.click("#summon-send")
    street.wait_for_selector("#summonses [data-summons]")
    said = street.inner_text("#summonses")
    assert "北京市城市管理综合行政执法局" in said and REASON in said and "待报到" in said
    [summons] = case_detail(hotline, number)["summonses"]
    assert summons["department_code"] == "urban_enforcement" and summons["reason"] == REASON
    assert summons["open"] and summons["checked_in_at"] is None

    # the department: the case is in its queue, and only it is offered the 报到 form
    department, more_violations, more_dialogs = logged_in(hotline, browser, "chengguan", PASSWORD)
    department.goto(f"{hotline.url('gateway')}/console/#cases")
    department.click(f"#case-rows tr:has-text('{number}')")  # in the summoned department's queue
    form = f"#check-in-{summons['id']}"
    department.wait_for_selector(form)
    assert street.locator(form).count() == 0 and department.locator("#summon-send").count() == 0
    department.fill(form, CHECK_IN)
    department.press(form, "Tab")
    department.keyboard.press("Enter")  # the 报到 button, by keyboard
    department.wait_for_selector("#summonses :text('已报到')")
    assert CHECK_IN in department.inner_text("#summonses")
    timeline = department.inner_text("#case-detail .timeline")
    assert "吹哨" in timeline and "报到" in timeline and "其他" not in timeline
    [summons] = case_detail(hotline, number)["summonses"]
    assert summons["checked_in_at"] is not None and summons["check_in"] == CHECK_IN
    assert summons["checked_in_by"] == "chengguan"
    SHOTS.mkdir(exist_ok=True)
    for width in (390, 1400):
        department.set_viewport_size({"width": width, "height": 900})
        department.locator("#summonses").screenshot(path=str(SHOTS / f"summons-{width}.png"))
        department.screenshot(path=str(SHOTS / f"summons-page-{width}.png"), full_page=True)
        page_width = department.evaluate("() => document.documentElement.scrollWidth")
        assert page_width <= width, f"the page is {page_width} px wide at {width}"
    assert not (violations + more_violations) and not (dialogs + more_dialogs)
