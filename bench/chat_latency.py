"""Latency and throughput of realistic multi-turn conversations: through the gateway's web chat endpoint,
and the same conversations straight to the Rasa REST channel with the same model, at 1, 10 and 50
concurrent conversations. Also: cold start (start-up to first answer), and resident memory of every
service at rest and under load.

Two ways of talking, each at every level:
- paced: as people chat. Conversations start at random moments within the first START_SPREAD_S
  seconds; before each message the citizen reads the last answer (READ_CHARS_PER_S) and types the
  message (TYPE_CHARS_PER_S, a fast typist on a phone), each pause varied by ±50 %, seeded. This is
  the load 50 citizens in conversation put on the system; the latency target is judged here.
- back to back: every message sent the moment the last answer arrives. No person chats like this;
  it is the stress test that shows the most messages per second the stack can answer.

Starts the whole stack (embedded defaults, fresh data folder). Prints tables, saves bench/results/chat.json.

    .venv/bin/python -m bench.chat_latency [--levels 1,10,50] [--rounds 2] [--modes paced,back_to_back]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from connectors.core.notices import APOLOGY
from ops.stack import ROOT, Stack, rss_mb

# Multi-turn conversations as citizens have them: reports bit by bit and all at once, a status check,
# a question, small talk. None of these sentences is in the training data.
SCRIPTS: list[list[str]] = [
    [
        "你好",
        "我想反映个事",
        "小区东门那盏路灯坏了快两个礼拜了，晚上黑得看不见路",
        "海淀区学院路街道 林大北路那个小区",
        "我姓孙",
        "13800001234",
        "确认提交",
    ],
    ["朝阳区双井街道富力城东区楼下的烧烤店 油烟天天往屋里灌 我电话13900005678", "周", "对的 提交吧"],
    ["请问北京的暖气一般几号开始供", "那供暖费在哪交", "好的谢谢"],
    ["丰台区方庄芳古园一区 垃圾桶满了三天没人收 臭得不行", "叫我吴女士", "13700009876", "确认"],
    [
        "在吗",
        "我要投诉",
        "楼上邻居每天半夜十二点还在拖椅子 吵得睡不着",
        "西城区德胜街道 新康路小区5号楼",
        "不留名字",
        "15000001111",
        "提交",
    ],
    ["你是机器人吗", "帮我查下我的工单", "好的 再见"],
]


READ_CHARS_PER_S = 10.0  # reading Chinese on a phone screen, quickly
TYPE_CHARS_PER_S = 1.5  # typing Chinese with pinyin on a phone, a fast typist (90 characters a minute)
START_SPREAD_S = 15.0  # conversations open at random moments within this window
MODES = ("paced", "back_to_back")


class Pace:
    """When a citizen sends the next message: after reading the last answer and typing this one."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def start_delay(self) -> float:
        return self.rng.uniform(0, START_SPREAD_S)

    def pause(self, last_answer: str, next_text: str) -> float:
        human = len(last_answer) / READ_CHARS_PER_S + len(next_text) / TYPE_CHARS_PER_S
        return human * self.rng.uniform(0.5, 1.5)


def answer_text(answer: httpx.Response) -> str:
    try:
        return "".join(str(reply.get("text") or "") for reply in answer.json())
    except ValueError:
        return ""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def failed(answer: httpx.Response) -> bool:
    """An error for a citizen: no 200, no reply, or the gateway's apology that the bot could not answer
    (the gateway answers 200 then, and keeps the message for later)."""
    if answer.status_code != 200 or not answer.json():
        return True
    return any(str(reply.get("text") or "") == APOLOGY for reply in answer.json())


async def converse_gateway(
    client: httpx.AsyncClient, script: list[str], latencies: list[float], pace: Pace | None = None
) -> int:
    if pace:
        await asyncio.sleep(pace.start_delay())
    sender = (await client.post("/chat/api/session")).json()["sender"]
    errors, last = 0, ""
    for n, text in enumerate(script):
        if pace and n:
            await asyncio.sleep(pace.pause(last, text))
        started = time.perf_counter()
        answer = await client.post("/chat/api/messages", json={"sender": sender, "text": text})
        latencies.append(time.perf_counter() - started)
        errors += failed(answer)
        last = answer_text(answer)
    return errors


