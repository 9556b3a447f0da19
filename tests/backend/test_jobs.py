"""Jobs that run by themselves: leases (never twice at once, not twice for one scheduled time, taken
over from a holder that died), two schedulers racing on SQLite and PostgreSQL, catching up a missed
run at start, the overdue alerts and the hotspot scan with what the console and the dashboard read."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from backend.cases.alerts import raise_alerts
from backend.cases.models import AlertKind, CaseAlert, CaseUpdate, Satisfaction
from backend.cases.ratings import rate_case
from backend.cases.schemas.ratings import RatingIn
from backend.cases.states import Move
from backend.cases.transitions import transition
from backend.clock import LEASES, make_clock
from backend.settings import BackendSettings
from backend.staff.principal import SYSTEM
from backend.stats.models import HotspotScan
from backend.stats.scans import scan_hotspots
from common.clock import Clock, Job
from common.leases import Leases
from tests.backend.conftest import SERVICE_TOKEN, Staffer, unit_staff
from tests.backend.factories import ZHONGGUANCUN, make_case

TTL = timedelta(seconds=30)
T = TypeVar("T")


@pytest.fixture
def job_name(engine: Engine) -> Iterator[str]:
    """A job name of this test's own; its lease row is removed afterwards (leases commit)."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    with engine.begin() as connection:
        connection.execute(delete(LEASES).where(LEASES.c.name == name))


def counting_job(name: str, runs: list[str], seconds: float = 0.0) -> Job:
    def work() -> str:
        runs.append(threading.current_thread().name)
        time.sleep(seconds)
        return "counted"

    return Job(name, work, "0 3 * * *")


# --- leases -----------------------------------------------------------------------------------------


def test_a_lease_is_held_by_one_holder_at_a_time(engine: Engine, job_name: str) -> None:
    first, second = Leases(engine, LEASES, TTL), Leases(engine, LEASES, TTL)
    assert first.acquire(job_name)
    assert not second.acquire(job_name)  # held, even for a manual run
    assert not second.renew(job_name) and first.renew(job_name)
    first.release(job_name, "did it")
    row = second.last_runs()[job_name]
    assert row["outcome"] == "did it" and row["expires_at"] is None and row["finished_at"] is not None
    assert second.acquire(job_name)  # given back: free for the next


def test_a_scheduled_run_is_skipped_when_its_slot_already_ran(engine: Engine, job_name: str) -> None:
    """Instances whose clocks fire a moment apart: the later one finds the run done and does nothing."""
    first, second = Leases(engine, LEASES, TTL), Leases(engine, LEASES, TTL)
    slot = datetime.now(UTC)
    assert first.acquire(job_name, now=slot)
    first.release(job_name, "done", now=slot + timedelta(seconds=2))
    assert not second.acquire(
        job_name, fresh_after=slot - timedelta(hours=12), now=slot + timedelta(seconds=3)
    )
    tomorrow = slot + timedelta(days=1)
    assert second.acquire(job_name, fresh_after=tomorrow - timedelta(hours=12), now=tomorrow)


def test_the_lease_of_a_holder_that_died_is_taken_over_when_it_expires(engine: Engine, job_name: str) -> None:
    dead, alive = Leases(engine, LEASES, timedelta(seconds=60)), Leases(engine, LEASES, TTL)
    now = datetime.now(UTC)
    assert dead.acquire(job_name, now=now)  # and never gives it back
    assert not alive.acquire(job_name, now=now + timedelta(seconds=59))
    assert alive.acquire(job_name, now=now + timedelta(seconds=61))
    dead.release(job_name, "too late")  # a holder that comes back does not undo the new run
    assert alive.last_runs()[job_name]["holder"] == alive.holder
    assert alive.last_runs()[job_name]["outcome"] is None


