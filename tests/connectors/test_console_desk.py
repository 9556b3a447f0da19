"""The console's desk (issue 22): common replies, the knowledge base through the gateway, private
notes, transfer between operators, unread counts. One stack for the module (backend and gateway,
the bot is the fake Rasa); each test has its own citizens."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.app import make_async_engine
from ops.stack import Stack
from tests.aio import run as run_async
from tests.connectors.test_console import (
    ADMIN_PASSWORD,
    backend_post,
    console,
    conversation_id,
    live_socket,
    login,
    web_citizen,
)
from tests.fakes.rasa import TOKEN as RASA_TOKEN
from tests.fakes.rasa import FakeRasa

STAFF = (
    ("op1", "operator", None),
    ("op2", "operator", None),
    ("op3", "operator", None),
    ("op4", "operator", None),
    ("op5", "operator", None),
    ("op6", "operator", None),
    ("heat", "unit_staff", "heating"),
)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, module_rasa: FakeRasa) -> Iterator[Stack]:
    running = Stack.configure(
        tmp_path_factory.mktemp("desk"),
        RASA_URL=module_rasa.url,  # type: ignore[attr-defined]
        RASA_TOKEN=RASA_TOKEN,
        FEED_INTERVAL_S="0.3",
        CONSOLE_DISCONNECT_GRACE_S="30",
    )
    running.start("backend", "gateway", timeout_s=120)
    admin = login(running, "admin", ADMIN_PASSWORD)
    for username, role, unit in STAFF:
        body = {"username": username, "display_name": f"{username}名", "password": "a long staff password"}
        body |= {"role": role, "unit_code": unit}
        assert backend_post(running, "/api/v1/staff", admin, body).status_code == 201
    yield running
    running.stop()


def history(stack: Stack, sender: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{stack.url('gateway')}/chat/api/history", params={"sender": sender}, timeout=10)
    return list(answer.json())


def frames_until(socket: Any, kind: str, timeout_s: float = 10) -> dict[str, Any]:
    """The first live frame of this kind (others before it are skipped)."""
    while True:
        frame: dict[str, Any] = json.loads(socket.recv(timeout=timeout_s))
        if frame["type"] == kind:
            return frame


def test_common_replies_come_from_the_gateway_for_the_hotline_only(desk: Stack) -> None:
    replies = console(desk, "op1").get("/console/api/replies").json()
    assert 8 <= len(replies) <= 12
    texts = [r["text"] for r in replies]
    assert "您好，我是12345人工客服，请问有什么可以帮您？" in texts
    assert "请提供具体地址（区、街道、小区、楼号）。" in texts
    assert all(r["key"] and r["title"] for r in replies)
    assert console(desk, "heat").get("/console/api/replies").status_code == 403


def test_the_knowledge_base_is_searched_through_the_console(desk: Stack) -> None:
    op1 = console(desk, "op1")
    found = op1.get("/console/api/backend/api/v1/knowledge/search", params={"q": "暖气几号来", "limit": 5})
    assert found.status_code == 200
    hits = found.json()["hits"]
    assert hits and "11月15日" in hits[0]["answer"] and hits[0]["question"]
    assert (
        console(desk).get("/console/api/backend/api/v1/knowledge/search", params={"q": "暖气"}).status_code
        == 401
    )


def test_a_note_stays_with_the_staff(desk: Stack) -> None:
    sender, _ = web_citizen(desk, "转人工")
    op1, op2 = console(desk, "op1"), console(desk, "op2")
    cid = conversation_id(desk, op1, sender)
    assert op1.post(f"/console/api/conversations/{cid}/claim").status_code == 200
    with live_socket(desk, op2) as watching:
        added = op1.post(f"/console/api/conversations/{cid}/notes", json={"text": "市民情绪激动，已安抚"})
        assert added.status_code == 201, added.text
        assert frames_until(watching, "note")["conversation_id"] == cid
    note = added.json()
    assert note["note"] is True and note["internal"] is True and note["by_name"] == "op1名"
    seen_by_op2 = op2.get(f"/console/api/conversations/{cid}").json()["transcript"]
    assert [m["text"] for m in seen_by_op2 if m["note"]] == ["市民情绪激动，已安抚"]
    assert all("已安抚" not in m["text"] for m in history(desk, sender))
    with closing(sqlite3.connect(desk.data_dir / "gateway.db")) as db:
        queued = db.execute("SELECT count(*) FROM outbox WHERE message_id = ?", (note["id"],)).fetchone()[0]
    assert queued == 0  # Telegram, WeChat and SMS send only what the outbox holds
    assert op1.post("/console/api/conversations/999999/notes", json={"text": "x"}).status_code == 404
    assert (
        console(desk, "heat").post(f"/console/api/conversations/{cid}/notes", json={"text": "x"}).status_code
        == 403
    )


def test_only_the_holder_or_an_admin_transfers_and_both_consoles_hear_it(desk: Stack) -> None:
    sender, _ = web_citizen(desk, "转人工")
    op3, op4, op5 = console(desk, "op3"), console(desk, "op4"), console(desk, "op5")
    admin = console(desk, "admin", ADMIN_PASSWORD)
    cid = conversation_id(desk, op3, sender)
    assert op3.post(f"/console/api/conversations/{cid}/claim").status_code == 200
    path = f"/console/api/conversations/{cid}/transfer"
    assert op3.post(path, json={"to": "op4"}).status_code == 409  # op4 has no console open
    with live_socket(desk, op3) as giving, live_socket(desk, op4) as taking, live_socket(desk, op5):
        online = {o["username"] for o in op3.get("/console/api/operators").json()}
        assert {"op3", "op4", "op5"} <= online and "heat" not in online
        assert op5.post(path, json={"to": "op4"}).status_code == 403  # not the holder
        assert op3.post(path, json={"to": "op3"}).status_code == 409
        moved = op3.post(path, json={"to": "op4"})
        assert moved.status_code == 200, moved.text
        for socket in (giving, taking):
            frame = frames_until(socket, "transferred")
            assert frame["conversation_id"] == cid and frame["operator"] == "op4"
            assert frame["event"] == {"from": "op3", "to": "op4"}
        assert (
            op3.post(f"/console/api/conversations/{cid}/messages", json={"text": "还在吗"}).status_code == 409
        )
        said = op4.post(f"/console/api/conversations/{cid}/messages", json={"text": "您好，我接着为您服务"})
        assert said.status_code == 201
        assert admin.post(path, json={"to": "op5"}).status_code == 200  # an admin moves anyone's
    detail = op3.get(f"/console/api/conversations/{cid}").json()
    assert detail["operator"] == "op5"
    records = [m["text"] for m in detail["transcript"] if m["internal"] and m["author"] == "system"]
    assert records == ["会话由op3转给op4", "会话由op4转给op5"]
    seen = [m["text"] for m in history(desk, sender)]
    assert "已为您转接人工客服op4名，请稍候。" in seen and not any("转给" in t for t in seen)


def test_unread_counts_are_per_operator_and_clear_on_opening(desk: Stack) -> None:
    sender, _ = web_citizen(desk, "转人工")
    op6, op1 = console(desk, "op6"), console(desk, "op1")
    cid = conversation_id(desk, op6, sender)  # opens every listed conversation: all read by op6

    def unread(client: httpx.Client) -> tuple[int, int]:
        queue = client.get("/console/api/queue").json()
        [item] = [i for i in queue["waiting"] + queue["held"] + queue["live"] if i["id"] == cid]
        return item["unread"], queue["unread_total"]

    assert unread(op6) == (0, 0)
    desk.say(sender, "我家楼下一直在施工")
    desk.say(sender, "晚上十一点还在响")
    assert unread(op6) == (2, 2)
    assert unread(op1)[0] == 3  # op1 never opened it: the first message counts too
    op6.get(f"/console/api/conversations/{cid}")
    assert unread(op6) == (0, 0)
    assert unread(op1)[0] == 3


def test_an_existing_database_gets_the_table_of_read_conversations(tmp_path: Path) -> None:
    from connectors.core.models import Base
    from connectors.upgrade import upgrade

    url = f"sqlite:///{tmp_path / 'gateway.db'}"

    async def run() -> set[str]:
        engine = make_async_engine(url)
        older = [t for t in Base.metadata.sorted_tables if t.name != "conversation_seen"]
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: Base.metadata.create_all(sync, tables=older))
        from sqlalchemy.ext.asyncio import async_sessionmaker

        await upgrade(
            engine, async_sessionmaker(engine), key="k" * 32, tracker_url=f"sqlite:///{tmp_path}/t.db"
        )
        await engine.dispose()
        with closing(sqlite3.connect(tmp_path / "gateway.db")) as db:
            return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    tables = run_async(run())
    assert "conversations" in tables and "conversation_seen" in tables
