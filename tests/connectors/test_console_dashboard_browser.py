"""The supervisors' dashboard (数据, 督办) in Debian's chromium against a real backend (issue 22): the weekly
trend of the three rates, the month's ranking, the grid of 16 districts, overdue cases, unanswered summonses
and a topic of the month chosen from a cluster; every tab by keyboard alone and at 390 and 1400 px wide. The
screenshots go to $TMPDIR/jiesu-dashboard/ to be looked at."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from common.database import utcnow
from ops.stack import Stack
from tests.connectors.test_console import ADMIN_PASSWORD, PASSWORD, console, console_stack, login, web_citizen
from tests.connectors.test_console_staff_browser import logged_in
from tests.fakes.rasa import FakeRasa

SHOTS = Path(tempfile.gettempdir()) / "jiesu-dashboard"
TABS = ("queue", "phone", "review", "cases", "overdue", "stats", "staff")
# Every visible control of a tab: a button with a name, or a field with a label; none out of the Tab order.
UNLABELLED = """(tab) => [...document.querySelectorAll(`#tab-${tab} :is(input, select, button, textarea)`)]
  .filter((c) => c.offsetParent !== null)
  .filter((c) => c.tabIndex < 0 || (c.tagName === 'BUTTON'
    ? !(c.textContent.trim() || c.getAttribute('aria-label'))
    : !(c.labels.length || c.getAttribute('aria-label'))))
  .map((c) => c.outerHTML.slice(0, 120))"""
GARBAGE = "小区垃圾好几天没人清运，味道很大"
WIDER = """(width) => [...document.querySelectorAll('main *')].filter((e) => e.offsetParent
  && e.getBoundingClientRect().right > width + 1).slice(0, 5).map((e) => e.outerHTML.slice(0, 100))"""
CHART = """(id) => { const c = Chart.getChart(document.getElementById(id));
  return { labels: c.data.labels, data: c.data.datasets.map((d) => [d.label, d.data]), width: c.width }; }"""


@pytest.fixture(scope="module")
def hotline(tmp_path_factory: pytest.TempPathFactory, module_rasa: FakeRasa) -> Iterator[Stack]:
    staff = [("boss", "supervisor", None), ("op1", "operator", None), ("heat", "unit_staff", "heating")]
    running = console_stack(tmp_path_factory.mktemp("dashboard"), module_rasa, staff)
    running.seeded = seed(running)  # type: ignore[attr-defined]
    yield running
    running.stop()


def seed(stack: Stack) -> dict[str, str]:
    """This month's rated cases of three units, an overdue and a due-soon case, a summons nobody answered,
    and a hotspot scan that finds the clusters; straight into the backend's database."""
    from backend.cases.alerts import raise_alerts
    from backend.cases.summons import summon
    from backend.db import session_factory
    from backend.staff.principal import Principal
    from backend.staff.roles import Role
    from backend.stats.scans import ClusterRule, scan_hotspots
    from common.database import make_engine
    from tests.backend.factories import ZHONGGUANCUN, make_case, make_rated_case

    now = utcnow()
    at = now - timedelta(hours=2)
    engine = make_engine(f"sqlite:///{stack.data_dir / 'backend.db'}")
    with session_factory(engine)() as session:  # the factories commit as they go
        for satisfaction in ("satisfied", "satisfied", "satisfied"):  # 城管执法: all good
            make_rated_case(session, at, satisfaction)
        for satisfaction in ("satisfied", "dissatisfied", "satisfied"):  # 望京街道: one of three not
            make_rated_case(
                session, at, satisfaction, category_code="garbage_collection", description=GARBAGE
            )
        make_rated_case(
            session, at, "satisfied", category_code="heating_not_warm", description="暖气不热，屋里十五度"
        )
        overdue = make_case(session, now=now - timedelta(days=8), **ZHONGGUANCUN)
        make_case(
            session,
            now=now - timedelta(days=6),
            category_code="street_lights",
            description="路灯坏了",
            **ZHONGGUANCUN,
        )
        summoned = make_case(
            session,
            now=now - timedelta(hours=30),
            category_code="garbage_collection",
            description="垃圾站垃圾堆到路上了，没人管",
        )
        summon(
            session=session,
            case=summoned,
            department_codes=["urban_enforcement"],
            reason="垃圾外溢占道，请城管到场",
            principal=Principal(Role.ADMIN, "admin"),
            limit=timedelta(hours=24),
            now=now - timedelta(hours=29),
        )
        rule = ClusterRule(window=timedelta(days=30), min_size=3, min_similarity=0.12)
        scan_hotspots(
            session=session, window=timedelta(days=7), min_count=3, min_growth=1.5, clusters=rule, now=now
        )
        raise_alerts(session=session, share=0.2, now=now)
        session.commit()
        numbers = {"overdue": overdue.number, "summoned": summoned.number}
    engine.dispose()
    return numbers


