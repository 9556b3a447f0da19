"""Reporting an appeal: the case form's validation, read-back, correction, submission and cancel."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.appeal_words import appeal_type
from bot.actions.backend_client import BackendClient, BackendUnavailable
from bot.actions.report import (
    ActionCancelCase,
    ActionCorrectCase,
    ActionSubmitCase,
    ActionSummarizeCase,
    ValidateCaseForm,
)
from bot.actions.tracker_reading import NOT_GIVEN
from tests.bot.conftest import IDENTITY, FakeBackend, shown, slot_events, texts, tracker

FILLED = {
    "description": "楼下饭馆油烟太大，天天晚上呛得不行",
    "address": "朝阳区望京西园三区",
    "contact_name": "张先生",
    "contact_phone": "13800138000",
    "appeal_type": "complaint",
    "category_code": "cooking_fumes",
    "category_name": "餐饮油烟",
    "unit_name": "北京市城市管理综合行政执法局",
    "district": "朝阳区",
    "street": "望京街道",
    "time_limit_label": "7天内办结",
}


async def validate(domain: dict[str, Any], **kwargs: Any) -> tuple[dict[str, Any], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await ValidateCaseForm().run(dispatcher, tracker(active_loop="case_form", **kwargs), domain)
    return slot_events(events), dispatcher


async def test_everything_said_at_once_leaves_only_the_name_to_ask(
    backend: FakeBackend, domain: dict
) -> None:
    text = "朝阳区望京西园三区楼下饭馆油烟太大,天天晚上呛得不行,我电话13800138000"
    slots, _ = await validate(domain, text=text, set_now={"description": text})
    assert slots["description"] == text and slots["contact_phone"] == "13800138000"
    assert slots["category_name"] == "餐饮油烟" and slots["unit_name"].startswith("北京市城市管理")
    assert slots["address"] == "朝阳区望京街道" and slots["appeal_type"] == "complaint"
    assert slots["requested_slot"] == "contact_name"
    assert backend.last("/api/v1/routing").url.path == "/api/v1/routing"


async def test_a_report_that_breaks_into_checking_a_case_is_its_own_description(
    backend: FakeBackend, domain: dict
) -> None:
    text = "朝阳区望京西园三区楼下饭馆油烟太大 天天晚上呛得不行"
    asked_for_number = {"requested_slot": "case_number"}  # the status form's question, still set
    slots, _ = await validate(domain, text=text, intent="report_issue", slots=asked_for_number)
    assert slots["description"] == text and slots["category_name"] == "餐饮油烟"
    assert slots["requested_slot"] == "contact_name"
    # not a report: nothing taken; a description already given is not replaced
    slots, _ = await validate(domain, text="2026112700001", intent="inform", slots=asked_for_number)
    assert "description" not in slots
    slots, _ = await validate(domain, text=text, intent="report_issue", slots={"description": "路灯坏了很久"})
    assert "description" not in slots


async def test_a_bare_intention_is_not_a_description(backend: FakeBackend, domain: dict) -> None:
    for text in ("我要投诉", "我想反映个问题", "您好，我要举报！"):
        slots, _ = await validate(domain, text=text, set_now={"description": text})
        assert slots["description"] is None and slots["requested_slot"] == "description"
    assert not backend.requests


async def test_appeal_types_come_from_the_words() -> None:
    assert appeal_type("report_issue", "我要举报隔壁私搭乱建") == "report"
    assert appeal_type("report_issue", "家里老人摔倒了起不来怎么办") == "help"
    assert appeal_type("suggest", "希望小区门口加个红绿灯") == "suggestion"
    assert appeal_type("praise", "感谢社区的工作人员") == "praise"
    assert appeal_type("report_issue", "暖气不热") == "complaint"


async def test_only_a_report_asks_about_confidentiality(backend: FakeBackend, domain: dict) -> None:
    form = ValidateCaseForm()
    slots = domain["forms"]["case_form"]["required_slots"]
    report = tracker(slots={**FILLED, "appeal_type": "report"})
    assert await form.required_slots(slots, CollectingDispatcher(), report, domain) == slots
    complaint = tracker(slots=FILLED)
    assert "confidential" not in await form.required_slots(slots, CollectingDispatcher(), complaint, domain)
    done, _ = await validate(domain, text="张先生", slots=FILLED, set_now={"contact_name": "张先生"})
    assert done["requested_slot"] is None  # a complaint is complete without it


async def test_an_address_without_a_district_is_asked_once_more(backend: FakeBackend, domain: dict) -> None:
    backend.routing = {**backend.routing, "district": None, "street": None}
    base = {"description": FILLED["description"], "requested_slot": "address"}
    slots, dispatcher = await validate(
        domain, text="幸福小区3号楼", slots=base, set_now={"address": "幸福小区3号楼"}
    )
    assert slots["address"] is None and slots["address_attempts"] == 1
    assert "哪个区" in texts(dispatcher)[0]
    slots, dispatcher = await validate(
        domain, text="幸福小区", slots={**base, "address_attempts": 1}, set_now={"address": "幸福小区"}
    )
    assert slots["address"] == "幸福小区" and "已记录" in texts(dispatcher)[0]


async def test_a_place_in_the_description_without_a_district_is_asked_for_once(
    backend: FakeBackend, domain: dict
) -> None:
    backend.routing = {**backend.routing, "district": None, "street": None}
    text = "幸福小区3号楼门口的垃圾站天天往外冒臭水"
    slots, dispatcher = await validate(
        domain, text=text, set_now={"description": text, "address": "幸福小区3号楼"}
    )
    # the place the NLU found is no answer: no complaint about it, the form asks its question once
    assert slots["address"] is None and slots["requested_slot"] == "address" and not texts(dispatcher)
    assert "address_attempts" not in slots


async def test_phone_numbers_as_citizens_write_them(backend: FakeBackend, domain: dict) -> None:
    base = {"description": "x" * 5, "address": "朝阳区", "contact_name": "王"}
    for said in ("138 0013 8000", "+86-138-0013-8000", "幺三八零零幺三八零零零", "电话是13800138000哦"):
        slots, _ = await validate(domain, text=said, slots=base, set_now={"contact_phone": said})
        assert slots["contact_phone"] == "13800138000", said
    landlines = {"座机 010-6234 5678 转 123": "010-62345678转123", "六二三四五六七八": "010-62345678"}
    for said, stored in landlines.items():
        slots, _ = await validate(domain, text=said, slots=base, set_now={"contact_phone": said})
        assert slots["contact_phone"] == stored, said
    slots, dispatcher = await validate(domain, text="12345", slots=base, set_now={"contact_phone": "12345"})
    assert slots["contact_phone"] is None
    assert "11位手机号" in texts(dispatcher)[0] and "座机" in texts(dispatcher)[0]
    slots, _ = await validate(domain, text="不留电话了", slots=base, set_now={"contact_phone": "不留电话了"})
    assert slots["contact_phone"] == NOT_GIVEN and slots["contact_name"] == NOT_GIVEN


async def test_names_and_refusals(backend: FakeBackend, domain: dict) -> None:
    base = {"description": "x" * 5, "address": "朝阳区"}
    slots, _ = await validate(domain, text="我姓王", slots=base, set_now={"contact_name": "我姓王"})
    assert slots["contact_name"] == "王"
    slots, _ = await validate(domain, text="不方便透露", slots=base, set_now={"contact_name": "不方便透露"})
    assert slots["contact_name"] == NOT_GIVEN
    slots, _ = await validate(domain, text="13912345678", slots=base, set_now={"contact_name": "13912345678"})
    assert slots["contact_phone"] == "13912345678" and slots["contact_name"] is None


async def test_a_place_said_for_the_name_is_no_name(backend: FakeBackend, domain: dict) -> None:
    """Found in the web chat: "海淀区清河街道" said to 怎么称呼您 became the contact's name."""
    base = {"description": "孩子上小学要准备啥材料"}
    place = [{"entity": "address", "value": "海淀区清河街道", "start": 0, "end": 7}]
    said = {"contact_name": "海淀区清河街道", "address": "海淀区清河街道"}
    text = "海淀区清河街道"
    slots, dispatcher = await validate(domain, text=text, entities=place, slots=base, set_now=said)
    assert slots["contact_name"] is None and slots["address"] == "海淀区清河街道"
    assert texts(dispatcher) == ["没听清您的称呼，请再说一下，比如“王先生”或“李华”。"]
    text = "孙立新 住海淀区清河街道"
    both = [*place, {"entity": "person_name", "value": "孙立新", "start": 0, "end": 3}]
    said = {"contact_name": "孙立新", "address": "海淀区清河街道"}
    slots, _ = await validate(domain, text=text, entities=both, slots=base, set_now=said)
    assert slots["contact_name"] == "孙立新"


