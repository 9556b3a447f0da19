"""The web chat's JSON endpoint and the conversation core behind every channel."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import async_sessionmaker
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from connectors.app import create_app, make_async_engine
from connectors.core.models import utcnow
from connectors.core.notices import STALE_BUTTON
from connectors.retention import forget_old
from connectors.settings import GatewaySettings
from connectors.webchat.channel import GREETING
from ops.stack import Stack, wait_until
from tests.aio import run
from tests.connectors.conftest import gateway
from tests.fakes.rasa import FakeRasa

ROOT = Path(__file__).resolve().parents[2]


def session(stack: Stack) -> str:
    return stack.new_web_sender()


def post(stack: Stack, sender: str, text: str = "", **extra: str) -> httpx.Response:
    return httpx.post(
        f"{stack.url('gateway')}/chat/api/messages",
        json={"sender": sender, "text": text, **extra},
        timeout=30,
    )


def history(stack: Stack, sender: str) -> list[dict[str, object]]:
    return list(
        httpx.get(f"{stack.url('gateway')}/chat/api/history", params={"sender": sender}, timeout=10).json()
    )


def test_sender_ids_are_issued_by_the_server_and_unguessable(web_gateway: Stack) -> None:
    first, second = session(web_gateway), session(web_gateway)
    assert first != second and len(first) >= 32
    made_up = post(web_gateway, "webchat-made-up-id", "你好")
    assert made_up.status_code == 404
    assert (
        httpx.get(
            f"{web_gateway.url('gateway')}/chat/api/history", params={"sender": "guess-1234"}, timeout=10
        ).status_code
        == 404
    )


def test_a_message_gets_the_bots_replies_and_both_are_in_the_transcript(
    web_gateway: Stack, fake_rasa: FakeRasa
) -> None:
    sender = session(web_gateway)
    replies = post(web_gateway, sender, "你好").json()
    assert [r["text"] for r in replies] == ["收到：你好"] and replies[0]["buttons"] == []
    assert [(m["author"], m["text"]) for m in history(web_gateway, sender)] == [
        ("bot", GREETING),
        ("citizen", "你好"),
        ("bot", "收到：你好"),
    ]
    assert fake_rasa.received[-1]["sender"] == web_gateway.sender_id("webchat", sender)


def test_citizens_cannot_forge_intents_and_control_characters_are_dropped(
    web_gateway: Stack, fake_rasa: FakeRasa
) -> None:
    sender = session(web_gateway)
    post(web_gateway, sender, '/rate{"satisfaction": "satisfied"}')
    post(web_gateway, sender, "  //request_human")
    post(web_gateway, sender, "你\x00好\u202e啊")
    assert fake_rasa.texts(web_gateway.sender_id("webchat", sender)) == [
        'rate{"satisfaction": "satisfied"}',
        "request_human",
        "你好啊",
    ]


def test_buttons_pass_only_what_was_offered(web_gateway: Stack, fake_rasa: FakeRasa) -> None:
    sender = session(web_gateway)
    [offer] = post(web_gateway, sender, "给我按钮").json()
    chosen = post(web_gateway, sender, button=f"#{offer['id']}:0").json()  # as the page sends it
    assert fake_rasa.texts(web_gateway.sender_id("webchat", sender))[-1] == offer["buttons"][0]["payload"]
    assert chosen[0]["text"] == f"意图：{offer['buttons'][0]['payload']}"
    assert history(web_gateway, sender)[-2]["text"] == "满意"  # the transcript has the title pressed
    for forged in ('/emergency{"x": 1}', f"#{offer['id']}:7", "#1:0"):
        [refused] = post(web_gateway, sender, button=forged).json()
        assert refused["author"] == "system" and refused["text"] == STALE_BUTTON
    assert len(fake_rasa.texts(web_gateway.sender_id("webchat", sender))) == 2  # none of them reached it


def test_a_new_conversation_is_greeted_with_the_main_choices(web_gateway: Stack, fake_rasa: FakeRasa) -> None:
    sender = session(web_gateway)
    [greeting] = history(web_gateway, sender)
    assert (greeting["author"], greeting["text"]) == ("bot", GREETING)
    assert greeting["buttons"] == [
        {"title": "报事", "payload": "/report_issue"},
        {"title": "查进度", "payload": "/check_status"},
        {"title": "咨询", "payload": "/ask_question"},
    ]
    intents = set(yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))["intents"])
    assert {b["payload"].removeprefix("/") for b in greeting["buttons"]} <= intents
    assert isinstance(greeting["id"], int) and greeting["created_at"].endswith("+00:00")
    assert fake_rasa.received == []  # said by the gateway, before the citizen says anything
    assert stored_payloads(web_gateway, GREETING)[0]["greeting"] is True  # the soak drill counts it apart
    [reply] = post(web_gateway, sender, button=f"#{greeting['id']}:2").json()
    assert fake_rasa.texts(web_gateway.sender_id("webchat", sender)) == ["/ask_question"]
    assert reply["id"] > greeting["id"] and reply["created_at"] >= greeting["created_at"]


def test_an_older_messages_button_is_stale_and_never_reaches_the_bot(
    web_gateway: Stack, fake_rasa: FakeRasa
) -> None:
    """A page reloaded long after: its old buttons name a message that is no longer the newest."""
    sender = session(web_gateway)
    [offer] = post(web_gateway, sender, "给我按钮").json()
    post(web_gateway, sender, "算了，直接说吧")
    for old in (f"#{offer['id']}:0", offer["buttons"][0]["payload"], offer["buttons"][0]["title"]):
        [refused] = post(web_gateway, sender, button=old).json()
        assert (refused["author"], refused["text"]) == ("system", STALE_BUTTON)
    assert fake_rasa.texts(web_gateway.sender_id("webchat", sender)) == ["给我按钮", "算了，直接说吧"]


def said_in_chinese(detail: object) -> bool:
    return (
        isinstance(detail, str)
        and bool(re.search("[\u4e00-\u9fff]", detail))
        and not re.search("[A-Za-z]", detail)
    )


def test_size_and_rate_limits_per_sender(tmp_path: Path, fake_rasa: FakeRasa) -> None:
    stack = gateway(tmp_path, fake_rasa, CHAT_MESSAGES_PER_MINUTE="3", CHAT_MAX_MESSAGE_CHARS="50")
    try:
        sender, other = session(stack), session(stack)
        too_long = post(stack, sender, "长" * 51)
        assert too_long.status_code == 413 and said_in_chinese(too_long.json()["detail"])
        answers = [post(stack, sender, f"第{i}条") for i in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 429, 429]  # the refused long one counted too
        assert said_in_chinese(answers[-1].json()["detail"])
        assert post(stack, other, "我是另一个人").status_code == 200
        empty = post(stack, other, "")
        assert empty.status_code == 422 and said_in_chinese(empty.json()["detail"])
        unknown = [post(stack, "an-id-nobody-was-given", "你好") for _ in range(6)]
        assert {a.status_code for a in unknown} == {404}  # never counted, so never limited
        assert said_in_chinese(unknown[0].json()["detail"])
        with connect(socket_url(stack, other)) as page:
            for n in range(3):
                page.send(json.dumps({"text": f"第{n}句"}))
            frames = [json.loads(page.recv(timeout=10)) for _ in range(5)]
        refused = [f for f in frames if f["type"] == "error"]
        assert [f["status"] for f in refused] == [429, 429] and said_in_chinese(refused[0]["detail"])
    finally:
        stack.stop()


def socket_url(stack: Stack, sender: str) -> str:
    return (
        stack.url("gateway").replace("http", "ws") + "/chat/ws?" + str(httpx.QueryParams({"sender": sender}))
    )


def test_new_conversations_are_limited_per_address(tmp_path: Path, fake_rasa: FakeRasa) -> None:
    stack = gateway(tmp_path, fake_rasa, CHAT_SESSIONS_PER_MINUTE="3")
    try:
        url = f"{stack.url('gateway')}/chat/api/session"
        one, two = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "203.0.113.8"}
        answers = [httpx.post(url, headers=one, timeout=10) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert said_in_chinese(answers[-1].json()["detail"])
        assert httpx.post(url, headers=two, timeout=10).status_code == 200  # another address
        assert post(stack, answers[0].json()["sender"], "你好").status_code == 200
    finally:
        stack.stop()


def test_open_pages_of_one_conversation_are_capped(tmp_path: Path, fake_rasa: FakeRasa) -> None:
    stack = gateway(tmp_path, fake_rasa, CHAT_SOCKETS_PER_SENDER="2")
    try:
        sender = session(stack)
        with connect(socket_url(stack, sender)) as first, connect(socket_url(stack, sender)):
            with connect(socket_url(stack, sender)) as third:
                frame = json.loads(third.recv(timeout=10))
                assert frame["status"] == 429 and said_in_chinese(frame["detail"])
                with pytest.raises(ConnectionClosed) as closed:
                    third.recv(timeout=10)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
            first.send(json.dumps({"text": "还在吗"}))
            assert any(json.loads(first.recv(timeout=10)).get("text") == "收到：还在吗" for _ in range(3))
        with connect(socket_url(stack, sender)) as again:  # pages closed: a new one is let in
            again.send(json.dumps({"text": "我又来了"}))
            assert json.loads(again.recv(timeout=10))["type"] == "typing"
    finally:
        stack.stop()


def test_nothing_is_lost_while_the_bot_is_down(web_gateway: Stack, fake_rasa: FakeRasa) -> None:
    sender = session(web_gateway)
    fake_rasa.up = False
    replies = post(web_gateway, sender, "暖气不热").json()
    assert replies[0]["author"] == "system" and "保存" in replies[0]["text"]
    post(web_gateway, sender, "还是不热")
    fake_rasa.up = True
    assert wait_until(lambda: len(fake_rasa.texts(web_gateway.sender_id("webchat", sender))) == 2, 20)
    assert fake_rasa.texts(web_gateway.sender_id("webchat", sender)) == [
        "暖气不热",
        "还是不热",
    ]  # in order, once each
    assert wait_until(lambda: any(m["text"] == "收到：还是不热" for m in history(web_gateway, sender)), 20)


def test_a_turn_the_bot_leaves_unanswered_asks_what_the_citizen_needs(
    tmp_path: Path, fake_rasa: FakeRasa
) -> None:
    stack = gateway(tmp_path, fake_rasa, ACTION_SERVER_URL=fake_rasa.url)  # type: ignore[attr-defined]
    try:
        sender = session(stack)
        [reply] = post(stack, sender, "嗯 不吭声").json()
        assert reply["author"] == "bot" and "有什么可以帮您" in reply["text"]
        assert "没太明白" not in reply["text"]
    finally:
        stack.stop()


def test_a_hand_off_queues_the_conversation_and_silences_the_bot(
    web_gateway: Stack, fake_rasa: FakeRasa
) -> None:
    sender = session(web_gateway)
    replies = post(web_gateway, sender, "转人工").json()
    assert replies[-1]["author"] == "system" and "前面还有0位" in replies[-1]["text"]
    waiting = post(web_gateway, sender, "有人吗").json()  # still in the queue: told so, not by the bot
    assert [r["author"] for r in waiting] == ["system"] and "前面还有0位" in waiting[0]["text"]
    assert fake_rasa.texts(web_gateway.sender_id("webchat", sender)) == ["转人工"]
    assert history(web_gateway, sender)[-2]["text"] == "有人吗"  # stored for the operator


def test_case_updates_are_pushed_and_resolution_starts_the_rating(
    web_gateway: Stack, fake_rasa: FakeRasa
) -> None:
    sender = session(web_gateway)
    post(web_gateway, sender, "你好")
    base = {
        "number": "2026112700001",
        "status": "dispatched",
        "status_text": "x",
        "unit_name": "朝阳区望京街道办事处",
        "channel": "webchat",
        "channel_identity": web_gateway.sender_id("webchat", sender),
        "conversation_id": None,
        "created_at": "2026-11-27T10:00:00Z",
    }
    fake_rasa.events += [
        {**base, "id": 1, "kind": "dispatch", "note": "派至朝阳区望京街道办事处"},
        {**base, "id": 2, "kind": "resolve", "status": "resolved", "note": "已清理垃圾站"},
        {**base, "id": 3, "kind": "dispatch", "channel_identity": "webchat-someone-else"},
    ]
    assert wait_until(lambda: len(fake_rasa.triggered) == 1, 20)
    assert fake_rasa.triggered[0] == {
        "sender": web_gateway.sender_id("webchat", sender),
        "name": "EXTERNAL_rate_case",
        "entities": {"case_number": "2026112700001"},
    }
    assert wait_until(lambda: history(web_gateway, sender)[-1]["text"] == "请问您反映的问题解决了吗？", 20)
    texts = [m["text"] for m in history(web_gateway, sender)]
    assert texts[-3].startswith("【工单进展】") and "已清理垃圾站" in texts[-2]
    web_gateway.kill("gateway")  # a restart reads the feed from where it stopped: nothing twice
    web_gateway.start("gateway", timeout_s=30)
    import time

    time.sleep(1.5)
    assert [m["text"] for m in history(web_gateway, sender)] == texts
    assert len(fake_rasa.triggered) == 1


def test_request_bodies_are_bounded_whatever_the_transfer_encoding(
    web_gateway: Stack, fake_rasa: FakeRasa
) -> None:
    sender = session(web_gateway)
    url = f"{web_gateway.url('gateway')}/chat/api/messages"
    start = b'{"sender": "' + sender.encode() + b'", "text": "'

    def chunked(megabytes: int) -> Iterator[bytes]:
        yield start
        for _ in range(megabytes * 16):
            yield "很".encode() * 20_000
        yield b'"}'

    json_type = {"Content-Type": "application/json"}
    declared = httpx.post(url, content=start + b"x" * 30_000_000 + b'"}', headers=json_type, timeout=30)
    assert declared.status_code == 413 and said_in_chinese(declared.json()["detail"])
    streamed = httpx.post(url, content=chunked(5), headers=json_type, timeout=30)
    assert streamed.status_code == 413 and said_in_chinese(streamed.json()["detail"])
    assert [m["text"] for m in history(web_gateway, sender)] == [GREETING] and fake_rasa.received == []
    assert post(web_gateway, sender, "很" * 2000).status_code == 200  # the longest message still fits


def test_health_says_only_up_and_the_details_need_the_service_token(web_gateway: Stack) -> None:
    url = f"{web_gateway.url('gateway')}/health"
    assert httpx.get(url, timeout=10).json() == {"status": "ok"}
    assert httpx.get(f"{url}/details", timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert httpx.get(f"{url}/details", headers=wrong, timeout=10).status_code == 401
    assert web_gateway.health_details()["bot"] == "up"


def test_production_serves_no_api_documentation(tmp_path: Path) -> None:
    def gateway_app(env: str) -> TestClient:
        settings = GatewaySettings(
            jiesu_env=env,  # type: ignore[arg-type]
            jiesu_data_dir=tmp_path,
            gateway_secret_key="k",  # type: ignore[arg-type]
            rasa_token="t",  # type: ignore[arg-type]
            backend_service_token="s",  # type: ignore[arg-type]
        )
        return TestClient(create_app(settings))  # no lifespan: the documentation needs none

    for path in ("/docs", "/redoc", "/openapi.json"):
        assert gateway_app("development").get(path).status_code == 200, path
        assert gateway_app("production").get(path).status_code == 404, path


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8


def send_photo(stack: Stack, sender: str, content: bytes, kind: str = "image/jpeg") -> httpx.Response:
    return httpx.post(
        f"{stack.url('gateway')}/chat/api/photo",
        content=content,
        headers={"X-Chat-Sender": sender, "Content-Type": kind},
        timeout=30,
    )


def send_place(stack: Stack, body: dict[str, object] | bytes) -> httpx.Response:
    url = f"{stack.url('gateway')}/chat/api/location"
    if isinstance(body, bytes):
        return httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=30)
    return httpx.post(url, json=body, timeout=30)


def stored_payloads(stack: Stack, text: str) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(stack.data_dir / "gateway.db")) as db:
        rows = db.execute("SELECT payload FROM messages WHERE text = ?", (text,)).fetchall()
    return [json.loads(row[0]) for row in rows]


def test_a_photo_is_kept_in_the_uploads_retention_cleans(web_gateway: Stack, fake_rasa: FakeRasa) -> None:
    sender = session(web_gateway)
    answer = send_photo(web_gateway, sender, JPEG)
    assert answer.status_code == 200 and "已收到图片" in answer.json()[0]["text"]
    [kept] = fake_rasa.slots[web_gateway.sender_id("webchat", sender)]["attachments"]
    name = kept["ref"].removeprefix("upload:")
    assert kept["kind"] == "photo" and re.fullmatch(r"[0-9a-f]{32}\.jpg", name)  # a random name
    uploads = web_gateway.data_dir / "uploads"  # the folder WeChat's and Telegram's photos go to
    assert (uploads / name).read_bytes() == JPEG
    assert stored_payloads(web_gateway, "[图片]")[0]["attachments"] == [kept]
    assert [(m["author"], m["text"]) for m in history(web_gateway, sender)][1] == ("citizen", "[图片]")
    assert fake_rasa.received == []  # kept in the tracker for the report, not a turn
    assert sender not in web_gateway.logs("gateway", tail=100_000) and name not in web_gateway.logs(
        "gateway", tail=100_000
    )

    async def forget_later() -> None:
        engine = make_async_engine(f"sqlite:///{web_gateway.data_dir / 'gateway.db'}")
        await forget_old(async_sessionmaker(engine), uploads, days=180, now=utcnow() + timedelta(days=181))
        await engine.dispose()

    run(forget_later())
    assert not (uploads / name).exists()


def test_only_photos_of_known_conversations_are_kept(tmp_path: Path, fake_rasa: FakeRasa) -> None:
    stack = gateway(tmp_path, fake_rasa, CHAT_MAX_PHOTO_MB="1", CHAT_MESSAGES_PER_MINUTE="4")
    try:
        sender = session(stack)
        refused = [
            send_photo(stack, sender, b"%PDF-1.7\n" + JPEG, "image/jpeg"),  # the type says image, it is not
            send_photo(stack, sender, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
            send_photo(stack, sender, JPEG + b"\x00" * (1024 * 1024)),  # over CHAT_MAX_PHOTO_MB
            send_photo(stack, "an-id-nobody-was-given", JPEG),
            send_photo(stack, sender, b""),
        ]
        assert [a.status_code for a in refused] == [415, 415, 413, 404, 422]
        assert all(said_in_chinese(a.json()["detail"]) for a in refused)
        assert "1兆" in refused[2].json()["detail"]
        no_header = httpx.post(f"{stack.url('gateway')}/chat/api/photo", content=JPEG, timeout=10)
        assert no_header.status_code == 422 and said_in_chinese(no_header.json()["detail"])
        assert list((tmp_path / "uploads").iterdir()) == []
        assert [m["text"] for m in history(stack, sender)] == [GREETING]
        assert fake_rasa.slots == {}
        assert send_photo(stack, sender, b"\x89PNG\r\n\x1a\n" + JPEG, "image/png").status_code == 200
        assert [p.suffix for p in (tmp_path / "uploads").iterdir()] == [".png"]
        too_fast = send_photo(stack, sender, JPEG)  # two 415s, the empty one and the PNG counted
        assert too_fast.status_code == 429 and said_in_chinese(too_fast.json()["detail"])
    finally:
        stack.stop()


def test_a_location_pin_is_kept_and_bad_ones_are_refused(web_gateway: Stack, fake_rasa: FakeRasa) -> None:
    sender = session(web_gateway)
    bad: list[dict[str, object] | bytes] = [
        {"sender": sender, "latitude": 91, "longitude": 116.4},
        {"sender": sender, "latitude": 39.9, "longitude": -180.5},
        {"sender": sender, "latitude": "北京", "longitude": 116.4},
        {"sender": sender, "latitude": 39.9},
        f'{{"sender": "{sender}", "latitude": NaN, "longitude": 116.4}}'.encode(),
    ]
    for body in bad:
        answer = send_place(web_gateway, body)
        assert answer.status_code == 422 and said_in_chinese(answer.json()["detail"]), body
    unknown = send_place(
        web_gateway, {"sender": "an-id-nobody-was-given", "latitude": 39.9, "longitude": 116.4}
    )
    assert unknown.status_code == 404 and said_in_chinese(unknown.json()["detail"])
    assert [m["text"] for m in history(web_gateway, sender)] == [GREETING] and fake_rasa.slots == {}
    placed = send_place(web_gateway, {"sender": sender, "latitude": 39.90469, "longitude": 116.40717})
    assert placed.status_code == 200 and "已收到您的位置" in placed.json()[0]["text"]
    slots = fake_rasa.slots[web_gateway.sender_id("webchat", sender)]
    assert slots["location"] == {"latitude": 39.90469, "longitude": 116.40717, "label": None}
    assert "116.40717" not in web_gateway.logs("gateway", tail=100_000)


def test_every_refusal_under_chat_is_said_in_chinese(web_gateway: Stack) -> None:
    base = web_gateway.url("gateway")
    url = f"{base}/chat/api/messages"
    sender = session(web_gateway)
    answers = {
        "no sender": httpx.post(url, json={"text": "你好"}, timeout=10),
        "not json": httpx.post(url, content=b"{", headers={"Content-Type": "application/json"}, timeout=10),
        "wrong type": httpx.post(url, json={"sender": sender, "text": ["你好"]}, timeout=10),
        "a list": httpx.post(url, json=[sender], timeout=10),
        "too large": httpx.post(url, content=b"x" * 100_000, timeout=10),
        "no such page": httpx.get(f"{base}/chat/api/nothing", timeout=10),
        "wrong method": httpx.get(url, timeout=10),
        "history without sender": httpx.get(f"{base}/chat/api/history", timeout=10),
    }
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "no sender": 422,
        "not json": 422,
        "wrong type": 422,
        "a list": 422,
        "too large": 413,
        "no such page": 404,
        "wrong method": 405,
        "history without sender": 422,
    }
    for name, answer in answers.items():
        assert said_in_chinese(answer.json()["detail"]), name
    with connect(socket_url(web_gateway, "an-id-nobody-was-given")) as page:
        frame = json.loads(page.recv(timeout=10))
        assert frame["status"] == 404 and said_in_chinese(frame["detail"])
        with pytest.raises(ConnectionClosed) as closed:
            page.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
    elsewhere = httpx.get(f"{base}/nothing", timeout=10)  # outside the chat, answers stay as they were
    assert elsewhere.status_code == 404 and elsewhere.json() == {"detail": "Not Found"}


def test_the_privacy_page_says_what_is_kept_for_how_long(tmp_path: Path, fake_rasa: FakeRasa) -> None:
    stack = gateway(tmp_path, fake_rasa, RETENTION_DAYS="90")
    try:
        chat = httpx.get(f"{stack.url('gateway')}/chat/", timeout=10)
        assert "保存90天" in chat.text and 'href="/chat/privacy"' in chat.text
        privacy = httpx.get(f"{stack.url('gateway')}/chat/privacy", timeout=10)
        assert privacy.status_code == 200 and privacy.headers["content-type"].startswith("text/html")
        for said in ("图片", "位置", "电话", "保存90天", "办结满90天", "承办", "12345"):
            assert said in privacy.text, said
        for header in ("content-security-policy", "x-frame-options", "x-content-type-options"):
            assert privacy.headers[header] == chat.headers[header]
    finally:
        stack.stop()
