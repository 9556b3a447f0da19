"""The database unavailable for a while: 503 with nothing half-written, then recovery by itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from ops.stack import Stack, wait_until
from tests.backend.factories import payload
from tests.fakes.tcp_proxy import TcpProxy
from tests.postgres import POSTGRES_ADMIN_URL, scratch_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def database() -> Iterator[str]:
    """A scratch database's name."""
    with scratch_database("jiesu_outage") as url:
        yield url.rsplit("/", 1)[1]


def count_cases(name: str) -> int:
    engine = create_engine(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM cases")).scalar_one())


def test_an_unreachable_database_means_503_then_recovery(tmp_path: Path, database: str) -> None:
    with TcpProxy("127.0.0.1", 5432) as proxy:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/{database}"
        stack = Stack.configure(tmp_path, BACKEND_DATABASE_URL=url)
        stack.start("backend", timeout_s=120)
        try:
            base = stack.url("backend")
            headers = {"Authorization": f"Bearer {stack.env['BACKEND_SERVICE_TOKEN']}"}
            first = httpx.post(f"{base}/api/v1/cases", json=payload(), headers=headers, timeout=30)
            assert first.status_code == 201
            proxy.cut()
            body = payload(description="数据库断开时提交的诉求")
            during = httpx.post(
                f"{base}/api/v1/cases",
                json=body,
                timeout=60,
                headers={**headers, "Idempotency-Key": "outage-1"},
            )
            assert during.status_code == 503 and "nothing was saved" in during.json()["detail"]
            down = httpx.get(f"{base}/health", timeout=30)
            assert down.status_code == 503 and down.json() == {"status": "unavailable"}  # no more
            assert count_cases(database) == 1  # nothing half-written
            proxy.restore()
            assert wait_until(lambda: httpx.get(f"{base}/health", timeout=30).status_code == 200, 30)
            again = httpx.post(
                f"{base}/api/v1/cases",
                json=body,
                timeout=30,
                headers={**headers, "Idempotency-Key": "outage-1"},
            )
            assert again.status_code == 201  # the retry creates it, once
            assert count_cases(database) == 2
            assert "Traceback" not in stack.logs("backend", tail=400)
        finally:
            stack.stop()
