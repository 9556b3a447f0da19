"""Soak: 20 simulated citizens talk to the whole stack through the web chat endpoint for 30 minutes.
At the end: no error, memory flat, and every message and case accounted for (what the citizens sent
and were told equals what the transcript holds; every "提交" answered with a case number is a case in
the backend, and there are no others).

    .venv/bin/python -m drills.soak [--minutes 30] [--citizens 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.chat_latency import SCRIPTS, failed
from ops.stack import ROOT, Stack, rss_mb

NUMBER = re.compile(r"\d{13}")


async def citizen(url: str, deadline: float, tally: dict[str, Any], n: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        round_ = 0
        while time.monotonic() < deadline:
            sender = (await client.post("/chat/api/session")).json()["sender"]
            tally["senders"].append(sender)
            for text in SCRIPTS[(n + round_) % len(SCRIPTS)]:
                answer = await client.post("/chat/api/messages", json={"sender": sender, "text": text})
                tally["sent"] += 1
                if failed(answer):
                    tally["errors"].append((answer.status_code, text))
                    continue
                tally["replies"] += len(answer.json())
                for reply in answer.json():
                    tally["cases"].update(
                        NUMBER.findall(str(reply.get("text") or ""))
                        if "已为您提交" in str(reply.get("text"))
                        else []
                    )
            round_ += 1


async def sample_memory(stack: Stack, deadline: float, samples: list[dict[str, float]]) -> None:
    while time.monotonic() < deadline:
        samples.append({name: round(rss_mb(p.pid), 1) for name, p in stack.processes.items()})
        await asyncio.sleep(30)


async def soak(stack: Stack, minutes: float, citizens: int) -> dict[str, Any]:
    tally: dict[str, Any] = {"sent": 0, "replies": 0, "errors": [], "cases": set(), "senders": []}
    samples: list[dict[str, float]] = []
    deadline = time.monotonic() + minutes * 60
    await asyncio.gather(
        sample_memory(stack, deadline, samples),
        *(citizen(stack.url("gateway"), deadline, tally, n) for n in range(citizens)),
    )
    return {"tally": tally, "memory": samples}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--citizens", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack.configure(Path(tmp), CHAT_MESSAGES_PER_MINUTE="1000", LOG_LEVEL="WARNING")
        stack.start(timeout_s=300)
        try:
            outcome = asyncio.run(soak(stack, args.minutes, args.citizens))
            time.sleep(2)
            with sqlite3.connect(Path(tmp) / "gateway.db") as db:
                stored_in = db.execute("SELECT count(*) FROM messages WHERE direction='in'").fetchone()[0]
                # replies to what citizens said; case updates pushed to them are counted apart
                stored_out = db.execute(
                    "SELECT count(*) FROM messages WHERE direction='out' AND "
                    "json_extract(payload, '$.internal') IS NULL AND "
                    "json_extract(payload, '$.case_event') IS NULL"
                ).fetchone()[0]
                pushed = db.execute(
                    "SELECT count(*) FROM messages WHERE json_extract(payload, '$.case_event') IS NOT NULL"
                ).fetchone()[0]
                undelivered = db.execute("SELECT count(*) FROM outbox WHERE state != 'sent'").fetchone()[0]
            with sqlite3.connect(Path(tmp) / "backend.db") as db:
                backend_cases = {row[0] for row in db.execute("SELECT number FROM cases")}
        finally:
            stack.stop()
    tally, memory = outcome["tally"], outcome["memory"]
    first, middle, last = memory[1] if len(memory) > 1 else memory[0], memory[len(memory) // 2], memory[-1]
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "minutes": args.minutes,
        "citizens": args.citizens,
        "messages_sent": tally["sent"],
        "replies_received": tally["replies"],
        "errors": len(tally["errors"]),
        "transcript_in": stored_in,
        "transcript_out": stored_out,
        "case_updates_pushed": pushed,
        "outbox_undelivered": undelivered,
        "cases_told": len(tally["cases"]),
        "cases_in_backend": len(backend_cases),
        "cases_match": tally["cases"] == backend_cases,
        "memory_mb_first_sample": first,
        "memory_mb_middle_sample": middle,
        "memory_mb_last_sample": last,
        "memory_mb_samples_every_30_s": memory,
        # flat: in the second half of the run no service grew by more than a tenth. The first half is
        # warm-up (caches, the allocator's high-water mark, a database growing from empty); a leak
        # keeps growing through the second half too.
        "memory_flat": all(last[name] <= middle[name] * 1.10 for name in middle),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    ok = (
        not tally["errors"]
        and stored_in == tally["sent"]
        and stored_out == tally["replies"]
        and undelivered == 0
        and result["memory_flat"]
        and result["cases_match"]
    )
    print("accounted for: every message and case" if ok else "MISMATCH: see the numbers above")
    (ROOT / "bench" / "results" / "soak.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
