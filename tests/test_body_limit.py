"""common/body_limit.py over real HTTP (uvicorn): a body over its limit is refused before the
application sees it, whether it gives its length or comes chunked."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from common.body_limit import BodyLimit
from tests.fakes.server import ServerThread

LIMIT = 1000


class Recorder:
    """An application that answers with the length of the body it was given."""

    def __init__(self) -> None:
        self.bodies: list[int] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await Request(scope, receive).body()
        self.bodies.append(len(body))
        await JSONResponse({"length": len(body)})(scope, receive, send)


@pytest.fixture
def server() -> Iterator[tuple[str, Recorder]]:
    app = Recorder()
    with ServerThread(BodyLimit(app, max_bytes=LIMIT, paths={"/big": 10 * LIMIT})) as running:
        yield running.url, app


def chunked(size: int) -> Iterator[bytes]:
    for _ in range(size // 100):
        yield b"x" * 100


def test_declared_and_chunked_bodies_over_the_limit_never_reach_the_application(
    server: tuple[str, Recorder],
) -> None:
    url, app = server
    declared = httpx.post(f"{url}/x", content=b"x" * (LIMIT + 1), timeout=10)
    assert declared.status_code == 413
    assert declared.json() == {"detail": f"request body too large: at most {LIMIT} bytes"}
    stream = httpx.post(f"{url}/x", content=chunked(5 * LIMIT), timeout=10)
    assert stream.status_code == 413 and "too large" in stream.json()["detail"]
    assert app.bodies == []


def test_bodies_within_the_limit_arrive_whole_and_paths_have_their_own_limit(
    server: tuple[str, Recorder],
) -> None:
    url, app = server
    assert httpx.post(f"{url}/x", content=b"x" * LIMIT, timeout=10).json() == {"length": LIMIT}
    assert httpx.post(f"{url}/x", content=chunked(LIMIT), timeout=10).json() == {"length": LIMIT}
    assert httpx.get(f"{url}/x", timeout=10).json() == {"length": 0}
    assert httpx.post(f"{url}/big/upload", content=chunked(5 * LIMIT), timeout=10).json() == {
        "length": 5 * LIMIT
    }
    assert httpx.post(f"{url}/big", content=chunked(11 * LIMIT), timeout=10).status_code == 413
    assert app.bodies == [LIMIT, LIMIT, 0, 5 * LIMIT]
