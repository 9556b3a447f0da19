"""Route once per case: the conversation's routing travels into the case in codes; an unsure routing
goes to the place (属地) or waits at the hotline, and an operator picks the unit from the review queue."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.cases.models import Case
from backend.cases.schemas.intake import CaseRouting
from backend.routing import service as routing_service
from backend.staff.models import AuditEntry
from tests.backend.conftest import Staffer

WANGJING_STREET = "street_office:110105026"


def routing(**overrides: Any) -> dict[str, Any]:
    carried: dict[str, Any] = {
        "category_code": "air_pollution",
        "department_code": "ecology_environment",
        "district_code": "110105",
        "street_code": "110105026",
        "confidence": 0.72,
        "department_confidence": 0.81,
        "needs_review": False,
        "alternatives": [
            {
                "category_code": "industrial_noise",
                "department_code": "ecology_environment",
                "confidence": 0.1,
            },
            {"category_code": "cooking_fumes", "department_code": "urban_enforcement", "confidence": 0.05},
        ],
    }
    carried.update(overrides)
    return carried


def case_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "appeal_type": "complaint",
        "description": "厂子烟囱天天冒黑烟，一股刺鼻的味道",
        "address": "朝阳区望京西园三区",
        "contact_phone": "13800138001",
        "channel": "webchat",
        "channel_identity": "webchat-citizen-7",
        "routing": routing(),
    }
    body.update(overrides)
    return body


class Refuse:
    """A router that must not be asked: the case carries its routing."""

    calls = 0

    def __call__(self, text: str, address: str | None) -> CaseRouting:
        self.calls += 1
        raise AssertionError("the backend routed a case that carried its routing")


def post(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post("/api/v1/cases", json=body, headers=headers)


def test_a_case_carries_the_conversations_routing_and_is_not_routed_again(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    client.app.state.router = Refuse()  # type: ignore[attr-defined]
    answer = post(client, service_headers, case_body())
    assert answer.status_code == 201, answer.text
    case = answer.json()["case"]
    assert case["category_code"] == "air_pollution" and case["routing_confidence"] == 0.72
    assert case["department_code"] == "ecology_environment" and case["department_confidence"] == 0.81
    assert (case["district_code"], case["street_code"]) == ("110105", "110105026")
    assert case["lead_unit"]["key"] == "ecology_environment" and case["status"] == "dispatched"
    assert case["needs_review"] is False and case["review_choices"] == []
    assert [a["category_code"] for a in case["routing_alternatives"]] == ["industrial_noise", "cooking_fumes"]
    assert case["routing_alternatives"][1]["department_name"] == "北京市城市管理综合行政执法局"


def test_the_department_routing_chose_leads_not_the_one_of_its_category(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    carried = routing(category_code="price_charges", department_code="transport")
    case = post(client, service_headers, case_body(routing=carried)).json()["case"]
    assert case["lead_unit"]["key"] == "transport"


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ({"department_code": "ministry_of_magic"}, "unknown department code"),
        ({"department_code": "street_office"}, "functional department"),
        ({"category_code": "dragons"}, "unknown category code"),
        ({"street_code": "110108011"}, "not in its district"),
        ({"district_code": "999999"}, "unknown district code"),
        ({"confidence": 1.5}, "less than or equal to 1"),
        (
            {"alternatives": [{"category_code": "parks", "department_code": "nobody", "confidence": 0.1}]},
            "nobody",
        ),
    ],
)
def test_bad_routing_codes_are_refused_and_nothing_is_filed(
    client: TestClient, session: Session, service_headers: dict[str, str], bad: dict[str, Any], words: str
) -> None:
    client.app.state.router = Refuse()  # type: ignore[attr-defined]
    before = session.scalar(select(func.count()).select_from(Case))
    answer = post(client, service_headers, case_body(routing=routing(**bad)))
    assert answer.status_code == 422
    assert "routing" in answer.text and words in answer.text
    assert session.scalar(select(func.count()).select_from(Case)) == before


def test_an_unsure_routing_goes_to_the_street_and_an_operator_picks_the_unit(
    client: TestClient, session: Session, service_headers: dict[str, str], operator: Staffer
) -> None:
    unsure = routing(needs_review=True, department_confidence=0.09)
    case = post(client, service_headers, case_body(routing=unsure)).json()["case"]
    assert case["status"] == "dispatched" and case["lead_unit"]["key"] == WANGJING_STREET  # 属地
    assert case["needs_review"] is True
    choices = [c["key"] for c in case["review_choices"]]
    assert choices == ["ecology_environment", "urban_enforcement", WANGJING_STREET]
    queue = client.get("/api/v1/cases", params={"needs_review": True}, headers=operator.headers).json()
    assert [c["number"] for c in queue] == [case["number"]]

    picked = client.post(
        f"/api/v1/cases/{case['number']}/transitions",
        json={"move": "dispatch", "lead_unit_code": "urban_enforcement"},
        headers=operator.headers,
    )
    assert picked.status_code == 200, picked.text
    after = picked.json()
    assert after["lead_unit"]["key"] == "urban_enforcement" and after["status"] == "dispatched"
    assert after["needs_review"] is False and after["review_choices"] == []
    assert after["timeline"][-1]["note"] == "派至北京市城市管理综合行政执法局"
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.target == case["number"], AuditEntry.action == "case.dispatch")
    ).all()
    assert [(a.actor, a.detail.get("unit"), a.detail.get("reviewed")) for a in audit] == [
        (operator.principal.name, "urban_enforcement", True)
    ]
    assert client.get("/api/v1/cases", params={"needs_review": True}, headers=operator.headers).json() == []


def test_an_unsure_routing_without_a_place_waits_at_the_hotline_dispatch_desk(
    client: TestClient, service_headers: dict[str, str], operator: Staffer
) -> None:
    unsure = routing(needs_review=True, district_code=None, street_code=None)
    case = post(client, service_headers, case_body(address=None, routing=unsure)).json()["case"]
    assert case["status"] == "accepted" and case["lead_unit"] is None and case["needs_review"] is True
    assert [c["key"] for c in case["review_choices"]] == ["ecology_environment", "urban_enforcement"]
    picked = client.post(
        f"/api/v1/cases/{case['number']}/transitions",
        json={"move": "dispatch", "lead_unit_code": "ecology_environment"},
        headers=operator.headers,
    ).json()
    assert picked["status"] == "dispatched" and picked["needs_review"] is False


def test_an_operator_who_chooses_the_category_leaves_nothing_to_review(
    client: TestClient, operator: Staffer
) -> None:
    unsure = routing(needs_review=True)
    body = case_body(routing=unsure, category_code="cooking_fumes", channel="phone")
    case = post(client, operator.headers, body).json()["case"]
    assert case["category_code"] == "cooking_fumes" and case["needs_review"] is False
    assert case["lead_unit"]["key"] == "urban_enforcement"


def test_a_case_without_routing_is_routed_once_by_the_backend(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    asked: list[str] = []

    def router(text: str, address: str | None) -> CaseRouting:
        asked.append(text)
        return CaseRouting.model_validate(routing(needs_review=True, department_confidence=0.05))

    client.app.state.router = router  # type: ignore[attr-defined]
    case = post(client, service_headers, case_body(routing=None, channel="phone")).json()["case"]
    assert asked == ["厂子烟囱天天冒黑烟，一股刺鼻的味道"]
    assert case["needs_review"] is True and case["lead_unit"]["key"] == WANGJING_STREET


@pytest.mark.parametrize("threshold", [0.0, 1.01])
def test_the_routing_api_says_when_it_is_unsure_and_sends_such_a_case_to_its_place(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, threshold: float
) -> None:
    monkeypatch.setattr(routing_service, "REVIEW_BELOW", threshold)
    body = client.post(
        "/api/v1/routing", json={"text": "工厂排放的废气味道很大", "address": "朝阳区望京西园三区"}
    ).json()
    unsure = threshold > 1
    assert body["needs_review"] is unsure
    if unsure:
        assert body["dispatch_to"] == {
            "kind": "street_office",
            "code": WANGJING_STREET,
            "name": "朝阳区望京街道办事处",
        }
    else:
        assert body["dispatch_to"]["kind"] == "department"
