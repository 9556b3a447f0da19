"""A citizen's first messages can race to create their conversation: both get the same one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from connectors.app import make_async_engine
from connectors.core.events import Listeners
from connectors.core.models import Base, Conversation
from connectors.core.transcript import Transcript
from tests.aio import run
from tests.postgres import scratch_database


@contextmanager
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'gateway.db'}"


async def two_first_messages_at_once(url: str) -> None:
    engine = make_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    transcript = Transcript(
        sessions=sessions, secret_key="a-gateway-secret-for-tests", max_chars=2000, events=Listeners()
    )

    async def first_message() -> int:
        async with sessions() as session:
            conversation = await transcript.conversation_of(session, "telegram", "4242")
            await asyncio.sleep(0.3)  # the other one reads and creates while this one is uncommitted
            await session.commit()
            return conversation.id

    try:
        ids = await asyncio.gather(first_message(), first_message())
        assert ids[0] == ids[1]
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Conversation)) == 1
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_first_messages_at_once_share_one_conversation(tmp_path: Path, database: str) -> None:
    with sqlite_url(tmp_path) if database == "sqlite" else scratch_database("jiesu_race") as url:
        run(two_first_messages_at_once(url))
