"""The 接-派-办-评 lifecycle through the API: every move checked, stamped and on the timeline."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.cases.models import Case
from backend.cases.transitions import archive_due
from backend.staff.models import AuditEntry
from common.database import utcnow
from tests.backend.conftest import Staffer, unit_staff
from tests.backend.factories import make_case, payload

URBAN = "urban_enforcement"


def move(client: TestClient, number: str, who: Staffer, move: str, **extra: object):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/cases/{number}/transitions", json={"move": move, **extra}, headers=who.headers
    )


def test_a_case_goes_through_its_whole_life(
    client: TestClient, session: Session, service_headers: dict[str, str], operator: Staffer
) -> None:
    created = client.post("/api/v1/cases", json=payload(), headers=service_headers)
    assert created.status_code == 201
    case = created.json()["case"]
    number = case["number"]
    assert case["status"] == "dispatched" and case["lead_unit"]["key"] == URBAN
    assert case["dispatched_at"] and case["due_at"]

    unit = unit_staff(session, URBAN)
    assert move(client, number, unit, "acknowledge").json()["acknowledged_at"]
    assert move(client, number, unit, "start").json()["status"] == "in_progress"
    resolved = move(client, number, unit, "resolve", reply="已约谈商户，加装油烟净化设备").json()
    assert resolved["status"] == "resolved" and resolved["reply"].startswith("已约谈")

    rated = client.post(
        f"/api/v1/cases/{number}/rating",
        json={"resolved": True, "satisfaction": "satisfied", "channel_identity": "webchat-citizen-1"},
        headers=service_headers,
    ).json()
    assert rated["status"] == "rated" and rated["ratings"][0]["satisfaction_label"] == "满意"

    closed = move(client, number, operator, "close").json()
    assert closed["status"] == "closed" and closed["closed_at"]
    kinds = [entry["kind"] for entry in closed["timeline"]]
    assert kinds == ["accept", "dispatch", "acknowledge", "start", "resolve", "rate", "close"]
    assert [e["to_status"] for e in closed["timeline"][1:]] == [
        "dispatched",
        "acknowledged",
        "in_progress",
        "resolved",
        "rated",
        "closed",
    ]
    audited = session.scalars(select(AuditEntry.action).where(AuditEntry.target == number)).all()
    assert {
        "case.create",
        "case.acknowledge",
        "case.start",
        "case.resolve",
        "case.rate",
        "case.close",
    } <= set(audited)


def test_moves_the_lifecycle_does_not_allow_are_refused_and_change_nothing(
    client: TestClient, session: Session
) -> None:
    case = make_case(session)
    unit = unit_staff(session, URBAN)
    refused = move(client, case.number, unit, "resolve", reply="好了")
    assert refused.status_code == 409 and "已派单" in refused.json()["detail"]
    assert move(client, case.number, unit, "start").status_code == 409
    session.refresh(case)
    assert case.status == "dispatched" and case.resolved_at is None
    assert [u.kind for u in case.updates] == ["accept", "dispatch"]


def test_only_the_lead_unit_handles_a_case(client: TestClient, session: Session) -> None:
    case = make_case(session)
    other = unit_staff(session, "housing")
    assert move(client, case.number, other, "acknowledge").status_code == 404
    assert client.get(f"/api/v1/cases/{case.number}", headers=other.headers).status_code == 404


def test_a_returned_case_is_redispatched_by_the_hotline_and_keeps_its_history(
    client: TestClient, session: Session, operator: Staffer
) -> None:
    case = make_case(session)
    unit = unit_staff(session, URBAN)
    assert move(client, case.number, unit, "return").status_code == 422  # a reason is required
    returned = move(client, case.number, unit, "return", reason="非我单位职责，应由物业处理").json()
    assert returned["status"] == "returned" and returned["return_count"] == 1
    assert move(client, case.number, unit, "acknowledge").status_code == 409
    again = move(
        client,
        case.number,
        operator,
        "dispatch",
        lead_unit_code="street_office:110105026",
        co_unit_codes=["housing"],
    ).json()
    assert again["status"] == "dispatched"
    assert again["lead_unit"]["name"] == "朝阳区望京街道办事处"
    assert [u["key"] for u in again["co_units"]] == ["housing"]
    assert [e["kind"] for e in again["timeline"]][-2:] == ["return", "dispatch"]
    assert again["timeline"][-2]["note"] == "非我单位职责，应由物业处理"
    # the old unit no longer reads the case nor acts on it (its own entries stay); the new lead can
    assert client.get(f"/api/v1/cases/{case.number}", headers=unit.headers).status_code == 404
    assert case.number not in [c["number"] for c in client.get("/api/v1/cases", headers=unit.headers).json()]
    assert move(client, case.number, unit, "acknowledge").status_code == 404
    note = client.post(f"/api/v1/cases/{case.number}/notes", json={"text": "补充"}, headers=unit.headers)
    assert note.status_code == 404
    audit = session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.target == case.number, AuditEntry.actor == unit.principal.name
        )
    )
    assert list(audit) == ["case.return"]
    street = unit_staff(session, "street_office:110105026")
    assert move(client, case.number, street, "acknowledge").status_code == 200
    co_unit = unit_staff(session, "housing")
    assert client.get(f"/api/v1/cases/{case.number}", headers=co_unit.headers).status_code == 200


def test_a_consultation_answered_on_the_spot_is_resolved_at_acceptance(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    body = payload(
        appeal_type="consultation",
        category_code="heating_fees",
        description="请问今年供暖费什么时候开始交",
        answer="供暖费一般在11月15日供暖前缴纳，可通过热力公司App缴费。",
    )
    case = client.post("/api/v1/cases", json=body, headers=service_headers).json()["case"]
    assert case["status"] == "resolved" and case["lead_unit"] is None
    assert [e["kind"] for e in case["timeline"]] == ["accept", "resolve_on_spot"]
    complaint = payload(answer="不能直接办结投诉")
    assert client.post("/api/v1/cases", json=complaint, headers=service_headers).status_code == 422


def test_rated_cases_are_archived_after_three_days(session: Session) -> None:
    from backend.cases.ratings import rate_case
    from backend.cases.schemas.ratings import RatingIn
    from backend.cases.states import Move
    from backend.cases.transitions import transition
    from backend.staff.principal import SYSTEM

    start = utcnow() - timedelta(days=10)
    case = make_case(session, now=start)
    for step in (Move.ACKNOWLEDGE, Move.START):
        transition(session=session, case=case, move=step, principal=SYSTEM, now=start)
    transition(session=session, case=case, move=Move.RESOLVE, principal=SYSTEM, reply="已处理", now=start)
    rate_case(
        session=session,
        case=case,
        principal=SYSTEM,
        rating_in=RatingIn(resolved=True, satisfaction="basically_satisfied"),
        now=start,
    )
    fresh = make_case(session)
    assert archive_due(session=session) == 1
    assert case.status == "closed" and fresh.status == "dispatched"
    assert session.scalar(select(func.count()).select_from(Case).where(Case.status == "closed")) == 1
