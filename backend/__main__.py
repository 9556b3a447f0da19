"""The case backend's commands: `python -m backend [serve|migrate|clock|archive|retention|alerts|hotspots]`.

`clock` keeps the schedule of the jobs; `archive` (归档 of rated cases), `retention` (personal data
of long-closed cases), `alerts` (overdue alerts) and `hotspots` (the hotspot scan) run one job now.
"""

from __future__ import annotations

import argparse

import uvicorn

from backend.settings import get_settings
from common.masking import configure_logging
from common.memory import keep_memory_lean
from common.settings import load_settings

JOBS = {
    "archive": "archive",
    "retention": "retention",
    "alerts": "overdue_alerts",
    "hotspots": "hotspot_scan",
}


def serve() -> None:
    settings = get_settings()
    uvicorn.run(
        "backend.app:create_app",
        factory=True,
        host=settings.backend_host,
        port=settings.backend_port,
        log_config=None,
        access_log=False,
    )


def migrate() -> None:
    from backend.db import engine_for
    from backend.db import migrate as upgrade

    upgrade(engine_for(get_settings().database_url))
    print("schema is at the newest migration")


def clock() -> None:
    """The jobs that run by themselves, on their schedule (see backend/clock.py)."""
    from backend import clock as jobs

    jobs.serve(get_settings())


def job(name: str) -> None:
    """Run one job now, under its lease (it waits for nobody: a run under way elsewhere is said)."""
    from backend import clock as jobs

    print(f"{name}: {jobs.run_one(get_settings(), name)}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m backend", description=__doc__)
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate", "clock", *JOBS])
    args = parser.parse_args()
    keep_memory_lean()
    configure_logging(load_settings(get_settings, "the backend").log_level)
    commands = {"serve": serve, "migrate": migrate, "clock": clock}
    commands.get(args.command, lambda: job(JOBS[args.command]))()


if __name__ == "__main__":
    main()
