"""Checking and listing cases, rating, questions, emergencies and hand-offs."""

from __future__ import annotations

import json
import time
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.escalation import ActionEmergency, ActionHandoff
from bot.actions.rating import ActionStartRating, ActionSubmitRating, ValidateRatingForm
from bot.actions.status import ActionAskCaseNumber, ActionListMyCases, ValidateStatusForm, find_case_number
from tests.bot.conftest import IDENTITY, RESPONSES, FakeBackend, shown, slot_events, texts, tracker

NUMBER = "2026112700007"


async def check(domain: dict[str, Any], **kwargs: Any) -> tuple[dict[str, Any], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await ValidateStatusForm().run(dispatcher, tracker(active_loop="status_form", **kwargs), domain)
    return slot_events(events), dispatcher


def test_case_numbers_are_found_however_written() -> None:
    for said in (
        "查一下2026112700007",
        "工单号 20261127-00007 到哪了",
        "20261127 00007",
        "2026-1127-00007 没解决",
        "单号 2026 11 27 00007 麻烦查一下",
        "2026-11-2700007派给谁了",
    ):
        assert find_case_number(said) == NUMBER
    for not_one in ("13800138000", "20261127000071", "2026-11-27 15:30 打的电话", "2026--1127-00007"):
        assert find_case_number(not_one) is None


async def test_the_same_channel_sees_its_case_without_more_questions(
    backend: FakeBackend, domain: dict
) -> None:
    backend.add_case(NUMBER, latest_reply="已安排人员现场查看")
    slots, dispatcher = await check(
        domain, text=f"查进度{NUMBER}", intent="check_status", set_now={"case_number": NUMBER}
    )
    assert slots["status_verified"] is True and slots["requested_slot"] is None
    [details] = texts(dispatcher)
    assert "承办单位正在办理" in details and "已安排人员现场查看" in details and "12月4日" in details


async def test_another_channel_must_give_the_last_four_digits(backend: FakeBackend, domain: dict) -> None:
    backend.add_case(NUMBER, identity="telegram-42", phone="13912345678")
    slots, dispatcher = await check(
        domain, text=NUMBER, intent="check_status", set_now={"case_number": NUMBER}
    )
    # the number stays and nothing is shown; Rasa's form then asks for the next slot, phone_last4
    assert slots == {"case_number": NUMBER} and not texts(dispatcher)
    slots, dispatcher = await check(
        domain, text="0000", intent="inform", slots={"case_number": NUMBER}, set_now={"phone_last4": "0000"}
    )
    assert slots["phone_last4"] is None and "不一致" in texts(dispatcher)[0]
    slots, dispatcher = await check(
        domain,
        text="后四位是5678",
        intent="inform",
        slots={"case_number": NUMBER},
        set_now={"phone_last4": "后四位是5678"},
    )
    assert slots["status_verified"] is True and "承办单位正在办理" in texts(dispatcher)[0]


async def test_unknown_and_malformed_case_numbers(backend: FakeBackend, domain: dict) -> None:
    slots, dispatcher = await check(
        domain, text="2020010100001", intent="check_status", set_now={"case_number": "2020010100001"}
    )
    assert slots["case_number"] is None and "没有找到" in texts(dispatcher)[0]
    slots, dispatcher = await check(domain, text="123", intent="inform", set_now={"case_number": "123"})
    assert slots["case_number"] is None and "13位" in texts(dispatcher)[0]


async def test_the_case_number_question_offers_this_channels_latest_cases(
    backend: FakeBackend, domain: dict
) -> None:
    for n in range(1, 5):
        backend.add_case(f"202611270000{n}")
    backend.add_case("2026112700009", identity="telegram-1")
    dispatcher = CollectingDispatcher()
    await ActionAskCaseNumber().run(dispatcher, tracker(text="查进度", intent="check_status"), domain)
    [asked] = [shown(m) for m in dispatcher.messages]
    payloads = [b["payload"] for b in asked["buttons"]]
    # three of this channel's cases, each button sends its number; never another channel's
    assert len(payloads) == 3 and set(payloads) <= {f"202611270000{n}" for n in range(1, 5)}
    assert all(p in b["title"] for p, b in zip(payloads, asked["buttons"], strict=True))
    assert "工单号" in asked["text"]


async def test_the_case_number_question_without_cases_or_backend(backend: FakeBackend, domain: dict) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAskCaseNumber().run(dispatcher, tracker(text="查进度", intent="check_status"), domain)
    assert texts(dispatcher) == [RESPONSES["utter_ask_status_form_case_number"][0]["text"]]
    backend.add_case(NUMBER)
    backend.failures = 10
    dispatcher = CollectingDispatcher()
    await ActionAskCaseNumber().run(dispatcher, tracker(text="查进度", intent="check_status"), domain)
    assert texts(dispatcher) == [RESPONSES["utter_ask_status_form_case_number"][0]["text"]]


async def test_my_cases_lists_this_channels_cases(backend: FakeBackend, domain: dict) -> None:
    backend.add_case(NUMBER)
    backend.add_case("2026112700008", identity="telegram-1")
    dispatcher = CollectingDispatcher()
    await ActionListMyCases().run(dispatcher, tracker(text="我的工单", intent="my_cases"), domain)
    assert NUMBER in texts(dispatcher)[0] and "2026112700008" not in texts(dispatcher)[0]
    assert backend.last("/api/v1/citizen/cases").url.params["channel_identity"] == IDENTITY


async def test_rating_starts_with_the_reply_and_asks_why_only_when_dissatisfied(
    backend: FakeBackend, domain: dict
) -> None:
    backend.add_case(NUMBER, status="resolved", status_text="已办结", latest_reply="已更换路灯灯泡")
    dispatcher = CollectingDispatcher()
    state = tracker(
        text="", intent="EXTERNAL_rate_case", entities=[{"entity": "case_number", "value": NUMBER}]
    )
    events = await ActionStartRating().run(dispatcher, state, domain)
    assert slot_events(events)["rating_case"] == NUMBER and "已更换路灯灯泡" in texts(dispatcher)[0]
    form = ValidateRatingForm()
    slots = domain["forms"]["rating_form"]["required_slots"]
    happy = tracker(slots={"rating_satisfaction": "satisfied"})
    assert "rating_comment" not in await form.required_slots(slots, CollectingDispatcher(), happy, domain)
    unhappy = tracker(slots={"rating_satisfaction": "dissatisfied"})
    assert "rating_comment" in await form.required_slots(slots, CollectingDispatcher(), unhappy, domain)


async def test_asked_if_satisfied_a_rating_in_words_the_model_missed_is_the_answer(domain: dict) -> None:
    asked = {"rating_case": NUMBER, "rating_resolved": True, "requested_slot": "rating_satisfaction"}

    async def rated(text: str, intent: str, **slots: Any) -> Any:
        state = tracker(text=text, intent=intent, slots={**asked, **slots}, active_loop="rating_form")
        events = await ValidateRatingForm().run(CollectingDispatcher(), state, domain)
        return slot_events(events).get("rating_satisfaction")

    assert await rated("打个五星吧 师傅挺负责", "nlu_fallback") == "satisfied"
    assert await rated("及格吧 拖得有点久", "out_of_scope") == "basically_satisfied"
    assert await rated("零分 等了一星期才来人", "angry") == "dissatisfied"
    assert await rated("嗯", "affirm") is None  # no rating in it: asked again
    assert await rated("五星级酒店投诉找谁", "ask_question") is None  # a question, not a rating
    assert await rated("满意", "rate", requested_slot="rating_resolved") is None  # another question
    assert await rated("满意", "rate", rating_satisfaction="dissatisfied") is None  # already answered


async def test_a_dissatisfied_rating_is_recorded_and_reopens(backend: FakeBackend, domain: dict) -> None:
    backend.add_case(NUMBER, status="resolved")
    dispatcher = CollectingDispatcher()
    slots = {
        "rating_case": NUMBER,
        "rating_resolved": False,
        "rating_satisfaction": "dissatisfied",
        "rating_comment": "灯还是不亮",
    }
    events = await ActionSubmitRating().run(dispatcher, tracker(slots=slots), domain)
    sent = json.loads(backend.last(f"/api/v1/cases/{NUMBER}/rating").content)
    assert sent == {
        "resolved": False,
        "satisfaction": "dissatisfied",
        "comment": "灯还是不亮",
        "channel_identity": IDENTITY,
    }
    assert "重新办理" in texts(dispatcher)[0]
    assert all(value is None for value in slot_events(events).values())


def handoff_of(dispatcher: CollectingDispatcher) -> dict[str, Any] | None:
    custom = [m["custom"] for m in dispatcher.messages if m.get("custom")]
    return custom[0]["handoff"] if custom else None


async def test_asking_for_a_person_hands_off_with_what_was_collected(domain: dict) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"description": "油烟太大", "address": "朝阳区望京"}
    await ActionHandoff().run(dispatcher, tracker(text="转人工", intent="request_human", slots=slots), domain)
    handoff = handoff_of(dispatcher)
    assert handoff == {"reason": "requested", "collected": slots}
    angry = CollectingDispatcher()
    await ActionHandoff().run(angry, tracker(text="什么破服务", intent="angry"), domain)
    assert handoff_of(angry)["reason"] == "anger" and "抱歉" in texts(angry)[0]  # type: ignore[index]


async def test_emergencies_get_the_right_number_at_once(backend: FakeBackend, domain: dict) -> None:
    backend.routing = {**backend.routing, "emergency": {"kind": "gas", "label": "燃气泄漏", "call": "96777"}}
    dispatcher = CollectingDispatcher()
    await ActionEmergency().run(dispatcher, tracker(text="一股煤气味很浓", intent="emergency"), domain)
    assert "96777" in texts(dispatcher)[0] and handoff_of(dispatcher)["reason"] == "emergency"  # type: ignore[index]


async def test_emergencies_are_answered_even_when_the_backend_is_down(
    backend: FakeBackend, domain: dict
) -> None:
    backend.failures = 100
    dispatcher = CollectingDispatcher()
    started = time.monotonic()
    await ActionEmergency().run(dispatcher, tracker(text="着火了", intent="emergency"), domain)
    assert time.monotonic() - started < 1.0
    first = texts(dispatcher)[0]
    assert all(number in first for number in ("119", "110", "120", "96777"))
    assert len(backend.requests) == 1  # no retries while someone is in danger