def race(clocks: list[Clock], act: Callable[[Clock], T]) -> list[T]:
    """Let every clock act at the same moment, each in a thread of its own; return what each got."""
    barrier = threading.Barrier(len(clocks))
    got: list[T] = []

    def fire(clock: Clock) -> None:
        barrier.wait()
        got.append(act(clock))

    threads = [threading.Thread(target=fire, args=(clock,)) for clock in clocks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return got


def test_two_schedulers_racing_run_each_slot_once(engine: Engine, job_name: str) -> None:
    """Two clocks, each with its own connections, fire the same job at the same moment, 15 times."""
    runs: list[str] = []
    clocks = [Clock(Leases(engine, LEASES, TTL), [counting_job(job_name, runs, 0.05)]) for _ in range(2)]
    ran: list[bool] = []
    for _ in range(15):
        with engine.begin() as connection:  # the next slot: the last run is a day old
            day_ago = datetime.now(UTC) - timedelta(days=1)
            connection.execute(LEASES.update().where(LEASES.c.name == job_name).values(started_at=day_ago))
        ran += race(clocks, lambda clock: clock.run_scheduled(job_name).ran)
    assert len(runs) == 15 and ran.count(True) == 15 and ran.count(False) == 15


def test_two_runs_racing_while_one_works_run_it_once(engine: Engine, job_name: str) -> None:
    """Two instances asked to run a job at once (no slot to go by: manual runs), 5 times: the lease
    alone lets one through while the other's run is under way."""
    runs: list[str] = []
    clocks = [Clock(Leases(engine, LEASES, TTL), [counting_job(job_name, runs, 0.3)]) for _ in range(2)]
    outcomes: list[str] = []
    for _ in range(5):
        outcomes += race(clocks, lambda clock: clock.run_now(job_name).outcome)
    assert len(runs) == 5 and sum(o.startswith("skipped") for o in outcomes) == 5


def test_two_started_schedulers_catch_up_a_missed_job_once(engine: Engine, job_name: str) -> None:
    """Both clocks start with the job never run: each schedules it at once, one of them runs it."""
    runs: list[str] = []
    clocks = [Clock(Leases(engine, LEASES, TTL), [counting_job(job_name, runs, 0.3)]) for _ in range(2)]
    try:
        for clock in clocks:
            clock.start()
        assert wait_for(
            lambda: all(j.next_run_time > datetime.now(UTC) for c in clocks for j in c.scheduler.get_jobs())
        )
        assert wait_for(lambda: Leases(engine, LEASES, TTL).last_runs().get(job_name, {}).get("finished_at"))
    finally:
        for clock in clocks:
            clock.stop()
    assert len(runs) == 1
    restarted = Clock(Leases(engine, LEASES, TTL), [counting_job(job_name, runs)])
    restarted.start()  # it ran a moment ago: nothing to catch up
    try:
        assert restarted.scheduler.get_job(job_name).next_run_time > datetime.now(UTC) + timedelta(minutes=1)
    finally:
        restarted.stop()
    assert len(runs) == 1


def test_a_long_job_keeps_its_lease_and_a_failing_one_gives_it_back(engine: Engine, job_name: str) -> None:
    runs: list[str] = []
    short = timedelta(seconds=0.6)
    slow = Clock(Leases(engine, LEASES, short), [counting_job(job_name, runs, 1.5)])
    other = Leases(engine, LEASES, short)
    worker = threading.Thread(target=slow.run_now, args=(job_name,))
    worker.start()
    time.sleep(1.0)  # past the lease's first expiry: renewed meanwhile
    assert not other.acquire(job_name)
    worker.join()
    assert other.last_runs()[job_name]["outcome"] == "counted"

    def broken() -> str:
        raise RuntimeError("the database went away")

    failing = Clock(Leases(engine, LEASES, TTL), [Job(job_name, broken, "0 3 * * *")])
    assert failing.run_now(job_name).outcome == "failed: RuntimeError"
    assert other.acquire(job_name)  # given back after the failure


def wait_for(predicate: object, timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_schedules_are_crontab_lines_checked_at_start(tmp_path: Path) -> None:
    base = {"backend_service_token": "x", "jiesu_data_dir": tmp_path}
    assert BackendSettings(**base, jobs_archive_cron="  15 1 * * *").jobs_archive_cron == "15 1 * * *"
    assert BackendSettings(**base, jobs_hotspots_cron="off").jobs_hotspots_cron == "off"
    with pytest.raises(ValidationError, match="jobs_overdue_cron"):
        BackendSettings(**base, jobs_overdue_cron="every five minutes")


def test_a_job_that_is_off_is_not_scheduled(engine: Engine, job_name: str) -> None:
    clock = Clock(Leases(engine, LEASES, TTL), [Job(job_name, lambda: "x", "off")])
    clock.start()
    try:
        assert clock.scheduler.get_jobs() == []
    finally:
        clock.stop()


def test_a_manual_run_says_when_a_run_is_under_way_elsewhere(engine: Engine, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    settings = BackendSettings(backend_service_token="x", backend_database_url=url, jiesu_data_dir=tmp_path)
    clock = make_clock(settings)
    holder = Leases(engine, LEASES, TTL)
    assert holder.acquire("archive")
    try:
        outcome = clock.run_now("archive").outcome
        assert outcome.startswith("skipped") and holder.holder in outcome
    finally:
        holder.release("archive", "test")
    assert clock.run_now("archive").outcome.startswith("archived")


# --- overdue alerts ---------------------------------------------------------------------------------


def test_overdue_alerts_flag_due_soon_then_overdue_once_each(session: Session) -> None:
    accepted = datetime.now(UTC) - timedelta(days=1)
    heating = make_case(session, category_code="heating_not_warm", now=accepted)  # utility: 24 h
    fumes = make_case(session, category_code="cooking_fumes", now=accepted)  # general: 7 days
    due = heating.due_at
    assert raise_alerts(session=session, share=0.2, now=due - timedelta(hours=6)) == {
        AlertKind.DUE_SOON: 0,
        AlertKind.OVERDUE: 0,
        AlertKind.SUMMONS_LATE: 0,
    }
    soon = raise_alerts(session=session, share=0.2, now=due - timedelta(hours=4))
    again = raise_alerts(session=session, share=0.2, now=due - timedelta(hours=1))
    late = raise_alerts(session=session, share=0.2, now=due + timedelta(minutes=5))
    assert (soon[AlertKind.DUE_SOON], again[AlertKind.DUE_SOON], late[AlertKind.OVERDUE]) == (1, 0, 1)
    kinds = session.scalars(
        select(CaseAlert.kind).where(CaseAlert.case_id == heating.id).order_by(CaseAlert.id)
    )
    assert list(kinds) == ["due_soon", "overdue"]
    assert session.scalar(select(CaseAlert).where(CaseAlert.case_id == fumes.id)) is None
    notes = [u for u in heating.updates if u.kind == "alert"]
    assert [u.note[:4] for u in notes] == ["临期提醒", "超期提醒"] and not any(u.public for u in notes)
    assert all(alert.unit_code == "heating" for alert in session.scalars(select(CaseAlert)))


def test_a_reopened_case_is_flagged_again_for_its_new_deadline(session: Session) -> None:
    start = datetime.now(UTC) - timedelta(days=3)
    case = make_case(session, category_code="heating_not_warm", now=start)
    raise_alerts(session=session, share=0.2, now=case.due_at + timedelta(hours=1))
    transition(session=session, case=case, move=Move.ACKNOWLEDGE, principal=SYSTEM, now=start)
    transition(session=session, case=case, move=Move.RESOLVE, principal=SYSTEM, reply="已修", now=start)
    rating = RatingIn(
        resolved=False, satisfaction=Satisfaction.DISSATISFIED, channel_identity=case.channel_identity
    )
    rate_case(session=session, case=case, rating_in=rating, principal=SYSTEM, now=start + timedelta(days=1))
    session.flush()
    assert (
        raise_alerts(session=session, share=0.2, now=case.due_at + timedelta(hours=1))[AlertKind.OVERDUE] == 1
    )
    assert session.scalars(select(CaseAlert.due_at).where(CaseAlert.case_id == case.id)).all() == [
        start + timedelta(hours=24),
        case.due_at,
    ]


def test_the_console_lists_alerts_to_the_unit_and_the_supervisors_only(
    client: TestClient, session: Session, supervisor: Staffer, operator: Staffer
) -> None:
    accepted = datetime.now(UTC) - timedelta(days=2)
    heating = make_case(session, category_code="heating_not_warm", now=accepted)
    make_case(session, category_code="power_outage", now=accepted)
    raise_alerts(session=session, share=0.2)
    session.commit()
    heat = unit_staff(session, "heating")
    power = unit_staff(session, "power")
    water = unit_staff(session, "water")
    everything = client.get("/api/v1/supervision/alerts", headers=supervisor.headers).json()
    assert {a["unit_code"] for a in everything} == {"heating", "power"}
    [own] = client.get("/api/v1/supervision/alerts", headers=heat.headers).json()
    assert own["number"] == heating.number and own["kind"] == "overdue" and own["kind_label"] == "超期"
    assert own["unit_name"] == "北京市热力集团及供热单位" and own["place"] == "朝阳区望京街道"
    assert "张三" not in str(everything) and heating.contact_phone not in str(everything)
    assert len(client.get("/api/v1/supervision/alerts", headers=power.headers).json()) == 1
    assert client.get("/api/v1/supervision/alerts", headers=water.headers).json() == []
    assert client.get("/api/v1/supervision/alerts", headers=operator.headers).status_code == 403
    service = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    feed = client.get("/api/v1/supervision/alerts/feed", params={"after": 0}, headers=service).json()
    assert [a["id"] for a in feed] == sorted(a["id"] for a in everything)
    after = client.get("/api/v1/supervision/alerts/feed", params={"after": feed[0]["id"]}, headers=service)
    assert [a["id"] for a in after.json()] == [a["id"] for a in feed[1:]]
    assert client.get("/api/v1/supervision/alerts/feed", headers=supervisor.headers).status_code == 403
    resolved = client.post(
        f"/api/v1/cases/{heating.number}/transitions", json={"move": "acknowledge"}, headers=heat.headers
    )
    assert resolved.status_code == 200
    client.post(
        f"/api/v1/cases/{heating.number}/transitions",
        json={"move": "resolve", "reply": "已排气"},
        headers=heat.headers,
    )
    assert client.get("/api/v1/supervision/alerts", headers=heat.headers).json() == []  # only open cases
    assert not session.scalars(select(CaseUpdate).where(CaseUpdate.kind == "alert", CaseUpdate.public)).all()


# --- the hotspot scan -------------------------------------------------------------------------------


def test_the_hotspot_scan_stores_rising_places_with_their_cases(
    client: TestClient, session: Session, supervisor: Staffer
) -> None:
    now = datetime.now(UTC)
    for days in (20, 3, 2, 2, 1):  # street lights in 中关村: 1 case the week before, 4 this week
        make_case(session, category_code="street_lights", now=now - timedelta(days=days), **ZHONGGUANCUN)
    make_case(session, category_code="cooking_fumes", now=now - timedelta(days=1))  # alone: no hotspot
    earlier = make_case(session, category_code="street_lights", now=now - timedelta(days=9), **ZHONGGUANCUN)
    scan = scan_hotspots(session=session, window=timedelta(days=7), min_count=3, min_growth=1.5, now=now)
    session.commit()
    [finding] = scan.findings
    assert (finding.category_code, finding.street_code, finding.count, finding.previous) == (
        "street_lights",
        "110108011",
        4,
        1,
    )
    assert len(finding.cases) == 4 and earlier not in finding.cases
    latest = client.get("/api/v1/stats/hotspot-scans/latest", headers=supervisor.headers).json()
    assert latest["id"] == scan.id and latest["window_end"].startswith(now.strftime("%Y-%m-%d"))
    [shown] = latest["findings"]
    assert shown["category_name"] == "路灯故障" and shown["street"] == "中关村街道" and shown["growth"] == 4.0
    assert sorted(shown["cases"]) == sorted(c.number for c in finding.cases)
    assert "张三" not in str(latest)
    listed = client.get("/api/v1/stats/hotspot-scans", headers=supervisor.headers).json()
    assert listed[0] == {k: v for k, v in latest.items() if k != "findings"}
    assert client.get(f"/api/v1/stats/hotspot-scans/{scan.id}", headers=supervisor.headers).json() == latest
    assert client.get("/api/v1/stats/hotspot-scans/999999", headers=supervisor.headers).status_code == 404
    heat = unit_staff(session, "heating")
    assert client.get("/api/v1/stats/hotspot-scans/latest", headers=heat.headers).status_code == 403
    assert session.scalar(select(HotspotScan.id).where(HotspotScan.id == scan.id)) == scan.id