async def converse_rasa(
    client: httpx.AsyncClient, script: list[str], latencies: list[float], n: int, pace: Pace | None = None
) -> int:
    if pace:
        await asyncio.sleep(pace.start_delay())
    sender = f"webchat-bench-{n}-{time.monotonic_ns()}"
    errors, last = 0, ""
    for turn, text in enumerate(script):
        if pace and turn:
            await asyncio.sleep(pace.pause(last, text))
        started = time.perf_counter()
        answer = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
        latencies.append(time.perf_counter() - started)
        errors += answer.status_code != 200 or not answer.json()
        last = answer_text(answer)
    return errors


async def run_level(
    url: str, path: str, concurrency: int, rounds: int, mode: str = "back_to_back", token: str = ""
) -> dict[str, Any]:
    """Conversations at one level; both paths use the same seed, so the same pauses."""
    latencies: list[float] = []
    params = {"token": token} if path == "rasa" else None  # Rasa answers only with its token
    async with httpx.AsyncClient(base_url=url, timeout=120, params=params) as client:
        started = time.perf_counter()
        errors = 0
        for round_ in range(rounds):
            jobs = []
            for n in range(concurrency):
                script = SCRIPTS[(n + round_) % len(SCRIPTS)]
                pace = Pace(seed=round_ * 1000 + n) if mode == "paced" else None
                if path == "gateway":
                    jobs.append(converse_gateway(client, script, latencies, pace))
                else:
                    jobs.append(converse_rasa(client, script, latencies, n + round_ * concurrency, pace))
            errors += sum(await asyncio.gather(*jobs))
        elapsed = time.perf_counter() - started
    return {
        "messages": len(latencies),
        "errors": errors,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.mean(latencies) * 1000, 1),
        "messages_per_s": round(len(latencies) / elapsed, 1),
    }


def memory(stack: Stack) -> dict[str, float]:
    return {name: round(rss_mb(process.pid), 1) for name, process in stack.processes.items()}


async def first_answer(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=120) as client:
        await converse_gateway(client, ["你好"], [])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="1,10,50")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of conversations, back to back")
    parser.add_argument("--paced-rounds", type=int, default=1, help="rounds of conversations, paced")
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    modes = [m for m in args.modes.split(",") if m in MODES]
    rounds = {"paced": args.paced_rounds, "back_to_back": args.rounds}
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "rounds": {m: rounds[m] for m in modes},
        "pace": {
            "read_chars_per_s": READ_CHARS_PER_S,
            "type_chars_per_s": TYPE_CHARS_PER_S,
            "start_spread_s": START_SPREAD_S,
        },
        "modes": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack.configure(Path(tmp), CHAT_MESSAGES_PER_MINUTE="1000", LOG_LEVEL="WARNING")
        started = time.perf_counter()
        stack.start(timeout_s=300)
        asyncio.run(first_answer(stack))
        results["cold_start_s"] = round(time.perf_counter() - started, 1)
        try:
            time.sleep(3)
            results["memory_at_rest_mb"] = memory(stack)
            peak: dict[str, float] = {}
            for mode in modes:
                results["modes"][mode] = {}
                for level in levels:
                    row = {}
                    for path, url in (("rasa", stack.url("rasa")), ("gateway", stack.url("gateway"))):
                        row[path] = asyncio.run(
                            run_level(url, path, level, rounds[mode], mode, stack.env["RASA_TOKEN"])
                        )
                        for name, mb in memory(stack).items():
                            peak[name] = max(peak.get(name, 0.0), mb)
                    row["gateway_over_rasa_p50"] = round(row["gateway"]["p50_ms"] / row["rasa"]["p50_ms"], 2)
                    results["modes"][mode][str(level)] = row
            results["memory_under_load_mb"] = peak
        finally:
            stack.stop()
    print(f"cold start (services started to first answer): {results['cold_start_s']} s")
    header = ("mode", "conversations", "path", "msgs", "err", "p50 ms", "p95 ms", "p99 ms", "msg/s")
    widths = (12, 13, 8, 5, 4, 8, 8, 8, 7)
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    for mode, levels_run in results["modes"].items():
        for level, row in levels_run.items():
            for path in ("rasa", "gateway"):
                r = row[path]
                numbers = [
                    r[k] for k in ("messages", "errors", "p50_ms", "p95_ms", "p99_ms", "messages_per_s")
                ]
                cells = [mode, level, path, *numbers]
                print(" ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True)))
            print(f"{'':>26} gateway/rasa at p50: {row['gateway_over_rasa_p50']}")
    print("resident memory at rest (MB):", results["memory_at_rest_mb"])
    print("resident memory under load, peak (MB):", results["memory_under_load_mb"])
    out = ROOT / "bench" / "results" / "chat.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
