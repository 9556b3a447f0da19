"""Gateway retention, by each message's age: idle transcripts, older messages of conversations still
going on, old uploads and the old events of Rasa's tracker store are deleted; newer ones stay."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.app import make_async_engine
from connectors.core.models import Base, Conversation, Message, MessageState, OutboxItem, utcnow
from connectors.retention import forget_old
from ops.stack import wait_until
from tests.aio import run
from tests.connectors.conftest import gateway
from tests.fakes.rasa import FakeRasa
from tests.rasa_env import in_rasa_env


async def seed(tmp_path: Path) -> async_sessionmaker[AsyncSession]:
    """A gateway database with one conversation idle for 200 days and one new, and two uploads."""
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
    return sessions


async def idle_transcripts_and_old_uploads_are_deleted(tmp_path: Path) -> None:
    sessions = await seed(tmp_path)
    uploads = tmp_path / "uploads"
    forgotten = await forget_old(sessions, uploads, days=180)
    assert (forgotten.conversations, forgotten.files) == (1, 1)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 1
        assert [c.identity for c in await session.scalars(select(Conversation))] == ["new"]
    assert [p.name for p in uploads.iterdir()] == ["new.jpg"]
    await sessions.kw["bind"].dispose()


def test_idle_transcripts_and_old_uploads_are_deleted(tmp_path: Path) -> None:
    run(idle_transcripts_and_old_uploads_are_deleted(tmp_path))


def test_the_gateway_runs_retention_by_itself_under_its_lease(tmp_path: Path, fake_rasa: FakeRasa) -> None:
    """Started with retention never run, the gateway runs it at once (then daily, JOBS_RETENTION_CRON);
    `python -m connectors retention` takes the same lease, so it never runs beside it."""

    async def prepare() -> None:
        await (await seed(tmp_path)).kw["bind"].dispose()

    run(prepare())
    stack = gateway(tmp_path, fake_rasa)
    try:
        database = tmp_path / "gateway.db"
        assert wait_until(lambda: "1 idle conversations" in str(lease(database, "gateway_retention")), 20)
        assert "job gateway_retention done" in stack.logs("gateway")
        assert [p.name for p in (tmp_path / "uploads").iterdir()] == ["new.jpg"]
        with closing(sqlite3.connect(database)) as db, db:  # another instance is running it right now
            db.execute("UPDATE job_leases SET holder = 'other:1:x', expires_at = '2999-01-01 00:00:00'")
        command = [sys.executable, "-m", "connectors", "retention"]
        held = subprocess.run(command, env=stack.env, capture_output=True, text=True, timeout=60, check=True)
        assert "gateway_retention: skipped" in held.stdout and "other:1:x" in held.stdout
        with closing(sqlite3.connect(database)) as db, db:
            db.execute("UPDATE job_leases SET expires_at = NULL")
        free = subprocess.run(command, env=stack.env, capture_output=True, text=True, timeout=60, check=True)
        assert "gateway_retention: older than 180 days: 0 idle conversations" in free.stdout
    finally:
        stack.stop()


def lease(database: Path, name: str) -> tuple[Any, ...] | None:
    with closing(sqlite3.connect(database)) as db:
        row = db.execute("SELECT holder, outcome FROM job_leases WHERE name = ?", (name,)).fetchone()
    return tuple(row) if row else None


async def old_messages_of_a_long_conversation_are_deleted(tmp_path: Path) -> None:
    engine = make_async_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    long_ago, lately = utcnow() - timedelta(days=400), utcnow() - timedelta(days=2)
    async with sessions() as session:
        chat = Conversation(channel="telegram", identity="7001", sender_id="telegram-7001")  # active today
        session.add(chat)
        await session.flush()
        said = [
            ("我叫王建国，电话一三九一二三四五六七八", long_ago, MessageState.PROCESSED),
            ("您的工单已派发", long_ago, MessageState.PROCESSED),
            ("还没人管吗", long_ago, MessageState.PENDING),  # not answered yet: kept until it is
            ("路灯又坏了", lately, MessageState.PROCESSED),
        ]
        for text, at, state in said:
            session.add(
                Message(
                    conversation_id=chat.id,
                    direction="in",
                    author="citizen",
                    text=text,
                    created_at=at,
                    state=state,
                )
            )
        await session.flush()
        pushed = await session.scalar(select(Message.id).where(Message.text == "您的工单已派发"))
        session.add(OutboxItem(message_id=pushed, conversation_id=chat.id))
        await session.commit()
    forgotten = await forget_old(sessions, tmp_path / "uploads", days=180)
    assert (forgotten.conversations, forgotten.messages) == (0, 2)
    async with sessions() as session:
        assert sorted(await session.scalars(select(Message.text))) == sorted(["还没人管吗", "路灯又坏了"])
        assert await session.scalar(select(func.count()).select_from(OutboxItem)) == 0
    await engine.dispose()


def test_old_messages_of_a_conversation_still_going_on_are_deleted(tmp_path: Path) -> None:
    run(old_messages_of_a_long_conversation_are_deleted(tmp_path))


TRACKER_PROBE = """
import asyncio, json, sys, time
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

domain = Domain.from_dict({"slots": {"contact_phone": {"type": "text", "mappings": [{"type": "custom"}]}}})
store = SQLTrackerStore(domain, dialect="sqlite", db=sys.argv[2])

async def main():
    if sys.argv[1] == "write":
        long_ago, now = time.time() - 200 * 86400, time.time()
        tracker = DialogueStateTracker.from_events("telegram-7001", [
            ActionExecuted("action_listen", timestamp=long_ago),
            UserUttered("我电话13912345678", timestamp=long_ago),
            SlotSet("contact_phone", "13912345678", timestamp=long_ago),
            ActionExecuted("action_listen", timestamp=now),
            UserUttered("路灯又坏了", timestamp=now),
        ], slots=domain.slots)
        await store.save(tracker)
        return {"saved": len(tracker.events)}
    tracker = await store.retrieve("telegram-7001")
    return {
        "said": [e.text for e in tracker.events if isinstance(e, UserUttered)],
        "phone": tracker.get_slot("contact_phone"),
    }

print(json.dumps(asyncio.run(main()), ensure_ascii=False))
"""


def test_old_events_of_rasas_tracker_store_are_deleted(tmp_path: Path) -> None:
    """`python -m connectors retention` on Rasa's own SQL tracker store, written and read back by Rasa
    (in its environment), where ops/rasa_server.sh keeps it by default."""
    assert in_rasa_env(TRACKER_PROBE, "write", str(tmp_path / "rasa_tracker.db")) == {"saved": 5}
    secrets = {
        name: "a-secret-for-this-test"
        for name in ("RASA_TOKEN", "GATEWAY_SECRET_KEY", "BACKEND_SERVICE_TOKEN")
    }
    env = {**os.environ, **secrets, "JIESU_DATA_DIR": str(tmp_path), "RETENTION_DAYS": "180"}
    env.pop("RASA_TRACKER_DB", None)
    env.pop("RASA_TRACKER_URL", None)
    run = subprocess.run(
        [sys.executable, "-m", "connectors", "retention"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "3 events of Rasa's tracker store deleted" in run.stdout
    kept = in_rasa_env(TRACKER_PROBE, "read", str(tmp_path / "rasa_tracker.db"))
    assert kept == {"said": ["路灯又坏了"], "phone": None}, json.dumps(kept, ensure_ascii=False)