async def test_the_summary_reads_everything_back_with_the_phone_masked(domain: dict) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionSummarizeCase().run(dispatcher, tracker(slots=FILLED), domain)
    [message] = [shown(m) for m in dispatcher.messages]
    assert "餐饮油烟" in message["text"] and "北京市城市管理综合行政执法局" in message["text"]
    assert "138****8000" in message["text"] and "13800138000" not in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny", "/cancel"]
    assert slot_events(events)["submission_key"]


async def test_submitting_creates_the_case_once_with_an_idempotency_key(
    backend: FakeBackend, domain: dict
) -> None:
    dispatcher = CollectingDispatcher()
    kept = {
        "attachments": [{"kind": "photo", "ref": "upload:ab12.jpg"}],
        "location": {"latitude": 39.99671, "longitude": 116.47061, "label": None},
    }
    state = tracker(text="确认提交", intent="affirm", slots={**FILLED, "submission_key": "k1", **kept})
    events = await ActionSubmitCase().run(dispatcher, state, domain)
    request = backend.last("/api/v1/cases")
    assert request.headers["Idempotency-Key"] == f"{IDENTITY}:k1"
    sent = json.loads(request.content)
    assert sent["channel"] == "webchat" and sent["channel_identity"] == IDENTITY
    assert sent["contact_phone"] == "13800138000" and sent["anonymous"] is False
    assert sent["attachments"] == [{"kind": "photo", "ref": "upload:ab12.jpg"}]
    assert (sent["latitude"], sent["longitude"]) == (39.99671, 116.47061)
    assert "20261127" in texts(dispatcher)[0] and "7天内办结" in texts(dispatcher)[0]
    slots = slot_events(events)
    assert slots["filed_case_number"].startswith("20261127") and slots["description"] is None
    assert slots["attachments"] is None and slots["location"] is None


