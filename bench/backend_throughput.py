"""Case creations and status lookups per second through the backend's HTTP API, on SQLite and PostgreSQL.

Starts the real backend (`python -m backend`, one uvicorn process) on a fresh database of each kind and
drives it with concurrent HTTP clients from this process. Prints a table and saves bench/results/backend.json.

    .venv/bin/python -m bench.backend_throughput [--cases 400] [--lookups 2000] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = os.environ.get(
    "JIESU_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TOKEN = "bench-service-token"
TEXTS = [
    ("cooking_fumes", "楼下烧烤店油烟太大，天天晚上呛得开不了窗"),
    ("heating_not_warm", "家里暖气不热，室温只有十四度"),
    ("illegal_parking", "小区门口天天有车堵着消防通道"),
    ("garbage_collection", "垃圾站三天没人清运了，味道很大"),
    ("construction_noise", "工地半夜还在施工，吵得睡不着"),
]


STREETS = [f"1101050{n:02d}" for n in range(1, 21)]  # twenty streets of Chaoyang


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_backend(database_url: str, data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "BACKEND_PORT": str(port),
        "BACKEND_DATABASE_URL": database_url,
        "BACKEND_SERVICE_TOKEN": TOKEN,
        "JIESU_DATA_DIR": data_dir,
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "backend"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("backend did not start")


async def run_many(count: int, concurrency: int, job) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while not queue.empty():
            i = queue.get_nowait()
            if not await job(i):
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, errors


async def measure(url: str, cases: int, lookups: int, concurrency: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    numbers: list[tuple[str, str]] = []
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:

        async def create(i: int) -> bool:
            category, description = TEXTS[i % len(TEXTS)]
            street = STREETS[i % len(STREETS)]
            body = {
                "category_code": category,
                "description": f"{description}（第{i}次）",
                "district_code": "110105",
                "street_code": street,
                "address": f"{i % 40 + 1}号院{i % 9 + 1}号楼",
                "contact_name": "测试",
                "contact_phone": f"139{i:08d}",
                "channel": "webchat",
                "channel_identity": f"webchat-{i}",
            }
            answer = await client.post("/api/v1/cases", json=body, headers={"Idempotency-Key": f"bench-{i}"})
            if answer.status_code == 201:
                numbers.append((answer.json()["case"]["number"], body["channel_identity"]))
                return True
            return False

        async def lookup(i: int) -> bool:
            number, identity = numbers[i % len(numbers)]
            answer = await client.post(
                "/api/v1/citizen/lookup", json={"number": number, "channel_identity": identity}
            )
            return answer.status_code == 200 and answer.json()["verified"]

        create_s, create_errors = await run_many(cases, concurrency, create)
        lookup_s, lookup_errors = await run_many(lookups, concurrency, lookup)
    return {
        "creations_per_s": round(cases / create_s, 1),
        "creation_errors": create_errors,
        "lookups_per_s": round(lookups / lookup_s, 1),
        "lookup_errors": lookup_errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "cases": args.cases,
        "lookups": args.lookups,
        "concurrency": args.concurrency,
    }
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_backend(f"sqlite:///{tmp}/bench.db", tmp)
        try:
            results["sqlite"] = asyncio.run(measure(url, args.cases, args.lookups, args.concurrency))
        finally:
            process.terminate()
            process.wait()
        name = f"jiesu_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            process, url = start_backend(POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}", tmp)
            try:
                results["postgresql"] = asyncio.run(measure(url, args.cases, args.lookups, args.concurrency))
            finally:
                process.terminate()
                process.wait()
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    print(f"{'database':<12}{'creations/s':>14}{'lookups/s':>12}{'errors':>8}")
    for db in ("sqlite", "postgresql"):
        r = results[db]
        errors = r["creation_errors"] + r["lookup_errors"]
        print(f"{db:<12}{r['creations_per_s']:>14}{r['lookups_per_s']:>12}{errors:>8}")
    out = ROOT / "bench" / "results" / "backend.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
