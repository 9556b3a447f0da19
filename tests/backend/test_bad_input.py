"""Bad input anywhere gets a clear 4xx and changes nothing; migrations build the schema from empty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session

from backend.cases.models import Case, CaseUpdate
from backend.db import Base
from tests.backend.conftest import Staffer
from tests.backend.factories import make_case, payload


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"description": ""}, "description"),
        ({"description": "   "}, "description"),
        ({"description": "很长" * 2001}, "description"),  # 4,000 at most, the Open311 limit
        ({"category_code": "weather"}, "unknown category code"),
        ({"district_code": "999999"}, "unknown district code"),
        ({"street_code": "110108011"}, "street_code is not in district_code"),
        ({"contact_phone": "12345"}, "mainland mobile"),
        ({"contact_phone": None}, "contact_phone is required"),
        ({"anonymous": True}, "anonymous"),
        ({"confidential": True}, "report"),
        ({"latitude": 91, "longitude": 116}, "latitude"),
        ({"latitude": 39.9}, "latitude and longitude"),
        ({"occurred_at": "2099-01-01T00:00:00+08:00"}, "future"),
        ({"occurred_at": "2026-01-01T00:00:00"}, "timezone"),
        ({"appeal_type": "gossip"}, "appeal_type"),
        ({"channel": "pigeon"}, "channel"),
        ({"attachments": [{"kind": "photo", "ref": ""}]}, "attachments"),
        ({"attachments": [{"kind": "photo", "ref": f"f{i}"} for i in range(11)]}, "attachments"),
        ({"unexpected": 1}, "unexpected"),
        ({"lead_unit_code": "street_office:1"}, "street office"),
    ],
)
def test_bad_case_input_is_refused_clearly_and_writes_nothing(
    client: TestClient,
    session: Session,
    service_headers: dict[str, str],
    change: dict[str, object],
    fragment: str,
) -> None:
    body = {**payload(), **change}
    body = {k: v for k, v in body.items() if v is not None}
    answer = client.post("/api/v1/cases", json=body, headers=service_headers)
    assert answer.status_code == 422, answer.text
    assert fragment in answer.json()["detail"]
    assert session.scalar(select(func.count()).select_from(Case)) == 0
    assert session.scalar(select(func.count()).select_from(CaseUpdate)) == 0


def test_malformed_and_oversized_bodies(client: TestClient, service_headers: dict[str, str]) -> None:
    headers = {**service_headers, "Content-Type": "application/json"}
    assert client.post("/api/v1/cases", content=b"{not json", headers=headers).status_code == 422
    assert client.post("/api/v1/cases", content=b"[]", headers=headers).status_code == 422
    huge = b'{"description": "' + b"x" * 300_000 + b'"}'
    too_big = client.post("/api/v1/cases", content=huge, headers=headers)
    assert too_big.status_code == 413 and "too large" in too_big.json()["detail"]


def test_a_chunked_body_is_bounded_too_and_nothing_is_stored(
    client: TestClient, session: Session, service_headers: dict[str, str]
) -> None:
    def chunked(megabytes: int) -> Iterator[bytes]:
        yield b'{"description": "'
        for _ in range(megabytes * 16):
            yield "很".encode() * 20_000
        yield b'"}'

    headers = {**service_headers, "Content-Type": "application/json"}
    answer = client.post("/api/v1/cases", content=chunked(5), headers=headers)
    assert answer.status_code == 413 and "too large" in answer.json()["detail"]
    public = client.post("/open311/v2/requests.json", content=chunked(1))
    assert public.status_code == 413 and "too large" in public.json()[0]["description"]
    assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_bad_transitions_and_queries(client: TestClient, session: Session, operator: Staffer) -> None:
    case = make_case(session)
    path = f"/api/v1/cases/{case.number}/transitions"
    assert client.post(path, json={"move": "teleport"}, headers=operator.headers).status_code == 422
    assert (
        client.post(path, json={"move": "close", "note": "x" * 1001}, headers=operator.headers).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/cases/nope/transitions", json={"move": "close"}, headers=operator.headers
        ).status_code
        == 404
    )
    assert client.get("/api/v1/cases", params={"limit": 0}, headers=operator.headers).status_code == 422
    assert client.get("/api/v1/cases", params={"status": "lost"}, headers=operator.headers).status_code == 422
    session.refresh(case)
    assert case.status == "dispatched" and len(case.updates) == 2


def test_migrations_create_exactly_the_models_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    assert differences == []
    assert {
        "cases",
        "case_updates",
        "case_assignments",
        "ratings",
        "case_links",
        "case_counters",
        "staff",
        "staff_sessions",
        "audit_log",
        "open311_keys",
        "alembic_version",
    } <= tables


def test_the_assistant_cannot_choose_units_and_nothing_is_written(
    client: TestClient, session: Session, service_headers: dict[str, str]
) -> None:
    answer = client.post("/api/v1/cases", json=payload(lead_unit_code="housing"), headers=service_headers)
    assert answer.status_code == 403
    assert session.scalar(select(func.count()).select_from(Case)) == 0
