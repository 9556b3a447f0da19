"""The backend's OpenAPI fuzzed with schemathesis: no 500, and every documented answer keeps its schema."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from backend.app import create_app
from backend.db import engine_for, migrate, session_factory
from backend.settings import BackendSettings
from backend.staff.roles import Role
from backend.staff.service import create_staff, login

FUZZ_DIR = Path(tempfile.mkdtemp(prefix="jiesu-fuzz-"))
SETTINGS = BackendSettings(
    backend_service_token="fuzz-service-token",  # type: ignore[arg-type]
    backend_database_url=f"sqlite:///{FUZZ_DIR / 'fuzz.db'}",
    jiesu_data_dir=FUZZ_DIR,
    jiesu_env="test",
    backend_routing_rate_per_minute=100_000,
    backend_open311_rate_per_minute=100_000,
)


def admin_token() -> str:
    engine = engine_for(SETTINGS.database_url)
    migrate(engine)
    with session_factory(engine)() as session:  # login commits the attempt it counts, then the session
        create_staff(
            session=session,
            username="fuzz_admin",
            password="fuzz password 123",
            display_name="fuzz",
            role=Role.ADMIN,
            unit_code=None,
        )
        token, _ = login(
            session=session,
            username="fuzz_admin",
            password="fuzz password 123",
            address="fuzz",
            ttl=timedelta(hours=2),
        )
        session.commit()
    return token


TOKEN = admin_token()
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(SETTINGS))


@pytest.mark.filterwarnings("ignore")
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_documented_answers_keep_their_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
