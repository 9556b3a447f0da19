"""Backend fixtures: the same tests on SQLite and PostgreSQL, each test in a rolled-back transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.db import migrate
from backend.deps import db_session
from backend.settings import BackendSettings
from backend.staff.principal import Principal
from backend.staff.roles import Role
from backend.staff.service import create_staff, login
from common.database import make_engine
from tests.postgres import scratch_database

SERVICE_TOKEN = "service-token-for-tests"
PASSWORD = "correct horse battery"


def empty_database(kind: str, folder: Path) -> Iterator[Engine]:
    """An empty database of this kind ("sqlite" in `folder`, or a scratch PostgreSQL database)."""
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{folder / 'test.db'}")
        yield engine
        engine.dispose()
        return
    with scratch_database() as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated database of each kind, created from empty for this test session."""
    for engine in empty_database(request.param, tmp_path_factory.mktemp("db")):
        migrate(engine)
        yield engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test (commits are savepoints)."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def settings(tmp_path: Path) -> BackendSettings:
    return BackendSettings(
        backend_service_token=SERVICE_TOKEN,  # type: ignore[arg-type]
        backend_database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        jiesu_data_dir=tmp_path,
        jiesu_env="test",
    )


@pytest.fixture
def client(settings: BackendSettings, session: Session) -> Iterator[TestClient]:
    """The backend app on the test's session (no lifespan: the schema is migrated already)."""
    app = create_app(settings)

    def test_session() -> Iterator[Session]:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    app.dependency_overrides[db_session] = test_session
    app.state.sessions = lambda: session
    yield TestClient(app)


class Staffer:
    """A logged-in staff member for API tests."""

    def __init__(self, session: Session, username: str, role: Role, unit: str | None = None) -> None:
        self.staff = create_staff(
            session=session,
            username=username,
            password=PASSWORD,
            display_name=username,
            role=role,
            unit_code=unit,
        )
        token, _ = login(
            session=session, username=username, password=PASSWORD, address="test", ttl=timedelta(hours=1)
        )
        self.headers = {"Authorization": f"Bearer {token}"}
        self.principal = Principal(role, username, unit, self.staff.id)
        session.commit()


@pytest.fixture
def operator(session: Session) -> Staffer:
    return Staffer(session, "operator1", Role.OPERATOR)


@pytest.fixture
def supervisor(session: Session) -> Staffer:
    return Staffer(session, "supervisor1", Role.SUPERVISOR)


@pytest.fixture
def admin(session: Session) -> Staffer:
    return Staffer(session, "admin1", Role.ADMIN)


@pytest.fixture
def service_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {SERVICE_TOKEN}"}


def unit_staff(session: Session, unit: str, username: str | None = None) -> Staffer:
    return Staffer(session, username or f"unit_{unit.replace(':', '_')}", Role.UNIT_STAFF, unit)


def at_once(work: Callable[[int], object], count: int) -> list[str]:
    """Run work(0) … work(count - 1) in threads released together; return each one's result, or the
    name of the exception it raised, as text and sorted."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes.append(str(work(i)))
        except BaseException as error:  # noqa: BLE001 - reported to the test, which asserts on it
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)
