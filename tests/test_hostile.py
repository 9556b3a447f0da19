"""1,000 hostile messages through every channel adapter (web chat JSON, web chat WebSocket, Telegram):
random bytes, 100 KB texts, emoji, HTML and script, SQL, control characters, Rasa's /intent{...}
shortcut. No crash, no 500, a sensible answer, and no intent or entity forged; then personal data
appears in no log line."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from ops.stack import Stack, wait_until
from tests.fakes.telegram_api import TOKEN, FakeTelegram

pytestmark = pytest.mark.stack
SEED = 12345
FORGED = [
    "/emergency",
    "/affirm",
    '/rate{"satisfaction": "satisfied"}',
    '  /request_human{"reason": "x"}',
    '/EXTERNAL_rate_case{"case_number": "2026112700001"}',
    "／affirm",
    "\\/affirm",
    "//cancel",
]


def hostile(count: int, rng: random.Random) -> list[str]:
    kinds = [
        lambda: bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300))).decode("utf-8", "replace"),
        lambda: "投诉" * 50_000,  # 100 KB
        lambda: "".join(rng.choice("😀🔥💩🙏🏻👨‍👩‍👧‍👦🇨🇳") for _ in range(rng.randint(1, 60))),
        lambda: '<script>alert("x")</script><img src=x onerror=alert(1)>楼下吵',
        lambda: "'; DROP TABLE cases; -- 暖气不热 \" OR 1=1 --",
        lambda: "".join(chr(rng.randint(0, 31)) for _ in range(rng.randint(1, 40))) + "你好\u202e\u200b",
        lambda: rng.choice(FORGED),
        lambda: "{{7*7}} ${jndi:ldap://x} %s%s%n",
        lambda: "\u0000" * 10,
        lambda: " " * rng.randint(1, 5),
    ]
    return [rng.choice(kinds)() for _ in range(count)]


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, telegram: FakeTelegram) -> Iterator[Stack]:
    stack = Stack.configure(
        Path(tmp_path_factory.mktemp("hostile")),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"{telegram.url}/bot",  # type: ignore[attr-defined]
        CHAT_MESSAGES_PER_MINUTE="100000",
        LOG_LEVEL="DEBUG",
    )
    stack.start(timeout_s=300)
    yield stack
    stack.stop()


def forged_in_tracker(stack: Stack, sender_id: str) -> list[str]:
    tracker = httpx.get(
        f"{stack.url('rasa')}/conversations/{sender_id}/tracker",
        params={"token": stack.env["RASA_TOKEN"]},
        timeout=30,
    ).json()
    return [
        str(e.get("text"))
        for e in tracker.get("events", [])
        if e.get("event") == "user" and str(e.get("text") or "").lstrip().startswith(("/", "／"))
    ]


def test_hostile_messages_through_every_adapter(system: Stack, telegram: FakeTelegram) -> None:
    rng = random.Random(SEED)
    gateway = system.url("gateway")
    web = system.new_web_sender()
    for text in hostile(400, rng):
        answer = httpx.post(f"{gateway}/chat/api/messages", json={"sender": web, "text": text}, timeout=60)
        assert answer.status_code in (200, 413, 422), (answer.status_code, text[:50])
        if answer.status_code == 200:
            assert answer.json() and all(r["text"] or r["buttons"] for r in answer.json())
        else:
            assert answer.json()["detail"]

    socket_sender = system.new_web_sender()
    with connect(
        gateway.replace("http", "ws") + f"/chat/ws?sender={socket_sender}", max_size=2**22
    ) as socket:
        for text in hostile(300, rng):
            socket.send(json.dumps({"text": text}))
            frames = []
            while not frames or frames[-1]["type"] not in ("idle", "error"):
                frames.append(json.loads(socket.recv(timeout=60)))
            if frames[-1]["type"] == "error":
                assert frames[-1]["status"] in (413, 422) and frames[-1]["detail"], frames[-1]
            else:
                assert any(f["type"] == "message" and (f["text"] or f["buttons"]) for f in frames), frames
            assert not any(f["type"] == "error" and f.get("status", 0) >= 500 for f in frames)
        socket.send("not json at all")  # a broken frame closes nothing but that frame
    assert httpx.get(f"{gateway}/health", timeout=10).status_code == 200

    for n, text in enumerate(hostile(300, rng)):
        telegram.say(900000 + n % 5, text[:4096] or ".")
    assert wait_until(lambda: len(telegram.sent()) >= 250, 300), len(telegram.sent())

    for sender_id in (
        system.sender_id("webchat", web),
        system.sender_id("webchat", socket_sender),
        *(system.sender_id("telegram", str(900000 + n)) for n in range(5)),
    ):
        assert forged_in_tracker(system, sender_id) == [], sender_id
    logs = system.logs(tail=100_000)
    assert "Traceback" not in logs and " 500 " not in logs


# The citizen's phone, name and home in the spellings people use; none may reach any log.
PHONES = [
    "13987654321",
    "139 8765 4321",
    "139-8765-4321",
    "一三九八七六五四三二一",
    "１３９８７６５４３２１",
    "幺三九 八七六五 四三二幺",
    "+86 139 8765 4321",
]
NAME, HOME = "欧阳晓明", "5号楼2单元301室"
SERVICE_LOGS = ("backend.out", "actions.out", "rasa.out", "gateway.out")


def test_personal_data_is_masked_in_every_log_line(system: Stack) -> None:
    sender = system.new_web_sender()
    system.say(sender, f"海淀区中关村街道 我家{HOME}楼道的灯坏了 好几天了")
    system.say(sender, f"我叫{NAME}")
    system.say(sender, PHONES[3])  # the summary follows; then corrections in every other spelling
    for phone in PHONES[:3] + PHONES[4:]:
        system.say(sender, f"电话不对，是{phone}")
    system.say(sender, "地址不对，是中关村南大街3栋2门401")
    filed = system.say(sender, "确认提交")
    assert re.search(r"工单号：\d{13}", json.dumps(filed, ensure_ascii=False)), filed
    folder = Path(system.env["JIESU_DATA_DIR"])
    logs = {name: (folder / name).read_text(errors="replace") for name in SERVICE_LOGS}
    logs |= {p.name: p.read_text(errors="replace") for p in folder.glob("rasa*.log")}
    assert any(name.startswith("rasa-") for name in logs), sorted(logs)  # Rasa's own log file
    everything = "\n".join(logs.values())
    assert len(everything) > 1000  # DEBUG logging was on, so there was plenty to leak into
    secrets = [*PHONES, "8765 4321", "87654321", NAME, "晓明", HOME, "2单元301", "3栋2门401"]
    leaks = {(name, secret) for name, text in logs.items() for secret in secrets if secret in text}
    assert not leaks, leaks
