"""Dispatch rules (派单), time limits (时限), overdue supervision (督办) and case numbers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.cases.numbers import normalise_number
from common.database import utcnow
from tests.backend.conftest import Staffer, unit_staff
from tests.backend.factories import WANGJING, ZHONGGUANCUN, make_case, payload


@pytest.mark.parametrize(
    ("overrides", "lead", "lead_name"),
    [
        ({"category_code": "heating_not_warm"}, "heating", "北京市热力集团及供热单位"),
        ({"category_code": "garbage_collection"}, "street_office:110105026", "朝阳区望京街道办事处"),
        (
            {"category_code": "garbage_collection", "street_code": None},
            "district_government:110105",
            "朝阳区人民政府",
        ),
        ({"category_code": "other", **ZHONGGUANCUN}, "district_government:110108", "海淀区人民政府"),
        ({"category_code": None}, "district_government:110105", "朝阳区人民政府"),
        (
            {"category_code": "rural_affairs", "district_code": "110116", "street_code": "110116102"},
            "street_office:110116102",
            "怀柔区北房镇人民政府",
        ),
    ],
)
def test_dispatch_follows_the_rules(
    session: Session, overrides: dict[str, object], lead: str, lead_name: str | None
) -> None:
    case = make_case(session, **overrides)
    assert case.status == "dispatched" and case.lead_unit_code == lead
    if lead_name:
        assert case.updates[-1].note == f"派至{lead_name}"


def test_without_a_place_an_unclear_case_waits_for_the_hotline(
    client: TestClient, session: Session, operator: Staffer
) -> None:
    case = make_case(session, category_code="other", district_code=None, street_code=None)
    assert case.status == "accepted" and case.lead_unit_code is None
    bad = client.post(
        f"/api/v1/cases/{case.number}/transitions", json={"move": "dispatch"}, headers=operator.headers
    )
    assert bad.status_code == 422 and "lead_unit" in bad.json()["detail"]
    unknown = client.post(
        f"/api/v1/cases/{case.number}/transitions",
        json={"move": "dispatch", "lead_unit_code": "street_office:999"},
        headers=operator.headers,
    )
    assert unknown.status_code == 422
    done = client.post(
        f"/api/v1/cases/{case.number}/transitions",
        json={"move": "dispatch", "lead_unit_code": "civil_affairs", "co_unit_codes": ["housing", "hrss"]},
        headers=operator.headers,
    ).json()
    assert done["lead_unit"]["key"] == "civil_affairs"
    assert [u["key"] for u in done["co_units"]] == ["housing", "hrss"]
    # a co-handler sees the case and may add notes, but only the lead acknowledges
    helper = unit_staff(session, "housing")
    assert client.get(f"/api/v1/cases/{case.number}", headers=helper.headers).status_code == 200
    note = client.post(
        f"/api/v1/cases/{case.number}/notes", json={"text": "已配合现场核查"}, headers=helper.headers
    )
    assert note.status_code == 201
    assert (
        client.post(
            f"/api/v1/cases/{case.number}/transitions", json={"move": "acknowledge"}, headers=helper.headers
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("category", "hours"),
    [
        ("gas_leak", 2),
        ("elevator_entrapment", 2),
        ("water_outage", 24),
        ("heating_not_warm", 24),
        ("power_outage", 24),
        ("cooking_fumes", 7 * 24),
        ("demolition", 15 * 24),
    ],
)
def test_time_limits_are_set_at_acceptance_from_the_category(
    session: Session, category: str, hours: int
) -> None:
    accepted = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    case = make_case(session, category_code=category, now=accepted)
    assert case.due_at == accepted + timedelta(hours=hours)


def test_overdue_cases_are_flagged_and_listed_for_supervision(
    client: TestClient, session: Session, supervisor: Staffer, operator: Staffer
) -> None:
    late = make_case(session, category_code="water_outage", now=utcnow() - timedelta(hours=30))
    later = make_case(session, category_code="gas_leak", now=utcnow() - timedelta(hours=3))
    on_time = make_case(session, category_code="water_outage")
    listed = client.get("/api/v1/supervision/overdue", headers=supervisor.headers).json()
    numbers = [c["number"] for c in listed]
    assert numbers == [late.number, later.number] and on_time.number not in numbers
    assert all(c["overdue"] for c in listed)
    flags = {c["number"]: c["overdue"] for c in client.get("/api/v1/cases", headers=operator.headers).json()}
    assert flags[on_time.number] is False and flags[late.number] is True
    pressed = client.post(
        f"/api/v1/cases/{late.number}/supervise",
        json={"text": "请今日内答复市民"},
        headers=supervisor.headers,
    )
    assert pressed.status_code == 200 and pressed.json()["supervised_at"]
    assert pressed.json()["timeline"][-1]["kind"] == "supervise"
    assert (
        client.post(
            f"/api/v1/cases/{late.number}/supervise", json={"text": "x"}, headers=operator.headers
        ).status_code
        == 403
    )


def test_case_numbers_are_the_beijing_date_and_a_daily_sequence(session: Session) -> None:
    evening_utc = datetime(2026, 5, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 May in Beijing
    first = make_case(session, now=evening_utc)
    second = make_case(session, now=evening_utc + timedelta(minutes=1))
    next_day = make_case(session, now=evening_utc + timedelta(days=1))
    assert (first.number, second.number) == ("2026050200001", "2026050200002")
    assert next_day.number == "2026050300001"
    assert re.fullmatch(r"\d{13}", first.number)
    assert normalise_number("20260502-00001") == first.number
    assert normalise_number("2026 0502 00001") == first.number
    assert normalise_number("12345") is None


def test_repeat_appeals_at_the_same_place_are_linked(
    client: TestClient, session: Session, operator: Staffer
) -> None:
    first = make_case(session, address="望京西园三区12号楼")
    other_place = make_case(session, address="花家地西里一区")
    other_category = make_case(session, category_code="garbage_collection", address="望京西园三区12号楼")
    repeat = make_case(session, address="望京西园三区12号楼下")
    detail = client.get(f"/api/v1/cases/{repeat.number}", headers=operator.headers).json()
    assert detail["related"] == [first.number]
    assert client.get(f"/api/v1/cases/{first.number}", headers=operator.headers).json()["related"] == [
        repeat.number
    ]
    assert other_place.number not in detail["related"] and other_category.number not in detail["related"]


def test_search_by_number_phone_and_place(client: TestClient, session: Session, operator: Staffer) -> None:
    case = make_case(session, contact_phone="139 1234 5678", address="中关村大街27号", **ZHONGGUANCUN)
    make_case(session)
    for q in (case.number, "13912345678", "中关村大街"):
        found = client.get("/api/v1/cases", params={"q": q}, headers=operator.headers).json()
        assert [c["number"] for c in found] == [case.number], q
    by_district = client.get(
        "/api/v1/cases", params={"district_code": WANGJING["district_code"]}, headers=operator.headers
    ).json()
    assert case.number not in [c["number"] for c in by_district]


def test_handling_unit_staff_see_only_their_units_cases(client: TestClient, session: Session) -> None:
    ours = make_case(session)  # urban_enforcement
    theirs = make_case(session, category_code="heating_not_warm")
    unit = unit_staff(session, "urban_enforcement")
    listed = [c["number"] for c in client.get("/api/v1/cases", headers=unit.headers).json()]
    assert listed == [ours.number]
    assert client.get(f"/api/v1/cases/{theirs.number}", headers=unit.headers).status_code == 404
    payload_body = payload()
    assert client.post("/api/v1/cases", json=payload_body, headers=unit.headers).status_code == 403
