"""The three rates (三率) by their definitions, and hotspots against the previous period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.cases.ratings import rate_case
from backend.cases.schemas.ratings import RatingIn
from backend.cases.states import Move
from backend.cases.transitions import transition
from backend.staff.principal import SYSTEM
from tests.backend.conftest import Staffer, unit_staff
from tests.backend.factories import ZHONGGUANCUN, make_case

DAY = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def handled(
    session: Session, *, ack_after: timedelta | None, rating: tuple[bool, str] | None, **overrides: object
):  # type: ignore[no-untyped-def]
    case = make_case(session, now=DAY, **overrides)
    if ack_after is not None:
        transition(session=session, case=case, move=Move.ACKNOWLEDGE, principal=SYSTEM, now=DAY + ack_after)
    if rating is not None:
        at = DAY + timedelta(days=1)
        transition(session=session, case=case, move=Move.RESOLVE, principal=SYSTEM, reply="已处理", now=at)
        resolved, satisfaction = rating
        rate_case(
            session=session,
            case=case,
            principal=SYSTEM,
            rating_in=RatingIn(resolved=resolved, satisfaction=satisfaction),
            now=at,
        )
    session.commit()
    return case


def test_three_rates_follow_their_definitions(
    client: TestClient, session: Session, supervisor: Staffer
) -> None:
    # general cases: response window 24 h after dispatch
    handled(session, ack_after=timedelta(hours=2), rating=(True, "satisfied"))
    handled(session, ack_after=timedelta(hours=3), rating=(True, "basically_satisfied"))
    handled(session, ack_after=timedelta(hours=30), rating=(False, "dissatisfied"))  # late response
    handled(session, ack_after=None, rating=None)  # never acknowledged, window long gone
    handled(session, ack_after=timedelta(hours=1), rating=None, category_code="heating_not_warm")
    answer = client.get(
        "/api/v1/stats/rates", params={"start": "2026-06-10", "end": "2026-06-10"}, headers=supervisor.headers
    )
    row = answer.json()["rows"][0]
    assert row["accepted"] == 5 and row["due_for_response"] == 5 and row["responded"] == 3
    assert row["rated"] == 3 and row["rated_resolved"] == 2
    assert row["rates"] == {"response_rate": 0.6, "resolution_rate": 0.6667, "satisfaction_rate": 0.6667}
    # the dissatisfied case was reopened, so its latest rating is its only one
    by_unit = client.get(
        "/api/v1/stats/rates",
        params={"start": "2026-06-10", "end": "2026-06-10", "group_by": "unit"},
        headers=supervisor.headers,
    ).json()
    names = {r["name"]: r for r in by_unit["rows"]}
    assert names["北京市热力集团及供热单位"]["rates"]["response_rate"] == 1.0
    assert names["北京市热力集团及供热单位"]["rates"]["satisfaction_rate"] is None
    assert names["北京市城市管理综合行政执法局"]["accepted"] == 4


def test_rates_group_by_district_and_category_and_units_see_only_their_own(
    client: TestClient, session: Session, supervisor: Staffer
) -> None:
    handled(session, ack_after=timedelta(hours=1), rating=(True, "satisfied"))
    handled(
        session,
        ack_after=timedelta(hours=1),
        rating=(True, "satisfied"),
        category_code="heating_not_warm",
        **ZHONGGUANCUN,
    )
    params = {"start": "2026-06-10", "end": "2026-06-10", "group_by": "district"}
    districts = client.get("/api/v1/stats/rates", params=params, headers=supervisor.headers).json()["rows"]
    assert sorted(r["name"] for r in districts) == ["朝阳区", "海淀区"]
    params["group_by"] = "category"
    categories = client.get("/api/v1/stats/rates", params=params, headers=supervisor.headers).json()["rows"]
    assert sorted(r["name"] for r in categories) == ["供暖不热", "餐饮油烟"]
    unit = unit_staff(session, "heating")
    own = client.get(
        "/api/v1/stats/rates", params={**params, "group_by": "unit"}, headers=unit.headers
    ).json()
    assert [r["key"] for r in own["rows"]] == ["heating"]


def test_a_period_is_checked(client: TestClient, supervisor: Staffer) -> None:
    backwards = client.get(
        "/api/v1/stats/rates", params={"start": "2026-06-10", "end": "2026-06-01"}, headers=supervisor.headers
    )
    assert backwards.status_code == 422
    too_long = client.get(
        "/api/v1/stats/rates", params={"start": "2024-01-01", "end": "2026-06-01"}, headers=supervisor.headers
    )
    assert too_long.status_code == 422
    assert (
        client.get(
            "/api/v1/stats/rates", params={"group_by": "weather"}, headers=supervisor.headers
        ).status_code
        == 422
    )


def test_hotspots_are_rising_category_and_place_combinations(
    client: TestClient, session: Session, supervisor: Staffer
) -> None:
    june = datetime(2026, 6, 15, 4, tzinfo=UTC)
    may = june - timedelta(days=30)
    make_case(session, now=may)  # fumes in Wangjing: 1 before, 4 now
    for day in range(4):
        make_case(session, now=june + timedelta(days=day), address=f"望京西园{day + 1}区")
    for when in (may, may, may, june, june, june):  # heating in Zhongguancun: steady at 3
        make_case(session, now=when, category_code="heating_not_warm", **ZHONGGUANCUN)
    for day in range(3):  # street lights, new this month
        make_case(session, now=june + timedelta(days=day), category_code="street_lights", **ZHONGGUANCUN)
    spots = client.get(
        "/api/v1/stats/hotspots",
        params={"start": "2026-06-01", "end": "2026-06-30"},
        headers=supervisor.headers,
    ).json()["hotspots"]
    found = {(h["category_code"], h["street"]): (h["count"], h["previous"]) for h in spots}
    assert found == {("cooking_fumes", "望京街道"): (4, 1), ("street_lights", "中关村街道"): (3, 0)}
    assert spots[0]["category_code"] == "cooking_fumes"
