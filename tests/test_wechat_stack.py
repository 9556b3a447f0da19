"""A WeChat citizen through the whole running system: the fake WeChat platform calls the gateway's
callback URL; the real Rasa, action server and backend take the report; an operator resolves the case;
the resolution and the rating question reach the citizen after their 48 hours by template message; the
citizen rates with digits and the rating lands in the backend."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops.stack import Stack, wait_until
from tests.fakes.server import ServerThread
from tests.fakes.wechat_api import AES_KEY, APP_ID, APP_SECRET, TOKEN, Citizen, FakeWeChat

pytestmark = pytest.mark.stack
OPENID = "oQ3mZ9wechatStackCitizen01"
NUMBER = re.compile(r"\d{13}")


@pytest.fixture(scope="module")
def wechat() -> Iterator[FakeWeChat]:
    fake = FakeWeChat()
    with ServerThread(fake.app()) as server:
        fake.url = server.url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, wechat: FakeWeChat) -> Iterator[Stack]:
    stack = Stack.configure(
        Path(tmp_path_factory.mktemp("wechat")),
        WECHAT_TOKEN=TOKEN,
        WECHAT_APP_ID=APP_ID,
        WECHAT_APP_SECRET=APP_SECRET,
        WECHAT_AES_KEY=AES_KEY,
        WECHAT_API_BASE_URL=wechat.url,  # type: ignore[attr-defined]
        WECHAT_TEMPLATE_ID="case-progress-template",
        FEED_INTERVAL_S="0.5",
    )
    stack.start(timeout_s=600)
    yield stack
    stack.stop()


class Conversation:
    """Everything the citizen saw: passive replies and customer-service messages, in order."""

    def __init__(self, citizen: Citizen, wechat: FakeWeChat) -> None:
        self.citizen, self.wechat, self.passive = citizen, wechat, []

    def say(self, text: str) -> None:
        answer = self.citizen.say(text)
        assert answer.status_code == 200, answer.text
        reply = self.citizen.reply_text(answer)
        if reply:
            self.passive.append(reply)

    def seen(self) -> str:
        return "\n".join(self.passive + self.wechat.texts(self.citizen.openid))

    def wait_for(self, words: str, timeout_s: float = 60) -> bool:
        return wait_until(lambda: words in self.seen(), timeout_s)


def admin(stack: Stack) -> dict[str, str]:
    answer = httpx.post(
        f"{stack.url('backend')}/api/v1/auth/login",
        json={"username": "admin", "password": stack.env["BACKEND_ADMIN_PASSWORD"]},
        timeout=30,
    )
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def case(stack: Stack, number: str) -> dict[str, Any]:
    answer = httpx.get(f"{stack.url('backend')}/api/v1/cases/{number}", headers=admin(stack), timeout=30)
    answer.raise_for_status()
    return dict(answer.json())


def test_a_report_on_wechat_from_first_message_to_rating(system: Stack, wechat: FakeWeChat) -> None:
    talk = Conversation(Citizen(system.url("gateway"), OPENID, safe_mode=True), wechat)
    answer = talk.citizen.event("subscribe")
    assert answer.status_code == 200
    talk.say("朝阳区望京西园三区 楼下那家饭馆的油烟机对着我家窗户排 熏得没法开窗 电话13911112222")
    assert talk.wait_for("称呼")
    talk.say("我姓孙")
    assert talk.wait_for("1. 确认提交")  # the summary's buttons as numbered choices
    talk.say("1")
    assert talk.wait_for("工单号")
    number = NUMBER.findall(talk.seen())[-1]
    filed = case(system, number)
    assert filed["channel"] == "wechat" and filed["contact_name"] == "孙"

    assert talk.wait_for("已派发至")  # the dispatch notice, while the window is still open
    wechat.outside_window.add(OPENID)  # days later: WeChat refuses customer-service messages
    for move in ({"move": "acknowledge"}, {"move": "resolve", "reply": "已责令饭馆加装油烟净化器并改向"}):
        done = httpx.post(
            f"{system.url('backend')}/api/v1/cases/{number}/transitions",
            json=move,
            headers=admin(system),
            timeout=30,
        )
        assert done.status_code == 200, done.text

    def question() -> bool:
        return any(t["data"]["thing4"]["value"].startswith("回复1") for t in wechat.templates(OPENID))

    assert wait_until(question, 60)
    resolved, *_, rating = wechat.templates(OPENID)  # the resolution, the rating's opening, its question
    assert resolved["data"]["character_string1"]["value"] == number
    assert resolved["data"]["phrase2"]["value"] == "已办结"
    assert resolved["data"]["thing4"]["value"].startswith("已责令饭馆")
    assert rating["data"]["thing4"]["value"] == "回复1已解决，2未解决"

    wechat.outside_window.discard(OPENID)  # the citizen answers: the window is open again
    talk.say("1")
    assert talk.wait_for("满意吗")
    talk.say("1")
    assert wait_until(lambda: case(system, number)["ratings"], 60)
    rated = case(system, number)["ratings"][0]
    assert rated["resolved"] is True and rated["satisfaction"] == "satisfied"
