"""Migrations keep the rows they find: a database at 0008 through 0009 (columns that hold codes end in
`_code`) and back, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, text

from backend.db import Base, alembic_config
from tests.backend.conftest import empty_database

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
STREET = "street_office:110105026"
# per table, the columns that hold codes before 0009 and after it
RENAMED = {
    "cases": {"lead_unit": "lead_unit_code"},
    "case_updates": {"unit": "unit_code"},
    "case_assignments": {"unit": "unit_code"},
    "case_alerts": {"unit": "unit_code"},
    "summonses": {"unit": "unit_code", "department": "department_code"},
    "staff": {"unit": "unit_code"},
}


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0008(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database at 0008 with a dispatched case, its timeline, assignments, summons, alert and staff."""
    for engine in empty_database(request.param, tmp_path):
        to_revision(engine, "0008")
        with engine.begin() as connection:
            insert_rows(connection)
        yield engine


def to_revision(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def insert_rows(connection: Connection) -> None:
    execute = connection.execute
    execute(
        text(
            "INSERT INTO cases (id, number, appeal_type, description, anonymous, confidential, channel,"
            " attachments, attributes, status, time_limit, reopen_count, return_count,"
            " failed_verifications, accepted_at, due_at, updated_at, lead_unit)"
            " VALUES (1, '2026120700001', 'complaint', '路灯不亮', false, false, 'phone', '[]', '{}',"
            " 'dispatched', 'general', 0, 0, 0, :now, :due, :now, :street)"
        ),
        {"now": NOW, "due": NOW + timedelta(days=7), "street": STREET},
    )
    execute(
        text(
            "INSERT INTO case_updates (id, case_id, kind, actor_kind, public, created_at, unit)"
            " VALUES (1, 1, 'dispatch', 'operator', false, :now, :street)"
        ),
        {"now": NOW, "street": STREET},
    )
    execute(
        text(
            "INSERT INTO case_assignments (id, case_id, unit, role, active, assigned_at)"
            " VALUES (1, 1, :street, 'lead', true, :now), (2, 1, 'housing', 'summoned', true, :now)"
        ),
        {"now": NOW, "street": STREET},
    )
    execute(
        text(
            "INSERT INTO summonses (id, case_id, unit, department, reason, summoned_by, summoned_at, due_at)"
            " VALUES (1, 1, :street, 'housing', '楼道失修', 'chaowai', :now, :due)"
        ),
        {"now": NOW, "due": NOW + timedelta(hours=24), "street": STREET},
    )
    execute(
        text(
            "INSERT INTO case_alerts (id, case_id, kind, unit, due_at, summons_id, created_at)"
            " VALUES (1, 1, 'summons_late', 'housing', :due, 1, :now)"
        ),
        {"now": NOW, "due": NOW + timedelta(hours=24)},
    )
    execute(
        text(
            "INSERT INTO staff (id, username, display_name, password_hash, role, unit, active, created_at)"
            " VALUES (1, 'chaowai', '朝外街道', 'x', 'unit_staff', :street, true, :now)"
        ),
        {"now": NOW, "street": STREET},
    )


def codes(engine: Engine, *, after: bool) -> dict[str, list[tuple[object, ...]]]:
    """Every row's code columns, by table, under the names of before or after 0009."""
    found = {}
    with engine.connect() as connection:
        for table, columns in RENAMED.items():
            names = ", ".join(columns.values() if after else columns)
            query = f"SELECT id, {names} FROM {table} ORDER BY id"  # noqa: S608 - names from RENAMED
            found[table] = connection.execute(text(query)).all()
    return found


def test_0009_renames_the_code_columns_and_keeps_every_row(at_0008: Engine) -> None:
    before = codes(at_0008, after=False)

    to_revision(at_0008, "head")

    assert codes(at_0008, after=True) == before
    with at_0008.connect() as connection:
        assert list(compare_metadata(MigrationContext.configure(connection), Base.metadata)) == []
    indexes = {i["name"]: i for i in inspect(at_0008).get_indexes("case_alerts")}
    partial = indexes["uq_case_alerts_case_kind_due"]["dialect_options"]
    assert "summons_id IS NULL" in str(partial.get("sqlite_where", partial.get("postgresql_where")))

    to_revision(at_0008, "0008", down=True)

    assert codes(at_0008, after=False) == before
    assert "ix_cases_lead_unit_status" in {i["name"] for i in inspect(at_0008).get_indexes("cases")}


def test_sqlites_table_copies_delete_no_row_that_refers_to_a_case(tmp_path: Path) -> None:
    """0008 changes `cases` in batch mode (copy, drop, rename). With foreign keys enforced the drop
    deleted the rows that refer to a case (ON DELETE CASCADE): migrate keeps them off while it runs."""
    from backend.db import migrate

    for engine in empty_database("sqlite", tmp_path):
        to_revision(engine, "0007")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO cases (id, number, appeal_type, description, anonymous, confidential,"
                    " channel, attachments, attributes, status, time_limit, reopen_count, return_count,"
                    " failed_verifications, accepted_at, due_at, updated_at, lead_unit)"
                    " VALUES (1, '2026120700001', 'complaint', '路灯不亮', false, false, 'phone', '[]', '{}',"
                    " 'dispatched', 'general', 0, 0, 0, :now, :due, :now, :street)"
                ),
                {"now": NOW, "due": NOW + timedelta(days=7), "street": STREET},
            )
            connection.execute(
                text(
                    "INSERT INTO case_updates (id, case_id, kind, actor_kind, public, created_at, unit)"
                    " VALUES (1, 1, 'dispatch', 'operator', false, :now, :street)"
                ),
                {"now": NOW, "street": STREET},
            )
        migrate(engine)
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM cases")) == 1
            assert connection.scalar(text("SELECT count(*) FROM case_updates")) == 1
            assert connection.scalar(text("PRAGMA foreign_keys")) == 1  # on again for the service
