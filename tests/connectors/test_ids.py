"""A web chat citizen's token never leaves the gateway: staff cannot open a conversation with anything
they see, and conversations of earlier versions (ids `<channel>-<token>`) move to derived ids with
their Rasa state and their cases. The backend is real; the bot is the fake Rasa."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from connectors.app import make_async_engine
from connectors.core.ids import derive_sender_id, identity_of_credential
from connectors.core.models import Base, Conversation, Message, SeenUpdate, SenderRename
from connectors.upgrade import upgrade
from ops.stack import Stack, wait_until
from tests.aio import run
from tests.connectors.test_console import ADMIN_PASSWORD, PASSWORD, backend_post, console, login
from tests.fakes.rasa import TOKEN as RASA_TOKEN
from tests.fakes.rasa import FakeRasa
from tests.postgres import scratch_database

KEY = "a-gateway-secret-for-tests"
TOKEN = "Zm9vYmFyLWEtY2l0aXplbnMtb3duLXRva2Vu"  # an earlier version's web chat token
CHAT = "4242"
TRACKER_EVENTS = """CREATE TABLE events (
    id {id} PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""
SEEN_UPDATES_BEFORE = "CREATE TABLE seen_updates (update_id INTEGER PRIMARY KEY, seen_at TIMESTAMP)"


@pytest.fixture
def stack(tmp_path: Path, fake_rasa: FakeRasa) -> Iterator[Stack]:
    running = Stack.configure(
        tmp_path,
        RASA_URL=fake_rasa.url,  # type: ignore[attr-defined]
        RASA_TOKEN=RASA_TOKEN,
        FEED_INTERVAL_S="0.3",
        GATEWAY_SECRET_KEY=KEY,
    )
    yield running
    running.stop()


def staff(stack: Stack) -> None:
    admin = login(stack, "admin", ADMIN_PASSWORD)
    for username, role, unit in (("op1", "operator", None), ("heat", "unit_staff", "heating")):
        body = {
            "username": username,
            "display_name": "名",
            "password": PASSWORD,
            "role": role,
            "unit_code": unit,
        }
        assert backend_post(stack, "/api/v1/staff", admin, body).status_code == 201


def file_case(stack: Stack, conversation_id: str, key: str | None = None) -> dict[str, Any]:
    """File a case as the action server does: under the conversation's id at Rasa."""
    body = {
        "appeal_type": "complaint",
        "description": "小区暖气不热，屋里才十五度",
        "address": "海淀区中关村南大街5号院",
        "contact_name": "李女士",
        "contact_phone": "13912345678",
        "channel": "webchat",
        "channel_identity": conversation_id,
        "conversation_id": conversation_id,
    }
    headers = {"Authorization": f"Bearer {stack.env['BACKEND_SERVICE_TOKEN']}"}
    if key:
        headers["Idempotency-Key"] = key
    made = httpx.post(f"{stack.url('backend')}/api/v1/cases", json=body, headers=headers, timeout=30)
    assert made.status_code in (200, 201), made.text
    return dict(made.json()["case"])


def strings(value: Any) -> set[str]:
    """Every string in a JSON value, and each part after a dash (`webchat-<id>` gives `<id>` too)."""
    if isinstance(value, dict):
        return set().union(*(strings(v) | strings(k) for k, v in value.items())) if value else set()
    if isinstance(value, list):
        return set().union(*(strings(v) for v in value)) if value else set()
    if isinstance(value, str):
        return {value, *(value.split("-", n)[-1] for n in range(1, value.count("-") + 1))}
    return set()


def opens_the_conversation(stack: Stack, candidate: str) -> bool:
    """Whether this string reads the transcript, writes as the citizen, or opens the live socket."""
    gateway = stack.url("gateway")
    if httpx.get(f"{gateway}/chat/api/history", params={"sender": candidate}, timeout=10).status_code == 200:
        return True
    body = {"sender": candidate, "text": "满意"}
    if httpx.post(f"{gateway}/chat/api/messages", json=body, timeout=10).status_code == 200:
        return True
    try:
        with connect(
            gateway.replace("http", "ws") + "/chat/ws?" + str(httpx.QueryParams({"sender": candidate}))
        ) as socket:
            # an unknown sender's socket is accepted only to be told why in Chinese and closed (4404)
            first = json.loads(socket.recv(timeout=2))
            return first.get("type") != "error"
    except TimeoutError:
        return True  # accepted and left open: the live conversation
    except (InvalidStatus, ConnectionClosed):
        return False


def test_nothing_staff_can_see_opens_a_citizens_conversation(stack: Stack, fake_rasa: FakeRasa) -> None:
    stack.start("backend", "gateway", timeout_s=120)
    staff(stack)
    token = stack.new_web_sender()
    stack.say(token, "转人工")
    at_rasa = fake_rasa.received[-1]["sender"]
    case = file_case(stack, at_rasa)
    operator, unit = console(stack, "op1"), console(stack, "heat")
    seen: set[str] = set()
    for client in (operator, unit):
        listed = client.get("/console/api/backend/api/v1/cases").json()
        assert case["number"] in {c["number"] for c in listed}
        seen |= strings(listed)
        seen |= strings(client.get(f"/console/api/backend/api/v1/cases/{case['number']}").json())
    queue = operator.get("/console/api/queue").json()
    seen |= strings(queue)
    for item in queue["waiting"]:
        seen |= strings(operator.get(f"/console/api/conversations/{item['id']}").json())
    assert at_rasa in seen  # staff do see the conversation's id, on the case and in the transcript view
    assert token not in seen
    assert opens_the_conversation(stack, token)  # the citizen's own token does
    candidates = sorted(s for s in seen if len(s) <= 200)
    assert [c for c in candidates if opens_the_conversation(stack, c)] == []
    assert fake_rasa.texts(at_rasa) == ["转人工"]  # and nobody wrote as the citizen


# --- upgrading from earlier versions --------------------------------------------------------------
def legacy_gateway_db(url: str) -> None:
    """A gateway database of an earlier version: ids `<channel>-<identity>`, seen_updates of two columns."""
    engine = create_engine(url)
    tables = [t for t in Base.metadata.sorted_tables if t.name not in ("seen_updates", "sender_renames")]
    Base.metadata.create_all(engine, tables=tables)
    with engine.begin() as connection:
        connection.execute(text(SEEN_UPDATES_BEFORE))
        connection.execute(text("INSERT INTO seen_updates VALUES (77, '2026-11-30 10:00:00')"))
        for channel, identity in (("webchat", TOKEN), ("telegram", CHAT)):
            connection.execute(
                text(
                    "INSERT INTO conversations (channel, identity, sender_id, handling, created_at, "
                    "last_message_at) VALUES (:c, :i, :s, 'bot', :t, :t)"
                ),
                {"c": channel, "i": identity, "s": f"{channel}-{identity}", "t": "2026-11-30 10:00:00"},
            )
        connection.execute(
            text(
                "INSERT INTO messages (conversation_id, direction, author, text, payload, state, created_at) "
                "VALUES (1, 'in', 'citizen', '楼道灯坏了', '{}', 'processed', '2026-11-30 10:00:00')"
            )
        )
    engine.dispose()


def legacy_tracker_store(url: str, *, serial: str) -> None:
    """Rasa's SQL tracker store with the earlier ids (and the token in each message's metadata)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(TRACKER_EVENTS.format(id=serial)))
        for sender, identity in ((f"webchat-{TOKEN}", TOKEN), (f"telegram-{CHAT}", CHAT)):
            for kind, data in (
                (
                    "user",
                    {
                        "event": "user",
                        "text": "楼道灯坏了",
                        "metadata": {"channel": "x", "identity": identity},
                    },
                ),
                ("slot", {"event": "slot", "name": "description", "value": "楼道灯坏了"}),
            ):
                connection.execute(
                    text(
                        "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, :t, :at, :d)"
                    ),
                    # an hour ago: retention (RETENTION_DAYS) would rightly forget an event from 1970
                    {"s": sender, "t": kind, "at": time.time() - 3600, "d": json.dumps(data)},
                )
    engine.dispose()


def tracker_rows(url: str) -> list[tuple[str, dict[str, Any]]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = [
            (s, json.loads(d))
            for s, d in connection.execute(text("SELECT sender_id, data FROM events ORDER BY id"))
        ]
    engine.dispose()
    return rows


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(gateway URL, tracker store URL, the tracker's SERIAL type) on SQLite files or PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}", f"sqlite:///{tmp_path / 'rasa_tracker.db'}", "INTEGER"
        return
    with scratch_database() as gateway, scratch_database() as tracker:
        yield gateway, tracker, "SERIAL"


async def upgrade_twice(gateway_url: str, tracker_url: str) -> list[tuple[str, str, str]]:
    engine = make_async_engine(gateway_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        for _ in range(2):  # the second start finds nothing left to do
            await upgrade(engine, sessions, key=KEY, tracker_url=tracker_url)
        async with sessions() as session:
            moved = [
                (r.old_sender_id, r.new_sender_id, str(r.tracker_done))
                for r in await session.scalars(select(SenderRename))
            ]
            conversations = list(await session.scalars(select(Conversation).order_by(Conversation.id)))
            first = await session.scalar(
                select(Message.text).where(Message.conversation_id == conversations[0].id)
            )
            seen = await session.get_one(SeenUpdate, 77)
        assert first == "楼道灯坏了"
        assert (seen.state, seen.attempts, seen.payload) == ("done", 0, None)
        return moved + [(c.channel, c.identity, c.sender_id) for c in conversations]
    finally:
        await engine.dispose()


def test_an_earlier_versions_conversations_move_to_derived_ids(databases: tuple[str, str, str]) -> None:
    gateway_url, tracker_url, serial = databases
    legacy_gateway_db(gateway_url)
    legacy_tracker_store(tracker_url, serial=serial)
    rows = run(upgrade_twice(gateway_url, tracker_url))
    web_identity = identity_of_credential(TOKEN)
    web_id = derive_sender_id(KEY, "webchat", web_identity)
    telegram_id = derive_sender_id(KEY, "telegram", CHAT)
    assert rows == [
        (f"webchat-{TOKEN}", web_id, "True"),
        (f"telegram-{CHAT}", telegram_id, "True"),
        ("webchat", web_identity, web_id),  # the gateway keeps no token, only its hash
        ("telegram", CHAT, telegram_id),
    ]
    events = tracker_rows(tracker_url)
    assert [s for s, _ in events] == [web_id, web_id, telegram_id, telegram_id]
    assert TOKEN not in json.dumps([d for _, d in events])
    assert events[0][1]["metadata"] == {"channel": "x"} and events[1][1]["value"] == "楼道灯坏了"
    if tracker_url.startswith("sqlite"):  # not even in a freed page of the file
        assert TOKEN.encode() not in Path(tracker_url.removeprefix("sqlite:///")).read_bytes()
    engine = create_engine(gateway_url)
    assert {"state", "attempts", "payload"} <= {
        c["name"] for c in inspect(engine).get_columns("seen_updates")
    }
    engine.dispose()


def test_after_the_upgrade_the_citizen_goes_on_and_staff_still_cannot(
    stack: Stack, fake_rasa: FakeRasa
) -> None:
    data = Path(stack.env["JIESU_DATA_DIR"])
    data.mkdir(parents=True, exist_ok=True)
    legacy_gateway_db(f"sqlite:///{data / 'gateway.db'}")
    legacy_tracker_store(f"sqlite:///{data / 'rasa_tracker.db'}", serial="INTEGER")
    stack.start("backend", timeout_s=120)
    staff(stack)
    old_key = f"webchat-{TOKEN}:3f2a"
    filed = file_case(stack, f"webchat-{TOKEN}", key=old_key)
    stack.start("gateway", timeout_s=60)
    new_id = stack.sender_id("webchat", TOKEN)
    service = {"Authorization": f"Bearer {stack.env['BACKEND_SERVICE_TOKEN']}"}

    def mine(identity: str) -> list[str]:
        answer = httpx.get(
            f"{stack.url('backend')}/api/v1/citizen/cases",
            params={"channel_identity": identity},
            headers=service,
            timeout=10,
        )
        return [c["number"] for c in answer.json()]

    assert wait_until(lambda: mine(new_id) == [filed["number"]], 40)
    assert mine(f"webchat-{TOKEN}") == []

    def history() -> list[str]:
        answer = httpx.get(f"{stack.url('gateway')}/chat/api/history", params={"sender": TOKEN}, timeout=10)
        return [m["text"] for m in answer.json()]

    # the citizen's page goes on, and the case's updates reach it under the new id
    assert wait_until(lambda: len(history()) == 2, 40)
    assert history()[0] == "楼道灯坏了" and filed["number"] in history()[1]
    assert stack.say(TOKEN, "还没修")[0]["text"] == "收到：还没修"
    assert fake_rasa.received[-1]["sender"] == new_id
    assert [s for s, _ in tracker_rows(f"sqlite:///{data / 'rasa_tracker.db'}")][:2] == [new_id, new_id]
    again = file_case(stack, new_id, key=f"{new_id}:3f2a")  # the assistant retrying the same submission
    assert again["number"] == filed["number"]
    heat = console(stack, "heat")
    case = heat.get(f"/console/api/backend/api/v1/cases/{filed['number']}").json()
    assert case["conversation_id"] == new_id
    assert [c for c in sorted(strings(case)) if len(c) <= 200 and opens_the_conversation(stack, c)] == []
    with sqlite3.connect(data / "gateway.db") as db:
        assert db.execute("SELECT count(*) FROM sender_renames").fetchone() == (0,)  # all followed
    stack.stop()  # the gateway's files keep no token, not even in a freed page
    files = [*data.glob("gateway.db*"), *data.glob("rasa_tracker.db*")]
    assert files and not [f for f in files if TOKEN.encode() in f.read_bytes()]
