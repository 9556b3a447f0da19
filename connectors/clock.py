"""The gateway's job that runs by itself: retention of transcripts, uploads and Rasa's tracker events,
on its schedule (JOBS_RETENTION_CRON) inside the gateway, which owns the uploads folder, under a lease
in the gateway's database (so a second gateway, or `python -m connectors retention`, never runs it at
the same time)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial

from sqlalchemy.ext.asyncio import async_sessionmaker

from common.clock import Clock, Job
from common.database import make_engine
from common.leases import Leases
from connectors.core.models import LEASES
from connectors.retention import Forgotten, forget_old
from connectors.settings import GatewaySettings
from connectors.upgrade import migrate

RETENTION = "gateway_retention"


def retention(settings: GatewaySettings) -> str:
    """Forget what is older than RETENTION_DAYS days: transcripts, uploads, Rasa's tracker events."""
    from connectors.app import make_async_engine  # the app imports this module

    async def run() -> Forgotten:
        engine = make_async_engine(settings.database_url)
        tracker_store = make_async_engine(settings.tracker_store_url)
        try:
            async with engine.begin() as connection:  # a gateway that never ran has no tables yet
                await connection.run_sync(migrate)
            return await forget_old(
                async_sessionmaker(engine),
                settings.data_path("uploads"),
                days=settings.retention_days,
                tracker_store=tracker_store,
            )
        finally:
            await engine.dispose()
            await tracker_store.dispose()

    forgotten = asyncio.run(run())
    return (
        f"older than {settings.retention_days} days: {forgotten.conversations} idle conversations, "
        f"{forgotten.messages} messages of others, {forgotten.files} uploads and "
        f"{forgotten.tracker_events} events of Rasa's tracker store deleted"
    )


def make_clock(settings: GatewaySettings) -> Clock:
    engine = make_engine(settings.database_url, pool_size=1, max_overflow=2)
    with engine.begin() as connection:  # a command may come before the gateway made its tables
        migrate(connection)
    leases = Leases(engine, LEASES, ttl=timedelta(seconds=settings.jobs_lease_s))
    return Clock(leases, [Job(RETENTION, partial(retention, settings), settings.jobs_retention_cron)])
