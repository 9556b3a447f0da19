"""Real citizen messages as web chat conversations with the running system, answered like a citizen would.

Each conversation opens with a message of the dev set (../shared/data/real/, measurement only; places
restored to Beijing ones by bench/real_data.py), as a letter (up to the routing API's 1,000 characters)
and as a chat message (its first 60). It goes through the gateway's web chat API to Rasa, the action
server and the backend. A scripted citizen (bench/scripted_citizen.py) then answers: taps the offered
button to file (登记…工单, 确认提交), gives a name and a phone, and the place when asked (the one in the
message, else a Beijing district), says no to keeping the report confidential; at most eight messages.
The filed case is read back from the backend with a staff login, and its department (the functional
department smart dispatch chose, `department_code`) is judged against the message's class
(tipdm_label_departments.yml).
A case routing was unsure of (`needs_review`) goes to the place for an operator to pick the unit: the
bench reports their share and the accuracy of the rest beside the accuracy of all.

A fixed sample (seed 20) of each half is measured and reported apart: the held-out half (odd rows) gives
the honest numbers and is only counted; the tuning half (even rows) lists failures by row number
(`--show-failures` prints their text on the terminal, for reading; nothing of it is saved).

    .venv/bin/python -m bench.real_conversations [--per-half 200] [--views letter,chat60]
        [--gateway-url URL --backend-url URL --admin-password PW]   # a running `make run` instead

Without the URLs it starts the whole stack itself (ops/stack.py) on free ports with a fresh data
folder. A running `make run` limits new web chat sessions per address (CHAT_SESSIONS_PER_MINUTE):
raise it there, or the bench waits on 429 answers. Skips with a message when the real data is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from backend.routing.service import MAX_TEXT_CHARS
from bench.conversation_scores import Conversation, failure_rows, failures, knowledge_rows, scores
from bench.real_data import (
    CHAT_CHARS,
    DEV_FILE,
    HALVES,
    LabelDepartments,
    RealDataMissing,
    RealMessage,
    label_departments,
    load_messages,
    real_data_dir,
)
from bench.scripted_citizen import DEFAULT_PLACE, Move, next_move, phone_for, place_in, texts
from ops.stack import ROOT, Stack, model_path

VIEWS = {"letter": MAX_TEXT_CHARS, "chat60": CHAT_CHARS}
MAX_TURNS = 8
SEED = 20
PER_HALF = 200
FILED = re.compile(r"已为您提交！工单号：(\d{13})")


class Chat:
    """The running system as a citizen and a staff member reach it: the web chat API and the case API."""

    def __init__(self, gateway_url: str, backend_url: str, admin_password: str) -> None:
        self.gateway = httpx.Client(base_url=gateway_url, timeout=120)
        self.backend = httpx.Client(base_url=backend_url, timeout=30)
        self.admin_password = admin_password
        self._token: str | None = None

    def new_sender(self) -> str:
        for _ in range(60):
            answer = self.gateway.post("/chat/api/session")
            if answer.status_code != 429:
                answer.raise_for_status()
                return str(answer.json()["sender"])
            time.sleep(2)
        raise RuntimeError("the gateway refused new web chat sessions for two minutes (429)")

    def say(self, sender: str, move: Move) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"sender": sender, "text": move.text}
        if move.button:
            body["button"] = move.button
        answer = self.gateway.post("/chat/api/messages", json=body)
        answer.raise_for_status()
        return list(answer.json())

    def case(self, number: str) -> dict[str, Any]:
        answer = self.backend.get(f"/api/v1/cases/{number}", headers=self._staff())
        answer.raise_for_status()
        return dict(answer.json())

    def _staff(self) -> dict[str, str]:
        if self._token is None:
            answer = self.backend.post(
                "/api/v1/auth/login", json={"username": "admin", "password": self.admin_password}
            )
            answer.raise_for_status()
            self._token = str(answer.json()["token"])
        return {"Authorization": f"Bearer {self._token}"}


def converse(chat: Chat, message: RealMessage, text: str, labels: LabelDepartments) -> Conversation:
    """One conversation opened with `text`, answered by the scripted citizen until a case or the end."""
    done = Conversation(row=message.row, label=message.label, half=message.half)
    done.place_in_message = place_in(text) != DEFAULT_PLACE
    sender = chat.new_sender()
    move = Move("first", text)
    phone = phone_for(message.row)
    try:
        while done.turns < MAX_TURNS:
            replies = chat.say(sender, move)
            done.turns += 1
            move = next_move(replies, text, phone)
            done.readings.append(move.reading)
            if move.reading == "knowledge_answer":
                done.knowledge.append(knowledge_answer(replies))
            if move.reading in ("filed", "handoff", "emergency"):
                done.ending = move.reading
                break
        if done.ending == "filed":
            found = FILED.search(texts(replies))
            done.case_number = found.group(1) if found else None
    except httpx.HTTPError as error:
        done.ending = "error"
        done.readings.append(f"error:{type(error).__name__}")
    if done.case_number:
        judge_case(chat, done, text, labels)
    return done


def knowledge_answer(replies: Sequence[dict[str, Any]]) -> str:
    """The knowledge base's answer (the project's own text), shortened: its first line."""
    said = texts(replies).strip()
    return said.splitlines()[0][:60] if said else ""


def judge_case(chat: Chat, done: Conversation, text: str, labels: LabelDepartments) -> None:
    case = chat.case(str(done.case_number))
    done.department = case.get("department_code") or (case.get("lead_unit") or {}).get("code")
    done.review = bool(case.get("needs_review"))
    done.category = case.get("category_code")
    done.appeal_type = case.get("appeal_type")
    done.description_whole = case.get("description") == text.strip()
    done.right = labels.is_right(done.label, done.department)


def sample(messages: Sequence[RealMessage], per_half: int, seed: int = SEED) -> list[RealMessage]:
    """A fixed random sample of `per_half` messages of each half, in row order."""
    chosen: list[RealMessage] = []
    for half in HALVES:
        part = [m for m in messages if m.half == half]
        chosen += random.Random(f"{seed}:{half}").sample(part, min(per_half, len(part)))
    return sorted(chosen, key=lambda m: m.row)


def run_all(
    chat: Chat, messages: Sequence[RealMessage], labels: LabelDepartments, chars: int, workers: int
) -> list[Conversation]:
    """Every message as a conversation, `workers` at a time; progress on stderr."""
    started = time.perf_counter()

    def one(message: RealMessage) -> Conversation:
        return converse(chat, message, message.text[:chars], labels)

    results = []
    with ThreadPoolExecutor(workers) as pool:
        for number, done in enumerate(pool.map(one, messages), start=1):
            results.append(done)
            if number % 25 == 0:
                print(f"  {number}/{len(messages)} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return results


@contextmanager
def running_system(args: argparse.Namespace) -> Iterator[tuple[Chat, str]]:
    """The system to talk to: the one at the given URLs, else a whole stack started here."""
    if args.gateway_url:
        password = args.admin_password or os.environ.get("BACKEND_ADMIN_PASSWORD", "")
        yield Chat(args.gateway_url, args.backend_url, password), f"running system at {args.gateway_url}"
        return
    with tempfile.TemporaryDirectory(prefix="convbench-") as folder:
        stack = Stack.configure(Path(folder))
        stack.start()
        try:
            chat = Chat(stack.url("gateway"), stack.url("backend"), stack.env["BACKEND_ADMIN_PASSWORD"])
            yield chat, "whole stack started by ops/stack.py (SQLite, one Rasa server)"
        finally:
            stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-half", type=int, default=PER_HALF)
    parser.add_argument("--views", default="letter,chat60", help="letter, chat60 or both")
    parser.add_argument("--workers", type=int, default=2, help="conversations at a time")
    parser.add_argument("--gateway-url")
    parser.add_argument("--backend-url", default="http://127.0.0.1:8000")
    parser.add_argument("--admin-password", help="default: $BACKEND_ADMIN_PASSWORD")
    parser.add_argument("--show-failures", action="store_true", help="print failures of the tuning half")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    try:
        messages = sample(load_messages(), args.per_half)
        labels = label_departments()
    except RealDataMissing as missing:
        print(f"skipped: {missing}")
        return
    views = [v for v in args.views.split(",") if v]
    started = time.perf_counter()
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores ({platform.machine()})",
        "source": f"{real_data_dir()}/{DEV_FILE} (measurement only)",
        "sample": f"{args.per_half} messages of each half, seed {SEED}; at most {MAX_TURNS} citizen messages",
        "views": {v: f"the first {VIEWS[v]} characters" for v in views},
    }
    with running_system(args) as (chat, how):
        report["how"] = f"python -m bench.real_conversations; {how}; {args.workers} conversations at a time"
        if not args.gateway_url:
            report["model"] = Path(model_path()).name
        for view in views:
            print(f"view {view}: {len(messages)} conversations", file=sys.stderr)
            conversations = run_all(chat, messages, labels, VIEWS[view], args.workers)
            report[view] = {half: scores([c for c in conversations if c.half == half]) for half in HALVES}
            report[view]["tuning_failure_rows"] = failure_rows(conversations)
            report[view]["knowledge_answers_tuning"] = knowledge_rows(conversations)
            if args.show_failures:
                show_failures(conversations, messages)
            report["seconds"] = round(time.perf_counter() - started)
            if not args.no_save:  # after each view: a long run keeps what it measured
                save(report)
    show(report, views)


def save(report: dict[str, Any]) -> None:
    out = ROOT / "bench" / "results" / "real_conversations.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"saved {out.relative_to(ROOT)}", file=sys.stderr)


def show_failures(conversations: Sequence[Conversation], messages: Sequence[RealMessage]) -> None:
    """Failures of the tuning half with their text, on the terminal only."""
    text_of = {m.row: m.text for m in messages}
    for kind, done in failures(conversations):
        if done.half == "tuning":
            print(f"row {done.row} [{done.label}] {kind} {done.readings}: {text_of[done.row][:120]}")
    for done in conversations:
        if done.half == "tuning" and done.knowledge:
            print(f"row {done.row} knowledge: {text_of[done.row][:80]} => {done.knowledge[0]}")


def show(report: dict[str, Any], views: Sequence[str]) -> None:
    columns = {
        "case_filed_rate": "filed",
        "department_acceptable_of_filed": "dept ok",
        "review_share_of_filed": "review",
        "department_acceptable_without_review": "ok w/o review",
        "median_turns_to_case": "turns",
        "not_understood": "没太明白",
        "what_can_i_do": "what can I do",
        "handoffs": "hand-offs",
        "emergencies": "emergencies",
        "knowledge_answers": "knowledge",
    }
    print(f"{'':16}" + "".join(f"{name:>14}" for name in columns.values()))
    for view in views:
        for half in HALVES:
            row = report[view][half]
            print(f"{view:7}{half:9}" + "".join(f"{row[k]!s:>14}" for k in columns))
    for view in views:
        print(f"failure kinds, {view}, held-out half: {report[view]['held_out']['failure_kinds']}")
        print(f"failure kinds, {view}, tuning half: {report[view]['tuning']['failure_kinds']}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
