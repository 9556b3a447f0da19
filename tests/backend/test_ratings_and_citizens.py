"""Ratings (回访) with one reopen (重办), idempotent creation, and citizens' lookups."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from backend.cases.intake import create_case
from backend.cases.models import Case
from backend.cases.queries import MAX_FAILED_VERIFICATIONS, citizen_view
from backend.cases.schemas.intake import CaseCreate
from backend.cases.states import Move
from backend.cases.transitions import transition
from backend.errors import TooManyAttempts
from backend.staff.principal import SYSTEM
from backend.staff.service import SERVICE
from tests.backend.conftest import Staffer, at_once
from tests.backend.factories import make_case, payload

IDENTITY = "webchat-citizen-1"


def resolved_case(session: Session, **overrides: object) -> Case:
    case = make_case(session, **overrides)
    for step in (Move.ACKNOWLEDGE, Move.START):
        transition(session=session, case=case, move=step, principal=SYSTEM)
    transition(session=session, case=case, move=Move.RESOLVE, principal=SYSTEM, reply="已联系商户整改")
    session.commit()
    return case


def rate(client: TestClient, headers: dict[str, str], number: str, satisfaction: str, **extra: object):  # type: ignore[no-untyped-def]
    body = {
        "resolved": satisfaction != "dissatisfied",
        "satisfaction": satisfaction,
        "channel_identity": IDENTITY,
        **extra,
    }
    return client.post(f"/api/v1/cases/{number}/rating", json=body, headers=headers)


def test_a_dissatisfied_rating_reopens_the_case_once_and_keeps_its_history(
    client: TestClient, session: Session, service_headers: dict[str, str]
) -> None:
    case = resolved_case(session)
    first = rate(client, service_headers, case.number, "dissatisfied", comment="油烟还是很大").json()
    assert first["status"] == "dispatched" and first["reopen_count"] == 1
    assert first["timeline"][-1]["kind"] == "reopen" and "油烟还是很大" in first["timeline"][-1]["note"]
    session.refresh(case)
    transition(session=session, case=case, move=Move.ACKNOWLEDGE, principal=SYSTEM)
    transition(session=session, case=case, move=Move.RESOLVE, principal=SYSTEM, reply="已拆除排烟管道")
    session.commit()
    second = rate(client, service_headers, case.number, "dissatisfied").json()
    assert second["status"] == "rated" and second["reopen_count"] == 1
    assert [r["round"] for r in second["ratings"]] == [1, 2]
    kinds = [e["kind"] for e in second["timeline"]]
    assert kinds.count("resolve") == 2 and kinds.count("rate") == 2 and kinds.count("reopen") == 1


def test_ratings_need_a_resolved_case_and_the_citizens_own_channel(
    client: TestClient, session: Session, service_headers: dict[str, str]
) -> None:
    open_case = make_case(session)
    assert rate(client, service_headers, open_case.number, "satisfied").status_code == 409
    case = resolved_case(session)
    other = rate(client, service_headers, case.number, "satisfied", channel_identity="webchat-stranger")
    assert other.status_code == 403
    assert rate(client, service_headers, case.number, "excellent").status_code == 422
    assert rate(client, service_headers, case.number, "satisfied").json()["status"] == "rated"
    assert rate(client, service_headers, case.number, "satisfied").status_code == 409


def test_the_service_token_cannot_rate_a_case_no_chat_identity_filed(
    client: TestClient, session: Session, service_headers: dict[str, str], operator: Staffer
) -> None:
    """A phone case has no channel identity: "none" from the assistant is no citizen's check."""
    case = resolved_case(session, channel="phone", channel_identity=None)
    for identity in (None, ""):
        refused = rate(client, service_headers, case.number, "satisfied", channel_identity=identity)
        assert refused.status_code == 403
    assert rate(client, operator.headers, case.number, "satisfied").json()["status"] == "rated"


