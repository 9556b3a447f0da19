"""The case backend's commands: `python -m backend [serve|migrate|clock|archive|retention|alerts|hotspots]`,
and `python -m backend staff …`.

`clock` keeps the schedule of the jobs; `archive` (归档 of rated cases), `retention` (personal data
of long-closed cases), `alerts` (overdue alerts) and `hotspots` (the hotspot scan) run one job now.
`staff …` manages staff accounts and Open311 keys (`python -m backend staff --help`).
"""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn
from sqlalchemy.exc import SQLAlchemyError

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


def staff(argv: list[str]) -> int:
    """Staff accounts and Open311 keys (backend/staff/cli.py), on the migrated database."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its set-up lines, from the import on
    from backend.db import engine_for, session_factory
    from backend.db import migrate as upgrade
    from backend.staff import cli

    cli.parser().parse_args(argv)  # --help and usage errors before the database is touched
    engine = engine_for(get_settings().database_url)
    try:
        upgrade(engine)
    except SQLAlchemyError as error:
        print(f"error: database {engine.url.render_as_string()}: {error.args[0]}", file=sys.stderr)
        return cli.FAILED
    return cli.run(argv, sessions=session_factory(engine))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m backend", description=__doc__)
    names = ["serve", "migrate", "clock", *JOBS, "staff"]
    parser.add_argument("command", nargs="?", default="serve", choices=names)
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="the staff command and its arguments")
    args = parser.parse_args(argv)
    if args.arguments and args.command != "staff":
        parser.error(f"{args.command} takes no arguments")
    keep_memory_lean()
    configure_logging(load_settings(get_settings, "the backend").log_level)
    if args.command == "staff":
        raise SystemExit(staff(args.arguments))
    commands = {"serve": serve, "migrate": migrate, "clock": clock}
    commands.get(args.command, lambda: job(JOBS[args.command]))()


if __name__ == "__main__":
    main()
