"""The foundation: two environments that never import each other, set-up scripts, the whole stack."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from ops import devenv, train
from ops.stack import ROOT, Stack, model_path

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def run(
    *command: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_rasa_environment_is_python_310_with_rasa_and_none_of_our_code(tmp_path: Path) -> None:
    probe = run(
        ".venv-rasa/bin/python",
        "-c",
        "import sys, rasa, jieba; print(sys.version_info[:2], rasa.__version__)",
    )
    assert probe.returncode == 0, probe.stderr
    assert "(3, 10) 3.6.21" in probe.stdout
    for ours in ("backend", "connectors", "common", "bot.actions"):
        found = run(str(ROOT / ".venv-rasa/bin/python"), "-c", f"import {ours}", cwd=tmp_path)
        assert found.returncode != 0, f"{ours} must not be importable in the Rasa environment"


def test_main_environment_has_current_libraries_and_no_rasa() -> None:
    probe = run(
        ".venv/bin/python",
        "-c",
        "import sys, sqlalchemy, pydantic, telegram, rasa_sdk;"
        "print(sys.version_info >= (3, 11), sqlalchemy.__version__, pydantic.VERSION,"
        " telegram.__version__, rasa_sdk.__version__)",
    )
    assert probe.returncode == 0, probe.stderr
    ok, sqlalchemy, pydantic, telegram, rasa_sdk = probe.stdout.split()
    assert ok == "True"
    assert sqlalchemy.startswith("2.") and pydantic.startswith("2.")
    assert telegram.startswith("22.") and rasa_sdk.startswith("3.21.")
    assert run(".venv/bin/python", "-c", "import rasa.core").returncode != 0


def test_every_package_of_both_environments_is_pinned() -> None:
    for lock in ("requirements/main.lock", "requirements/rasa.lock"):
        lines = [x for x in (ROOT / lock).read_text().splitlines() if x and not x.startswith("#")]
        assert lines and all("==" in line for line in lines), lock


def test_python_310_is_found_through_pyenv_and_missing_one_is_one_clear_line(
    tmp_path: Path,
) -> None:
    found = run("ops/find_python.sh", "3.10")
    assert found.returncode == 0
    assert (
        run(found.stdout.strip(), "-c", "import sys; assert sys.version_info[:2] == (3, 10)").returncode == 0
    )
    missing = run("ops/find_python.sh", "3.10", env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1 and "install" in missing.stderr and "3.10" in missing.stderr


def test_training_hash_changes_with_training_data_only(tmp_path: Path) -> None:
    for entry in train.TRAINING_INPUTS:
        source = ROOT / entry
        target = tmp_path / entry
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            subprocess.run(["cp", "-r", str(source), str(target)], check=True)
        else:
            target.write_bytes(source.read_bytes())
    before = train.inputs_hash(tmp_path)
    (tmp_path / "README.md").write_text("not a training input")
    (tmp_path / "bot/nlu/crossval.py").write_text("# evaluates a model, never read by training")
    (tmp_path / "bot/nlu/__pycache__").mkdir(exist_ok=True)
    (tmp_path / "bot/nlu/__pycache__/components.cpython-310.pyc").write_bytes(b"written on import")
    assert train.inputs_hash(tmp_path) == before
    nlu = next((tmp_path / "bot/data").rglob("*.yml"))
    nlu.write_text(nlu.read_text() + "\n")
    assert train.inputs_hash(tmp_path) != before


def test_the_model_is_the_one_trained_from_this_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RASA_MODEL", raising=False)
    inputs = (
        "config.yml",
        "bot/domain.yml",
        "bot/data/nlu.yml",
        "bot/dictionary/d.txt",
        "bot/nlu/c.py",
        "bot/shared/s.py",
    )
    for name in inputs:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    (tmp_path / "models").mkdir()
    with pytest.raises(RuntimeError, match="make train"):
        model_path(tmp_path)
    ours = train.model_path(tmp_path / "models", train.inputs_hash(tmp_path))
    ours.write_bytes(b"ours")
    (tmp_path / "models/jiesu-0123456789abcdef.tar.gz").write_bytes(b"another branch's, newer")
    assert model_path(tmp_path) == str(ours)
    monkeypatch.setenv("RASA_MODEL", "/elsewhere/jiesu-x.tar.gz")
    assert model_path(tmp_path) == "/elsewhere/jiesu-x.tar.gz"


def test_development_secrets_are_random_and_kept(tmp_path: Path) -> None:
    first = devenv.ensure_dev_secrets(tmp_path).read_text()
    assert set(devenv.SECRET_NAMES) <= {line.split("=")[0] for line in first.splitlines()}
    assert devenv.ensure_dev_secrets(tmp_path).read_text() == first
    other = devenv.ensure_dev_secrets(tmp_path / "other").read_text()
    assert other != first


def test_every_development_secret_is_read_by_a_service_and_no_other_is_kept(tmp_path: Path) -> None:
    from backend.settings import BackendSettings
    from bot.actions.settings import ActionSettings
    from connectors.settings import GatewaySettings

    read = {
        name.upper() for s in (BackendSettings, ActionSettings, GatewaySettings) for name in s.model_fields
    }
    assert set(devenv.SECRET_NAMES) <= read
    (tmp_path / "dev-secrets.env").write_text("BACKEND_SECRET_KEY=unused\nRASA_TOKEN=kept\n")
    secrets_file = devenv.ensure_dev_secrets(tmp_path).read_text()
    assert "BACKEND_SECRET_KEY" not in secrets_file and "RASA_TOKEN=kept\n" in secrets_file


def test_settings_fail_fast_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.settings import BackendSettings
    from connectors.settings import GatewaySettings

    for name in ("BACKEND_SERVICE_TOKEN", "RASA_TOKEN", "GATEWAY_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError, match="backend_service_token"):
        BackendSettings()  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="rasa_token"):
        GatewaySettings()  # type: ignore[call-arg]


def test_the_gateway_rasa_and_the_actions_agree_on_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gateway waits for a turn longer than Rasa waits for an action, and an action's backend
    calls fit in Rasa's wait: else a turn is taken twice, or an action's events are lost."""
    from bot.actions.settings import ActionSettings
    from connectors.settings import GatewaySettings

    for name in ("BACKEND_SERVICE_TOKEN", "RASA_TOKEN", "GATEWAY_SECRET_KEY", "ACTION_SERVER_TOKEN"):
        monkeypatch.setenv(name, "a-secret-for-this-test")
    for name in ("RASA_TIMEOUT_S", "RASA_ACTION_TIMEOUT_S", "BACKEND_TIMEOUT_S"):
        monkeypatch.delenv(name, raising=False)
    gateway, actions = GatewaySettings(), ActionSettings()  # type: ignore[call-arg]
    assert gateway.rasa_timeout_s >= gateway.rasa_action_timeout_s + 5
    assert actions.backend_budget_s < actions.rasa_action_timeout_s
    monkeypatch.setenv("RASA_ACTION_TIMEOUT_S", "30")
    with pytest.raises(ValidationError, match="RASA_TIMEOUT_S"):
        GatewaySettings()  # type: ignore[call-arg]
    monkeypatch.setenv("BACKEND_TIMEOUT_S", "29")
    with pytest.raises(ValidationError, match="BACKEND_TIMEOUT_S"):
        ActionSettings()  # type: ignore[call-arg]


