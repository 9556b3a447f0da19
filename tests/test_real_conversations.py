"""The real-language conversation bench: how its citizen reads the bot and answers, its scores, its skip
without the real data, and the whole of it on a few messages written for this test against the stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import real_conversations, real_data
from bench.conversation_scores import Conversation, scores
from bench.real_conversations import Chat, converse
from bench.real_data import LabelDepartments, RealMessage
from bench.scripted_citizen import DEFAULT_PLACE, Move, next_move, place_in
from ops.stack import Stack

PHONE = "13900000042"
SUMMARY = {
    "text": "请核对您要反映的内容：\n类型：投诉",
    "buttons": [
        {"title": "确认提交", "payload": "/affirm"},
        {"title": "修改", "payload": "/deny"},
        {"title": "不报了", "payload": "/cancel"},
    ],
}
OFFER = {
    "text": "我理解您是要投诉：“石料厂粉尘”。需要的话，我这就帮您登记成投诉工单。",
    "buttons": [{"title": "登记投诉工单", "payload": "/affirm"}, {"title": "不用了", "payload": "/deny"}],
}
# Written for this test: an appeal in a letter's words, a wage complaint, a question about school fees.
MESSAGES = [
    RealMessage(
        1,
        "环境保护",
        "尊敬的领导：房山区阎村镇北边那家石料厂从去年秋天开始日夜开工，粉尘飘得满村都是，晾的衣服一收全是灰，"
        "老人咳嗽越来越厉害。村里人找过厂子好几次都没用，希望环保部门来查一查他们有没有环评手续。",
    ),
    RealMessage(
        3, "劳动和社会保障", "我在大兴区一家装修公司干了半年，老板拖欠三个月工资一直不给，想投诉这家公司"
    ),
    RealMessage(5, "教育文体", "请问海淀区的民办初中一学期学费是怎么定的，学校说涨就涨合理吗"),
]
LABELS = LabelDepartments(
    acceptable={
        "环境保护": frozenset({"ecology_environment", "urban_enforcement"}),
        "劳动和社会保障": frozenset({"hrss"}),
        "教育文体": frozenset({"education"}),
    },
    strict={},
)


def test_the_citizen_confirms_summaries_taps_offers_and_answers_what_is_asked() -> None:
    message = "延庆区康庄镇 村口的路灯坏了"
    assert next_move([SUMMARY], message, PHONE) == Move("summary", button="/affirm")
    assert next_move([OFFER], message, PHONE) == Move("offer", button="/affirm")
    asked = [{"text": "请问问题发生在哪里？请尽量写清楚区、街道（乡镇）和小区或道路"}]
    assert next_move(asked, message, PHONE) == Move("ask_place", "延庆区康庄镇")
    assert next_move([{"text": "请问怎么称呼您？"}], message, PHONE).text == f"我姓王，电话{PHONE}"
    assert next_move([{"text": "请留一个手机号，方便承办单位联系您"}], message, PHONE).text == PHONE
    again = next_move([{"text": "您好，请问有什么可以帮您？"}], message, PHONE)
    assert again.reading == "what_can_i_do" and "反映" in again.text


def test_the_place_given_is_the_first_in_the_message_else_a_beijing_district() -> None:
    assert place_in("上周在通州区看到的，后来到了海淀区") == "通州区"
    assert place_in("小区门口的下水道堵了") == DEFAULT_PLACE


def test_scores_count_filed_cases_departments_turns_and_failure_kinds() -> None:
    filed = Conversation(row=2, label="环境保护", half="tuning", turns=4, ending="filed", right=True)
    filed.review = True
    filed.readings = ["offer", "ask_place", "ask_name", "summary", "filed"]
    wrong = Conversation(row=4, label="环境保护", half="tuning", turns=6, ending="filed", department="hrss")
    wrong.readings = ["what_can_i_do", "ask_description", "ask_name", "summary", "filed"]
    lost = Conversation(row=6, label="卫生计生", half="tuning", turns=2, ending="handoff")
    lost.readings = ["not_understood", "handoff"]
    report = scores([filed, wrong, lost])
    assert report["case_filed_rate"] == 0.667 and report["department_acceptable_of_filed"] == 0.5
    assert report["review_share_of_filed"] == 0.5 and report["department_acceptable_without_review"] == 0.0
    assert report["median_turns_to_case"] == 5 and report["handoffs"] == 1
    assert report["not_understood"] == 1 and report["what_can_i_do"] == 1
    assert report["failure_kinds"]["wrong_department:环境保护->hrss"] == 1
    assert report["failure_kinds"]["not_filed:handoff"] == 1
    assert report["per_class"]["环境保护"]["case_filed_rate"] == 1.0


def test_the_bench_skips_with_a_message_without_the_real_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(real_data.ENV_VAR, str(tmp_path / "absent"))
    monkeypatch.setattr("sys.argv", ["real_conversations"])
    real_conversations.main()
    assert capsys.readouterr().out.startswith("skipped: real data not found")


@pytest.mark.stack
def test_written_appeals_become_cases_of_the_right_department_through_the_stack(stack: Stack) -> None:
    chat = Chat(stack.url("gateway"), stack.url("backend"), stack.env["BACKEND_ADMIN_PASSWORD"])
    done = [converse(chat, message, message.text, LABELS) for message in MESSAGES]
    assert [c.ending for c in done] == ["filed"] * len(MESSAGES), [c.readings for c in done]
    assert all(c.description_whole for c in done)
    report = scores(done)
    assert report["not_understood"] == 0 and report["what_can_i_do"] == 0
    assert report["department_acceptable_of_filed"] == 1.0, [c.department for c in done]
    assert report["median_turns_to_case"] <= 5
