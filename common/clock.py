"""Jobs that run by themselves: each on a crontab schedule in Beijing time (APScheduler), each run
logged, and guarded by a lease (`common.leases`) so that it never runs twice at once nor twice for
one scheduled time, however many instances keep the schedule.

A job missed while every clock was down (its last run is older than its period) runs once when a
clock starts. A manual run (`python -m backend archive`, ...) goes through the same lease: it waits
for nobody, and says so when a run is already under way elsewhere.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from pydantic import AfterValidator
from sqlalchemy.exc import SQLAlchemyError

from common.database import utcnow
from common.leases import Leases

log = logging.getLogger(__name__)
BEIJING = ZoneInfo("Asia/Shanghai")
OFF = "off"


def check_schedule(value: str) -> str:
    """A crontab line (minute hour day month weekday, Beijing time), or `off`; fails at start-up."""
    value = " ".join(value.split())
    if value != OFF:
        CronTrigger.from_crontab(value, timezone=BEIJING)  # raises ValueError for a bad line
    return value


Schedule = Annotated[str, AfterValidator(check_schedule)]


@dataclass(frozen=True)
class Job:
    name: str
    work: Callable[[], str]  # does the job; returns one line for the log (counts, never personal data)
    schedule: str  # crontab in Beijing time, or "off"

    def trigger(self) -> CronTrigger:
        return CronTrigger.from_crontab(self.schedule, timezone=BEIJING)

    def period(self, now: datetime) -> timedelta:
        """The time between two scheduled runs around now."""
        trigger = self.trigger()
        first = trigger.get_next_fire_time(None, now.astimezone(BEIJING))
        second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
        return second - first


@dataclass(frozen=True)
class Run:
    """What became of one attempt to run a job."""

    ran: bool
    outcome: str


class Clock:
    """Keeps the schedule of a service's jobs and runs each under its lease."""

    def __init__(self, leases: Leases, jobs: Iterable[Job]) -> None:
        self.leases = leases
        self.jobs = {job.name: job for job in jobs}
        self.scheduler = BackgroundScheduler(
            timezone=BEIJING, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
        )

    def start(self) -> None:
        """Schedule every job that is not off (missed ones at once) and start the scheduler's thread."""
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # our own lines say what runs
        now = utcnow()
        last = self.leases.last_runs()
        for job in self.jobs.values():
            if job.schedule == OFF:
                log.info("job %s is off", job.name)
                continue
            started = (last.get(job.name) or {}).get("started_at")
            missed = started is None or started < now - job.period(now)
            self.scheduler.add_job(
                self.run_scheduled,
                job.trigger(),
                args=[job.name],
                id=job.name,
                name=job.name,
                **({"next_run_time": now} if missed else {}),
            )
            log.info(
                "job %s scheduled (%s, Beijing time)%s",
                job.name,
                job.schedule,
                ", missed: now" if missed else "",
            )
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def run_scheduled(self, name: str) -> Run:
        """A scheduled run: skipped when another instance already ran this slot or is running it."""
        job = self.jobs[name]
        now = utcnow()
        return self.run(job, fresh_after=now - job.period(now) / 2)

    def run_now(self, name: str) -> Run:
        """A manual run: whenever asked, but never while another run holds the lease."""
        return self.run(self.jobs[name], fresh_after=None)

    def run(self, job: Job, *, fresh_after: datetime | None) -> Run:
        if not self.leases.acquire(job.name, fresh_after=fresh_after):
            holder = (self.leases.last_runs().get(job.name) or {}).get("holder")
            log.info("job %s skipped: already run or running (%s)", job.name, holder)
            return Run(False, f"skipped: already run or running ({holder})")
        log.info("job %s started", job.name)
        began = time.monotonic()
        stop = threading.Event()
        keeper = threading.Thread(target=self._keep, args=(job.name, stop), daemon=True)
        keeper.start()
        try:
            outcome = job.work()
            log.info("job %s done in %.1f s: %s", job.name, time.monotonic() - began, outcome)
        except Exception as error:
            log.exception("job %s failed after %.1f s", job.name, time.monotonic() - began)
            outcome = f"failed: {type(error).__name__}"
        finally:
            stop.set()
            keeper.join()
        self._give_back(job.name, outcome)
        return Run(True, outcome)

    def _keep(self, name: str, stop: threading.Event) -> None:
        """Renew the lease while the job works, every third of its time to live."""
        while not stop.wait(self.leases.ttl.total_seconds() / 3):
            try:
                if not self.leases.renew(name):
                    log.warning("job %s lost its lease; another instance may start it", name)
                    return
            except SQLAlchemyError as error:
                log.warning("job %s could not renew its lease: %s", name, type(error).__name__)

    def _give_back(self, name: str, outcome: str) -> None:
        try:
            self.leases.release(name, outcome)
        except SQLAlchemyError as error:  # the lease then expires by itself
            log.warning("job %s could not give its lease back: %s", name, type(error).__name__)

    def status(self) -> list[dict[str, Any]]:
        """Each job's schedule, next run and last run, for the health endpoint."""
        last = self.leases.last_runs()
        rows = []
        for job in self.jobs.values():
            scheduled = self.scheduler.get_job(job.name)
            run = last.get(job.name) or {}
            rows.append(
                {
                    "name": job.name,
                    "schedule": job.schedule,
                    "next_run": _iso(scheduled.next_run_time if scheduled else None),
                    "last_started": _iso(run.get("started_at")),
                    "last_finished": _iso(run.get("finished_at")),
                    "last_outcome": run.get("outcome"),
                }
            )
        return rows


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(BEIJING).isoformat(timespec="seconds") if moment else None


def serve_health(clock: Clock, host: str, port: int, ready: Callable[[], bool]) -> ThreadingHTTPServer:
    """GET /health on a thread: 200 with the jobs when the schedule runs and the database answers."""

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/health":
                self._answer(404, {"detail": "not found"})
                return
            try:
                up = ready() and clock.scheduler.running
                body: dict[str, Any] = {"status": "ok" if up else "starting", "jobs": clock.status()}
            except SQLAlchemyError as error:
                up, body = False, {"status": "unavailable", "error": type(error).__name__}
            self._answer(200 if up else 503, body)

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Health checks are not worth a log line each."""

    server = ThreadingHTTPServer((host, port), Health)
    threading.Thread(target=server.serve_forever, name="clock-health", daemon=True).start()
    return server
