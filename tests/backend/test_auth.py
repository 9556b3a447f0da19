"""Staff authentication, roles, sessions, password hashing and the audit log."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from backend.app import create_app
from backend.deps import CLIENT_ADDRESS_HEADER as CLIENT
from backend.errors import TooManyAttempts
from backend.settings import BackendSettings
from backend.staff import throttle
from backend.staff.models import AuditEntry, LoginThrottle, Staff, StaffSession
from backend.staff.roles import Role
from backend.staff.service import create_staff, login, token_digest
from backend.staff.throttle import ACCOUNT
from common.limits import RateLimiter
from tests.backend.conftest import PASSWORD, SERVICE_TOKEN, Staffer, at_once, unit_staff
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
    "/open311/discovery.{format}",
    "/open311/v2/discovery.{format}",
    "/open311/v2/services.{format}",
    "/open311/v2/services/{service_code}.{format}",
    "/open311/v2/requests.{format}",
    "/open311/v2/requests/{service_request_id}.{format}",
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


def test_production_serves_no_api_documentation_and_health_says_only_up(
    client: TestClient, settings: BackendSettings, session: Session
) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 200, path  # development and tests keep them
    production = create_app(settings.model_copy(update={"jiesu_env": "production"}))
    production.state.sessions = lambda: session
    public = TestClient(production)
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        assert public.get(path).status_code == 404, path
    assert public.get("/health").json() == {"status": "ok"}


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
    expired, _ = login(
        session=session, username="operator1", password=PASSWORD, address="test", ttl=timedelta(seconds=-1)
    )
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
        json={"move": "dispatch", "lead_unit_code": "housing"},
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
            unit_code=None,
        )
    with pytest.raises(BadInput):
        create_staff(
            session=session,
            username="u2",
            password=PASSWORD,
            display_name="x",
            role=Role.UNIT_STAFF,
            unit_code="street_office:000",
        )
    with pytest.raises(BadInput):
        create_staff(
            session=session,
            username="u3",
            password="short",
            display_name="x",
            role=Role.OPERATOR,
            unit_code=None,
        )
    with pytest.raises(BadInput):
        create_staff(
            session=session,
            username="u4",
            password=PASSWORD,
            display_name="x",
            role=Role.SERVICE,
            unit_code=None,
        )


def login_from(client: TestClient, username: str, password: str, **headers: str) -> Response:
    return client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}, headers=headers
    )


def test_thirty_wrong_passwords_then_the_right_one_is_refused(
    client: TestClient, session: Session, operator: Staffer
) -> None:
    for _ in range(30):
        assert login_from(client, "operator1", "wrong password").status_code in (401, 429)
    right = login_from(client, "operator1", PASSWORD)
    assert right.status_code == 429 and "锁定" in right.json()["detail"]
    locks = session.scalars(select(AuditEntry).where(AuditEntry.action == "login_locked")).all()
    assert {(a.target, a.detail["scope"]) for a in locks} == {
        ("operator1", "account"),
        ("testclient", "address"),
    }


def test_an_account_locks_whatever_the_address_and_a_new_password_lifts_it(
    client: TestClient, session: Session, operator: Staffer, supervisor: Staffer, admin: Staffer
) -> None:
    gateway = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    for i in range(ACCOUNT.limit):
        wrong = login_from(client, "operator1", "wrong password", **gateway, **{CLIENT: f"198.51.100.{i}"})
        assert wrong.status_code == 401
    right = login_from(client, "operator1", PASSWORD, **gateway, **{CLIENT: "198.51.100.99"})
    assert right.status_code == 429 and right.json()["detail"].startswith("该账号密码错误次数过多")
    assert (
        login_from(client, "supervisor1", PASSWORD, **gateway, **{CLIENT: "198.51.100.1"}).status_code == 200
    )
    new_password = "a brand new password"
    changed = client.patch(
        f"/api/v1/staff/{operator.staff.id}", json={"password": new_password}, headers=admin.headers
    )
    assert changed.status_code == 200
    assert (
        login_from(client, "operator1", new_password, **gateway, **{CLIENT: "198.51.100.2"}).status_code
        == 200
    )


def test_an_address_locks_only_itself_and_only_the_gateway_may_name_one(
    client: TestClient, session: Session, operator: Staffer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "ADDRESS", replace(throttle.ADDRESS, limit=4))  # fewer slow hashes
    gateway = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    for i in range(throttle.ADDRESS.limit):  # one address trying many accounts
        assert (
            login_from(client, f"nobody{i}", "guess", **gateway, **{CLIENT: "203.0.113.9"}).status_code == 401
        )
    locked = login_from(client, "operator1", PASSWORD, **gateway, **{CLIENT: "203.0.113.9"})
    assert locked.status_code == 429 and locked.json()["detail"].startswith("本机")
    # the gateway's own address is not what counts: another client behind it logs in
    assert login_from(client, "operator1", PASSWORD, **gateway, **{CLIENT: "203.0.113.10"}).status_code == 200
    # without the service token the header is ignored: a direct caller is counted by its own address
    for i in range(throttle.ADDRESS.limit):
        assert login_from(client, f"nobody{i}", "guess", **{CLIENT: f"192.0.2.{i}"}).status_code == 401
    assert login_from(client, "operator1", PASSWORD, **{CLIENT: "192.0.2.200"}).status_code == 429


def test_concurrent_wrong_passwords_are_all_counted(engine: Engine) -> None:
    """Eight wrong passwords at once from eight addresses: five are checked, the rest refused."""
    sessions = sessionmaker(engine, expire_on_commit=False)
    name = f"racer_{engine.dialect.name}"
    with sessions() as session:
        create_staff(
            session=session,
            username=name,
            password=PASSWORD,
            display_name=name,
            role=Role.OPERATOR,
            unit_code=None,
        )
        session.commit()

    def attempt(i: int) -> None:
        with sessions() as session:
            login(session=session, username=name, password="wrong", address=f"10.0.0.{i}", ttl=timedelta(1))

    outcomes = at_once(attempt, 8)
    try:
        assert outcomes == ["TooManyAttempts"] * 3 + ["Unauthorized"] * ACCOUNT.limit
        with sessions() as session, pytest.raises(TooManyAttempts):
            login(session=session, username=name, password=PASSWORD, address="10.0.1.1", ttl=timedelta(1))
    finally:
        with sessions() as session:
            session.execute(delete(LoginThrottle))
            session.execute(delete(AuditEntry).where(AuditEntry.actor == name))
            session.execute(delete(Staff).where(Staff.username == name))
            session.commit()


def test_a_new_password_or_deactivation_ends_the_old_sessions(
    client: TestClient, session: Session, operator: Staffer, admin: Staffer, service_headers: dict[str, str]
) -> None:
    second = login_from(client, "operator1", PASSWORD).json()["token"]
    new_password = "another long password"
    patched = client.patch(
        f"/api/v1/staff/{operator.staff.id}", json={"password": new_password}, headers=admin.headers
    )
    assert patched.status_code == 200
    for old in (operator.headers, {"Authorization": f"Bearer {second}"}):
        assert client.get("/api/v1/auth/me", headers=old).status_code == 401
    fresh = login_from(client, "operator1", new_password).json()["token"]
    # an admin setting their own password keeps the session they are using
    mine = client.patch(
        f"/api/v1/staff/{admin.staff.id}", json={"password": new_password}, headers=admin.headers
    )
    assert mine.status_code == 200 and client.get("/api/v1/auth/me", headers=admin.headers).status_code == 200

    def active(*tokens: str) -> set[str]:
        digests = [token_digest(t) for t in tokens]
        answer = client.post(
            "/api/v1/auth/sessions/active", json={"token_hashes": digests}, headers=service_headers
        )
        assert answer.status_code == 200
        return set(answer.json()["token_hashes"])

    assert active(second, fresh) == {token_digest(fresh)}
    off = client.patch(f"/api/v1/staff/{operator.staff.id}", json={"active": False}, headers=admin.headers)
    assert off.status_code == 200 and active(fresh) == set()
    assert all(
        s.revoked
        for s in session.scalars(select(StaffSession).where(StaffSession.staff_id == operator.staff.id))
    )
    asked_by_staff = client.post(
        "/api/v1/auth/sessions/active",
        json={"token_hashes": []},
        headers={"Authorization": f"Bearer {fresh}"},
    )
    assert asked_by_staff.status_code == 401
    not_a_digest = client.post(
        "/api/v1/auth/sessions/active", json={"token_hashes": ["x"]}, headers=service_headers
    )
    assert not_a_digest.status_code == 422


def test_operators_behind_one_address_have_their_own_rate(
    client: TestClient, session: Session, operator: Staffer, supervisor: Staffer
) -> None:
    client.app.state.routing_limiter = RateLimiter(limit=3)  # type: ignore[attr-defined]

    def ask(headers: dict[str, str]) -> int:
        return client.get(
            "/api/v1/knowledge/search", params={"q": "暖气不热找谁"}, headers=headers
        ).status_code

    assert [ask(operator.headers) for _ in range(4)] == [200, 200, 200, 429]
    assert ask(supervisor.headers) == 200  # the same address, another operator
    assert [ask({}) for _ in range(4)] == [200, 200, 200, 429]  # anonymous callers: per address
    assert ask({"Authorization": "Bearer not-a-token"}) == 429
