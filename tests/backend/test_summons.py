"""吹哨报到: a street leading a case summons departments, which check in (报到) in time; who may do
what, who sees the case while, the timeline and audit, the overdue alert, and 报到率."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.cases.alerts import raise_alerts
from backend.cases.models import AlertKind, Case, CaseAlert, Summons
from backend.cases.states import Move
from backend.cases.transitions import transition
from backend.staff.models import AuditEntry
from tests.backend.conftest import Staffer, unit_staff
from tests.backend.factories import make_case

WANGJING_OFFICE = "street_office:110105026"  # 朝阳区望京街道办事处


def street_case(session: Session, **overrides: object) -> Case:
    """An illegal extension in 望京: a territorial matter, led by the street office."""
    case = make_case(
        session,
        category_code="illegal_construction",
        description="小区一楼住户把院子圈起来盖了个彩钢房，还往外扩了两米",
        **overrides,
    )
    assert case.lead_unit_code == WANGJING_OFFICE
    return case


def summon(
    client: TestClient,
    street: Staffer,
    number: str,
    departments: list[str],
    reason: str = "需执法和规划部门到场",
):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/cases/{number}/summonses",
        json={"department_codes": departments, "reason": reason},
        headers=street.headers,
    )


def test_the_lead_street_summons_and_the_departments_find_and_read_the_case(
    client: TestClient, session: Session
) -> None:
    case = street_case(session)
    street = unit_staff(session, WANGJING_OFFICE)
    enforcement, planning = unit_staff(session, "urban_enforcement"), unit_staff(session, "planning")
    housing = unit_staff(session, "housing")
    assert client.get(f"/api/v1/cases/{case.number}", headers=enforcement.headers).status_code == 404
    answer = summon(client, street, case.number, ["urban_enforcement", "planning"])
    assert answer.status_code == 201, answer.text
    summonses = answer.json()["summonses"]
    assert [s["department_code"] for s in summonses] == ["urban_enforcement", "planning"]
    assert all(s["open"] and not s["overdue"] and s["checked_in_at"] is None for s in summonses)
    due = datetime.fromisoformat(summonses[0]["due_at"]) - datetime.fromisoformat(summonses[0]["summoned_at"])
    assert due == timedelta(hours=24)  # SUMMONS_HOURS by default
    for department in (enforcement, planning):
        queue = client.get("/api/v1/cases", headers=department.headers).json()
        assert [c["number"] for c in queue] == [case.number]
        assert client.get(f"/api/v1/cases/{case.number}", headers=department.headers).status_code == 200
        waiting = client.get("/api/v1/summonses", params={"state": "unanswered"}, headers=department.headers)
        assert [s["number"] for s in waiting.json()] == [case.number]
    assert client.get(f"/api/v1/cases/{case.number}", headers=housing.headers).status_code == 404
    assert client.get("/api/v1/summonses", headers=housing.headers).json() == []
    detail = client.get(f"/api/v1/cases/{case.number}", headers=street.headers).json()
    summon_entry = [u for u in detail["timeline"] if u["kind"] == "summon"]
    assert len(summon_entry) == 1 and "城市管理综合行政执法局" in summon_entry[0]["note"]
    assert not summon_entry[0]["public"]
    assert detail["co_units"] == []  # summoned departments are not co-handlers of the dispatch
    audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "case.summon"))
    assert audit is not None and audit.target == case.number and audit.actor == street.principal.name


def test_only_the_lead_street_may_summon(
    client: TestClient, session: Session, operator: Staffer, supervisor: Staffer
) -> None:
    case = street_case(session)
    other_street = unit_staff(session, "street_office:110108011")
    enforcement = unit_staff(session, "urban_enforcement")
    assert summon(client, operator, case.number, ["planning"]).status_code == 403
    assert summon(client, supervisor, case.number, ["planning"]).status_code == 403
    assert summon(client, other_street, case.number, ["planning"]).status_code == 404  # not its case
    department_case = make_case(session)  # cooking fumes: led by urban_enforcement, a department
    assert summon(client, enforcement, department_case.number, ["planning"]).status_code == 409
    assert session.scalars(select(Summons)).all() == []
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "case.summon")) is None


def test_a_bad_summons_is_refused_and_changes_nothing(client: TestClient, session: Session) -> None:
    case = street_case(session)
    street = unit_staff(session, WANGJING_OFFICE)
    for departments in ([], ["no_such"], ["street_office"], ["district_government"], ["planning"] * 9):
        assert summon(client, street, case.number, departments).status_code == 422, departments
    assert summon(client, street, case.number, ["planning"], reason=" ").status_code == 422
    assert summon(client, street, case.number, ["planning"]).status_code == 201
    again = summon(client, street, case.number, ["planning", "housing"])
    assert again.status_code == 409  # planning's summons is still open
    assert [s.department_code for s in session.scalars(select(Summons))] == ["planning"]


def test_the_summoned_department_checks_in_once(client: TestClient, session: Session) -> None:
    case = street_case(session)
    street = unit_staff(session, WANGJING_OFFICE)
    enforcement, planning = unit_staff(session, "urban_enforcement"), unit_staff(session, "planning")
    made = summon(client, street, case.number, ["urban_enforcement", "planning"]).json()["summonses"]
    url = f"/api/v1/cases/{case.number}/summonses/{made[0]['id']}/check-in"
    body = {"text": "明天上午派执法队到现场核查，确属违建的依法拆除"}
    assert client.post(url, json=body, headers=planning.headers).status_code == 403  # not its summons
    assert client.post(url, json=body, headers=street.headers).status_code == 403
    answer = client.post(url, json=body, headers=enforcement.headers)
    assert answer.status_code == 200, answer.text
    checked = answer.json()["summonses"][0]
    assert checked["checked_in_at"] and not checked["late"] and checked["check_in"] == body["text"]
    assert [u["kind"] for u in answer.json()["timeline"]][-2:] == ["summon", "check_in"]
    assert client.post(url, json=body, headers=enforcement.headers).status_code == 409
    missing = f"/api/v1/cases/{case.number}/summonses/999999/check-in"
    assert client.post(missing, json=body, headers=enforcement.headers).status_code == 404
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target == case.number))
    assert list(actions).count("case.check_in") == 1


def test_a_summons_closes_with_the_case_and_the_department_no_longer_reads_it(
    client: TestClient, session: Session
) -> None:
    case = street_case(session)
    street = unit_staff(session, WANGJING_OFFICE)
    planning = unit_staff(session, "planning")
    summon(client, street, case.number, ["planning"])
    transition(session=session, case=case, move=Move.ACKNOWLEDGE, principal=street.principal)
    transition(session=session, case=case, move=Move.RESOLVE, principal=street.principal, reply="已拆除")
    session.commit()
    assert client.get(f"/api/v1/cases/{case.number}", headers=planning.headers).status_code == 404
    assert client.get("/api/v1/cases", headers=planning.headers).json() == []
    closed = client.get(f"/api/v1/cases/{case.number}", headers=street.headers).json()["summonses"][0]
    assert not closed["open"] and closed["close_reason"] == "resolve"
    assert client.get("/api/v1/summonses", params={"state": "all"}, headers=planning.headers).json()


def test_returning_the_case_closes_its_summonses(client: TestClient, session: Session) -> None:
    case = street_case(session)
    street = unit_staff(session, WANGJING_OFFICE)
    planning = unit_staff(session, "planning")
    summon(client, street, case.number, ["planning"])
    back = client.post(
        f"/api/v1/cases/{case.number}/transitions",
        json={"move": "return", "reason": "不属于本街道辖区"},
        headers=street.headers,
    )
    assert back.status_code == 200 and not back.json()["summonses"][0]["open"]
    assert client.get(f"/api/v1/cases/{case.number}", headers=planning.headers).status_code == 404


def test_an_overdue_summons_raises_one_alert_for_its_department(
    client: TestClient, session: Session, supervisor: Staffer
) -> None:
    start = datetime.now(UTC) - timedelta(days=2)
    case = street_case(session, now=start)
    street = unit_staff(session, WANGJING_OFFICE)
    planning, enforcement = unit_staff(session, "planning"), unit_staff(session, "urban_enforcement")
    summon(client, street, case.number, ["planning", "urban_enforcement"])
    made = session.scalars(select(Summons).order_by(Summons.id)).all()
    for summons in made:
        summons.summoned_at, summons.due_at = start, start + timedelta(hours=24)
    session.commit()
    check_in = f"/api/v1/cases/{case.number}/summonses/{made[1].id}/check-in"
    assert (
        client.post(check_in, json={"text": "已安排执法队"}, headers=enforcement.headers).status_code == 200
    )
    raised = raise_alerts(session=session, share=0.2)
    again = raise_alerts(session=session, share=0.2)
    assert (raised[AlertKind.SUMMONS_LATE], again[AlertKind.SUMMONS_LATE]) == (1, 0)
    session.commit()
    alert = session.scalar(select(CaseAlert).where(CaseAlert.kind == "summons_late"))
    assert alert is not None and alert.unit_code == "planning" and alert.summons_id == made[0].id
    mine = client.get("/api/v1/supervision/alerts", headers=planning.headers).json()
    assert [(a["kind_label"], a["number"]) for a in mine] == [("报到超时", case.number)]
    assert client.get("/api/v1/supervision/alerts", headers=enforcement.headers).json() == []
    assert [a["kind"] for a in client.get("/api/v1/supervision/alerts", headers=street.headers).json()] == [
        "summons_late"
    ]
    unanswered = client.get("/api/v1/supervision/summonses", headers=supervisor.headers).json()
    assert [(s["department_code"], s["overdue"]) for s in unanswered] == [("planning", True)]
    assert client.get("/api/v1/supervision/summonses", headers=planning.headers).status_code == 403
    timeline = client.get(f"/api/v1/cases/{case.number}", headers=street.headers).json()["timeline"]
    assert any(u["kind"] == "alert" and u["note"].startswith("报到超时提醒") for u in timeline)
    late = client.post(
        f"/api/v1/cases/{case.number}/summonses/{made[0].id}/check-in",
        json={"text": "抱歉来晚了，后天派人现场勘查"},
        headers=planning.headers,
    )
    assert late.json()["summonses"][0]["late"] is True
    assert client.get("/api/v1/supervision/alerts", headers=planning.headers).json() == []


def test_check_in_rate_per_department(client: TestClient, session: Session, supervisor: Staffer) -> None:
    now = datetime.now(UTC)
    street = unit_staff(session, WANGJING_OFFICE)
    cases = [street_case(session) for _ in range(4)]
    for case in cases:
        summon(client, street, case.number, ["planning"])
    rows = session.scalars(select(Summons).order_by(Summons.id)).all()
    day = timedelta(hours=24)
    # on time; late; never, past due (missed); never, not yet due (waiting)
    for summons, (age, answered_after) in zip(rows, [(48, 2), (48, 30), (48, None), (1, None)], strict=True):
        summons.summoned_at = now - timedelta(hours=age)
        summons.due_at = summons.summoned_at + day
        if answered_after is not None:
            summons.checked_in_at = summons.summoned_at + timedelta(hours=answered_after)
    session.commit()
    answer = client.get("/api/v1/stats/check-ins", headers=supervisor.headers).json()["rows"]
    assert answer == [
        {
            "department_code": "planning",
            "name": "北京市规划和自然资源委员会",
            "summoned": 4,
            "due": 3,
            "on_time": 1,
            "late": 1,
            "missed": 1,
            "waiting": 1,
            "check_in_rate": 0.3333,
        }
    ]
    housing = unit_staff(session, "housing")
    assert client.get("/api/v1/stats/check-ins", headers=housing.headers).json()["rows"] == []
    planning = unit_staff(session, "planning")
    assert client.get("/api/v1/stats/check-ins", headers=planning.headers).json()["rows"][0]["summoned"] == 4
