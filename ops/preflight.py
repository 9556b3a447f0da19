"""Check what would stop a service from starting, before anything starts; one clear line per problem.

    python -m ops.preflight [--scale]

A port already taken (5005 and 5055 are also Rasa's own defaults, so a `rasa run` of your own takes
them), a service without its secrets or with settings that do not agree, and a PostgreSQL or Redis
server that cannot be reached (Redis only in the scale-out profile). Reads the same environment the
services get: `ops/run.sh` exports the env files first.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError

from common.settings import HOW_TO_SET, missing, problems

# (the port's setting, its default, whose port, its host's setting)
PORTS = (
    ("BACKEND_PORT", 8000, "the backend", "BACKEND_HOST"),
    ("ACTION_SERVER_PORT", 5055, "the action server", "ACTION_SERVER_HOST"),
    ("RASA_PORT", 5005, "the Rasa server", "RASA_HOST"),
    ("GATEWAY_PORT", 8080, "the gateway", "GATEWAY_HOST"),
    ("CLOCK_PORT", 8001, "the clock (the jobs' schedule)", "BACKEND_HOST"),
)
SCALE_PORTS = (("RASA2_PORT", 5006, "the second Rasa server", "RASA_HOST"),)
RASA_DEFAULTS = {"RASA_PORT", "ACTION_SERVER_PORT"}
RASA_SERVER_SECRETS = ("RASA_TOKEN", "ACTION_SERVER_TOKEN")
CONNECT_TIMEOUT_S = 3.0


def port_problem(host: str, port: int, setting: str, service: str) -> str | None:
    """A line saying why `service` cannot listen on host:port, or None when it can."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn and Sanic do
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                return f"{service} cannot listen on {host}:{port} ({setting}): {error.strerror}"
        else:
            return None
    holder = listener(port)
    rasa = ", also Rasa's own default" if setting in RASA_DEFAULTS else ""
    return (
        f"port {port} for {service} ({setting}{rasa}) is in use by {holder or 'another program'}: "
        f"stop it, or set {setting} to a free port in .env, e.g. {setting}={free_port_near(host, port)}"
    )


def listener(port: int) -> str | None:
    """Which process listens on a TCP port, as far as /proc shows ("pid 42 (rasa run)")."""
    inodes = set(listening_inodes(port))
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        if wanted & set(open_files(pid)):
            try:
                command = (
                    Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
            except OSError:
                command = "?"
            return f"pid {pid} ({' '.join(command.split())[:80]})"
    return None


def open_files(pid: str) -> Iterator[str]:
    """What a process's file descriptors point at; those that close while being read are left out."""
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return  # gone, or not ours to read
    for fd in descriptors:
        try:
            yield os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue


def listening_inodes(port: int) -> Iterator[str]:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                yield fields[9]


def free_port_near(host: str, port: int) -> int:
    for candidate in range(port + 10, port + 200, 10):
        with socket.socket() as probe:
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return port + 10


def reachable(host: str, port: int, hello: bytes = b"", answer: bytes = b"") -> str | None:
    """None when a server answers at host:port (with `answer` to `hello`); else why not."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as connection:
            if hello:
                connection.sendall(hello)
                said = connection.recv(64)
                if not said.startswith(answer):
                    return f"it answered {said[:40]!r}"
    except OSError as error:
        return error.strerror or str(error)
    return None


def database_problems(env: Mapping[str, str], scale: bool) -> Iterator[str]:
    """PostgreSQL wherever a setting points at it; Redis for the scale-out profile's lock store."""
    for setting, whose in (("BACKEND_DATABASE_URL", "the backend"), ("GATEWAY_DATABASE_URL", "the gateway")):
        url = urlsplit(env.get(setting, ""))
        if url.scheme.startswith("postgresql"):
            host, port = url.hostname or "127.0.0.1", url.port or 5432
            if why := reachable(host, port):
                yield (
                    f"PostgreSQL for {whose} at {host}:{port} ({setting}) is unreachable ({why}): "
                    f"start it, or point {setting} at a running server"
                )
    if not scale:
        return
    host, port = env.get("RASA_DB_HOST", "127.0.0.1"), int(env.get("RASA_DB_PORT", "5432"))
    if why := reachable(host, port):
        yield (
            f"PostgreSQL for Rasa's tracker store at {host}:{port} (RASA_DB_HOST, RASA_DB_PORT) is "
            f"unreachable ({why}): start it, or set RASA_DB_HOST and RASA_DB_PORT"
        )
    host, port = env.get("REDIS_HOST", "127.0.0.1"), int(env.get("REDIS_PORT", "6379"))
    if why := reachable(host, port, b"PING\r\n", b"+PONG"):
        yield (
            f"Redis for Rasa's lock store at {host}:{port} (REDIS_HOST, REDIS_PORT) is unreachable "
            f"({why}): start it (redis-server), or set REDIS_HOST and REDIS_PORT"
        )


def port_problems(env: Mapping[str, str], scale: bool) -> Iterator[str]:
    for setting, default, service, host_setting in PORTS + (SCALE_PORTS if scale else ()):
        port = int(env.get(setting, default))
        if line := port_problem(env.get(host_setting, "127.0.0.1"), port, setting, service):
            yield line


def settings_problems() -> Iterator[str]:
    """Each service's settings as it will read them (from this environment): a secret that three
    services need is one line, not three."""
    from backend.settings import BackendSettings
    from bot.actions.settings import ActionSettings
    from connectors.settings import GatewaySettings

    services: tuple[tuple[str, Callable[[], object]], ...] = (
        ("the backend", BackendSettings),
        ("the action server", ActionSettings),
        ("the gateway", GatewaySettings),
    )
    needed: dict[str, list[str]] = {}
    lines: list[str] = []
    for service, settings in services:
        try:
            settings()
        except ValidationError as error:
            for name in missing(error):
                needed.setdefault(name, []).append(service)
            lines += [line for line in problems(error, service, with_missing=False) if line not in lines]
    for name in RASA_SERVER_SECRETS:  # ops/rasa_server.sh and bot/endpoints.yml read them
        if not os.environ.get(name, "").strip() and not any(name in line for line in lines):
            needed.setdefault(name, []).append("the Rasa server")
    for name, services_needing in needed.items():
        yield f"{name} is not set: {listing(services_needing)} cannot start without it; {HOW_TO_SET}"
    yield from lines


def listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def check(scale: bool = False) -> list[str]:
    """Every problem found in this process's environment, which is what the services will get."""
    env = os.environ
    return [*port_problems(env, scale), *settings_problems(), *database_problems(env, scale)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="store_true", help="the scale-out profile (PostgreSQL, Redis)")
    found = check(scale=parser.parse_args().scale)
    for line in found:
        print(f"  ✗ {line}", file=sys.stderr)
    if found:
        print(f"{len(found)} problem(s) before start-up: nothing was started.", file=sys.stderr)
        return 1
    print("  ports free, secrets set, databases reachable", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
