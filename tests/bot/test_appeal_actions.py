"""Every appeal is accepted: messages the NLU could not place, offers after knowledge answers, letters."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.appeal_words import offered_type, substantive
from bot.actions.appeals import ActionAcceptAppeal, ActionFallback
from bot.actions.questions import ActionAnswerQuestion
from bot.actions.report import ActionSummarizeCase
from tests.bot.conftest import FakeBackend, shown, slot_events, texts, tracker
from tests.bot.test_report_actions import validate

UNPLACED = "我们村后山这两年一直有人开矿放炮 好几家房子墙都震裂了 井水也浑了"
QUESTION = "孩子今年九月上小学 非京籍的要准备哪些材料啊"
NOISE = {"event": "user", "text": "。。。", "parse_data": {"intent": {"name": "nlu_fallback"}}}


async def run(
    action: Any, domain: dict[str, Any], **kwargs: Any
) -> tuple[dict[str, Any], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker(**kwargs), domain)
    return slot_events(events), dispatcher


def buttons(dispatcher: CollectingDispatcher) -> list[str]:
    return [b["payload"] for m in dispatcher.messages for b in shown(m).get("buttons") or []]


def handed_off(dispatcher: CollectingDispatcher) -> bool:
    return any(m.get("custom") for m in dispatcher.messages)


async def test_an_unplaced_message_with_substance_is_offered_with_its_type_and_subject(
    backend: FakeBackend, domain: dict
) -> None:
    backend.routing = {**backend.routing, "category": {"code": "construction_noise", "name": "施工扰民"}}
    slots, dispatcher = await run(ActionFallback(), domain, text=UNPLACED, intent="nlu_fallback")
    [said] = texts(dispatcher)
    assert "投诉" in said and "施工扰民" in said and "没太明白" not in said
    assert buttons(dispatcher) == ["/affirm", "/deny"]
    kept = slots.pop("offered_routing")
    assert slots == {"offered_appeal": UNPLACED, "offered_type": "complaint"}
    assert json.loads(backend.last("/api/v1/routing").content)["text"] == UNPLACED
    assert kept["text"] == UNPLACED and kept["category_code"] == "construction_noise"  # kept for filing


async def test_the_subject_is_the_citizens_words_when_routing_cannot_name_it(
    backend: FakeBackend, domain: dict
) -> None:
    backend.routing = {**backend.routing, "category": {"code": "other", "name": "其他"}}
    _, dispatcher = await run(ActionFallback(), domain, text=UNPLACED, intent="nlu_fallback")
    assert "我们村后山这两年" in texts(dispatcher)[0] and "其他" not in texts(dispatcher)[0]
    backend.failures = 100
    slots, dispatcher = await run(ActionFallback(), domain, text=UNPLACED, intent="nlu_fallback")
    assert "我们村后山这两年" in texts(dispatcher)[0] and slots["offered_appeal"] == UNPLACED


async def test_noise_gets_what_can_i_do_and_twice_in_a_row_a_person(
    backend: FakeBackend, domain: dict
) -> None:
    slots, dispatcher = await run(ActionFallback(), domain, text="嗯嗯啊", intent="nlu_fallback")
    assert not slots and not handed_off(dispatcher) and "有什么可以帮您" in texts(dispatcher)[0]
    assert not backend.requests
    _, twice = await run(ActionFallback(), domain, text="嗯嗯啊", intent="nlu_fallback", events=[NOISE])
    assert handed_off(twice)
    # an appeal after noise is offered, not handed over
    _, appeal = await run(ActionFallback(), domain, text=UNPLACED, intent="nlu_fallback", events=[NOISE])
    assert not handed_off(appeal) and buttons(appeal) == ["/affirm", "/deny"]


def test_substance_and_types() -> None:
    for noise in ("你好", "在吗 在吗", "哈哈哈哈哈哈", "好的谢谢", "我想反映个事儿", "帮我登记一下", "ok"):
        assert not substantive(noise), noise
    for appeal in (UNPLACED, QUESTION, "楼道灯坏了", "供暖费咋交"):
        assert substantive(appeal), appeal
    assert offered_type("ask_question", QUESTION) == "consultation"
    assert offered_type("nlu_fallback", "请问退休金啥时候调整") == "consultation"
    assert offered_type("ask_question", "物业凭什么多收我们两百块电梯费 能退吗") == "complaint"
    assert offered_type("nlu_fallback", UNPLACED) == "complaint"
    assert offered_type("nlu_fallback", "建议地铁站多装几个自行车架") == "suggestion"


async def test_yes_to_the_offer_makes_it_the_description(domain: dict) -> None:
    offered = {"offered_appeal": QUESTION, "offered_type": "consultation"}
    slots, _ = await run(ActionAcceptAppeal(), domain, text="好", intent="affirm", slots=offered)
    assert slots == {
        "description": QUESTION,
        "appeal_type": "consultation",
        "offered_appeal": None,
        "offered_type": None,
    }
    slots, _ = await run(ActionAcceptAppeal(), domain, text="好", intent="affirm")
    assert slots == {}  # nothing offered: the form asks for the description


async def test_a_knowledge_answer_offers_the_question_as_a_consultation(
    backend: FakeBackend, domain: dict
) -> None:
    slots, dispatcher = await run(ActionAnswerQuestion(), domain, text="暖气几号来", intent="ask_question")
    answer, offer = texts(dispatcher)
    assert "11月15日" in answer and "仅供参考" in answer and "咨询" in offer
    assert slots.pop("offered_routing") is None and not [
        r for r in backend.requests if r.url.path == "/api/v1/routing"
    ]
    assert slots == {"offered_appeal": "暖气几号来", "offered_type": "consultation"}
    assert buttons(dispatcher) == ["/affirm", "/deny"]


async def test_no_exact_answer_says_what_it_understood_and_offers_it(
    backend: FakeBackend, domain: dict
) -> None:
    backend.knowledge = {"answered": False, "note": "x", "hits": [{"answer": "停车收费标准……"}]}
    backend.routing = {**backend.routing, "category": {"code": "enrolment", "name": "入学与学位"}}
    slots, dispatcher = await run(ActionAnswerQuestion(), domain, text=QUESTION, intent="ask_question")
    [said] = texts(dispatcher)
    assert "没有准确的答案" in said and "咨询" in said and "入学与学位" in said and "停车" not in said
    assert slots.pop("offered_routing")["category_code"] == "enrolment"
    assert slots == {"offered_appeal": QUESTION, "offered_type": "consultation"}
    # in the middle of a report the question is answered and nothing is offered
    slots, dispatcher = await run(
        ActionAnswerQuestion(), domain, text=QUESTION, intent="ask_question", active_loop="case_form"
    )
    assert slots == {} and not buttons(dispatcher) and "接着登记" in texts(dispatcher)[0]


async def test_file_it_or_complain_after_an_offer_takes_the_offered_words(
    backend: FakeBackend, domain: dict
) -> None:
    offered = {"offered_appeal": QUESTION, "offered_type": "consultation"}
    for said, kind in (
        ("帮我登记一下", "consultation"),
        ("那就提交吧", "consultation"),
        ("投诉", "complaint"),
    ):
        slots, _ = await validate(
            domain, text=said, intent="report_issue", slots=offered, set_now={"description": said}
        )
        assert slots["description"] == QUESTION and slots["appeal_type"] == kind, said
        assert slots["offered_appeal"] is None and slots["category_name"] == "餐饮油烟"
    slots, _ = await validate(domain, text="投诉", intent="report_issue", set_now={"description": "投诉"})
    assert slots["description"] is None  # nothing offered before: the form asks what happened


async def test_an_accepted_consultation_keeps_its_type_and_needs_no_place(
    backend: FakeBackend, domain: dict
) -> None:
    backend.routing = {**backend.routing, "district": None, "street": None}
    slots, _ = await validate(
        domain,
        text="好",
        intent="affirm",
        slots={"appeal_type": "consultation"},
        set_now={"description": QUESTION},
    )
    assert slots["appeal_type"] == "consultation" and slots["requested_slot"] == "contact_name"


async def test_a_long_letter_is_kept_whole_and_read_back_short(backend: FakeBackend, domain: dict) -> None:
    letter = (
        "尊敬的领导您好！我是朝阳区望京西园三区的住户，2023年5月开始楼下开了家烧烤店，"
        + "每天从下午四点一直营业到凌晨两点，油烟顺着窗户往屋里灌，孩子咳嗽了两个多月，" * 12
        + "之前给物业打过电话也没解决，麻烦查一下他们有没有环评手续。"
    )
    slots, _ = await validate(domain, text=letter, set_now={"description": letter})
    assert slots["description"] == letter and len(letter) > 500
    dispatcher = CollectingDispatcher()
    await ActionSummarizeCase().run(dispatcher, tracker(slots={**slots, "contact_name": "周"}), domain)
    read_back = texts(dispatcher)[0]
    assert f"共{len(letter)}字" in read_back and letter not in read_back


async def test_name_and_phone_in_one_answer(backend: FakeBackend, domain: dict) -> None:
    base = {"description": UNPLACED, "address": "门头沟区"}
    for said, name in (("王女士 13912345678", "王女士"), ("我姓刘，电话139 1234 5678", "刘")):
        slots, _ = await validate(
            domain, text=said, intent="inform", slots=base, set_now={"contact_name": said}
        )
        assert (slots["contact_name"], slots["contact_phone"]) == (name, "13912345678"), said


async def test_a_new_matter_announced_after_an_offer_is_asked_for(backend: FakeBackend, domain: dict) -> None:
    offered = {"offered_appeal": QUESTION, "offered_type": "consultation"}
    said = "我想再反映个事儿"
    slots, _ = await validate(
        domain, text=said, intent="report_issue", slots=offered, set_now={"description": said}
    )
    assert slots["description"] is None and slots["requested_slot"] == "description"


async def test_a_grievance_asked_as_a_question_is_offered_as_a_complaint(
    backend: FakeBackend, domain: dict
) -> None:
    backend.knowledge = {"answered": False, "note": "x", "hits": []}
    said = "物业凭什么多收我们两百块电梯费 能退吗"
    slots, dispatcher = await run(ActionAnswerQuestion(), domain, text=said, intent="ask_question")
    assert "没有准确的答案" not in texts(dispatcher)[0] and "我理解您是要投诉" in texts(dispatcher)[0]
    assert slots["offered_type"] == "complaint"


async def test_an_unplaced_answer_that_puts_the_offer_off_is_not_offered_in_turn(
    backend: FakeBackend, domain: dict
) -> None:
    offered = {"offered_appeal": UNPLACED, "offered_type": "complaint"}
    slots, dispatcher = await run(
        ActionFallback(), domain, text="先不登 我再想想", intent="nlu_fallback", slots=offered
    )
    assert dispatcher.messages == [{**dispatcher.messages[0], "response": "utter_not_filed"}]
    assert slots == {"offered_appeal": None, "offered_type": None, "offered_routing": None}
    assert not backend.requests


async def test_a_button_pressed_without_words_is_asked_for_them(backend: FakeBackend, domain: dict) -> None:
    """The web chat's greeting offers 报事 and 咨询 as intents: the payload is not the citizen's words."""
    slots, dispatcher = await run(ActionAnswerQuestion(), domain, text="/ask_question", intent="ask_question")
    assert texts(dispatcher) == ["请问您想咨询什么？请直接输入您的问题。"] and not slots
    assert not backend.requests
    slots, _ = await validate(domain, text="/report_issue", set_now={"description": "/report_issue"})
    assert slots["description"] is None and slots["requested_slot"] == "description"
    assert not backend.requests


async def test_filing_the_offered_words_does_not_route_them_again(backend: FakeBackend, domain: dict) -> None:
    """Route once per case: the routing of the offer is the case's; only a place said since routes anew."""
    backend.routing = {**backend.routing, "category": {"code": "construction_noise", "name": "施工扰民"}}
    offered, _ = await run(ActionFallback(), domain, text=UNPLACED, intent="nlu_fallback")
    routed = len([r for r in backend.requests if r.url.path == "/api/v1/routing"])
    accepted, _ = await run(ActionAcceptAppeal(), domain, text="好", intent="affirm", slots=offered)
    assert "offered_routing" not in accepted  # kept for the form
    slots, _ = await validate(
        domain,
        text="好",
        intent="affirm",
        slots={**offered, **accepted},
        set_now={"description": accepted["description"]},
    )
    assert len([r for r in backend.requests if r.url.path == "/api/v1/routing"]) == routed == 1
    assert slots["category_code"] == "construction_noise" and slots["category_name"] == "施工扰民"
    assert slots["routing"]["category_code"] == "construction_noise" and slots["offered_routing"] is None
    # other words than the offered ones are routed as always
    slots, _ = await validate(
        domain,
        text="楼下早上五点就开始装修",
        intent="report_issue",
        slots=offered,
        set_now={"description": "楼下早上五点就开始装修"},
    )
    assert len([r for r in backend.requests if r.url.path == "/api/v1/routing"]) == 2
    assert "offered_routing" not in slots
