"""Faults survived by the whole running system: the action server killed in the middle of a form,
the backend down while a case is submitted, the Rasa server restarted. Nothing a citizen sent is
lost, and nothing is done twice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops.stack import Stack, wait_until

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack.configure(Path(tmp_path_factory.mktemp("faults")), RETRY_INTERVAL_S="1")
    stack.start(timeout_s=300)
    yield stack
    stack.stop()


def history(stack: Stack, sender: str) -> list[dict[str, Any]]:
    return list(
        httpx.get(f"{stack.url('gateway')}/chat/api/history", params={"sender": sender}, timeout=10).json()
    )


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


def test_the_action_server_killed_mid_form_and_the_form_goes_on(system: Stack) -> None:
    sender = system.new_web_sender()
    assert "描述" in texts(system.say(sender, "我要反映问题"))
    system.kill("actions")
    apology = system.say(sender, "小区里的健身器材坏了好几个 孩子玩的时候差点受伤")
    assert "保存" in texts(apology)  # a short apology, and the message is kept
    system.start("actions", timeout_s=120)
    # the queued message is answered when the bot can act again: the form asks the next thing
    assert wait_until(lambda: "哪里" in texts(history(system, sender)[-1:]), 60), history(system, sender)[-3:]
    assert "称呼" in texts(system.say(sender, "朝阳区劲松街道 农光里小区"))


def test_the_backend_down_during_submission_then_exactly_one_case(system: Stack) -> None:
    sender = system.new_web_sender()
    system.say(sender, "东城区东四街道 我们胡同口的垃圾桶满了好几天没人清 电话13800005555")
    summary = system.say(sender, "我姓冯")
    assert "请核对" in texts(summary)
    system.kill("backend")
    failed = system.say(sender, "确认提交")
    assert "没有成功" in texts(failed) and "请核对" in texts(failed)  # kept, and read back again
    system.start("backend", timeout_s=120)
    done = system.say(sender, "确认提交")
    number = re.search(r"\d{13}", texts(done))
    assert number is not None, texts(done)
    headers = {"Authorization": f"Bearer {system.env['BACKEND_SERVICE_TOKEN']}"}
    mine = httpx.get(
        f"{system.url('backend')}/api/v1/citizen/cases",
        headers=headers,
        timeout=10,
        params={"channel_identity": system.sender_id("webchat", sender)},
    ).json()
    assert [c["number"] for c in mine] == [number.group(0)]


def test_a_rasa_restart_keeps_every_conversation(system: Stack) -> None:
    sender = system.new_web_sender()
    system.say(sender, "我要投诉")
    assert "哪里" in texts(system.say(sender, "楼上天天半夜在家里蹦迪 吵得孩子睡不着"))
    system.kill("rasa")
    during = system.say(sender, "海淀区中关村街道 科学院南路小区")
    assert "保存" in texts(during)
    system.start("rasa", timeout_s=180)
    assert wait_until(lambda: "称呼" in texts(history(system, sender)[-1:]), 60), history(system, sender)[-3:]
