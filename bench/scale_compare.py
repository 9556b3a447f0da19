"""One Rasa server versus two on this machine, in the scale-out profile (PostgreSQL, Redis), at 50
concurrent realistic conversations through the gateway: messages per second and latency.

    .venv/bin/python -m bench.scale_compare [--concurrency 50] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.chat_latency import run_level
from ops.databases import ensure
from ops.stack import ROOT, Stack

PG = "postgresql://postgres@127.0.0.1:5432"


def measure(servers: int, concurrency: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack.configure_scale(
            Path(tmp), servers=servers, pg_url=PG, CHAT_MESSAGES_PER_MINUTE="1000", LOG_LEVEL="WARNING"
        )
        for url in stack.databases():
            ensure(url)
        names = ["backend", "actions", *(f"rasa{i}" for i in range(1, servers + 1)), "gateway"]
        try:
            stack.start(*names, timeout_s=400)
            asyncio.run(run_level(stack.url("gateway"), "gateway", min(concurrency, 5), 1))  # warm up
            return asyncio.run(run_level(stack.url("gateway"), "gateway", concurrency, rounds))
        finally:
            stack.stop()
            admin = create_engine(
                PG.replace("postgresql://", "postgresql+psycopg://") + "/postgres",
                isolation_level="AUTOCOMMIT",
            )
            with admin.connect() as connection:
                for url in stack.databases():
                    connection.execute(
                        text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
                    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "concurrency": args.concurrency,
        "one_server": measure(1, args.concurrency, args.rounds),
        "two_servers": measure(2, args.concurrency, args.rounds),
    }
    for name in ("one_server", "two_servers"):
        r = results[name]
        print(
            f"{name:<12} {r['messages_per_s']:>7} msg/s   p50 {r['p50_ms']} ms   p95 {r['p95_ms']} ms   "
            f"errors {r['errors']}"
        )
    out = ROOT / "bench" / "results" / "scale.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