def tab_to(page: Any, selector: str, presses: int = 120) -> None:
    """Press Tab until the focus is on an element matching the selector, as a keyboard user would."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_supervisor_reads_the_dashboard_and_chooses_a_topic(hotline: Stack, browser: Any) -> None:
    page, violations, dialogs = logged_in(hotline, browser, "boss", PASSWORD)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.click("#nav a[data-tab=stats]")
    page.wait_for_selector("#ranking-rows tr[data-key]")
    page.wait_for_selector("#district-grid .district[data-code='110105']")

    page.wait_for_selector("#trend-chart[data-points]")
    trend = page.evaluate(CHART, "trend-chart")
    assert len(trend["labels"]) == 12 and page.get_attribute("#trend-chart", "data-points") == "12"
    today = (utcnow() + timedelta(hours=8)).date()  # Beijing
    monday = today - timedelta(days=today.weekday())
    assert trend["labels"][-1] == f"{monday.month}月{monday.day}日"
    rates = dict(trend["data"])
    # this week: 7 rated, all resolved, 6 satisfied; the 11 weeks before: nothing rated, a gap not 0
    assert (rates["解决率"][-1], rates["满意率"][-1]) == (100, 85.7)
    assert rates["满意率"][:-1] == [None] * 11

    ranked = page.eval_on_selector_all(
        "#ranking-rows tr",
        "(rows) => rows.map((r) => [r.dataset.key, r.cells[0].innerText, r.cells[2].innerText])",
    )
    assert [key for key, _, _ in ranked[:2]] == ["urban_enforcement", "street_office:110105026"]
    assert ranked[0][1:] == ["1", "100"] and ranked[1][1] == "2"
    assert ["heating", "—", "不排名"] in ranked
    ranking = page.evaluate(CHART, "ranking-chart")
    assert ranking["labels"][0].startswith("1. ") and ranking["data"][0][1][0] == 100

    counts = page.eval_on_selector_all(
        "#district-grid .district",
        "(ts) => Object.fromEntries(ts.map((t) => [t.dataset.code, +t.dataset.count]))",
    )
    assert len(counts) == 16 and counts["110105"] == 8 and counts["110108"] == 2 and counts["110119"] == 0
    assert sum(counts.values()) == 10
    assert "朝阳区" in page.inner_text("#district-grid .district[data-code='110105']")
    page.focus("#district-grid .district[data-code='110105']")
    page.keyboard.press("Enter")
    street = page.wait_for_selector("#district-streets tr[data-code='110105026']")
    assert street.inner_text().split("\t")[:2] == ["望京街道", "8"]  # type: ignore[union-attr]
    assert "垃圾" in street.inner_text() and "油烟" in street.inner_text()  # type: ignore[union-attr]
    assert page.get_attribute("#district-grid .district[data-code='110105']", "aria-pressed") == "true"
    shots(page, "stats")

    page.click("#nav a[data-tab=overdue]")
    page.wait_for_selector(f"#overdue-rows tr[data-number='{hotline.seeded['overdue']}']")  # type: ignore[attr-defined]
    page.wait_for_selector(f"#summons-rows tr[data-number='{hotline.seeded['summoned']}']")  # type: ignore[attr-defined]
    page.wait_for_selector("#deadline-chart[data-points]")
    deadlines = page.evaluate(CHART, "deadline-chart")
    assert dict(deadlines["data"])["超期"] and sum(dict(deadlines["data"])["临期"]) == 1
    assert "城市管理综合行政执法局" in page.inner_text("#summons-rows") and "超时未报到" in page.inner_text(
        "#summons-rows"
    )
    page.wait_for_selector("#cluster-list .cluster")
    fumes = page.locator("#cluster-list .cluster", has_text="餐饮油烟")
    cluster_id = fumes.get_attribute("data-id")
    fumes.locator("input").fill("望京餐饮油烟集中整治")
    fumes.locator("button.mark-topic").click()
    page.wait_for_selector(f"#topic-list li[data-cluster='{cluster_id}']:has-text('望京餐饮油烟集中整治')")
    assert fumes.locator("button.mark-topic").is_disabled()
    boss = login(hotline, "boss", PASSWORD)
    topics = httpx.get(
        f"{hotline.url('backend')}/api/v1/stats/topics",
        headers={"Authorization": f"Bearer {boss}"},
        timeout=30,
    ).json()
    assert [(t["cluster"]["id"], t["note"]) for t in topics["topics"]] == [
        (int(cluster_id), "望京餐饮油烟集中整治")
    ]
    fumes.locator("button.mark-topic").evaluate(
        "(b) => { b.disabled = false; b.click(); }"
    )  # twice: refused, in the page
    page.wait_for_selector(".toast.error:has-text('操作冲突')")
    shots(page, "overdue")

    page.click(f"#summons-rows tr[data-number='{hotline.seeded['summoned']}']")  # type: ignore[attr-defined]
    page.wait_for_selector(f"#case-detail h2:has-text('{hotline.seeded['summoned']}')")  # type: ignore[attr-defined]
    assert "吹哨" in page.inner_text("#case-detail")
    for raw in ("urban_enforcement", "street_office", "dispatched", "unit_kind"):
        assert raw not in page.inner_text("main"), raw
    assert violations == [] and dialogs == []
    page.context.close()


def shots(page: Any, tab: str) -> None:
    """Screenshots of a tab at 1400 and 390 px; at 390 nothing makes the page scroll sideways and every chart
    fits its card."""
    SHOTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.screenshot(path=str(SHOTS / f"{tab}-1400.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)  # the charts follow their boxes' new width
    page.screenshot(path=str(SHOTS / f"{tab}-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.evaluate(WIDER, 390)
    for i, card in enumerate(page.locator(f"#tab-{tab} .card:visible").all()):  # legible pieces of the page
        card.screenshot(path=str(SHOTS / f"{tab}-390-card{i}.png"))
    widths = page.eval_on_selector_all(
        f"#tab-{tab} canvas",
        "(cs) => cs.filter((c) => c.offsetParent).map((c) => c.getBoundingClientRect().right)",
    )
    assert widths and max(widths) <= 390, widths
    page.set_viewport_size({"width": 1400, "height": 900})


def test_every_tab_by_keyboard_alone_and_on_a_phone(hotline: Stack, browser: Any) -> None:
    web_citizen(hotline, "你好，我想问问暖气的事")  # a live conversation in the queue
    page, violations, dialogs = logged_in(hotline, browser, "admin", ADMIN_PASSWORD)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.wait_for_selector("#live li[data-id]")
    tab_to(page, "#live li[data-id]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#conv-title:has-text('网页')")
    page.evaluate("document.activeElement.blur()")
    for tab in TABS:
        tab_to(page, f"#nav a[data-tab={tab}]")
        page.keyboard.press("Enter")
        page.wait_for_selector(f"#tab-{tab}:not([hidden])")
        page.wait_for_timeout(200)
        assert page.evaluate(UNLABELLED, tab) == [], tab
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)  # charts follow their boxes' new width on the next frames
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.evaluate(WIDER, 390)
        page.set_viewport_size({"width": 1400, "height": 900})
        page.evaluate("document.activeElement.blur()")

    number = hotline.seeded["overdue"]  # type: ignore[attr-defined]
    tab_to(page, "#nav a[data-tab=overdue]")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#overdue-rows tr[data-number='{number}']")
    tab_to(page, f"#overdue-rows tr[data-number='{number}']")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#case-detail h2:has-text('{number}')")
    assert page.evaluate("document.activeElement.id") == "case-title" and "#cases" in page.url
    tab_to(page, f"#case-rows tr[data-number='{number}']")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#case-detail h2:has-text('{number}')")
    assert violations == [] and dialogs == []
    page.context.close()


def test_a_refreshed_list_keeps_the_keyboard_user_on_their_row(hotline: Stack, browser: Any) -> None:
    """Each time its tab is shown the overdue list reloads; a keyboard user standing on a row when the new
    rows arrive is still on that case, and Enter opens it (CI once lost the focus to the page here)."""
    number = hotline.seeded["overdue"]  # type: ignore[attr-defined]
    row = f"#overdue-rows tr[data-number='{number}']"
    page, violations, dialogs = logged_in(hotline, browser, "boss", PASSWORD)
    page.click("#nav a[data-tab=overdue]")
    page.wait_for_selector(row)
    page.focus(row)
    page.evaluate("document.activeElement.dataset.before = 'yes'")  # the new rows will not carry it
    page.evaluate("window.dispatchEvent(new HashChangeEvent('hashchange'))")  # the tab shown again
    page.wait_for_selector(f"{row}:not([data-before])", state="attached")
    assert page.evaluate("document.activeElement.dataset.number") == number
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#case-detail h2:has-text('{number}')")
    assert violations == [] and dialogs == []
    page.context.close()


def test_the_dashboard_apis_and_files_keep_to_their_roles(hotline: Stack, browser: Any) -> None:
    operator, unit = console(hotline, "op1"), console(hotline, "heat")
    api = "/console/api/backend/api/v1/"
    for client, refused in (
        (operator, ["stats/clusters", "supervision/summonses"]),
        (unit, ["stats/ranking", "stats/places", "stats/topics", "stats/clusters", "supervision/summonses"]),
    ):
        for path in refused:
            assert client.get(api + path).status_code == 403, path
        assert client.post(api + "stats/clusters/1/topic", json={}).status_code == 403
    assert operator.get(api + "stats/ranking").status_code == 200
    everyone = operator.get(api + "stats/deadlines").json()["rows"]
    assert len(everyone) >= 2 and unit.get(api + "stats/deadlines").json()["rows"] == []  # heating: none open
    assert console(hotline).get(api + "stats/places").status_code == 401
    chart = "/console/static/vendor/chart.umd.min.js"  # served by the gateway, to staff only
    assert console(hotline).get(chart).status_code == 401
    assert operator.get(chart).text.startswith("/*!\n * Chart.js v4.6.1")
    for outside in ("vendor/%2e%2e/%2e%2e/routes.py", "%2e%2e/auth.py", "vendor/%2e%2e/%2e%2e/hub.py"):
        assert operator.get(f"/console/static/{outside}").status_code == 404, outside
    assert operator.get(api + "stats/clusters/1/topic").status_code == 405  # only POST marks a topic
    assert operator.get(api + "stats/clusters/x/topic").status_code == 404  # not on the allow-list

    page, _, _ = logged_in(hotline, browser, "heat", PASSWORD)
    page.goto(f"{hotline.url('gateway')}/console/#stats")
    page.wait_for_selector("#trend-chart[data-points='12']")
    assert page.is_hidden("#ranking-rows") and page.is_hidden("#district-grid")
    page.click("#nav a[data-tab=overdue]")
    page.wait_for_selector("#checkin-rows tr")
    assert page.is_hidden("#summons-rows") and page.is_hidden("#cluster-list")
    page.context.close()
