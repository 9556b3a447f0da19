"""Letters and declared complaints are appeals (bot/nlu/letters.py), and the component that applies it."""

from __future__ import annotations

import pytest

from bot.nlu.entities import clean
from bot.nlu.letters import as_appeal, declares_complaint, is_letter
from tests.rasa_env import in_rasa_env

# A letter as citizens write them to the hotline: background, dates, names, and phrases of other intents
# ("一直没解决", "查一下", "120").
LETTER = (
    "尊敬的领导：我叫孙立华，住石景山区八角街道杨庄小区。去年11月我母亲在区里一家医院做了髋关节手术，"
    "术后第三天伤口感染，值班的刘医生说没事，拖了两天才换药。后来高烧不退，叫了120转到别的医院，"
    "又住了二十多天。我们找医院的医务科反映过好几次，一直没解决，也没人给个说法。麻烦有关部门查一下"
    "这家医院的处理是否合规，医药费能不能给个合理的说法。"
)


def ranked(*pairs: tuple[str, float]) -> list[tuple[str, float]]:
    return list(pairs)


def test_a_letter_is_an_appeal_whatever_one_phrase_inside_it_says() -> None:
    assert is_letter(LETTER)
    for misread in ("still_unresolved", "check_status", "emergency", "request_human", "angry", "greet"):
        read = as_appeal(LETTER, ranked((misread, 0.55), ("report_issue", 0.3), ("ask_question", 0.15)))
        assert read is not None and read[0] == ("report_issue", pytest.approx(1.0)), misread


def test_a_letter_that_is_a_status_check_an_emergency_or_asks_for_a_person_stays_one() -> None:
    with_number = LETTER + "之前的工单号是2026-1102-00417。"
    read = as_appeal(with_number, ranked(("check_status", 0.6), ("report_issue", 0.3), ("greet", 0.1)))
    assert read == [("check_status", 0.6), ("report_issue", pytest.approx(0.4))]
    burning = LETTER + "现在楼下又着火了，烟很大！"
    assert as_appeal(burning, ranked(("emergency", 0.7), ("report_issue", 0.3)))[0][0] == "emergency"  # type: ignore[index]
    person = LETTER + "我不想跟机器说了，请转人工。"
    assert as_appeal(person, ranked(("request_human", 0.8), ("report_issue", 0.2)))[0][0] == "request_human"  # type: ignore[index]


def test_a_letter_is_a_question_only_when_clearly_more_a_question_than_a_report() -> None:
    tie = as_appeal(LETTER, ranked(("ask_question", 0.5), ("report_issue", 0.45), ("greet", 0.05)))
    assert tie is not None and tie[0] == ("report_issue", pytest.approx(1.0))
    clear = as_appeal(LETTER, ranked(("ask_question", 0.8), ("report_issue", 0.15), ("inform", 0.05)))
    assert clear is not None and clear[0] == ("ask_question", pytest.approx(1.0))
    suggestion = as_appeal(LETTER, ranked(("suggest", 0.6), ("report_issue", 0.3), ("inform", 0.1)))
    assert suggestion is not None and suggestion[0][0] == "suggest"


def test_a_message_that_declares_a_complaint_is_a_report() -> None:
    said = "小区停车费一个月涨了三百 也没开业主大会 我想投诉一下"
    assert declares_complaint(said)
    read = as_appeal(said, ranked(("ask_question", 0.7), ("report_issue", 0.2), ("angry", 0.1)))
    assert read == [("report_issue", pytest.approx(0.9)), ("angry", 0.1)]
    blamed = as_appeal("那我投诉他们", ranked(("check_status", 0.5), ("report_issue", 0.3), ("cancel", 0.2)))
    assert blamed is not None and blamed[0] == ("report_issue", pytest.approx(0.8))
    followed = as_appeal("我投诉的那个事到哪了", ranked(("check_status", 0.9), ("report_issue", 0.1)))
    assert followed is not None and followed[0] == ("check_status", 0.9)
    for asked in ("投诉电话是多少", "怎么投诉快递员", "这种情况去哪投诉啊"):
        assert not declares_complaint(asked), asked
        assert as_appeal(asked, ranked(("ask_question", 0.9), ("report_issue", 0.1))) is None


def test_small_talk_that_says_more_is_left_to_the_fallback() -> None:
    said = "领导好 我们单元门禁坏了半个月 外卖快递谁都能进"
    read = as_appeal(said, ranked(("greet", 0.7), ("report_issue", 0.2), ("inform", 0.1)))
    assert read == [("report_issue", 0.2), ("inform", 0.1)]
    for small_talk in ("领导您好", "谢谢你们 辛苦了", "你是机器人吗 还是真人啊"):
        assert as_appeal(small_talk, ranked(("greet", 0.9), ("thank", 0.1))) is None, small_talk


