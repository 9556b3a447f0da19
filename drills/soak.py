"""Soak: 20 simulated citizens talk to the whole stack through the web chat endpoint for two hours.
At the end: no error, memory flat, and every message and case accounted for: every message the
citizens sent is in the transcript and answered; every reply in the transcript reached the citizen,
either in the answer to their request or, for a message that waited its turn ("正在排队"), later
through the outbox; every "提交" answered with a case number is a case in the backend, and there are
no others.

Memory is judged by its slope, not by comparing two samples: a leak of a quarter of a megabyte a
minute hid inside "the last sample within 10 % of the middle one" for a whole 30-minute run. Each
service's resident memory, sampled every 30 s, is fitted by least squares after a warm-up (the first
fifth of the run: caches filling, the backend's routing model loading on first use, the allocator
reaching its high-water mark); flat means the slope is under 0.05 MB a minute for every service. Each
slope comes with its 95 % confidence interval; one that straddles 0.05 says the run was too short or
too noisy to tell.

    .venv/bin/python -m drills.soak [--minutes 120] [--citizens 20]
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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import httpx
import numpy as np

from bench.chat_latency import SCRIPTS, failed
from connectors.core.notices import APOLOGY, QUEUED
from ops.stack import ROOT, Stack, rss_mb

NUMBER = re.compile(r"\d{13}")
WARM_UP_SHARE = 0.2  # of the run, left out of the slope
FLAT_MB_PER_MINUTE = 0.05
SAMPLE_EVERY_S = 30
NOT_SERVICES = ("minute", "load")  # a sample's other fields: when, and the machine's 1-minute load


@dataclass(frozen=True)
class Trend:
    """A service's resident memory over the run after warm-up: its least-squares slope in MB a minute,
    with a 95 % confidence interval."""

    slope: float
    low: float
    high: float
    samples: int

    @property
    def flat(self) -> bool:
        return self.slope < FLAT_MB_PER_MINUTE

    @property
    def conclusive(self) -> bool:
        """Whether the interval lies on one side of FLAT_MB_PER_MINUTE (else: run longer)."""
        return self.high < FLAT_MB_PER_MINUTE or self.low > FLAT_MB_PER_MINUTE

    def public(self) -> dict[str, Any]:
        return {
            "slope_mb_per_minute": round(self.slope, 4),
            "ci95": [round(self.low, 4), round(self.high, 4)],
            "samples": self.samples,
            "flat": self.flat,
            "conclusive": self.conclusive,
        }


def trend(minutes: Sequence[float], rss_mb: Sequence[float]) -> Trend:
    """Fit rss = a + slope·minute; the interval allows for the samples' correlation.

    Memory at one sample is much like memory at the one before, so the residuals are not independent
    and the textbook standard error would be too small: the effective number of samples is
    n·(1−r)/(1+r), r the lag-1 autocorrelation of the residuals (at least 6 are counted)."""
    x, y = np.asarray(minutes, dtype=float), np.asarray(rss_mb, dtype=float)
    n = len(x)
    if n < 6:
        raise ValueError(f"{n} memory samples after warm-up: too few to judge a slope")
    dx = x - x.mean()
    slope = float(dx @ (y - y.mean()) / (dx @ dx))
    residuals = y - y.mean() - slope * dx
    squares = float(residuals @ residuals)
    r = float(residuals[1:] @ residuals[:-1]) / squares if squares else 0.0
    effective = min(float(n), max(6.0, n * (1 - r) / (1 + r)))
    error = np.sqrt(squares / (n - 2) / float(dx @ dx) * n / effective)
    half = t_quantile_975(effective - 2) * float(error)
    return Trend(slope=slope, low=slope - half, high=slope + half, samples=n)


def t_quantile_975(df: float) -> float:
    """Student's t at 97.5 % (Cornish-Fisher expansion about the normal; within 0.01 from df 4 up)."""
    z = NormalDist().inv_cdf(0.975)
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


def memory_trends(samples: list[dict[str, float]], run_minutes: float) -> dict[str, Trend]:
    """Each service's trend over the samples taken after the warm-up."""
    kept = after_warm_up(samples, run_minutes)
    services = [name for name in samples[0] if name not in NOT_SERVICES]
    return {name: trend([s["minute"] for s in kept], [s[name] for s in kept]) for name in services}


def after_warm_up(samples: list[dict[str, float]], run_minutes: float) -> list[dict[str, float]]:
    return [s for s in samples if s["minute"] >= WARM_UP_SHARE * run_minutes]


def memory_summary(samples: list[dict[str, float]], run_minutes: float) -> dict[str, Any]:
    """What soak.json says about memory: each service's trend, and the machine's load meanwhile."""
    trends = memory_trends(samples, run_minutes)
    kept = after_warm_up(samples, run_minutes)
    return {
        "memory_warm_up_minutes": WARM_UP_SHARE * run_minutes,
        "memory_mb_after_warm_up": {name: kept[0][name] for name in trends},
        "memory_mb_last": {name: samples[-1][name] for name in trends},
        "memory_trend": {name: t.public() for name, t in trends.items()},
        "memory_flat": all(t.flat for t in trends.values()),
        "load_average_1_min": {
            "mean": round(sum(s["load"] for s in samples) / len(samples), 2),
            "max": round(max(s["load"] for s in samples), 2),
        },
        "memory_mb_samples": samples,
    }


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
                tally["notices"] += sum(r.get("text") in (QUEUED, APOLOGY) for r in answer.json())
                for reply in answer.json():
                    tally["cases"].update(
                        NUMBER.findall(str(reply.get("text") or ""))
                        if "已为您提交" in str(reply.get("text"))
                        else []
                    )
            round_ += 1