async def test_a_failed_submission_keeps_everything_and_retries_with_the_same_key(
    backend: FakeBackend, domain: dict
) -> None:
    backend.failures = 3  # the client retries twice, so three failures exhaust it
    dispatcher = CollectingDispatcher()
    state = tracker(text="确认提交", intent="affirm", slots={**FILLED, "submission_key": "k2"})
    events = await ActionSubmitCase().run(dispatcher, state, domain)
    assert events == [{"event": "followup", "name": "action_summarize_case", "timestamp": None}]
    assert "没有成功" in texts(dispatcher)[0] and not backend.cases
    await ActionSubmitCase().run(CollectingDispatcher(), state, domain)
    keys = {r.headers["Idempotency-Key"] for r in backend.requests}
    assert keys == {f"{IDENTITY}:k2"} and len(backend.cases) == 1


async def test_a_correction_after_a_submission_that_timed_out_but_was_saved_finds_the_saved_case(
    backend: FakeBackend, domain: dict
) -> None:
    backend.lost_answers = 3  # saved, but every answer lost: the citizen is told it did not go through
    state = tracker(text="确认提交", intent="affirm", slots={**FILLED, "submission_key": "k5"})
    await ActionSubmitCase().run(CollectingDispatcher(), state, domain)
    [number] = backend.cases
    corrected = {**FILLED, "contact_phone": "13912345678", "submission_key": "k5"}  # "电话不对，是139…"
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitCase().run(
        dispatcher, tracker(text="确认提交", intent="affirm", slots=corrected), domain
    )
    assert "已经提交成功" in texts(dispatcher)[0] and "转人工" in texts(dispatcher)[0]
    assert number in texts(dispatcher)[1]
    slots = slot_events(events)
    # the report is done: no 409 loop
    assert slots["filed_case_number"] == number and slots["submission_key"] is None
    assert list(backend.cases) == [number]


async def test_anonymous_reports_carry_no_contact(backend: FakeBackend, domain: dict) -> None:
    slots = {**FILLED, "contact_name": NOT_GIVEN, "contact_phone": NOT_GIVEN, "submission_key": "k3"}
    await ActionSubmitCase().run(CollectingDispatcher(), tracker(intent="affirm", slots=slots), domain)
    sent = json.loads(backend.last("/api/v1/cases").content)
    assert sent["anonymous"] is True and sent["contact_name"] is None and sent["contact_phone"] is None


async def test_an_address_correction_in_words_changes_only_that_part(domain: dict) -> None:
    slots = {**FILLED, "address": "朝阳区望京西园三区12号楼"}
    events = await ActionCorrectCase().run(
        CollectingDispatcher(), tracker(text="地址不对,是四区", intent="correct_info", slots=slots), domain
    )
    assert slot_events(events)["address"] == "朝阳区望京西园四区12号楼"
    assert events[-1]["name"] == "case_form"