def test_out_of_scope_that_says_too_much_for_chatter_is_left_to_the_fallback() -> None:
    said = "通州区梨园镇那个新盖的小区底商 开了家KTV 天天唱到后半夜两三点 白天还有人在门口发传单堵着路"
    read = as_appeal(said, ranked(("out_of_scope", 0.5), ("report_issue", 0.3), ("suggest", 0.2)))
    assert read == [("report_issue", 0.3), ("suggest", 0.2)]
    for chatter in ("今儿北京天气咋样啊", "帮我订一张明天去上海的高铁票 二等座靠窗"):
        assert as_appeal(chatter, ranked(("out_of_scope", 0.8), ("ask_question", 0.2))) is None, chatter


def test_a_long_message_read_as_a_cancel_is_left_to_the_fallback() -> None:
    said = "致各位领导 關於我們村東頭采砂場的問題 大車天天拉沙子 路都壓壞了 村民多次反映無人處理 望領導重視"
    read = as_appeal(said, ranked(("cancel", 0.69), ("angry", 0.08), ("report_issue", 0.05)))
    assert read == [("angry", 0.08), ("report_issue", 0.05)]
    for never_mind in ("算了算了 不报了", "唉 不弄了 太麻烦了 我自己去找物业说吧 谢谢"):
        assert as_appeal(never_mind, ranked(("cancel", 0.8), ("deny", 0.2))) is None, never_mind


def test_a_short_request_to_file_is_a_yes() -> None:
    for said in ("登记吧", "帮我登记", "那就提交吧", "麻烦您帮我登记一下", "行，报上去吧", "登记一下哈"):
        assert as_appeal(said, ranked(("cancel", 0.5), ("report_issue", 0.25), ("affirm", 0.25))) == [
            ("affirm", 1.0)
        ], said
    for said in ("不登记了", "先不提交", "居住登记怎么办", "提交了吗", "登记成工单吧"):
        assert as_appeal(said, ranked(("cancel", 0.6), ("deny", 0.4))) is None, said
    # one that names what to file starts a report (a declared complaint), not a yes
    assert as_appeal("帮我登记个投诉", ranked(("cancel", 0.6), ("deny", 0.4))) == [
        ("cancel", 0.6),
        ("report_issue", 0.4),
    ]


def test_short_messages_keep_their_reading() -> None:
    for said in ("还是没修好 都第三回了", "查一下我上周报的那个", "楼下着火了 快来人"):
        assert as_appeal(said, ranked(("still_unresolved", 0.6), ("report_issue", 0.4))) is None


def spot(name: str, piece: str, text: str, nth: int = 0) -> dict[str, object]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(piece, start + 1)
    return {
        "entity": name,
        "start": start,
        "end": start + len(piece),
        "value": piece,
        "extractor": "DIETClassifier",
    }


def test_in_a_letter_only_the_citizens_own_name_and_the_first_place_count() -> None:
    found = clean(
        [
            spot("person_name", "孙立华", LETTER),
            spot("address", "石景山区八角街道杨庄小区", LETTER),
            spot("person_name", "刘医生", LETTER),
            spot("address", "医务科", LETTER),
        ],
        LETTER,
        "report_issue",
    )
    assert [(e["entity"], e["value"]) for e in found] == [
        ("person_name", "孙立华"),
        ("address", "石景山区八角街道杨庄小区"),
    ]


READ_PROBE = r"""
import json, sys
from rasa.shared.nlu.training_data.message import Message
from bot.nlu.components import ReadAsAppeal
letter = sys.argv[1]
def message(text, ranking):
    ranked = [{"name": n, "confidence": c} for n, c in ranking]
    return Message(data={"text": text, "intent": ranked[0], "intent_ranking": ranked})
read = message(letter, [("still_unresolved", 0.6), ("report_issue", 0.3), ("ask_question", 0.1)])
short = message("还是没修好", [("still_unresolved", 0.9), ("report_issue", 0.1)])
command = message("/affirm", [("affirm", 1.0)])
ReadAsAppeal.create({}, None, None, None).process([read, short, command])
print(json.dumps([m.get("intent") for m in (read, short, command)]))
"""


def test_the_component_re_reads_letters_in_the_rasa_pipeline() -> None:
    letter, short, command = in_rasa_env(READ_PROBE, LETTER)  # type: ignore[misc]
    assert letter["name"] == "report_issue" and letter["confidence"] == pytest.approx(1.0)
    assert short == {"name": "still_unresolved", "confidence": 0.9}
    assert command == {"name": "affirm", "confidence": 1.0}
