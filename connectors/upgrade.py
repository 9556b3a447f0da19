"""Bring an existing gateway database, and Rasa's tracker store, up to this version at start-up.

The gateway's tables are made and changed by its Alembic migrations (connectors/migrations/; the first
also brings a database made before them, by create_all, to its shape). Then this moves conversations
off the ids of earlier versions, `<channel>-<identity>` (for the web
chat, the citizen's token itself), to derived ids (connectors.core.ids). A web chat conversation's
identity becomes its token's SHA-256. Each move is recorded in `sender_renames` in the same
transaction, and Rasa's tracker store follows here, before the gateway talks to Rasa; the backend's
cases follow through its API, sent by the case feed before it reads case events
(connectors.push.feed). Every step can run again without harm.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, inspect, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.core.ids import derive_sender_id, identity_of_credential
from connectors.core.models import Conversation, SenderRename
from connectors.webchat.channel import CHANNEL as WEBCHAT

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


async def upgrade(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], *, key: str, tracker_url: str
) -> None:
    """Create or complete the gateway's tables, rename legacy conversations, and move their trackers."""
    async with engine.begin() as connection:
        await connection.run_sync(migrate)
    async with sessions() as session:
        renamed = await rename_legacy_conversations(session, key)
        pending = {
            r.old_sender_id: r.new_sender_id
            for r in await session.scalars(select(SenderRename).where(SenderRename.tracker_done.is_(False)))
        }
    if renamed:
        await compact(engine)  # no freed page keeps a token
        log.info("moved %d conversations to derived ids", renamed)
    if not pending:
        return
    try:
        moved = await asyncio.to_thread(rename_in_tracker_store, tracker_url, pending)
    except SQLAlchemyError as error:
        where = make_url(tracker_url).render_as_string(hide_password=True)
        raise RuntimeError(
            f"cannot move {len(pending)} conversations in Rasa's tracker store at {where} "
            f"({type(error).__name__}); set RASA_TRACKER_URL to the store Rasa uses"
        ) from error
    async with sessions() as session:
        await session.execute(
            update(SenderRename)
            .where(SenderRename.old_sender_id.in_(list(pending)))
            .values(tracker_done=True)
        )
        await session.commit()
    log.info("moved %d tracker events of %d conversations in Rasa's tracker store", moved, len(pending))


async def compact(engine: AsyncEngine) -> None:
    """On SQLite, rewrite the file, so that no freed page keeps what was deleted or overwritten."""
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        auto = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("VACUUM"))
        await auto.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def migrate(connection: Connection) -> None:
    """Bring the gateway's tables to the newest migration (creates them in an empty database).

    Its migrations change tables in place. One that copies a table on SQLite (Alembic's batch mode)
    must run with foreign keys off, as backend.db.migrate does, or the copy deletes the messages of
    every conversation (ON DELETE CASCADE)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def rename_legacy_conversations(session: AsyncSession, key: str) -> int:
    """Give every conversation still on `<channel>-<identity>` its derived id; return how many."""
    legacy = list(
        await session.scalars(
            select(Conversation).where(
                Conversation.sender_id == Conversation.channel + "-" + Conversation.identity
            )
        )
    )
    for conversation in legacy:
        old = conversation.sender_id
        if conversation.channel == WEBCHAT:
            conversation.identity = identity_of_credential(conversation.identity)
        conversation.sender_id = derive_sender_id(key, conversation.channel, conversation.identity)
        session.add(SenderRename(old_sender_id=old, new_sender_id=conversation.sender_id))
    await session.commit()
    return len(legacy)


def rename_in_tracker_store(url: str, renames: dict[str, str]) -> int:
    """Move each conversation's events in Rasa's SQL tracker store to its new sender id, dropping the
    old identity from the events' metadata; return how many events moved. Nothing to do without the
    store (a fresh install) or its `events` table."""
    target = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    if target.get_backend_name() == "sqlite" and not Path(target.database or "").is_file():
        return 0
    engine = create_engine(target)
    try:
        with engine.begin() as connection:
            if not inspect(connection).has_table("events"):
                return 0
            moved = sum(_move_events(connection, old, new) for old, new in renames.items())
        if target.get_backend_name() == "sqlite":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM"))  # no freed page keeps a token
        return moved
    finally:
        engine.dispose()


def _move_events(connection: Connection, old: str, new: str) -> int:
    moved = connection.execute(
        text("UPDATE events SET sender_id = :new WHERE sender_id = :old"), {"new": new, "old": old}
    ).rowcount
    rows = connection.execute(
        text("SELECT id, data FROM events WHERE sender_id = :new AND data LIKE :identity"),
        {"new": new, "identity": '%"identity"%'},
    )
    for event_id, data in list(rows):
        event = json.loads(data)
        metadata = event.get("metadata")
        if isinstance(metadata, dict) and metadata.pop("identity", None) is not None:
            connection.execute(
                text("UPDATE events SET data = :data WHERE id = :id"),
                {"data": json.dumps(event, ensure_ascii=False), "id": event_id},
            )
    return int(moved or 0)
