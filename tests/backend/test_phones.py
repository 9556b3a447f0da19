"""Cases take landlines with extensions as well as mobiles (SQLite and PostgreSQL); SMS only to mobiles."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.backend.conftest import Staffer
from tests.backend.factories import make_case, payload


def test_a_landline_with_its_extension_is_stored_and_found(
    client: TestClient, session: Session, operator: Staffer
) -> None:
    body = payload(channel="phone", channel_identity=None, contact_phone="（010）6234 5678 转 8801")
    answer = client.post("/api/v1/cases", json=body, headers=operator.headers)
    assert answer.status_code == 201, answer.text
    case = answer.json()["case"]
    assert case["contact_phone"] == "010-62345678转8801"
    assert case["sms_updates"] is False  # a phone call's updates go by SMS only to a mobile
    for q in ("010-62345678", "62345678", "01062345678转8801"):
        found = client.get("/api/v1/cases", params={"q": q}, headers=operator.headers).json()
        assert [c["number"] for c in found] == [case["number"]], q


def test_sms_updates_need_a_mobile(client: TestClient, operator: Staffer) -> None:
    body = payload(channel="phone", channel_identity=None, contact_phone="0755-23456789", sms_updates=True)
    answer = client.post("/api/v1/cases", json=body, headers=operator.headers)
    assert answer.status_code == 422 and "landline" in answer.text


def test_a_phone_that_is_neither_mobile_nor_landline_is_refused(
    client: TestClient, operator: Staffer
) -> None:
    for wrong in ("12345", "400-810-8888", "13800138000转12", "010-1234567"):
        answer = client.post("/api/v1/cases", json=payload(contact_phone=wrong), headers=operator.headers)
        assert answer.status_code == 422 and "contact_phone" in answer.text, wrong


def test_the_last_four_digits_of_a_landline_are_its_number_s(
    client: TestClient, session: Session, service_headers: dict[str, str]
) -> None:
    case = make_case(session, contact_phone="010-62345678转8801")
    lookup = {"number": case.number, "phone_last4": "5678"}
    answer = client.post("/api/v1/citizen/lookup", json=lookup, headers=service_headers).json()
    assert answer["verified"] is True