def test_env_example_documents_every_setting() -> None:
    from backend.settings import BackendSettings
    from bot.actions.settings import ActionSettings
    from connectors.settings import GatewaySettings

    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    for settings in (BackendSettings, ActionSettings, GatewaySettings):
        for name in settings.model_fields:
            assert name.upper() in documented, f"{name.upper()} is missing from .env.example"


def test_committed_jieba_dictionary_is_up_to_date() -> None:
    from ops import dictionary

    assert dictionary.TARGET.read_text(encoding="utf-8") == dictionary.render(), (
        "run `.venv/bin/python -m ops.dictionary` and commit bot/dictionary/jiesu.txt"
    )


@pytest.mark.stack
def test_every_service_reports_healthy(stack: Stack) -> None:
    for service in ("backend", "gateway", "actions", "clock"):
        assert httpx.get(f"{stack.url(service)}/health", timeout=5).status_code == 200
    jobs = httpx.get(f"{stack.url('clock')}/health", timeout=5).json()["jobs"]
    assert {job["name"] for job in jobs} == {"archive", "retention", "overdue_alerts", "hotspot_scan"}
    assert all(job["next_run"] for job in jobs)


@pytest.mark.stack
def test_rasa_http_api_needs_the_token(stack: Stack) -> None:
    rasa = stack.url("rasa")
    assert httpx.get(f"{rasa}/status", timeout=5).status_code == 401
    assert httpx.get(f"{rasa}/status", params={"token": "wrong"}, timeout=5).status_code == 401
    status = httpx.get(f"{rasa}/status", params={"token": stack.env["RASA_TOKEN"]}, timeout=5)
    assert status.status_code == 200 and status.json()["model_file"].endswith(".tar.gz")