async def test_a_phone_correction_is_checked_by_the_form_again(domain: dict) -> None:
    entities = [{"entity": "phone_number", "value": "139 1234 5678"}]
    state = tracker(
        text="电话错了 应该是139 1234 5678", intent="correct_info", entities=entities, slots=FILLED
    )
    events = await ActionCorrectCase().run(CollectingDispatcher(), state, domain)
    assert slot_events(events) == {"contact_phone": "13912345678"}
    assert events[-1]["name"] == "case_form"


async def test_an_unclear_correction_asks_which_field(domain: dict) -> None:
    events = await ActionCorrectCase().run(
        CollectingDispatcher(), tracker(text="改一下", intent="correct_info", slots=FILLED), domain
    )
    assert events == [{"event": "followup", "name": "utter_ask_field_to_correct", "timestamp": None}]
    chosen = tracker(
        text='/correct_info{"field": "description"}',
        intent="correct_info",
        entities=[{"entity": "field", "value": "description"}],
        slots=FILLED,
    )
    events = await ActionCorrectCase().run(CollectingDispatcher(), chosen, domain)
    assert slot_events(events) == {"description": None} and events[-1]["name"] == "case_form"


async def test_cancel_forgets_the_report(domain: dict) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionCancelCase().run(
        dispatcher, tracker(text="算了不报了", intent="cancel", slots=FILLED), domain
    )
    assert dispatcher.messages[0]["response"] == "utter_cancelled"
    slots = slot_events(events)
    assert slots["description"] is None and slots["address"] is None and slots["requested_slot"] is None


async def test_backend_calls_end_within_the_actions_budget() -> None:
    """A hung backend: three attempts of 5 s (16.5 s with the pauses) would outlast a short
    RASA_ACTION_TIMEOUT_S; the client stops at its budget and the action can still answer."""
    silent = socket.socket()  # takes the connection and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    client = BackendClient(
        base_url=f"http://127.0.0.1:{silent.getsockname()[1]}",
        token="t",
        timeout_s=5,
        retries=2,
        budget_s=1.5,
    )
    started = time.monotonic()
    async with client:
        with pytest.raises(BackendUnavailable):
            await asyncio.wait_for(client.route("路灯坏了"), 10)
    assert time.monotonic() - started < 3
    silent.close()


async def test_the_conversations_routing_travels_into_the_case_in_codes(
    backend: FakeBackend, domain: dict
) -> None:
    text = "楼下饭馆油烟太大，天天晚上呛得不行"
    slots, _ = await validate(domain, text=text, set_now={"description": text})
    carried = slots["routing"]
    assert carried == {
        "category_code": "cooking_fumes",
        "department_code": "urban_enforcement",
        "district_code": "110105",
        "street_code": "110105026",
        "confidence": 0.9,
        "department_confidence": 0.93,
        "needs_review": False,
        "emergency": False,
        "alternatives": [
            {"category_code": "outdoor_ads", "department_code": "urban_enforcement", "confidence": 0.04},
            {"category_code": "other", "department_code": None, "confidence": 0.02},
        ],
    }
    routed = len(backend.requests)
    filled = {**FILLED, "routing": carried, "submission_key": "k7"}
    events = await ActionSubmitCase().run(
        CollectingDispatcher(), tracker(intent="affirm", slots=filled), domain
    )
    sent = json.loads(backend.last("/api/v1/cases").content)
    assert sent["routing"] == carried and "category_code" not in sent  # the routing names the category
    assert len(backend.requests) == routed + 1  # submitting routes nothing again
    assert slot_events(events)["routing"] is None  # the next report routes afresh


async def test_an_unsure_routing_with_the_place_given_later_is_carried_with_that_place(
    backend: FakeBackend, domain: dict
) -> None:
    backend.routing = {
        **backend.routing,
        "district": {"code": "110108", "name": "海淀区"},
        "street": {"code": "110108011", "name": "中关村街道"},
        "department_confidence": 0.08,
        "needs_review": True,
    }
    base = {"description": "那个网站上的信息好久没更新了", "requested_slot": "address"}
    slots, _ = await validate(domain, text="海淀中关村", slots=base, set_now={"address": "海淀中关村"})
    assert slots["street"] == "中关村街道"
    assert slots["routing"]["street_code"] == "110108011" and slots["routing"]["needs_review"] is True
    assert json.loads(backend.last("/api/v1/routing").content)["address"] == "海淀中关村"