async def sample_memory(stack: Stack, deadline: float, samples: list[dict[str, float]]) -> None:
    start = time.monotonic()
    while time.monotonic() < deadline:
        sample = {"minute": round((time.monotonic() - start) / 60, 3), "load": os.getloadavg()[0]}
        samples.append(sample | {name: round(rss_mb(p.pid), 1) for name, p in stack.processes.items()})
        await asyncio.sleep(SAMPLE_EVERY_S)


async def soak(stack: Stack, minutes: float, citizens: int) -> dict[str, Any]:
    tally: dict[str, Any] = {
        "sent": 0,
        "replies": 0,
        "notices": 0,
        "errors": [],
        "cases": set(),
        "senders": [],
    }
    samples: list[dict[str, float]] = []
    deadline = time.monotonic() + minutes * 60
    await asyncio.gather(
        sample_memory(stack, deadline, samples),
        *(citizen(stack.url("gateway"), deadline, tally, n) for n in range(citizens)),
    )
    return {"tally": tally, "memory": samples}


# replies to what citizens said; case updates pushed to them and internal marks are counted apart,
# and the greeting a new web chat conversation opens with answers nothing
REPLY = (
    "direction = 'out' AND json_extract(payload, '$.internal') IS NULL "
    "AND json_extract(payload, '$.case_event') IS NULL AND json_extract(payload, '$.greeting') IS NULL"
)


def read_transcript(db: sqlite3.Connection) -> dict[str, int]:
    """What the gateway's transcript holds at the end of the run."""

    def count(sql: str) -> int:
        return int(db.execute(sql).fetchone()[0])

    return {
        "in": count("SELECT count(*) FROM messages WHERE direction = 'in'"),
        "in_unanswered": count(
            "SELECT count(*) FROM messages WHERE direction = 'in' AND state IN ('received', 'pending')"
        ),
        "out": count(f"SELECT count(*) FROM messages WHERE {REPLY}"),  # noqa: S608 (constant text)
        # a reply to a message that waited its turn went through the outbox, not the citizen's request
        "out_later": count(
            f"SELECT count(*) FROM messages JOIN outbox ON outbox.message_id = messages.id WHERE {REPLY}"  # noqa: S608
        ),
        "pushed": count(
            "SELECT count(*) FROM messages WHERE json_extract(payload, '$.case_event') IS NOT NULL"
        ),
        "undelivered": count("SELECT count(*) FROM outbox WHERE state != 'sent'"),
    }


def unaccounted(tally: dict[str, Any], transcript: dict[str, int], cases_match: bool) -> list[str]:
    """What the run cannot account for (empty: every message, reply and case)."""
    checks = {
        "errors": not tally["errors"],
        "messages in the transcript": transcript["in"] == tally["sent"],
        "every message answered": transcript["in_unanswered"] == 0,
        "replies in the transcript": transcript["out"] == tally["replies"] + transcript["out_later"],
        "a later reply for every queued message": transcript["out_later"] >= tally["notices"],
        "outbox delivered": transcript["undelivered"] == 0,
        "cases": cases_match,
    }
    return [what for what, good in checks.items() if not good]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=120)
    parser.add_argument("--citizens", type=int, default=20)
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M %z")
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack.configure(Path(tmp), CHAT_MESSAGES_PER_MINUTE="1000", LOG_LEVEL="WARNING")
        stack.start(timeout_s=300)
        try:
            outcome = asyncio.run(soak(stack, args.minutes, args.citizens))
            time.sleep(2)
            with sqlite3.connect(Path(tmp) / "gateway.db") as db:
                transcript = read_transcript(db)
            with sqlite3.connect(Path(tmp) / "backend.db") as db:
                backend_cases = {row[0] for row in db.execute("SELECT number FROM cases")}
        finally:
            stack.stop()
    tally = outcome["tally"]
    result = {
        "date": started,
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "minutes": args.minutes,
        "citizens": args.citizens,
        "messages_sent": tally["sent"],
        "replies_received": tally["replies"],
        "errors": len(tally["errors"]),
        "queued_notices": tally["notices"],
        "transcript_in": transcript["in"],
        "transcript_in_unanswered": transcript["in_unanswered"],
        "transcript_out": transcript["out"],
        "transcript_out_delivered_later": transcript["out_later"],
        "case_updates_pushed": transcript["pushed"],
        "outbox_undelivered": transcript["undelivered"],
        "cases_told": len(tally["cases"]),
        "cases_in_backend": len(backend_cases),
        "cases_match": tally["cases"] == backend_cases,
        **memory_summary(outcome["memory"], args.minutes),
    }
    print(
        json.dumps(
            {k: v for k, v in result.items() if k != "memory_mb_samples"}, indent=2, ensure_ascii=False
        )
    )
    failed = unaccounted(tally, transcript, result["cases_match"])
    if not result["memory_flat"]:
        failed.append("memory flat")
    ok = not failed
    print("accounted for: every message and case; memory flat" if ok else f"FAILED: {', '.join(failed)}")
    (ROOT / "bench" / "results" / "soak.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
