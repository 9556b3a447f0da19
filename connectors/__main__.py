"""The channel gateway's commands: `python -m connectors [serve|retention]`."""

from __future__ import annotations

import argparse
import asyncio

import uvicorn

from common.masking import configure_logging
from common.memory import limit_malloc_arenas
from connectors.settings import get_settings


def serve() -> None:
    settings = get_settings()
    uvicorn.run(
        "connectors.app:create_app",
        factory=True,
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_config=None,
        access_log=False,
    )


def retention() -> None:
    """Delete transcripts idle for more than RETENTION_DAYS days, and old uploads (run daily)."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from connectors.app import make_async_engine
    from connectors.retention import forget_idle

    settings = get_settings()

    async def run() -> tuple[int, int]:
        engine = make_async_engine(settings.database_url)
        try:
            return await forget_idle(
                async_sessionmaker(engine), settings.data_path("uploads"), days=settings.retention_days
            )
        finally:
            await engine.dispose()

    conversations, files = asyncio.run(run())
    days = settings.retention_days
    print(f"deleted {conversations} idle conversations and {files} uploads older than {days} days")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors", description=__doc__)
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "retention"])
    args = parser.parse_args()
    limit_malloc_arenas()
    configure_logging(get_settings().log_level)
    {"serve": serve, "retention": retention}[args.command]()


if __name__ == "__main__":
    main()
