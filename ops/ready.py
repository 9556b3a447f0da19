"""Wait until every service reports healthy, say where to go, then stay up beside them.

Runs as the `ready` entry of the Procfile: honcho stops everything when it exits, so it exits only
when a service fails to come up in time (non-zero) and otherwise sleeps until Ctrl-C.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping

import httpx

STARTUP_TIMEOUT_S = float(os.environ.get("JIESU_STARTUP_TIMEOUT", "300"))


def health_checks(env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The health URL of every service, from the same variables the services read."""
    rasa = env.get("RASA_URL", f"http://127.0.0.1:{env.get('RASA_PORT', '5005')}")
    pool = [u.strip() for u in env.get("RASA_URLS", "").split(",") if u.strip()]
    token = env.get("RASA_TOKEN", "")
    # one Rasa server is "rasa"; the servers of a pool (RASA_URLS, even a pool of one) are rasa1, rasa2, ...
    rasa_checks = (
        {f"rasa{i}": f"{url}/status?token={token}" for i, url in enumerate(pool, start=1)}
        if pool
        else {"rasa": f"{rasa}/status?token={token}"}
    )
    return {
        "backend": f"{backend_url(env)}/health",
        "actions": f"http://127.0.0.1:{env.get('ACTION_SERVER_PORT', '5055')}/health",
        **rasa_checks,
        "gateway": f"http://127.0.0.1:{env.get('GATEWAY_PORT', '8080')}/health",
        "clock": f"http://127.0.0.1:{env.get('CLOCK_PORT', '8001')}/health",  # the jobs' schedule
    }


def backend_url(env: Mapping[str, str] = os.environ) -> str:
    return env.get("BACKEND_URL", f"http://127.0.0.1:{env.get('BACKEND_PORT', '8000')}")


def gateway_url(env: Mapping[str, str] = os.environ) -> str:
    port = env.get("GATEWAY_PORT", "8080")
    return env.get("GATEWAY_PUBLIC_URL", f"http://127.0.0.1:{port}").rstrip("/")


def wait_healthy(checks: dict[str, str], timeout_s: float) -> list[str]:
    """Poll every check until all answer 200; return the names still failing at the deadline."""
    pending = dict(checks)
    began = time.monotonic()
    deadline = began + timeout_s
    with httpx.Client(timeout=2.0) as client:
        while pending and time.monotonic() < deadline:
            for name, url in list(pending.items()):
                try:
                    if client.get(url).status_code == 200:
                        del pending[name]
                        print(f"  {name} is healthy ({time.monotonic() - began:.0f} s)", flush=True)
                except httpx.HTTPError:
                    pass
            if pending:
                time.sleep(1.0)
    return sorted(pending)


def main() -> int:
    started = time.monotonic()
    failing = wait_healthy(health_checks(), STARTUP_TIMEOUT_S)
    if failing:
        print(f"not healthy after {STARTUP_TIMEOUT_S:.0f} s: {', '.join(failing)}", file=sys.stderr)
        return 1
    gateway = gateway_url()
    print(
        f"\nJiesu is up ({time.monotonic() - started:.0f} s).\n"
        f"  web chat          {gateway}/chat/\n"
        f"  operator console  {gateway}/console/  (user admin, password BACKEND_ADMIN_PASSWORD in "
        f"{os.environ.get('JIESU_DATA_DIR', 'var/data')}/dev-secrets.env)\n"
        f"  backend API       {backend_url()}/docs\n"
        f"  jobs              http://127.0.0.1:{os.environ.get('CLOCK_PORT', '8001')}/health  "
        "(archive, retention, overdue alerts, hotspot scan: schedule and last runs)\n"
        "Ctrl-C stops everything.",
        flush=True,
    )
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    raise SystemExit(main())
