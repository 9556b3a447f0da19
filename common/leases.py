"""Leases on jobs: a row per job in the service's own database, so that a job runs in one place at a
time however many instances (or manual runs) try, on SQLite and PostgreSQL alike.

A run takes the lease with one conditional UPDATE: only when the lease has expired (nobody holds it,
or its holder died without giving it back) and, for a scheduled run, only when no run started in
this scheduled slot already (`fresh_after`). Both databases serialise the two UPDATEs of a race on
the row (PostgreSQL's row lock re-checks the condition after the first commits; SQLite has one
writer), so exactly one of them changes the row. The holder renews the lease while it works; when it
is done it records the outcome and gives the lease back. The row also says when each job last ran
and how that went.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Engine, MetaData, String, Table, or_, select, update

from common.database import UTCDateTime, insert_unless_present, utcnow

TABLE = "job_leases"


def lease_table(metadata: MetaData) -> Table:
    """The leases table, on a service's metadata (the backend migrates it, the gateway creates it)."""
    return Table(
        TABLE,
        metadata,
        Column("name", String(40), primary_key=True),
        Column("holder", String(120)),  # host:pid:run of whoever holds it or held it last
        Column("expires_at", UTCDateTime()),  # the lease is free from then on (null: given back)
        Column("started_at", UTCDateTime()),  # the latest run's start
        Column("finished_at", UTCDateTime()),  # the latest run's end (null while running)
        Column("outcome", String(300)),  # what the latest run did, or how it failed
    )


class Leases:
    """Take, keep and give back job leases in one database, as one holder."""

    def __init__(self, engine: Engine, table: Table, ttl: timedelta) -> None:
        self.engine = engine
        self.table = table
        self.ttl = ttl
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"[:120]

    def acquire(self, name: str, *, fresh_after: datetime | None = None, now: datetime | None = None) -> bool:
        """Take the lease of a job if it is free and, given `fresh_after`, no run started after it."""
        now = now or utcnow()
        self._ensure_row(name)
        row = self.table.c
        free = or_(row.expires_at.is_(None), row.expires_at <= now)
        conditions = [row.name == name, free]
        if fresh_after is not None:
            conditions.append(or_(row.started_at.is_(None), row.started_at <= fresh_after))
        taken = (
            update(self.table)
            .where(*conditions)
            .values(
                holder=self.holder, expires_at=now + self.ttl, started_at=now, finished_at=None, outcome=None
            )
        )
        with self.engine.begin() as connection:
            return connection.execute(taken).rowcount == 1

    def renew(self, name: str, now: datetime | None = None) -> bool:
        """Keep holding the lease for another `ttl`; False when it is no longer ours."""
        now = now or utcnow()
        row = self.table.c
        with self.engine.begin() as connection:
            kept = connection.execute(
                update(self.table)
                .where(row.name == name, row.holder == self.holder, row.expires_at.is_not(None))
                .values(expires_at=now + self.ttl)
            )
        return kept.rowcount == 1

    def release(self, name: str, outcome: str, now: datetime | None = None) -> None:
        """Give the lease back and record how the run went."""
        row = self.table.c
        with self.engine.begin() as connection:
            connection.execute(
                update(self.table)
                .where(row.name == name, row.holder == self.holder)
                .values(expires_at=None, finished_at=now or utcnow(), outcome=outcome[:300])
            )

    def last_runs(self) -> dict[str, dict[str, Any]]:
        """Every job's row: who holds or held it, its latest start, end and outcome."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(self.table)).mappings().all()
        return {row["name"]: dict(row) for row in rows}

    def _ensure_row(self, name: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert_unless_present(self.engine.dialect.name, self.table).values(name=name))
