"""The backend's jobs that run by themselves, and the `clock` process that keeps their schedule.

- archive: close rated cases after 3 days and resolved ones nobody rated after 7 (归档);
- retention: anonymise the personal data of cases closed more than RETENTION_DAYS ago;
- overdue_alerts: flag open cases close to or past their time limit (督办提醒), and summonses (吹哨)
  not checked in (报到) in time;
- hotspot_scan: store the rising category × place combinations of the last window, and the clusters
  of similar appeals in each street (主动治理).

`python -m backend clock` runs the schedule (one process, any number of instances: each job takes
its lease in the backend's database first); `python -m backend archive` and the others run one job
now, under the same lease.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from functools import partial

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from backend.cases.alerts import raise_alerts
from backend.cases.retention import anonymise_closed
from backend.cases.transitions import archive_due
from backend.db import MIGRATIONS, Base, engine_for, session_factory
from backend.settings import BackendSettings
from backend.stats.scans import ClusterRule, scan_hotspots
from common.clock import Clock, Job, serve_health
from common.leases import Leases, lease_table

log = logging.getLogger(__name__)
LEASES = lease_table(Base.metadata)
JOBS = ("archive", "retention", "overdue_alerts", "hotspot_scan")


def jobs(settings: BackendSettings, sessions: sessionmaker[Session]) -> list[Job]:
    return [
        Job("archive", partial(archive, sessions), settings.jobs_archive_cron),
        Job("retention", partial(retention, sessions, settings.retention_days), settings.jobs_retention_cron),
        Job(
            "overdue_alerts",
            partial(overdue_alerts, sessions, settings.due_soon_share),
            settings.jobs_overdue_cron,
        ),
        Job("hotspot_scan", partial(hotspot_scan, sessions, settings), settings.jobs_hotspots_cron),
    ]


def archive(sessions: sessionmaker[Session]) -> str:
    with sessions.begin() as session:
        return f"archived {archive_due(session=session)} cases"


def retention(sessions: sessionmaker[Session], days: int) -> str:
    with sessions.begin() as session:
        count = anonymise_closed(session=session, days=days)
    return f"anonymised {count} cases closed more than {days} days ago"


def overdue_alerts(sessions: sessionmaker[Session], share: float) -> str:
    with sessions.begin() as session:
        raised = raise_alerts(session=session, share=share)
    return ", ".join(f"{count} {kind.value}" for kind, count in raised.items()) + " alerts raised"


def hotspot_scan(sessions: sessionmaker[Session], settings: BackendSettings) -> str:
    with sessions.begin() as session:
        scan = scan_hotspots(
            session=session,
            window=timedelta(days=settings.hotspot_window_days),
            min_count=settings.hotspot_min_count,
            min_growth=settings.hotspot_min_growth,
            clusters=ClusterRule(
                window=timedelta(days=settings.cluster_window_days),
                min_size=settings.cluster_min_size,
                min_similarity=settings.cluster_min_similarity,
            ),
        )
        return (
            f"scan {scan.id}: {len(scan.findings)} hotspots in the last {settings.hotspot_window_days} days, "
            f"{len(scan.clusters)} clusters of similar appeals in the last {settings.cluster_window_days}"
        )


def make_clock(settings: BackendSettings) -> Clock:
    engine = engine_for(settings.database_url)
    leases = Leases(engine, LEASES, ttl=timedelta(seconds=settings.jobs_lease_s))
    return Clock(leases, jobs(settings, session_factory(engine)))


def run_one(settings: BackendSettings, name: str) -> str:
    """Run one job now (a manual run), under its lease; return what happened."""
    return make_clock(settings).run_now(name).outcome


def schema_is_current(engine: Engine) -> bool:
    """Whether the database is at the newest migration (the backend migrates it at start)."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    try:
        with engine.connect() as connection:
            return bool(MigrationContext.configure(connection).get_current_revision() == head)
    except SQLAlchemyError:
        return False


def serve(settings: BackendSettings) -> None:
    """The clock process: wait for the schema, keep the schedule, answer /health; stop on SIGTERM."""
    clock = make_clock(settings)
    engine = clock.leases.engine
    ready = threading.Event()
    server = serve_health(clock, settings.backend_host, settings.clock_port, ready.is_set)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    while not schema_is_current(engine) and not stopping.is_set():
        log.info("clock waits for the backend to migrate the database")
        stopping.wait(2)
    if not stopping.is_set():
        clock.start()
        ready.set()
        log.info("clock is up: %s", ", ".join(f"{j.name} ({j.schedule})" for j in clock.jobs.values()))
    stopping.wait()
    log.info("clock stops")
    clock.stop()
    server.shutdown()
