"""The gateway's database is made and changed by its Alembic migrations (connectors/migrations/), on
SQLite and PostgreSQL: from empty, and from a database made before migrations by create_all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, MetaData, String, Table, inspect, select, text

from connectors.core.models import Base, ConsoleSession, Conversation
from connectors.upgrade import MIGRATIONS, migrate
from tests.backend.conftest import empty_database

VERSION_TABLE = "gateway_alembic_version"
HEAD = "0002"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each kind."""
    yield from empty_database(request.param, tmp_path)


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
    assert version(empty) == HEAD
    with empty.begin() as connection:  # a second start changes nothing
        migrate(connection)
    assert differences(empty) == [] and version(empty) == HEAD


def test_a_database_made_before_migrations_is_completed_and_keeps_its_rows(empty: Engine) -> None:
    """An earlier gateway made its tables with create_all: here without the table of read
    conversations and without the conversations' operator column (both came later), and with the
    logins' unit column under its name of then."""
    older = [t for t in Base.metadata.sorted_tables if t.name != "conversation_seen"]
    Base.metadata.create_all(empty, tables=older)
    with empty.begin() as connection:
        connection.execute(text("ALTER TABLE conversations DROP COLUMN operator"))
        connection.execute(text("ALTER TABLE console_logins RENAME COLUMN unit_code TO unit"))
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
    assert version(empty) == HEAD
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
    assert version(empty) == HEAD


def to_revision(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_a_login_at_0001_keeps_its_unit_as_unit_code_and_back(empty: Engine) -> None:
    """0002 renames console_logins.unit to unit_code (it holds the unit's code); the row stays."""
    to_revision(empty, "0001")
    with empty.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO console_logins"
                " (token_hash, username, display_name, role, unit, unit_name, expires_at, created_at)"
                " VALUES (:hash, 'chaoyang', '朝阳', 'unit_staff', 'street_office:110105026', '朝外街道',"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"hash": "a" * 64},
        )

    to_revision(empty, "head")

    assert differences(empty) == [] and version(empty) == HEAD
    with empty.connect() as connection:
        kept = connection.execute(select(ConsoleSession.username, ConsoleSession.unit_code)).all()
    assert kept == [("chaoyang", "street_office:110105026")]

    to_revision(empty, "0001", down=True)
    with empty.connect() as connection:
        back = connection.execute(text("SELECT username, unit FROM console_logins")).all()
    assert back == [("chaoyang", "street_office:110105026")] and version(empty) == "0001"
