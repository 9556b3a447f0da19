"""The gateway's database is made and changed by its Alembic migrations (connectors/migrations/), on
SQLite and PostgreSQL: from empty, and from a database made before migrations by create_all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, MetaData, String, Table, inspect, select, text

from common.database import make_engine
from connectors.core.models import Base, Conversation
from connectors.upgrade import migrate
from tests.postgres import scratch_database

VERSION_TABLE = "gateway_alembic_version"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each kind."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
        yield engine
        engine.dispose()
        return
    with scratch_database() as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def differences(engine: Engine) -> list[object]:
    """What the database lacks or has beyond the models (Alembic's autogenerate comparison)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        return list(compare_metadata(context, Base.metadata))


def version(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT version_num FROM gateway_alembic_version"))


def test_an_empty_database_becomes_exactly_the_models(empty: Engine) -> None:
    with empty.begin() as connection:
        migrate(connection)
    assert differences(empty) == []
    assert version(empty) == "0001"
    with empty.begin() as connection:  # a second start changes nothing
        migrate(connection)
    assert differences(empty) == [] and version(empty) == "0001"


def test_a_database_made_before_migrations_is_completed_and_keeps_its_rows(empty: Engine) -> None:
    """An earlier gateway made its tables with create_all: here without the table of read
    conversations and without the conversations' operator column (both came later)."""
    older = [t for t in Base.metadata.sorted_tables if t.name != "conversation_seen"]
    Base.metadata.create_all(empty, tables=older)
    with empty.begin() as connection:
        connection.execute(text("ALTER TABLE conversations DROP COLUMN operator"))
        connection.execute(
            text(
                "INSERT INTO conversations"
                " (channel, identity, sender_id, handling, created_at, last_message_at)"
                " VALUES ('webchat', :identity, 's-1', 'bot', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"identity": "i" * 64},
        )
    assert "operator" not in {c["name"] for c in inspect(empty).get_columns("conversations")}

    with empty.begin() as connection:
        migrate(connection)

    assert differences(empty) == []
    assert version(empty) == "0001"
    with empty.connect() as connection:
        kept = connection.execute(select(Conversation.sender_id, Conversation.operator)).all()
    assert kept == [("s-1", None)]


def test_the_version_table_is_the_gateways_own(empty: Engine) -> None:
    """A database shared with the backend keeps the two migration histories apart."""
    Table("alembic_version", MetaData(), Column("version_num", String(32), primary_key=True)).create(empty)
    with empty.begin() as connection:
        connection.execute(text("INSERT INTO alembic_version VALUES ('0008')"))
        migrate(connection)
    with empty.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0008"
    assert version(empty) == "0001"
