"""Gateway retention: idle transcripts and old uploads are deleted, active ones stay."""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from connectors.app import make_async_engine
from connectors.core.models import Base, Conversation, Message, utcnow
from connectors.retention import forget_idle


async def idle_transcripts_and_old_uploads_are_deleted(tmp_path: Path) -> None:
    engine = make_async_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session:
        old = Conversation(
            channel="webchat",
            identity="old",
            sender_id="webchat-old",
            last_message_at=utcnow() - timedelta(days=200),
        )
        new = Conversation(channel="webchat", identity="new", sender_id="webchat-new")
        session.add_all([old, new])
        await session.flush()
        session.add_all(
            [
                Message(conversation_id=old.id, direction="in", author="citizen", text="我电话13912345678"),
                Message(conversation_id=new.id, direction="in", author="citizen", text="你好"),
            ]
        )
        await session.commit()
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "old.jpg").write_bytes(b"x")
    (uploads / "new.jpg").write_bytes(b"y")
    long_ago = time.time() - 200 * 86400
    os.utime(uploads / "old.jpg", (long_ago, long_ago))
    assert await forget_idle(sessions, uploads, days=180) == (1, 1)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 1
        assert [c.identity for c in await session.scalars(select(Conversation))] == ["new"]
    assert [p.name for p in uploads.iterdir()] == ["new.jpg"]
    await engine.dispose()


def test_idle_transcripts_and_old_uploads_are_deleted(tmp_path: Path) -> None:
    # in a thread of its own: the session's browser (Playwright) keeps an event loop in this one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, idle_transcripts_and_old_uploads_are_deleted(tmp_path)).result()
