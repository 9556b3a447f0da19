"""The WeChat channel through the real gateway process, against a local fake of WeChat (both its API
and its calls to our callback URL) and the fake Rasa."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.core.outbox import PermanentFailure, TransientFailure
from connectors.wechat.api import AccessToken, WeChatError
from connectors.wechat.channel import WeChatAdapter
from connectors.wechat.crypto import DecryptError, MessageCrypto, SignatureError
from ops.stack import Stack, wait_until
from tests.aio import run
from tests.connectors.conftest import gateway
from tests.fakes.rasa import FakeRasa
from tests.fakes.server import ServerThread
from tests.fakes.wechat_api import AES_KEY, APP_ID, APP_SECRET, TOKEN, Citizen, FakeWeChat, signature

OPENID = "oWx7K1a2b3c4d5e6f7g8h9i0jkl"


@pytest.fixture
def fake_wechat() -> Iterator[FakeWeChat]:
    fake = FakeWeChat()
    with ServerThread(fake.app()) as server:
        fake.url = server.url  # type: ignore[attr-defined]
        yield fake


def wechat_stack(tmp_path: Path, fake_rasa: FakeRasa, fake_wechat: FakeWeChat, **env: str) -> Stack:
    return gateway(
        tmp_path,
        fake_rasa,
        WECHAT_TOKEN=TOKEN,
        WECHAT_APP_ID=APP_ID,
        WECHAT_APP_SECRET=APP_SECRET,
        WECHAT_API_BASE_URL=fake_wechat.url,  # type: ignore[attr-defined]
        WECHAT_TEMPLATE_ID="case-progress-template",
        **env,
    )


@pytest.fixture
def plain(tmp_path: Path, fake_rasa: FakeRasa, fake_wechat: FakeWeChat) -> Iterator[Stack]:
    stack = wechat_stack(tmp_path, fake_rasa, fake_wechat, WECHAT_PASSIVE_REPLY_S="2")
    yield stack
    stack.stop()


@pytest.fixture
def safe(tmp_path: Path, fake_rasa: FakeRasa, fake_wechat: FakeWeChat) -> Iterator[Stack]:
    stack = wechat_stack(tmp_path, fake_rasa, fake_wechat, WECHAT_AES_KEY=AES_KEY, WECHAT_PASSIVE_REPLY_S="2")
    yield stack
    stack.stop()


def told(fake_rasa: FakeRasa, openid: str = OPENID) -> list[str]:
    return [r["message"] for r in fake_rasa.received if r["metadata"].get("identity") == openid]


def sender_of(fake_rasa: FakeRasa, openid: str = OPENID) -> str:
    return next(r["sender"] for r in fake_rasa.received if r["metadata"].get("identity") == openid)


def test_the_server_verification_handshake(plain: Stack) -> None:
    stamp, nonce = str(int(time.time())), "1387495870"
    url = f"{plain.url('gateway')}/wechat/callback"
    params = {"signature": signature(TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce}
    answer = httpx.get(url, params={**params, "echostr": "4630489813719283520"})
    assert answer.status_code == 200 and answer.text == "4630489813719283520"
    forged = httpx.get(url, params={**params, "signature": "0" * 40, "echostr": "x"})
    assert forged.status_code == 403


def test_plaintext_mode_answers_in_the_callback_and_refuses_forgeries(
    plain: Stack, fake_rasa: FakeRasa, fake_wechat: FakeWeChat
) -> None:
    citizen = Citizen(plain.url("gateway"), OPENID)
    answer = citizen.say("楼下烧烤摊天天半夜还开着 吵得睡不着")
    assert citizen.reply_text(answer) == "收到：楼下烧烤摊天天半夜还开着 吵得睡不着"
    assert fake_wechat.called("custom") == []  # answered passively, no customer-service message
    assert fake_rasa.received[-1]["metadata"]["channel"] == "wechat"

    forged = Citizen(plain.url("gateway"), OPENID, token="not-our-token").say("假消息")
    stale = citizen.send("text", timestamp=int(time.time()) - 3600, Content="旧消息", MsgId="77")
    doctype = httpx.post(
        f"{plain.url('gateway')}/wechat/callback",
        params={"signature": signature(TOKEN, "1", "2"), "timestamp": str(int(time.time())), "nonce": "2"},
        content=b"<!DOCTYPE x [<!ENTITY a 'b'>]><xml/>",
    )
    assert (forged.status_code, stale.status_code, doctype.status_code) == (403, 403, 403)
    assert told(fake_rasa) == ["楼下烧烤摊天天半夜还开着 吵得睡不着"]


def test_safe_mode_decrypts_callbacks_and_encrypts_replies(
    safe: Stack, fake_rasa: FakeRasa, fake_wechat: FakeWeChat
) -> None:
    citizen = Citizen(safe.url("gateway"), OPENID, safe_mode=True)
    answer = citizen.say("小区门口的井盖没了，晚上特别危险")
    assert "<Encrypt>" in answer.text and "井盖" not in answer.text
    assert citizen.reply_text(answer) == "收到：小区门口的井盖没了，晚上特别危险"  # signature checked too
    assert told(fake_rasa) == ["小区门口的井盖没了，晚上特别危险"]

    tampered = citizen.send("text", Content="x", MsgId="5")
    assert tampered.status_code == 200
    body = tampered.request.content.replace(b"<Encrypt><![CDATA[", b"<Encrypt><![CDATA[AAAA")
    again = httpx.post(str(tampered.request.url), content=body)
    assert again.status_code == 403


def test_a_slow_bot_is_answered_by_customer_service_message(
    plain: Stack, fake_rasa: FakeRasa, fake_wechat: FakeWeChat
) -> None:
    fake_rasa.delay_s = 4.0  # longer than the callback may wait (2 s here)
    citizen = Citizen(plain.url("gateway"), OPENID)
    started = time.monotonic()
    answer = citizen.say("西直门地铁站B口的扶梯停了一周了")
    assert answer.text == "success" and time.monotonic() - started < 3.5
    assert wait_until(lambda: fake_wechat.texts(OPENID) == ["收到：西直门地铁站B口的扶梯停了一周了"], 20)
    assert len(fake_wechat.called("token")) == 1


def test_a_repeated_callback_is_taken_once(plain: Stack, fake_rasa: FakeRasa) -> None:
    citizen = Citizen(plain.url("gateway"), OPENID)
    first = citizen.say("路灯不亮", msg_id=6000000001)
    again = citizen.say("路灯不亮", msg_id=6000000001)
    assert citizen.reply_text(first) == "收到：路灯不亮" and again.text == "success"
    assert told(fake_rasa) == ["路灯不亮"]


def test_buttons_become_numbered_choices_answered_with_a_digit(plain: Stack, fake_rasa: FakeRasa) -> None:
    citizen = Citizen(plain.url("gateway"), OPENID)
    offered = citizen.reply_text(citizen.say("给我按钮"))
    assert offered == "请选择\n1. 满意\n2. 不满意\n（回复数字即可）"
    citizen.say("１")  # a full-width digit, as Chinese keyboards type it
    assert told(fake_rasa)[-1] == '/rate{"satisfaction": "satisfied"}'
    citizen.say("5")  # no fifth choice: an answer in words
    assert told(fake_rasa)[-1] == "5"


def test_location_photo_subscribe_and_menu(
    plain: Stack, fake_rasa: FakeRasa, fake_wechat: FakeWeChat
) -> None:
    citizen = Citizen(plain.url("gateway"), OPENID)
    assert citizen.reply_text(citizen.event("subscribe")) == "收到：你好"
    assert citizen.reply_text(citizen.event("CLICK", "STATUS")) == "收到：我的工单"
    assert citizen.reply_text(citizen.event("CLICK", "REPORT")) == "收到：我要反映问题"
    placed = citizen.reply_text(citizen.share_location(39.90469, 116.40717, "东城区东华门街道"))
    assert placed is not None and "已收到您的位置" in placed
    sender = sender_of(fake_rasa)
    assert fake_rasa.slots[sender]["location"] == {
        "latitude": 39.90469,
        "longitude": 116.40717,
        "label": "东城区东华门街道",
    }
    photo = citizen.reply_text(citizen.send_photo("media-abc"))
    assert photo is not None and "已收到图片" in photo
    assert fake_wechat.called("media")[-1]["media_id"] == "media-abc"
    ref = fake_rasa.slots[sender]["attachments"][0]["ref"]
    assert ref.startswith("upload:")
    assert (plain.data_dir / "uploads" / ref.removeprefix("upload:")).read_bytes().startswith(b"\xff\xd8")
    assert citizen.reply_text(citizen.send("voice", MediaId="v1", Format="amr", MsgId="91")) is not None


def test_an_expired_token_is_refreshed_and_the_send_goes_through(
    plain: Stack, fake_rasa: FakeRasa, fake_wechat: FakeWeChat
) -> None:
    fake_rasa.delay_s = 3.0
    citizen = Citizen(plain.url("gateway"), OPENID)
    citizen.say("第一句")
    assert wait_until(lambda: len(fake_wechat.texts(OPENID)) == 1, 20)
    fake_wechat.expire_tokens()
    citizen.say("第二句")
    assert wait_until(lambda: len(fake_wechat.texts(OPENID)) == 2, 20)
    assert [b.get("_failed") for b in fake_wechat.called("custom")] == [None, 42001, None]
    assert len(fake_wechat.called("token")) == 2


def event(number: str, sender: str, event_id: int, kind: str, note: str | None) -> dict[str, Any]:
    return {
        "id": event_id,
        "number": number,
        "kind": kind,
        "status": "resolved" if kind == "resolve" else "dispatched",
        "status_text": "已办结" if kind == "resolve" else "已派发承办单位",
        "note": note,
        "unit_name": "西城区金融街街道办事处",
        "channel": "wechat",
        "channel_identity": sender,
        "conversation_id": sender,
        "time_limit_label": "7天内办结",
        "due_at": "2026-12-10T10:00:00Z",
        "created_at": "2026-12-03T10:00:00Z",
    }


def test_case_updates_after_48_hours_go_by_template_message(
    plain: Stack, fake_rasa: FakeRasa, fake_wechat: FakeWeChat
) -> None:
    citizen = Citizen(plain.url("gateway"), OPENID)
    citizen.say("我们楼道的灯坏了半个月了")
    sender = sender_of(fake_rasa)
    fake_rasa.events.append(event("2026120300017", sender, 1, "dispatch", None))
    assert wait_until(lambda: any("已派发至" in t for t in fake_wechat.texts(OPENID)), 20)  # within 48 h

    fake_wechat.outside_window.add(OPENID)  # two days later WeChat refuses customer-service messages
    fake_rasa.events.append(event("2026120300017", sender, 2, "resolve", "已更换楼道灯泡"))
    assert wait_until(lambda: len(fake_wechat.templates(OPENID)) == 2, 20)
    resolved, rating = fake_wechat.templates(OPENID)
    assert resolved["template_id"] == "case-progress-template"
    assert resolved["data"] == {
        "character_string1": {"value": "2026120300017"},
        "phrase2": {"value": "已办结"},
        "time3": {"value": "2026-12-10 18:00"},  # Beijing time
        "thing4": {"value": "已更换楼道灯泡"},
    }
    assert rating["data"]["thing4"]["value"] == "回复1满意，2不满意"  # the rating question's choices
    assert rating["data"]["phrase2"]["value"] == "待评价"

    citizen.say("1")  # the citizen answers the template's choice; the window is open again
    assert told(fake_rasa)[-1] == '/rate{"satisfaction": "satisfied"}'


def test_a_reply_outside_the_window_is_held_until_the_citizen_writes(
    plain: Stack, fake_rasa: FakeRasa, fake_wechat: FakeWeChat
) -> None:
    fake_rasa.delay_s = 3.0
    fake_wechat.outside_window.add(OPENID)
    citizen = Citizen(plain.url("gateway"), OPENID)
    citizen.say("噪音的事")
    assert wait_until(lambda: any(b.get("_failed") == 45015 for b in fake_wechat.called("custom")), 20)
    time.sleep(1)
    assert fake_wechat.texts(OPENID) == [] and fake_wechat.templates(OPENID) == []  # not a case update

    fake_wechat.outside_window.discard(OPENID)
    fake_rasa.delay_s = 0.0
    answer = citizen.reply_text(citizen.say("还在吗"))
    assert answer == "收到：噪音的事\n\n收到：还在吗"  # the held reply first, in this callback's answer


def test_the_menu_command_sets_report_and_status(tmp_path: Path, fake_wechat: FakeWeChat) -> None:
    env = {
        **Stack.configure(tmp_path).env,
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": APP_SECRET,
        "WECHAT_API_BASE_URL": fake_wechat.url,  # type: ignore[attr-defined]
    }
    done = subprocess.run(
        [sys.executable, "-m", "connectors", "wechat-menu"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert [b["key"] for b in fake_wechat.called("menu")[0]["button"]] == ["REPORT", "STATUS"]


def test_the_access_token_is_fetched_once_for_concurrent_sends() -> None:
    fetched: list[float] = []

    async def fetch() -> tuple[str, float]:
        fetched.append(time.monotonic())
        await asyncio.sleep(0.05)
        return f"token-{len(fetched)}", 7200.0

    async def sends() -> set[str]:
        token = AccessToken(fetch)
        first = set(await asyncio.gather(*(token.get() for _ in range(50))))
        token.drop("token-1")
        token.drop("someone-else's")  # already replaced: no second refresh for it
        return first | set(await asyncio.gather(*(token.get() for _ in range(50))))

    assert run(sends()) == {"token-1", "token-2"} and len(fetched) == 2


def test_wechat_error_codes_become_outbox_failures() -> None:
    adapter = WeChatAdapter(api=None, passive=None, template_id=None, template_fields=[])  # type: ignore[arg-type]

    async def failing(code: int) -> str:
        raise WeChatError(code, "test")

    def outcome(code: int) -> Exception:
        try:
            run(adapter._sending(failing(code)))
        except (TransientFailure, PermanentFailure) as error:
            return error
        raise AssertionError("no failure")

    limited = outcome(45009)
    assert isinstance(limited, TransientFailure) and limited.retry_after == 600.0
    assert isinstance(outcome(45047), TransientFailure)
    assert isinstance(outcome(-1), TransientFailure)
    assert isinstance(outcome(43004), PermanentFailure)  # the citizen unfollowed
    assert isinstance(outcome(47003), PermanentFailure)


def test_message_crypto_round_trip_and_refusals() -> None:
    crypto = MessageCrypto(token=TOKEN, encoding_aes_key=AES_KEY, app_id=APP_ID)
    for size in (0, 1, 11, 12, 43, 44, 1000):  # every padding length, a full block of padding too
        message = ("市" * size).encode()
        encrypted, signed = crypto.encrypt(message, timestamp="1", nonce="2")
        assert crypto.decrypt(encrypted, msg_signature=signed, timestamp="1", nonce="2") == message
    encrypted, signed = crypto.encrypt(b"<xml/>", timestamp="1", nonce="2")
    with pytest.raises(SignatureError):
        crypto.decrypt(encrypted, msg_signature=signed, timestamp="1", nonce="3")
    other = MessageCrypto(token=TOKEN, encoding_aes_key=AES_KEY, app_id="wx0000000000000000")
    with pytest.raises(DecryptError):
        other.decrypt(encrypted, msg_signature=signed, timestamp="1", nonce="2")