@pytest.mark.stack
def test_rasa_answers_only_the_gateway_even_on_its_channel_and_bounds_bodies(stack: Stack) -> None:
    rasa, token = stack.url("rasa"), {"token": stack.env["RASA_TOKEN"]}
    for path in ("/", "/version"):
        assert httpx.get(f"{rasa}{path}", timeout=5).status_code == 401, path
    webhook = f"{rasa}/webhooks/rest/webhook"
    message = {"sender": "webchat-not-through-the-gateway", "message": "你好"}
    assert httpx.post(webhook, json=message, timeout=30).status_code == 401
    assert httpx.post(webhook, json=message, params={"token": "wrong"}, timeout=30).status_code == 401
    tracker = httpx.get(f"{rasa}/conversations/{message['sender']}/tracker", params=token, timeout=10)
    assert not [e for e in tracker.json()["events"] if e.get("event") == "user"]  # nothing taken in

    def chunked() -> Iterator[bytes]:
        yield b'{"sender": "webchat-big-body", "message": "'
        for _ in range(100):
            yield "很".encode() * 10_000  # 3 MB in all
        yield b'"}'

    too_big = httpx.post(webhook, content=chunked(), params=token, timeout=30)
    assert too_big.status_code == 413
    assert httpx.post(webhook, json=message, params=token, timeout=60).status_code == 200


@pytest.mark.stack
def test_a_chinese_greeting_through_the_web_chat_gets_a_chinese_answer(stack: Stack) -> None:
    sender = stack.new_web_sender()
    replies = stack.say(sender, "你好，请问在吗")
    assert replies and CHINESE.search(str(replies[0]["text"]))
    # action_greet runs on the rasa-sdk 3.21 action server, called by the Rasa 3.6 server:
    assert re.match(r"(早上|中午|下午|晚上)好", str(replies[0]["text"]))


@pytest.mark.stack
def test_conversations_are_kept_in_rasas_sql_tracker_store_on_sqlite(stack: Stack) -> None:
    sender = stack.new_web_sender()
    stack.say(sender, "您好")
    tracker = httpx.get(
        f"{stack.url('rasa')}/conversations/{stack.sender_id('webchat', sender)}/tracker",
        params={"token": stack.env["RASA_TOKEN"]},
        timeout=10,
    ).json()
    assert any(e.get("event") == "user" and e.get("text") == "您好" for e in tracker["events"])
    assert (Path(stack.env["JIESU_DATA_DIR"]) / "rasa_tracker.db").stat().st_size > 0


def test_rasa_runs_and_trains_with_telemetry_off() -> None:
    for script in ("ops/rasa_server.sh", "ops/train.py", "ops/test.sh"):
        assert re.search(r"RASA_TELEMETRY_ENABLED.{0,3}false", (ROOT / script).read_text()), script


def test_every_rasa_server_of_a_pool_is_waited_for_even_a_pool_of_one() -> None:
    from ops.ready import health_checks

    one = health_checks({"RASA_URL": "http://127.0.0.1:5005", "RASA_TOKEN": "t"})
    assert one["rasa"] == "http://127.0.0.1:5005/status?token=t"
    pool = health_checks({"RASA_URLS": "http://127.0.0.1:5006", "RASA_TOKEN": "t"})
    assert "rasa" not in pool and pool["rasa1"] == "http://127.0.0.1:5006/status?token=t"
    two = health_checks({"RASA_URLS": "http://a:1, http://b:2", "RASA_TOKEN": "t"})
    assert [k for k in two if k.startswith("rasa")] == ["rasa1", "rasa2"]
