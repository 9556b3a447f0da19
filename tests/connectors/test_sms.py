"""SMS updates for citizens who called, through the real gateway process: the case feed (served by the
fake Rasa, which plays the backend too), a local fake of Alibaba Cloud SMS, and the replies pushed to
the gateway's webhook."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.sms.aliyun import AliyunSms
from connectors.sms.channel import answer_of
from connectors.sms.provider import SmsRefused, SmsUnavailable
from ops.stack import Stack, wait_until
from tests.aio import run
from tests.connectors.conftest import gateway
from tests.fakes.rasa import FakeRasa
from tests.fakes.server import ServerThread
from tests.fakes.sms_api import KEY_ID, KEY_SECRET, FakeSms

PHONE = "13911112222"
SECRET = "sms-hook-secret-7f3a"
TEMPLATES = {
    "SMS_TEMPLATE_ACCEPTED": "SMS_1001",
    "SMS_TEMPLATE_RESOLVED": "SMS_1002",
    "SMS_TEMPLATE_RATED": "SMS_1003",
}


@pytest.fixture
def fake_sms() -> Iterator[FakeSms]:
    fake = FakeSms()
    with ServerThread(fake.app()) as server:
        fake.url = server.url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def sms_gateway(tmp_path: Path, fake_rasa: FakeRasa, fake_sms: FakeSms) -> Iterator[Stack]:
    stack = gateway(
        tmp_path,
        fake_rasa,
        SMS_ACCESS_KEY_ID=KEY_ID,
        SMS_ACCESS_KEY_SECRET=KEY_SECRET,
        SMS_SIGN_NAME="北京12345",
        SMS_API_BASE_URL=fake_sms.url,  # type: ignore[attr-defined]
        SMS_WEBHOOK_SECRET=SECRET,
        SMS_TIMEOUT_S="1",
        **TEMPLATES,
    )
    yield stack
    stack.stop()


def event(event_id: int, kind: str, number: str = "2026120300042", note: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id,
        "number": number,
        "kind": kind,
        "status": "resolved" if kind == "resolve" else "accepted",
        "status_text": "已办结" if kind == "resolve" else "已受理",
        "note": note,
        "unit_name": None,
        "channel": "phone",
        "channel_identity": None,
        "conversation_id": None,
        "time_limit_label": "7天内办结",
        "due_at": "2026-12-10T10:00:00Z",
        "sms_to": PHONE,
        "created_at": "2026-12-03T10:00:00Z",
    }


def reply(stack: Stack, content: str, sequence_id: int, secret: str = SECRET) -> httpx.Response:
    body = [
        {
            "phone_number": PHONE,
            "content": content,
            "send_time": "2026-12-05 09:12:00",
            "dest_code": "1234",
            "sequence_id": sequence_id,
        }
    ]
    return httpx.post(f"{stack.url('gateway')}/sms/inbound", params={"secret": secret}, json=body, timeout=10)


def test_a_phone_case_is_told_by_sms_and_rated_by_reply(
    sms_gateway: Stack, fake_rasa: FakeRasa, fake_sms: FakeSms
) -> None:
    fake_rasa.events += [event(1, "accept"), event(2, "dispatch"), event(3, "resolve", note="路灯已修复")]
    assert wait_until(lambda: len(fake_sms.to(PHONE)) == 2, 20)
    accepted, resolved = fake_sms.to(PHONE)
    assert accepted["template"] == "SMS_1001" and accepted["sign"] == "北京12345"
    assert accepted["params"] == {"number": "2026120300042", "limit": "7天内办结"}
    assert resolved["template"] == "SMS_1002"
    assert resolved["params"] == {"number": "2026120300042", "reply": "路灯已修复"}

    assert reply(sms_gateway, "2", 501, secret="guessed").status_code == 403
    answer = reply(sms_gateway, "２", 502)  # a full-width digit
    assert answer.status_code == 200 and answer.json()["code"] == 0
    assert reply(sms_gateway, "２", 502).status_code == 200  # the provider pushes it again
    assert wait_until(lambda: len(fake_sms.to(PHONE)) == 3, 20)
    assert fake_rasa.ratings == [
        {
            "number": "2026120300042",
            "resolved": True,
            "satisfaction": "basically_satisfied",
            "sms_phone": PHONE,
        }
    ]
    thanks = fake_sms.to(PHONE)[-1]
    assert thanks["template"] == "SMS_1003" and thanks["params"]["rating"] == "基本满意"


def test_a_rating_waits_while_the_backend_is_down(
    sms_gateway: Stack, fake_rasa: FakeRasa, fake_sms: FakeSms
) -> None:
    fake_rasa.events.append(event(1, "resolve", note="已清运"))
    assert wait_until(lambda: len(fake_sms.to(PHONE)) == 1, 20)
    fake_rasa.rating_status = 503
    reply(sms_gateway, "3", 601)
    fake_rasa.rating_status = 200
    assert wait_until(lambda: len(fake_rasa.ratings) == 1, 20)  # the feed's next round sends it
    assert (
        fake_rasa.ratings[0]["satisfaction"] == "dissatisfied" and fake_rasa.ratings[0]["resolved"] is False
    )


def test_an_sms_whose_answer_was_lost_is_not_sent_twice(
    sms_gateway: Stack, fake_rasa: FakeRasa, fake_sms: FakeSms
) -> None:
    fake_sms.lose_answers = 1  # the provider sends it but the gateway hears nothing in time
    fake_rasa.events.append(event(1, "accept"))
    assert wait_until(lambda: fake_sms.queries >= 1, 30)  # the retry asks the provider first
    assert wait_until(lambda: _outbox_sent(sms_gateway), 20)
    assert len(fake_sms.to(PHONE)) == 1


def _outbox_sent(stack: Stack) -> bool:
    import sqlite3

    with sqlite3.connect(stack.data_dir / "gateway.db") as db:
        return db.execute("SELECT count(*) FROM outbox WHERE state = 'sent'").fetchone()[0] == 1


def test_sms_is_off_unless_configured(web_gateway: Stack) -> None:
    assert reply(web_gateway, "1", 1).status_code == 404
    token = {"Authorization": f"Bearer {web_gateway.env['BACKEND_SERVICE_TOKEN']}"}
    details = httpx.get(f"{web_gateway.url('gateway')}/health/details", headers=token).json()
    assert (details["sms"], details["wechat"]) == ("off", "off")


def test_replies_are_read_as_citizens_write_them() -> None:
    assert answer_of("1") == ("satisfied", None)
    assert answer_of(" 3 ") == ("dissatisfied", None)
    assert answer_of("二") == ("basically_satisfied", None)
    assert answer_of("2 2026-1203-00042") == ("basically_satisfied", "2026120300042")
    assert answer_of("挺满意的 谢谢") == ("satisfied", None)
    assert answer_of("不满意，根本没修") == ("dissatisfied", None)
    assert answer_of("12") == (None, None)  # not one of the choices
    assert answer_of("你们什么时候来修") == (None, None)


def test_the_provider_s_answers_become_the_outbox_s(fake_sms: FakeSms) -> None:
    async def send() -> str:
        provider = AliyunSms(
            base_url=fake_sms.url,  # type: ignore[attr-defined]
            access_key_id=KEY_ID,
            access_key_secret=KEY_SECRET,
            sign_name="北京12345",
            timeout_s=3,
        )
        try:
            return await provider.send(phone=PHONE, template="SMS_1", params={"number": "1"}, out_id="7")
        finally:
            await provider.close()

    assert run(send()).endswith("^0")  # the fake checked the signature
    fake_sms.failures = ["isv.BUSINESS_LIMIT_CONTROL"]
    with pytest.raises(SmsUnavailable) as limited:
        run(send())
    assert limited.value.retry_after == 60.0
    fake_sms.failures = ["isv.MOBILE_NUMBER_ILLEGAL"]
    with pytest.raises(SmsRefused):
        run(send())