def test_a_retried_submission_never_creates_a_second_case(
    client: TestClient, session: Session, service_headers: dict[str, str]
) -> None:
    body = payload()
    headers = {**service_headers, "Idempotency-Key": "conversation-42-submit-1"}
    first = client.post("/api/v1/cases", json=body, headers=headers)
    again = client.post("/api/v1/cases", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["case"]["number"] == again.json()["case"]["number"]
    assert again.json()["created"] is False
    changed = client.post("/api/v1/cases", json={**body, "description": "另一件事情"}, headers=headers)
    assert changed.status_code == 409
    assert session.scalar(select(func.count()).select_from(Case)) == 1


def test_the_case_a_submission_filed_is_found_by_its_key_by_the_assistant_only(
    client: TestClient, service_headers: dict[str, str], operator: Staffer
) -> None:
    headers = {**service_headers, "Idempotency-Key": "conversation-43-submit-1"}
    filed = client.post("/api/v1/cases", json=payload(), headers=headers).json()["case"]["number"]
    find = {"idempotency_key": "conversation-43-submit-1"}
    found = client.post("/api/v1/citizen/submission", json=find, headers=service_headers)
    assert found.status_code == 200 and found.json()["case"]["number"] == filed
    assert found.json()["created"] is False
    assert client.post("/api/v1/citizen/submission", json=find, headers=operator.headers).status_code == 403
    missing = client.post(
        "/api/v1/citizen/submission", json={"idempotency_key": "nope"}, headers=service_headers
    )
    assert missing.status_code == 404


def test_concurrent_retries_with_one_key_make_one_case(engine: Engine) -> None:
    """Eight threads submit the same case at once, as a client retrying over a flaky network would."""
    from sqlalchemy.orm import sessionmaker

    sessions = sessionmaker(engine, expire_on_commit=False)
    key = f"race-{engine.dialect.name}-{threading.get_ident()}"
    numbers: list[str] = []
    errors: list[BaseException] = []
    body = CaseCreate(**payload(description="并发提交的同一个诉求"))

    def submit() -> None:
        try:
            with sessions() as session:
                case, _ = create_case(session=session, case_in=body, principal=SERVICE, idempotency_key=key)
                session.commit()
                numbers.append(case.number)
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(set(numbers)) == 1 and len(numbers) == 8
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case).where(Case.idempotency_key == key)) == 1
        session.delete(session.scalar(select(Case).where(Case.idempotency_key == key)))
        session.commit()


def test_a_case_number_alone_reveals_nothing(
    client: TestClient, session: Session, service_headers: dict[str, str]
) -> None:
    case = make_case(session, contact_phone="13912345678")
    bare = client.post("/api/v1/citizen/lookup", json={"number": case.number}, headers=service_headers).json()
    assert bare == {
        "number": case.number,
        "verified": False,
        "status": None,
        "status_text": None,
        "appeal_type_label": None,
        "category_name": None,
        "unit_name": None,
        "accepted_at": None,
        "due_at": None,
        "time_limit_label": None,
        "latest_reply": None,
        "can_rate": False,
    }
    wrong = client.post(
        "/api/v1/citizen/lookup", json={"number": case.number, "phone_last4": "0000"}, headers=service_headers
    ).json()
    assert wrong["verified"] is False
    right = client.post(
        "/api/v1/citizen/lookup", json={"number": case.number, "phone_last4": "5678"}, headers=service_headers
    ).json()
    assert right["verified"] and right["status_text"] and right["unit_name"] == "北京市城市管理综合行政执法局"
    assert "13912345678" not in str(right) and "张三" not in str(right)
    same_channel = client.post(
        "/api/v1/citizen/lookup",
        json={"number": case.number, "channel_identity": IDENTITY},
        headers=service_headers,
    ).json()
    assert same_channel["verified"]
    missing = client.post("/api/v1/citizen/lookup", json={"number": "2020010199999"}, headers=service_headers)
    assert missing.status_code == 404


def test_guessing_the_last_four_digits_is_locked_out(
    client: TestClient, session: Session, service_headers: dict[str, str]
) -> None:
    case = make_case(session, contact_phone="13912345678")
    for guess in ("0001", "0002", "0003", "0004", "0005"):
        answer = client.post(
            "/api/v1/citizen/lookup",
            json={"number": case.number, "phone_last4": guess},
            headers=service_headers,
        )
        assert answer.json()["verified"] is False
    locked = client.post(
        "/api/v1/citizen/lookup", json={"number": case.number, "phone_last4": "5678"}, headers=service_headers
    )
    assert locked.status_code == 429


def test_concurrent_guesses_of_the_last_four_digits_are_all_counted(engine: Engine) -> None:
    """Ten wrong guesses at once: five are checked, then the case is locked; none slips past."""
    from sqlalchemy.orm import sessionmaker

    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions() as session:
        number = make_case(session, contact_phone="13912345678").number

    def guess(i: int) -> bool:
        with sessions() as session:
            seen = citizen_view(session=session, number=number, phone_last4=f"{i:04d}", channel_identity=None)
            session.commit()
            return seen.verified

    outcomes = at_once(guess, 10)
    try:
        assert outcomes == ["False"] * MAX_FAILED_VERIFICATIONS + ["TooManyAttempts"] * 5
        with sessions() as session, pytest.raises(TooManyAttempts):
            citizen_view(session=session, number=number, phone_last4="5678", channel_identity=None)
    finally:
        with sessions() as session:
            session.delete(session.scalar(select(Case).where(Case.number == number)))
            session.commit()


