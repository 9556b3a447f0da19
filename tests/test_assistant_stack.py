"""The assistant through the whole running system: web chat → gateway → Rasa → actions → backend.

Every message is real Chinese that is not in the training data; each test checks the case that lands
in the backend, not only what the bot says.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import httpx
import pytest

from ops.stack import Stack, wait_until

pytestmark = pytest.mark.stack
NUMBER = re.compile(r"\d{13}")


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


def backend(stack: Stack, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {stack.env['BACKEND_SERVICE_TOKEN']}"}
    return httpx.request(method, f"{stack.url('backend')}{path}", headers=headers, timeout=30, **kwargs)


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


def report(stack: Stack, sender: str, *turns: str) -> list[dict[str, Any]]:
    replies: list[dict[str, Any]] = []
    for turn in turns:
        replies = stack.say(sender, turn)
    return replies


def test_everything_at_once_then_the_name_then_confirm(stack: Stack) -> None:
    sender = stack.new_web_sender()
    replies = stack.say(
        sender, "朝阳区望京西园三区楼下那家烤串店油烟太大了，天天晚上熏得开不了窗，我电话13800138000"
    )
    assert "称呼" in texts(replies)  # only the name is still missing
    summary = stack.say(sender, "免贵姓刘")
    assert "请核对" in texts(summary) and "138****8000" in texts(summary)
    assert [b["title"] for b in summary[-1]["buttons"]] == ["确认提交", "修改", "不报了"]
    done = stack.say(sender, "", button="/affirm")
    number = NUMBER.search(texts(done)).group(0)  # type: ignore[union-attr]
    filed = case(stack, number)
    assert filed["category_code"] == "cooking_fumes" and filed["contact_phone"] == "13800138000"
    assert filed["contact_name"] == "刘" and filed["channel"] == "webchat"
    assert (filed["district"], filed["street"]) == ("朝阳区", "望京街道")
    assert filed["lead_unit"]["key"] == "urban_enforcement" and filed["status"] == "dispatched"
    assert filed["department_code"] == "urban_enforcement" and filed["department_confidence"] >= 0.15
    assert filed["needs_review"] is False  # the conversation's routing, carried into the case
    assert "7天内办结" in texts(done)


def test_bit_by_bit_with_a_correction_in_words(stack: Stack) -> None:
    sender = stack.new_web_sender()
    first = stack.say(sender, "我想反映个事儿")
    assert "描述" in texts(first)
    assert "哪里" in texts(stack.say(sender, "小区里的路灯坏了快一个月了 晚上黑漆漆的老人不敢出门"))
    assert "称呼" in texts(stack.say(sender, "海淀区学院路街道 清华东路那个小区三区"))
    assert "手机号" in texts(stack.say(sender, "我叫张伟"))
    summary = stack.say(sender, "幺三九 一二三四 五六七八")
    assert "139****5678" in texts(summary)
    corrected = stack.say(sender, "地址不对，是四区")
    assert "四区" in texts(corrected) and "请核对" in texts(corrected)
    done = stack.say(sender, "对，提交吧")
    filed = case(stack, NUMBER.search(texts(done)).group(0))  # type: ignore[union-attr]
    assert "四区" in filed["address"] and filed["contact_phone"] == "13912345678"
    assert filed["category_code"] == "street_lights" and filed["district"] == "海淀区"


def test_cancel_in_the_middle_files_nothing(stack: Stack) -> None:
    sender = stack.new_web_sender()
    stack.say(sender, "我要投诉楼上天天半夜装修")
    cancelled = stack.say(sender, "算了不报了")
    assert "已取消" in texts(cancelled)
    mine = backend(
        stack, "GET", "/api/v1/citizen/cases", params={"channel_identity": stack.sender_id("webchat", sender)}
    )
    assert mine.json() == []


def test_a_cancel_that_names_the_place_cancels(stack: Stack) -> None:
    """Found on the Telegram fake: a value in a cancel ("算了 … 朝阳区…") was taken as the form's answer,
    the form went on and the cancel went unheard."""
    sender = stack.new_web_sender()
    assert "描述" in texts(stack.say(sender, "我想反映个情况"))
    cancelled = stack.say(sender, "算了算了 朝阳区那个事我不报了")
    assert "已取消" in texts(cancelled) and "描述" not in texts(cancelled)
    mine = backend(
        stack, "GET", "/api/v1/citizen/cases", params={"channel_identity": stack.sender_id("webchat", sender)}
    )
    assert mine.json() == []


def test_a_yes_when_asked_for_the_case_number_ends_the_check(stack: Stack) -> None:
    """Found in the web chat and on the Telegram fake: "行 知道了" was taken as a wrong case number and
    the number was asked for again, and again."""
    sender = stack.new_web_sender()
    assert "工单号" in texts(stack.say(sender, "我之前报的那个事办得咋样了"))
    ended = stack.say(sender, "行 知道了")
    assert "随时找我" in texts(ended) and "工单号" not in texts(ended)
    assert "北京" in texts(stack.say(sender, "居住证怎么办理"))  # a question after it is answered


def test_checking_a_case_asks_strangers_for_the_last_four_digits(stack: Stack) -> None:
    owner = stack.new_web_sender()
    report(
        stack,
        owner,
        "丰台区方庄街道芳城园一区 小区门口的下水道堵了 污水都漫到路上了 电话 13700001111",
        "我姓赵",
    )
    number = NUMBER.search(texts(stack.say(owner, "确认"))).group(0)  # type: ignore[union-attr]
    own = stack.say(owner, f"帮我查下{number}这个单子到哪一步了")
    assert "承办单位" in texts(own) and "后四位" not in texts(own)
    stranger = stack.new_web_sender()
    asked = stack.say(stranger, f"查一下工单{number}")
    assert "后四位" in texts(asked) and "承办单位" not in texts(asked)
    assert "不一致" in texts(stack.say(stranger, "0000"))
    assert "承办单位" in texts(stack.say(stranger, "1111"))
    listed = stack.say(owner, "我的工单")
    assert number in texts(listed)


def test_a_report_made_while_asked_for_a_case_number_keeps_its_words(stack: Stack) -> None:
    """Found in the web chat: the report's own words were lost and the next answer became the
    description."""
    sender = stack.new_web_sender()
    assert "工单号" in texts(stack.say(sender, "我想查查我的单子"))
    switched = stack.say(sender, "东城区和平里街道 和平里七区门口的路灯坏了一个多礼拜了 晚上黑咕隆咚的")
    assert "称呼" in texts(switched) and "描述" not in texts(switched)
    stack.say(sender, "我姓孟")
    summary = stack.say(sender, "电话15988662233")
    assert "路灯坏了" in texts(summary)
    filed = case(stack, NUMBER.search(texts(stack.say(sender, "对 提交吧"))).group(0))  # type: ignore[union-attr]
    assert "路灯坏了" in filed["description"] and filed["category_code"] == "street_lights"
    assert filed["contact_name"] == "孟" and filed["district"] == "东城区"


def test_emergencies_get_the_number_at_once_and_a_person(stack: Stack) -> None:
    sender = stack.new_web_sender()
    replies = stack.say(sender, "救命 楼道里全是煤气味 呛死人了")
    assert "96777" in texts(replies) or "119" in texts(replies)
    assert "人工客服" in texts(replies)
    waiting = stack.say(sender, "人呢")  # the bot is silent: the citizen is told they wait for a person
    assert [r["author"] for r in waiting] == ["system"] and "前面还有" in texts(waiting)


def test_a_question_is_answered_from_the_knowledge_base(stack: Stack) -> None:
    sender = stack.new_web_sender()
    replies = stack.say(sender, "请问北京每年啥时候开始来暖气啊")
    assert "11月15日" in texts(replies) and "仅供参考" in texts(replies)


def test_resolution_is_pushed_and_the_rating_reopens_a_case_once(stack: Stack) -> None:
    sender = stack.new_web_sender()
    report(
        stack, sender, "西城区金融街街道 我们楼的电梯又坏了 停了三天了 老人上不去 电话13611112222", "钱女士"
    )
    number = NUMBER.search(texts(stack.say(sender, "确认提交"))).group(0)  # type: ignore[union-attr]
    headers = admin(stack)
    for move in ({"move": "acknowledge"}, {"move": "resolve", "reply": "已更换电梯主板，电梯恢复运行"}):
        answer = httpx.post(
            f"{stack.url('backend')}/api/v1/cases/{number}/transitions",
            json=move,
            headers=headers,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text

    def history() -> list[dict[str, Any]]:
        return list(
            httpx.get(
                f"{stack.url('gateway')}/chat/api/history", params={"sender": sender}, timeout=10
            ).json()
        )

    assert wait_until(lambda: any("解决了吗" in str(m["text"]) for m in history()), 30)
    assert any("已更换电梯主板" in str(m["text"]) for m in history())
    stack.say(sender, "", button="/deny")
    stack.say(sender, "", button='/rate{"satisfaction": "dissatisfied"}')
    done = stack.say(sender, "今天又停了，根本没修好")
    assert "重新办理" in texts(done)
    reopened = case(stack, number)
    assert reopened["status"] == "dispatched" and reopened["reopen_count"] == 1
    assert reopened["ratings"][0]["satisfaction"] == "dissatisfied"


def test_a_conversation_an_earlier_version_left_mid_form_goes_on_after_the_upgrade(stack: Stack) -> None:
    token = stack.new_web_sender()
    asked = stack.say(
        token, "海淀区中关村南大街5号院3号楼楼道的灯坏了一个多月，晚上黑乎乎的，电话13911112222"
    )
    assert "称呼" in texts(asked)
    stack.kill("gateway")
    legacy, derived = f"webchat-{token}", stack.sender_id("webchat", token)
    with sqlite3.connect(stack.data_dir / "gateway.db") as db:  # as an earlier version left it
        db.execute(
            "UPDATE conversations SET identity = ?, sender_id = ? WHERE sender_id = ?",
            (token, legacy, derived),
        )
    with sqlite3.connect(stack.data_dir / "rasa_tracker.db") as db:
        assert db.execute("UPDATE events SET sender_id = ? WHERE sender_id = ?", (legacy, derived)).rowcount
    stack.start("gateway", timeout_s=60)
    summary = stack.say(token, "免贵姓刘")  # Rasa still has the form, now under the derived id
    assert "请核对" in texts(summary) and "139****2222" in texts(summary)
    number = NUMBER.search(texts(stack.say(token, "确认提交")))
    assert number is not None
    mine = backend(stack, "GET", "/api/v1/citizen/cases", params={"channel_identity": derived})
    assert [c["number"] for c in mine.json()] == [number.group(0)]
