"""Every appeal is accepted, through the whole running system (web chat → gateway → Rasa → actions →
backend): an appeal the NLU cannot place is offered and filed with one tap, "对，提交" after the knowledge
base has no answer files the question as a consultation, and a long letter is filed whole with its place.
Each test checks the case in the backend. The messages are written for these tests.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from ops.stack import Stack
from tests.test_assistant_stack import case, texts

pytestmark = pytest.mark.stack
NUMBER = re.compile(r"工单号：(\d{13})")
# The bot's first answer to it is an offer: a greeting that says more than hello, which the NLU does not
# place with confidence once its greeting reading is set aside (bot/nlu/letters.py).
UNPLACED = "领导好 麻烦了 俺家门口那条道让拉土车压得稀碎"
# Nothing in the knowledge base is about passports.
NO_ANSWER = "护照过期了在北京能直接换新的吗 要去哪儿办"
LETTER = (
    "尊敬的领导：您好！我叫韩秀英，家住通州区梨园镇云景里小区。2023年冬天开始，小区东门外的临街商铺陆续开了"
    "三家烧烤店，每天下午四点营业到凌晨两三点，油烟和炭火味顺着窗户往屋里灌，我家老人有哮喘，去年冬天犯了两次，"
    "有一次半夜喘不上气打了120才送去医院。我们找物业反映了好几回，物业说管不了；打过城管的电话，来过一次，"
    "第二天照旧。楼里的邻居也一直在反映，到现在都没解决。麻烦有关部门查一下这几家店有没有油烟净化设备和"
    "经营手续，该整改的整改，别再让我们一到晚上就关窗户过日子了。谢谢！"
)


def filed(stack: Stack, replies: list[dict[str, Any]]) -> dict[str, Any]:
    found = NUMBER.search(texts(replies))
    assert found, texts(replies)
    return case(stack, found.group(1))


def buttons(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [b for r in replies for b in (r.get("buttons") or [])]


def test_an_appeal_the_nlu_cannot_place_is_offered_and_filed_in_one_tap(stack: Stack) -> None:
    sender = stack.new_web_sender()
    offered = stack.say(sender, UNPLACED)
    assert "我理解您是要投诉" in texts(offered) and "没太明白" not in texts(offered)
    tap = next(b for b in buttons(offered) if b["title"].startswith("登记"))
    asked = stack.say(sender, "", button=tap["payload"])
    assert "在哪里" in texts(asked)
    assert "称呼" in texts(stack.say(sender, "密云区河南寨镇 平头村东口"))
    summary = stack.say(sender, "老宋 13511112233")
    assert "请核对" in texts(summary) and "拉土车" in texts(summary)
    done = filed(stack, stack.say(sender, "", button="/affirm"))
    assert done["description"] == UNPLACED and done["appeal_type"] == "complaint"
    assert done["district"] == "密云区" and done["contact_phone"] == "13511112233"


def test_yes_after_no_exact_answer_files_the_question_as_a_consultation(stack: Stack) -> None:
    sender = stack.new_web_sender()
    answered = stack.say(sender, NO_ANSWER)
    assert "没有准确的答案" in texts(answered) and "咨询" in texts(answered)
    asked = stack.say(sender, "对，提交")
    assert "称呼" in texts(asked)  # a consultation needs no place
    summary = stack.say(sender, "小邵 15600001111")
    assert "类型：咨询" in texts(summary)
    done = filed(stack, stack.say(sender, "嗯 提交"))
    assert done["description"] == NO_ANSWER and done["appeal_type"] == "consultation"


def test_short_requests_to_file_after_an_answer_file_the_question(stack: Stack) -> None:
    """Found on the Telegram fake: "登记一下吧" after an answer was read as a cancel, "帮我登记" as a new
    report with no words of its own."""
    for request in ("登记一下吧", "那帮我登记下", "麻烦报上去吧"):
        sender = stack.new_web_sender()
        question = "孩子上幼儿园需要办什么手续呀"
        answered = stack.say(sender, question)
        assert "登记咨询工单" in [b["title"] for b in buttons(answered)], texts(answered)
        asked = stack.say(sender, request)
        assert "称呼" in texts(asked), (request, texts(asked))
        stack.say(sender, "姓邹 13700002222")
        done = filed(stack, stack.say(sender, "", button="/affirm"))
        assert done["description"] == question and done["appeal_type"] == "consultation"


def test_a_long_letter_is_filed_whole_with_its_place(stack: Stack) -> None:
    sender = stack.new_web_sender()
    first = stack.say(sender, LETTER)
    said = texts(first)
    assert (
        "手机号" in said and "人工客服" not in said and "工单号是13位" not in said
    )  # a report, asked the phone
    summary = stack.say(sender, "13912340000")
    assert f"共{len(LETTER)}字" in texts(summary) and "韩秀英" in texts(summary)
    done = filed(stack, stack.say(sender, "没问题 提交吧"))
    assert done["description"] == LETTER and done["contact_name"] == "韩秀英"
    assert (done["district"], done["street"]) == ("通州区", "梨园镇") and done[
        "category_code"
    ] == "cooking_fumes"