def test_my_cases_lists_this_channel_identitys_cases(
    client: TestClient, session: Session, service_headers: dict[str, str]
) -> None:
    mine = [make_case(session), make_case(session, category_code="heating_not_warm")]
    make_case(session, channel_identity="telegram-999")
    listed = client.get(
        "/api/v1/citizen/cases", params={"channel_identity": IDENTITY}, headers=service_headers
    ).json()
    assert sorted(c["number"] for c in listed) == sorted(c.number for c in mine)
    assert all(c["verified"] for c in listed)


def test_the_event_feed_carries_public_updates_of_chat_cases_in_order(
    client: TestClient, session: Session, service_headers: dict[str, str]
) -> None:
    chat = resolved_case(session)
    make_case(session, channel="phone", channel_identity=None, sms_updates=False)
    events = client.get("/api/v1/events", params={"after": 0}, headers=service_headers).json()
    assert [e["kind"] for e in events] == ["dispatch", "resolve"]
    assert all(e["number"] == chat.number and e["channel_identity"] == IDENTITY for e in events)
    later = client.get("/api/v1/events", params={"after": events[0]["id"]}, headers=service_headers).json()
    assert [e["kind"] for e in later] == ["resolve"]
    last = client.get("/api/v1/events", params={"after": 2**31 - 1}, headers=service_headers)
    assert last.status_code == 200 and last.json() == []
    for beyond in (2**31, 2**63):
        refused = client.get("/api/v1/events", params={"after": beyond}, headers=service_headers)
        assert refused.status_code == 422 and "after" in refused.text


def test_a_phone_call_s_updates_and_rating_go_by_sms(
    client: TestClient, session: Session, service_headers: dict[str, str]
) -> None:
    called = resolved_case(session, channel="phone", channel_identity=None, contact_phone="13911112222")
    assert called.sms_updates  # by default for phone calls
    assert not make_case(session).sms_updates  # a chat case only when the citizen asks
    feed = client.get("/api/v1/events", params={"after": 0}, headers=service_headers).json()
    events = [e for e in feed if e["number"] == called.number]
    assert [e["kind"] for e in events] == ["accept", "dispatch", "resolve"]
    assert {e["sms_to"] for e in events} == {"13911112222"}
    assert {e["sms_to"] for e in feed if e["number"] != called.number} == {None}
    assert events[0]["time_limit_label"] and events[0]["due_at"]

    wrong = rate(
        client, service_headers, called.number, "satisfied", channel_identity=None, sms_phone="13911112223"
    )
    assert wrong.status_code == 403
    rated = rate(
        client, service_headers, called.number, "satisfied", channel_identity=None, sms_phone="139 1111 2222"
    )
    assert rated.status_code == 200 and rated.json()["ratings"][0]["satisfaction"] == "satisfied"


def test_sms_updates_need_a_phone(client: TestClient, service_headers: dict[str, str]) -> None:
    body = payload(anonymous=True, contact_name=None, contact_phone=None, sms_updates=True)
    body.pop("contact_name", None)
    body.pop("contact_phone", None)
    answer = client.post("/api/v1/cases", json=body, headers=service_headers)
    assert answer.status_code == 422 and "sms_updates" in answer.text


def test_renamed_conversations_take_their_cases_along(
    client: TestClient, session: Session, service_headers: dict[str, str], operator: object
) -> None:
    old, new = "webchat-an-old-page-token", "webchat-0123456789abcdef0123456789abcdef"
    body = payload(channel_identity=old, conversation_id=old)
    headers = {**service_headers, "Idempotency-Key": f"{old}:9c1d"}
    filed = client.post("/api/v1/cases", json=body, headers=headers).json()["case"]
    other = make_case(session, channel_identity="telegram-4242")
    renames = {"renames": [{"old": old, "new": new}]}
    assert client.post("/api/v1/citizen/renames", json=renames, headers=operator.headers).status_code == 403  # type: ignore[attr-defined]
    assert client.post("/api/v1/citizen/renames", json=renames, headers=service_headers).json() == {
        "cases": 1
    }
    assert client.post("/api/v1/citizen/renames", json=renames, headers=service_headers).json() == {
        "cases": 0
    }
    mine = client.get("/api/v1/citizen/cases", params={"channel_identity": new}, headers=service_headers)
    assert [c["number"] for c in mine.json()] == [filed["number"]]
    assert (
        client.get("/api/v1/citizen/cases", params={"channel_identity": old}, headers=service_headers).json()
        == []
    )
    retried = client.post(
        "/api/v1/cases",
        json=payload(channel_identity=new, conversation_id=new),
        headers={**service_headers, "Idempotency-Key": f"{new}:9c1d"},
    )
    assert retried.status_code == 200 and retried.json()["case"]["number"] == filed["number"]
    session.refresh(other)
    assert other.channel_identity == "telegram-4242"
    bad = {"renames": [{"old": old, "new": new, "extra": 1}]}
    assert client.post("/api/v1/citizen/renames", json=bad, headers=service_headers).status_code == 422
