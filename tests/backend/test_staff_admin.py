"""Staff administration by admins (issue 22): accounts created, listed, deactivated and given new
passwords, and Open311 keys issued, listed without the key and revoked; every step audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import Conflict
from backend.open311.models import Open311Key
from backend.staff import service
from backend.staff.models import AuditEntry
from backend.staff.principal import CLI
from backend.staff.roles import Role
from backend.staff.schemas import StaffPatch
from tests.backend.conftest import Staffer

STAFF = "/api/v1/staff"
KEYS = "/api/v1/open311/keys"
LIGHTS = {
    "service_code": "street_lights",
    "description": "小区门口路灯坏了一个多月",
    "address_string": "望京西园",
}


def log_in(client: TestClient, username: str, password: str) -> int:
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return answer.status_code


def trail(session: Session, target: str) -> list[tuple[str, str, dict[str, object]]]:
    entries = session.scalars(select(AuditEntry).where(AuditEntry.target == target).order_by(AuditEntry.id))
    return [(e.actor, e.action, e.detail) for e in entries]


def test_an_admin_creates_deactivates_reactivates_and_resets_a_password(
    client: TestClient, session: Session, admin: Staffer
) -> None:
    body = {
        "username": "wangli",
        "display_name": "王丽",
        "password": "first long password",
        "role": "operator",
    }
    created = client.post(STAFF, json=body, headers=admin.headers)
    assert created.status_code == 201
    staff_id = created.json()["id"]
    listed = {s["username"]: s for s in client.get(STAFF, headers=admin.headers).json()}
    assert listed["wangli"] | {"id": 0} == {
        "id": 0,
        "username": "wangli",
        "display_name": "王丽",
        "role": "operator",
        "unit_code": None,
        "unit_name": None,
        "active": True,
    }
    assert log_in(client, "wangli", "first long password") == 200

    off = client.patch(f"{STAFF}/{staff_id}", json={"active": False}, headers=admin.headers)
    assert off.status_code == 200 and off.json()["active"] is False
    assert log_in(client, "wangli", "first long password") == 401
    on = client.patch(f"{STAFF}/{staff_id}", json={"active": True}, headers=admin.headers)
    assert on.json()["active"] is True and log_in(client, "wangli", "first long password") == 200

    reset = client.post(f"{STAFF}/{staff_id}/password-reset", headers=admin.headers)
    assert reset.status_code == 200 and reset.headers["cache-control"] == "no-store"
    password = reset.json()["password"]
    assert len(password) == 14 and not set(password) & set("0O1lI")
    assert log_in(client, "wangli", "first long password") == 401
    assert log_in(client, "wangli", password) == 200
    assert client.get("/api/v1/auth/me", headers=admin.headers).status_code == 200  # the admin stays in

    assert [
        (actor, action, detail) for actor, action, detail in trail(session, "wangli") if actor == "admin1"
    ] == [
        ("admin1", "staff.create", {"role": "operator", "unit": None}),
        ("admin1", "staff.update", {"active": False}),
        ("admin1", "staff.update", {"active": True}),
        ("admin1", "staff.update", {"password": "changed"}),
    ]
    every_detail = " ".join(str(d) for *_, d in trail(session, "wangli"))
    assert password not in every_detail and "first long password" not in every_detail
    assert client.post(f"{STAFF}/999999/password-reset", headers=admin.headers).status_code == 404


def test_the_last_active_admin_cannot_be_deactivated(
    client: TestClient, session: Session, admin: Staffer
) -> None:
    second = Staffer(session, "admin2", Role.ADMIN)
    assert (
        client.patch(f"{STAFF}/{second.staff.id}", json={"active": False}, headers=admin.headers).status_code
        == 200
    )
    with pytest.raises(Conflict, match="last active admin"):
        service.update_staff(
            session=session, staff=admin.staff, patch=StaffPatch(active=False), principal=CLI
        )
    assert admin.staff.active
    service.update_staff(session=session, staff=second.staff, patch=StaffPatch(active=True), principal=CLI)
    service.update_staff(session=session, staff=admin.staff, patch=StaffPatch(active=False), principal=CLI)
    assert not admin.staff.active and second.staff.active


def test_open311_keys_are_issued_once_listed_by_fingerprint_and_revoked(
    client: TestClient, session: Session, admin: Staffer
) -> None:
    issued = client.post(KEYS, params={"name": "市城管委APP"}, headers=admin.headers)
    assert issued.status_code == 201 and issued.headers["cache-control"] == "no-store"
    key = issued.json()["api_key"]
    assert client.post("/open311/v2/requests.json", data={**LIGHTS, "api_key": key}).status_code == 200

    listed = client.get(KEYS, headers=admin.headers)
    assert key not in listed.text
    [row] = [k for k in listed.json() if k["name"] == "市城管委APP"]
    stored = session.get_one(Open311Key, row["id"])
    assert key not in stored.key_hash and row["fingerprint"] == stored.key_hash[:8]
    assert row["active"] is True and set(row) == {"id", "name", "fingerprint", "active", "created_at"}

    revoked = client.post(f"{KEYS}/{row['id']}/revoke", headers=admin.headers)
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert client.post("/open311/v2/requests.json", data={**LIGHTS, "api_key": key}).status_code == 403
    assert (
        client.post(f"{KEYS}/{row['id']}/revoke", headers=admin.headers).status_code == 200
    )  # again: no harm
    assert client.post(f"{KEYS}/999999/revoke", headers=admin.headers).status_code == 404
    assert client.post(KEYS, params={"name": ""}, headers=admin.headers).status_code == 422
    assert [(a, action) for a, action, _ in trail(session, "市城管委APP")] == [
        ("admin1", "open311.key"),
        ("admin1", "open311.key_revoke"),
    ]
    assert key not in " ".join(str(d) for *_, d in trail(session, "市城管委APP"))


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.SUPERVISOR, Role.UNIT_STAFF])
def test_only_admins_reset_passwords_and_handle_keys(
    client: TestClient, session: Session, admin: Staffer, role: Role
) -> None:
    who = Staffer(session, f"who_{role}", role, "heating" if role == Role.UNIT_STAFF else None)
    key_id = service_key(client, admin)
    for method, path in (
        ("POST", f"{STAFF}/{admin.staff.id}/password-reset"),
        ("GET", KEYS),
        ("POST", f"{KEYS}?name=mine"),
        ("POST", f"{KEYS}/{key_id}/revoke"),
    ):
        assert client.request(method, path, headers=who.headers).status_code == 403, path
    assert session.get_one(Open311Key, key_id).active
    assert len(session.scalars(select(Open311Key)).all()) == 1


def service_key(client: TestClient, admin: Staffer) -> int:
    return int(client.post(KEYS, params={"name": "client"}, headers=admin.headers).json()["id"])
