"""The case backend's commands: `python -m backend [serve|migrate|archive|retention]`."""

from __future__ import annotations

import argparse

import uvicorn

from backend.settings import get_settings
from common.masking import configure_logging
from common.memory import limit_malloc_arenas
from common.settings import load_settings


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


def archive() -> None:
    """Close rated and long-resolved cases; meant to run daily."""
    from backend.cases.service import archive_due
    from backend.db import engine_for, session_factory

    with session_factory(engine_for(get_settings().database_url)).begin() as session:
        print(f"archived {archive_due(session=session)} cases")


def retention() -> None:
    """Anonymise the personal data of cases closed more than RETENTION_DAYS days ago (run daily)."""
    from backend.cases.retention import anonymise_closed
    from backend.db import engine_for, session_factory

    settings = get_settings()
    with session_factory(engine_for(settings.database_url)).begin() as session:
        count = anonymise_closed(session=session, days=settings.retention_days)
    print(f"anonymised {count} cases closed more than {settings.retention_days} days ago")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m backend", description=__doc__)
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", "migrate", "archive", "retention"]
    )
    args = parser.parse_args()
    limit_malloc_arenas()
    configure_logging(load_settings(get_settings, "the backend").log_level)
    {"serve": serve, "migrate": migrate, "archive": archive, "retention": retention}[args.command]()


if __name__ == "__main__":
    main()
