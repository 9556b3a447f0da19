"""Staff authentication, roles, sessions, password hashing and the audit log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.cases.states import Role
from backend.staff.models import AuditEntry, Staff, StaffSession
from backend.staff.service import create_staff, login
from tests.backend.conftest import PASSWORD, Staffer, unit_staff
from tests.backend.factories import make_case

PUBLIC = {
    "/health",
    "/api/v1/auth/login",
    "/api/v1/categories",
    "/api/v1/departments",
    "/api/v1/places",
    "/api/v1/routing",
    "/api/v1/knowledge",
    "/api/v1/knowledge/search",
    "/open311/v2/services.json",
    "/open311/v2/services/{service_code}.json",
    "/open311/v2/requests.json",
    "/open311/v2/requests/{service_request_id}.json",
}


def protected_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every operation in the OpenAPI document that is not public."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "2026010100001", path))
        for path, operations in paths.items()
        if path not in PUBLIC
        for method in operations
    ]


def test_every_non_public_endpoint_needs_a_valid_token(client: TestClient) -> None:
    routes = protected_routes(client)
    assert len(routes) >= 15
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
            answer = client.request(method, path, headers=headers, json={})
            assert answer.status_code == 401, (method, path, headers, answer.status_code)


def test_passwords_are_hashed_with_argon2id(session: Session, operator: Staffer) -> None:
    stored = session.scalar(select(Staff.password_hash).where(Staff.username == "operator1"))
    assert stored and stored.startswith("$argon2id$") and PASSWORD not in stored
    token_hashes = session.scalars(select(StaffSession.token_hash)).all()
    assert all(len(h) == 64 for h in token_hashes)
    assert operator.headers["Authorization"].split()[1] not in token_hashes


def test_login_logout_and_expiry(client: TestClient, session: Session, operator: Staffer) -> None:
    bad = client.post("/api/v1/auth/login", json={"username": "operator1", "password": "wrong password"})
    assert bad.status_code == 401
    unknown = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "whatever12"})
    assert unknown.status_code == 401 and unknown.json() == bad.json()
    good = client.post("/api/v1/auth/login", json={"username": "operator1", "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {good['token']}"}
    assert client.get("/api/v1/auth/me", headers=headers).json()["role"] == "operator"
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    expired, _ = login(session=session, username="operator1", password=PASSWORD, ttl=timedelta(seconds=-1))
    session.commit()
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor.in_(["operator1", "nobody"])))
    assert {"login", "login_failed", "logout"} <= set(actions)


def test_deactivated_staff_are_shut_out(
    client: TestClient, session: Session, admin: Staffer, operator: Staffer
) -> None:
    assert client.get("/api/v1/auth/me", headers=operator.headers).status_code == 200
    off = client.patch(f"/api/v1/staff/{operator.staff.id}", json={"active": False}, headers=admin.headers)
    assert off.status_code == 200
    assert client.get("/api/v1/auth/me", headers=operator.headers).status_code == 401
    assert (
        client.patch(
            f"/api/v1/staff/{admin.staff.id}", json={"active": False}, headers=admin.headers
        ).status_code
        == 422
    )
    for beyond in (2**31, 2**63):  # past the id column: a clear refusal, not a database overflow
        huge = client.patch(f"/api/v1/staff/{beyond}", json={"active": False}, headers=admin.headers)
        assert huge.status_code == 422 and "staff_id" in huge.text


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.ADMIN, True), (Role.SUPERVISOR, False), (Role.OPERATOR, False), (Role.UNIT_STAFF, False)],
)
def test_only_admins_manage_staff(client: TestClient, session: Session, role: Role, allowed: bool) -> None:
    who = Staffer(session, f"who_{role}", role, "heating" if role == Role.UNIT_STAFF else None)
    body = {
        "username": "new_operator",
        "display_name": "新接线员",
        "password": "a long password",
        "role": "operator",
    }
    answer = client.post("/api/v1/staff", json=body, headers=who.headers)
    assert answer.status_code == (201 if allowed else 403)
    assert (client.get("/api/v1/staff", headers=who.headers).status_code == 200) is allowed


@pytest.mark.parametrize(
    ("role", "can_audit", "can_stats", "can_create_case"),
    [
        (Role.OPERATOR, False, True, True),
        (Role.SUPERVISOR, True, True, False),
        (Role.UNIT_STAFF, False, True, False),
        (Role.ADMIN, True, True, True),
    ],
)
def test_each_role_reaches_what_it_should(
    client: TestClient, session: Session, role: Role, can_audit: bool, can_stats: bool, can_create_case: bool
) -> None:
    from tests.backend.factories import payload

    who = Staffer(session, f"r_{role}", role, "heating" if role == Role.UNIT_STAFF else None)
    assert (client.get("/api/v1/audit", headers=who.headers).status_code == 200) is can_audit
    assert (client.get("/api/v1/stats/rates", headers=who.headers).status_code == 200) is can_stats
    created = client.post("/api/v1/cases", json=payload(channel="phone"), headers=who.headers)
    assert (created.status_code == 201) is can_create_case


def test_every_staff_action_is_audited(
    client: TestClient, session: Session, operator: Staffer, supervisor: Staffer
) -> None:
    case = make_case(session, category_code="other", district_code=None, street_code=None)
    client.post(
        f"/api/v1/cases/{case.number}/transitions",
        json={"move": "dispatch", "lead_unit": "housing"},
        headers=operator.headers,
    )
    unit = unit_staff(session, "housing")
    client.post(
        f"/api/v1/cases/{case.number}/transitions", json={"move": "acknowledge"}, headers=unit.headers
    )
    client.post(
        f"/api/v1/cases/{case.number}/notes", json={"text": "已上门", "public": True}, headers=unit.headers
    )
    client.post(f"/api/v1/cases/{case.number}/supervise", json={"text": "抓紧"}, headers=supervisor.headers)
    trail = client.get("/api/v1/audit", params={"target": case.number}, headers=supervisor.headers).json()
    assert [(a["actor"], a["action"]) for a in reversed(trail)] == [
        ("assistant", "case.create"),
        ("operator1", "case.dispatch"),
        ("unit_housing", "case.acknowledge"),
        ("unit_housing", "case.note"),
        ("supervisor1", "case.supervise"),
    ]


def test_staff_units_and_roles_are_checked(session: Session) -> None:
    from backend.errors import BadInput

    with pytest.raises(BadInput):
        create_staff(
            session=session,
            username="u1",
            password=PASSWORD,
            display_name="x",
            role=Role.UNIT_STAFF,
            unit=None,
        )
    with pytest.raises(BadInput):
        create_staff(
            session=session,
            username="u2",
            password=PASSWORD,
            display_name="x",
            role=Role.UNIT_STAFF,
            unit="street_office:000",
        )
    with pytest.raises(BadInput):
        create_staff(
            session=session, username="u3", password="short", display_name="x", role=Role.OPERATOR, unit=None
        )
    with pytest.raises(BadInput):
        create_staff(
            session=session, username="u4", password=PASSWORD, display_name="x", role=Role.SERVICE, unit=None
        )
