"""Start the real services as subprocesses on free ports: for full-stack tests, benchmarks and drills."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from connectors.core.ids import derive_sender_id, identity_of_credential
from ops.ready import health_checks, wait_healthy
from ops.train import inputs_hash
from ops.train import model_path as trained_path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "backend": [sys.executable, "-m", "backend"],
    "actions": [sys.executable, "-m", "bot.actions"],
    "rasa": ["ops/rasa_server.sh"],
    "gateway": [sys.executable, "-m", "connectors"],
    "clock": [sys.executable, "-m", "backend", "clock"],
}
PORT_VARS = {
    "backend": "BACKEND_PORT",
    "actions": "ACTION_SERVER_PORT",
    "rasa": "RASA_PORT",
    "gateway": "GATEWAY_PORT",
    "clock": "CLOCK_PORT",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rasa_cli_env() -> dict[str, str]:
    """The environment for running `rasa` commands in .venv-rasa: quiet, no telemetry, our components."""
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONWARNINGS": "ignore",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONPATH": str(ROOT),
    }


def model_path(root: Path = ROOT) -> str:
    """The trained model: RASA_MODEL from `make test`, else the one trained from this checkout's bot.

    Not simply the newest in models/: that may come from another branch's training data (a newer
    component this checkout lacks, or other examples), and would be measured as if it were this one.
    """
    if os.environ.get("RASA_MODEL"):
        return os.environ["RASA_MODEL"]
    target = trained_path(root / "models", inputs_hash(root))
    if not target.exists():
        raise RuntimeError(f"no model trained from this checkout's bot/ ({target.name}): run `make train`")
    return str(target)


@dataclass
class Stack:
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    process_env: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def configure(cls, data_dir: Path, **overrides: str) -> Stack:
        ports = {name: free_port() for name in ("backend", "actions", "rasa", "gateway", "clock")}
        env = {
            **os.environ,
            "JIESU_ENV": "test",
            "JIESU_DATA_DIR": str(data_dir),
            "BACKEND_PORT": str(ports["backend"]),
            "BACKEND_URL": f"http://127.0.0.1:{ports['backend']}",
            "ACTION_SERVER_PORT": str(ports["actions"]),
            "ACTION_SERVER_URL": f"http://127.0.0.1:{ports['actions']}",
            "RASA_PORT": str(ports["rasa"]),
            "RASA_URL": f"http://127.0.0.1:{ports['rasa']}",
            "GATEWAY_PORT": str(ports["gateway"]),
            "CLOCK_PORT": str(ports["clock"]),
            "RASA_MODEL": model_path(),
            "ROUTING_MODELS_DIR": str(ROOT / "models" / "routing"),
            # Leading dash on purpose: url-safe tokens start with "-" one time in 64, and the Rasa CLI
            # once read such a token as an option and refused to start (a CI run failed that way).
            "RASA_TOKEN": "-" + secrets.token_urlsafe(16),
            "BACKEND_SERVICE_TOKEN": secrets.token_urlsafe(16),
            "ACTION_SERVER_TOKEN": secrets.token_urlsafe(16),
            "BACKEND_ADMIN_PASSWORD": "admin-password-for-tests",
            "GATEWAY_SECRET_KEY": secrets.token_urlsafe(16),
            "RETRY_INTERVAL_S": "1",
            "CHAT_SESSIONS_PER_MINUTE": "10000",  # every simulated citizen comes from 127.0.0.1
            "PYTHONWARNINGS": "ignore",
        }
        env.pop("TELEGRAM_BOT_TOKEN", None)
        for name in [n for n in env if n.startswith(("WECHAT_", "SMS_"))]:  # channels are off unless asked
            env.pop(name)
        env.update(overrides)
        return cls(data_dir=data_dir, env=env)

    @classmethod
    def configure_scale(cls, data_dir: Path, *, servers: int, pg_url: str, **overrides: str) -> Stack:
        """The scale-out profile: PostgreSQL everywhere, Redis locks, Rasa servers rasa1, rasa2, ..."""
        stack = cls.configure(data_dir, **overrides)
        ports = [free_port() for _ in range(servers)]
        base = pg_url.rstrip("/")
        stack.env.update(
            BACKEND_DATABASE_URL=f"{base}/jiesu_backend_{data_dir.name[-8:]}",
            GATEWAY_DATABASE_URL=f"{base}/jiesu_gateway_{data_dir.name[-8:]}",
            RASA_DB_NAME=f"jiesu_rasa_{data_dir.name[-8:]}",
            RASA_DB_HOST="127.0.0.1",
            RASA_DB_PORT="5432",
            RASA_DB_USER="postgres",
            RASA_DB_PASSWORD="",
            RASA_TRACKER_URL=f"{base}/jiesu_rasa_{data_dir.name[-8:]}",
            REDIS_HOST="127.0.0.1",
            REDIS_PORT="6379",
            REDIS_DB="0",
            RASA_URLS=",".join(f"http://127.0.0.1:{p}" for p in ports),
        )
        stack.env.update(overrides)
        for i, port in enumerate(ports, start=1):
            stack.process_env[f"rasa{i}"] = {
                "RASA_PORT": str(port),
                "RASA_ENDPOINTS": "bot/endpoints.scale.yml",
            }
        return stack

    def databases(self) -> list[str]:
        """The PostgreSQL URLs this stack uses (to create before and drop after)."""
        base = self.env["BACKEND_DATABASE_URL"].rsplit("/", 1)[0]
        return [
            self.env["BACKEND_DATABASE_URL"],
            self.env["GATEWAY_DATABASE_URL"],
            f"{base}/{self.env['RASA_DB_NAME']}",
        ]

    def url(self, service: str) -> str:
        if service in self.process_env and "RASA_PORT" in self.process_env[service]:
            return f"http://127.0.0.1:{self.process_env[service]['RASA_PORT']}"
        return f"http://127.0.0.1:{self.env[PORT_VARS[service]]}"

    def start(self, *services: str, timeout_s: float = 180) -> None:
        names = services or tuple(COMMANDS)
        for name in names:
            log = (self.data_dir / f"{name}.out").open("ab")
            self.processes[name] = subprocess.Popen(
                COMMANDS[name.rstrip("0123456789")],
                cwd=ROOT,
                env={**self.env, **self.process_env.get(name, {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        checks = {k: v for k, v in health_checks(self.env).items() if k in names}
        failing = wait_healthy(checks, timeout_s)
        if failing:
            self.stop()
            raise RuntimeError(f"not healthy: {failing}\n{self.logs(*failing)}")

    def kill(self, service: str) -> None:
        """Kill a service at once (SIGKILL), as a crash would."""
        process = self.processes.pop(service)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()

    def logs(self, *services: str, tail: int = 40) -> str:
        parts = []
        for name in services or tuple(COMMANDS):
            path = self.data_dir / f"{name}.out"
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()[-tail:]
                parts.append(f"--- {name} ---\n" + "\n".join(lines))
        return "\n".join(parts)

    def health_details(self) -> dict[str, Any]:
        """The gateway's detailed health (the bot, each Rasa server, Telegram), for our services only."""
        answer = httpx.get(
            f"{self.url('gateway')}/health/details",
            headers={"Authorization": f"Bearer {self.env['BACKEND_SERVICE_TOKEN']}"},
            timeout=10,
        )
        answer.raise_for_status()
        return dict(answer.json())

    def new_web_sender(self) -> str:
        answer = httpx.post(f"{self.url('gateway')}/chat/api/session", timeout=10)
        answer.raise_for_status()
        return str(answer.json()["sender"])

    def sender_id(self, channel: str, identity: str) -> str:
        """The id the gateway gives a conversation at Rasa and on cases: for a web chat token or a
        Telegram chat id (connectors.core.ids)."""
        if channel == "webchat":
            identity = identity_of_credential(identity)
        return derive_sender_id(self.env["GATEWAY_SECRET_KEY"], channel, identity)

    def say(self, sender: str, text: str, **extra: str) -> list[dict[str, object]]:
        """Send a web chat message through the gateway's JSON endpoint; return the replies."""
        answer = httpx.post(
            f"{self.url('gateway')}/chat/api/messages",
            json={"sender": sender, "text": text, **extra},
            timeout=60,
        )
        answer.raise_for_status()
        return list(answer.json())


def wait_until(predicate: Callable[[], object], timeout_s: float = 30, interval_s: float = 0.3) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return False


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (Linux /proc)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            queue.extend(int(c) for c in children)
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MB."""
    total_kb = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024
