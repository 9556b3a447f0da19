"""Pre-flight checks of `make run`: a busy port, a server that cannot be reached, missing secrets, each
said in one line before anything starts; and the ports as settings every service follows."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops import preflight
from ops.stack import ROOT, free_port

SECRETS = {
    "BACKEND_SERVICE_TOKEN": "s1",
    "RASA_TOKEN": "s2",
    "GATEWAY_SECRET_KEY": "s3",
    "ACTION_SERVER_TOKEN": "s4",
}


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    """A socket of this test process listening on a port, as a `rasa run` of one's own would."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Free ports and every secret set: each test then breaks one thing."""
    for name in list(os.environ):
        if name.endswith(("_PORT", "_HOST", "_URL", "_URLS")) or name in SECRETS:
            monkeypatch.delenv(name)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    for setting, _, _, _ in preflight.PORTS + preflight.SCALE_PORTS:
        monkeypatch.setenv(setting, str(free_port()))
    return monkeypatch


def test_a_port_held_by_another_program_is_one_line_naming_the_setting_and_the_holder(
    listening: socket.socket, clean_env: pytest.MonkeyPatch
) -> None:
    port = listening.getsockname()[1]
    clean_env.setenv("RASA_PORT", str(port))
    found = preflight.check()
    assert len(found) == 1, found
    line = found[0]
    assert "\n" not in line
    assert f"port {port} for the Rasa server (RASA_PORT, also Rasa's own default)" in line
    assert f"pid {os.getpid()} (" in line  # which program: this test's own process
    suggested = int(line.rsplit("RASA_PORT=", 1)[1])
    assert suggested != port and preflight.port_problem("127.0.0.1", suggested, "RASA_PORT", "x") is None


def test_free_ports_and_set_secrets_pass(clean_env: pytest.MonkeyPatch) -> None:
    assert preflight.check() == []


def test_an_unreachable_postgresql_is_one_line_without_its_password(clean_env: pytest.MonkeyPatch) -> None:
    nobody = free_port()  # nothing listens there
    clean_env.setenv("BACKEND_DATABASE_URL", f"postgresql://jiesu:hunter2@127.0.0.1:{nobody}/jiesu")
    found = preflight.check()
    assert found == [
        f"PostgreSQL for the backend at 127.0.0.1:{nobody} (BACKEND_DATABASE_URL) is unreachable "
        "(Connection refused): start it, or point BACKEND_DATABASE_URL at a running server"
    ]


def test_the_scale_out_profile_also_needs_rasas_postgresql_and_redis(
    clean_env: pytest.MonkeyPatch, listening: socket.socket
) -> None:
    clean_env.setenv("RASA_DB_PORT", str(free_port()))
    clean_env.setenv("REDIS_PORT", str(listening.getsockname()[1]))  # a server, but no Redis: no +PONG
    assert preflight.check(scale=False) == []
    found = preflight.check(scale=True)
    assert [line.split(" at ")[0] for line in found] == [
        "PostgreSQL for Rasa's tracker store",
        "Redis for Rasa's lock store",
    ]
    assert "unreachable" in found[0] and "unreachable" in found[1]


def test_a_missing_secret_is_one_line_naming_every_service_that_needs_it(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.delenv("BACKEND_SERVICE_TOKEN")
    clean_env.delenv("RASA_TOKEN")
    clean_env.delenv("ACTION_SERVER_TOKEN")
    assert sorted(line.split(" cannot start")[0] for line in preflight.check()) == [
        "ACTION_SERVER_TOKEN is not set: the action server and the Rasa server",
        "BACKEND_SERVICE_TOKEN is not set: the backend, the action server and the gateway",
        "RASA_TOKEN is not set: the gateway and the Rasa server",
    ]


def test_an_empty_secret_is_no_secret(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("RASA_TOKEN", "  ")
    found = preflight.check()
    assert len(found) == 1 and found[0].startswith("the gateway: RASA_TOKEN is empty: set it"), found


def test_a_service_started_without_its_secrets_says_so_in_lines_not_a_traceback() -> None:
    env = {"PATH": os.environ["PATH"], "JIESU_DATA_DIR": "/nonexistent"}
    for module in ("backend", "connectors", "bot.actions"):
        done = subprocess.run(
            [sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 1, (module, done.stderr)
        assert "Traceback" not in done.stderr
        assert "BACKEND_SERVICE_TOKEN is not set:" in done.stderr, done.stderr


def test_settings_agree_with_each_other_in_one_line(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("RASA_ACTION_TIMEOUT_S", "40")
    assert preflight.check() == [
        "the gateway: RASA_TIMEOUT_S (30) must exceed RASA_ACTION_TIMEOUT_S (40) by at least 5 s"
    ]


def test_moving_a_port_moves_every_url_that_reaches_it(clean_env: pytest.MonkeyPatch) -> None:
    """A Rasa developer moves RASA_PORT and BACKEND_PORT once; the gateway, the action server and the
    readiness check follow without their URLs being set too."""
    from bot.actions.settings import ActionSettings
    from connectors.settings import GatewaySettings
    from ops.ready import backend_url, health_checks

    clean_env.setenv("RASA_PORT", "5015")
    clean_env.setenv("BACKEND_PORT", "8010")
    gateway, actions = GatewaySettings(), ActionSettings()  # type: ignore[call-arg]
    assert gateway.rasa_url == "http://127.0.0.1:5015"
    assert gateway.backend_url == actions.backend_url == backend_url() == "http://127.0.0.1:8010"
    assert health_checks()["rasa"].startswith("http://127.0.0.1:5015/status")
    assert gateway.rasa_urls == ["http://127.0.0.1:5015"]  # a pool of one
    clean_env.setenv("RASA_URL", "http://rasa.internal:5005")
    assert GatewaySettings().rasa_url == "http://rasa.internal:5005"  # type: ignore[call-arg]
    clean_env.setenv("RASA_URLS", " http://rasa1:5005, http://rasa2:5005 ,")
    assert GatewaySettings().rasa_urls == ["http://rasa1:5005", "http://rasa2:5005"]  # type: ignore[call-arg]


def test_the_scale_profiles_second_rasa_server_is_a_setting_too() -> None:
    procfile = (ROOT / "Procfile.scale").read_text()
    assert "5005" not in procfile and "5006" not in procfile
    assert "RASA_PORT=$RASA2_PORT" in procfile
    assert "RASA2_PORT" in (ROOT / ".env.example").read_text()


def test_the_checks_see_the_env_files_as_honcho_gives_them_to_the_services(tmp_path: Path) -> None:
    from ops.devenv import exports

    (tmp_path / "secrets.env").write_text("RASA_TOKEN=from-secrets\nRASA_PORT=5005\n")
    (tmp_path / "dot.env").write_text(
        "RASA_PORT=5015            # moved: a rasa run of my own is on 5005\n"
        "GATEWAY_SECRET_KEY='a b$c'\nBAD-NAME=x\nEMPTY=\n"
    )
    files = f"{tmp_path / 'secrets.env'},{tmp_path / 'dot.env'}"
    script = 'eval "$1"; echo "$RASA_PORT|$RASA_TOKEN|$GATEWAY_SECRET_KEY|${EMPTY-unset}"'
    shell = subprocess.run(
        ["bash", "-c", script, "-", exports(files)],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"], "RASA_PORT": "5005"},
    )
    assert shell.stdout.strip() == "5015|from-secrets|a b$c|unset"
