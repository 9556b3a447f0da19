"""The knowledge base answers only what it knows: held-out questions, the tuning set, real questions.

Each question is scored right (an entry that answers it), wrong (an entry about something else) or
abstained (no answer), as GET /api/v1/knowledge/search decides with `answered`:

- held out (bench/data/kb_heldout/questions.yml): written apart, never used to tune the matcher;
- tuning (backend/knowledge/data/tuning.yml): guided the matcher's words, subjects and thresholds;
- real (bench/data/kb_real/judgements.csv): question-like messages of ../shared/data/real/ (measurement
  only), each answer judged by hand, as a whole message (its first 500 characters, as the assistant sends
  it) and as a chat message (its first 60 characters, when longer). The table holds no sentence: file,
  row number, view, a few words of subject, the entries that would rightly answer, the entry answered
  when judged and the judgement. The matcher is run again on those rows and every row whose answer
  changed since it was judged is flagged (read them with `--show changed` and judge them again).
  The rows are scored by set (SETS): a set whose wrong answers guided a change is a tuning set from
  then on. Skipped with a message when the folder is absent.

    .venv/bin/python -m bench.knowledge_eval [--show changed|all] [--sample N --seed S]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from backend.knowledge.service import DATA, KnowledgeBase, knowledge_base
from bench.real_data import (
    CHAT_CHARS,
    DEV_FILE,
    TRAVEL_FILE,
    RealDataMissing,
    load_messages,
    load_travel_turns,
    real_data_dir,
)

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT = ROOT / "bench" / "data" / "kb_heldout" / "questions.yml"
TUNING = DATA.parent / "tuning.yml"
JUDGEMENTS = ROOT / "bench" / "data" / "kb_real" / "judgements.csv"
RESULTS = ROOT / "bench" / "results" / "knowledge.json"
QUESTION_CHARS = 500  # what the assistant sends (bot/actions/backend_client.py) and the API accepts
VIEWS = {"full": QUESTION_CHARS, "chat60": CHAT_CHARS}
NONE = "-"  # no entry: abstained, or no entry answers the question
FIELDS = ("file", "row", "view", "set", "about", "acceptable", "answered", "judgement")
SETS = {
    "tuning": "judged first; its misses guided the subjects and the threshold",
    "check": "judged after the matcher was settled; its wrong answers then guided the salutation rule",
    "fresh1207": "seed 1207, judged after the salutation rule; its wrong answers then guided kb.yml's rules",
    "fresh": "seed 1208, drawn and judged after kb.yml's subject rules; never used to change anything",
}


@dataclass(frozen=True)
class Question:
    text: str
    acceptable: frozenset[str]  # the entries that rightly answer it; empty when none does


@dataclass(frozen=True)
class Judged:
    """One row of the judgement table: a real message, what was answered and how it was judged."""

    file: str
    row: int
    view: str  # full or chat60 (VIEWS)
    set: str  # a key of SETS
    about: str  # the subject in a few words of our own
    acceptable: frozenset[str]
    answered: str
    judgement: str


def judge(answered: str | None, acceptable: frozenset[str]) -> str:
    if answered is None or answered == NONE:
        return "abstained"
    return "right" if answered in acceptable else "wrong"


def answer(kb: KnowledgeBase, text: str) -> str | None:
    hit = kb.answer(text[:QUESTION_CHARS])
    return hit.entry.id if hit else None


def rates(judgements: list[str]) -> dict[str, Any]:
    counts = Counter(judgements)
    total = len(judgements)
    return {
        "questions": total,
        **{kind: counts[kind] for kind in ("right", "wrong", "abstained")},
        **{
            f"{kind}_rate": round(counts[kind] / total, 3) if total else 0.0
            for kind in ("right", "wrong", "abstained")
        },
    }


def score(kb: KnowledgeBase, questions: list[Question]) -> dict[str, Any]:
    """Rates over all questions, over those an entry answers and over those none does."""
    outcomes = [(q, judge(answer(kb, q.text), q.acceptable)) for q in questions]
    return {
        "all": rates([j for _, j in outcomes]),
        "answerable": rates([j for q, j in outcomes if q.acceptable]),
        "no_answer": rates([j for q, j in outcomes if not q.acceptable]),
    }


def ids(label: str | list[str]) -> frozenset[str]:
    labels = label if isinstance(label, list) else [label]
    return frozenset(x for x in labels if x != "none")


def held_out_questions() -> list[Question]:
    document = yaml.safe_load(HELD_OUT.read_text(encoding="utf-8"))
    return [Question(item["q"], ids(item["id"])) for item in document["questions"]]


def tuning_questions() -> list[Question]:
    document = yaml.safe_load(TUNING.read_text(encoding="utf-8"))
    answerable = [Question(item["q"], ids(item["id"])) for item in document["answerable"]]
    return answerable + [Question(q, frozenset()) for q in document["unanswerable"]]


def read_table(path: Path = JUDGEMENTS) -> list[Judged]:
    with path.open(encoding="utf-8", newline="") as file:
        rows = [r for r in csv.DictReader(line for line in file if not line.startswith("#"))]
    table = [
        Judged(
            file=r["file"],
            row=int(r["row"]),
            view=r["view"],
            set=r["set"],
            about=r["about"],
            acceptable=frozenset(r["acceptable"].split()) - {NONE},
            answered=r["answered"],
            judgement=r["judgement"],
        )
        for r in rows
    ]
    for item in table:  # the table must agree with itself
        if item.set not in SETS:
            raise ValueError(f"{item.file} row {item.row}: set {item.set!r} is none of {', '.join(SETS)}")
        if item.judgement != judge(item.answered, item.acceptable):
            raise ValueError(f"{item.file} row {item.row}: judged {item.judgement}, answered {item.answered}")
    return table


Key = tuple[str, int, str]  # file, row, view


def real_texts(table: list[Judged]) -> dict[Key, str]:
    """The judged rows' texts as each view sends them, read from ../shared at run time.

    Raises RealDataMissing when the folder is absent.
    """
    by_file = {DEV_FILE: {m.row: m.text for m in load_messages()}, TRAVEL_FILE: load_travel_turns()}
    return {(j.file, j.row, j.view): by_file[j.file][j.row][: VIEWS[j.view]] for j in table}


def score_real(kb: KnowledgeBase, table: list[Judged], texts: dict[Key, str]) -> dict[str, Any]:
    """Rates by the hand judgements, per view; a row answered differently now is flagged.

    A flagged row is counted by its hand-labelled entries (right if the new answer is one of them, else
    wrong) until it is judged again.
    """
    changed = []
    judged = []
    for item in table:
        now = answer(kb, texts[item.file, item.row, item.view]) or NONE
        if now != item.answered:
            changed.append(
                {"file": item.file, "row": item.row, "view": item.view, "judged": item.answered, "now": now}
            )
        judged.append((item, judge(now, item.acceptable)))
    report: dict[str, Any] = {"messages": len({(t.file, t.row) for t in table}), "sets": SETS}
    for name in SETS:
        report[name] = {"messages": len({(t.file, t.row) for t in table if t.set == name})}
        for view in VIEWS:
            part = [(item, j) for item, j in judged if item.view == view and item.set == name]
            report[name][view] = {
                "all": rates([j for _, j in part]),
                "answerable": rates([j for item, j in part if item.acceptable]),
                "no_answer": rates([j for item, j in part if not item.acceptable]),
                "by_file": {
                    file: rates([j for item, j in part if item.file == file])
                    for file in sorted({t.file for t in table})
                },
            }
    report["changed_since_judged"] = changed
    return report


def sample(count: int, *, seed: int, skip: set[tuple[str, int]]) -> list[tuple[str, int]]:
    """Question-like rows to judge, none of `skip`: messages of the dev set's tuning half, travel questions.

    A dev-set message is question-like when it asks (请问, 咨询, 询问, 是否, 能否) and fits in a chat
    message of at most 400 characters; four in five of the sample come from the dev set. Only the tuning
    half (even rows) is read message by message (bench/real_data.py).
    """
    asks = ("请问", "咨询", "询问", "是否", "能否")
    dev = [
        (DEV_FILE, m.row)
        for m in load_messages(half="tuning")
        if len(m.text) <= 400 and any(word in m.text for word in asks) and (DEV_FILE, m.row) not in skip
    ]
    travel = [
        (TRAVEL_FILE, row)
        for row, text in load_travel_turns().items()
        if re.search(r"[？?]|吗|多少|什么|哪|怎么", text) and (TRAVEL_FILE, row) not in skip
    ]
    chooser = random.Random(seed)
    from_dev = count * 4 // 5
    return sorted(chooser.sample(dev, from_dev) + chooser.sample(travel, count - from_dev))


def print_rows(kb: KnowledgeBase, rows: list[tuple[Key, str, str]]) -> None:
    """Print rows with their text and the answer now, to judge them by hand (never saved)."""
    for (file, row, view), judged, text in rows:
        print(f"{file}:{row} {view} judged {judged} now {answer(kb, text) or NONE}: {text}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--show", choices=("changed", "all"), help="print judged rows to judge them again")
    parser.add_argument("--sample", type=int, help="print N rows not yet judged, to judge them")
    parser.add_argument("--seed", type=int, default=20, help="the sample's seed")
    args = parser.parse_args()
    kb = knowledge_base()
    table = read_table()
    skipped = None
    try:
        texts = real_texts(table)
    except RealDataMissing as missing:
        skipped = f"skipped the real questions: {missing}"
        print(skipped)
        texts = None
    if texts is not None and args.sample:
        fresh = sample(args.sample, seed=args.seed, skip={(t.file, t.row) for t in table})
        by_file = {
            DEV_FILE: {m.row: m.text for m in load_messages(half="tuning")},
            TRAVEL_FILE: load_travel_turns(),
        }
        print_rows(kb, [((f, r, "full"), "?", by_file[f][r][:QUESTION_CHARS]) for f, r in fresh])
        return
    if texts is not None and args.show:
        rows = [((t.file, t.row, t.view), t.answered, texts[t.file, t.row, t.view]) for t in table]
        if args.show == "changed":
            rows = [r for r in rows if (answer(kb, r[2]) or NONE) != r[1]]
        print_rows(kb, rows)
        return
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "held_out": {"source": str(HELD_OUT.relative_to(ROOT)), **score(kb, held_out_questions())},
        "tuning": {"source": str(TUNING.relative_to(ROOT)), **score(kb, tuning_questions())},
    }
    if texts is None:
        report["real"] = {"skipped": skipped}
    else:
        report["real"] = {
            "source": f"{real_data_dir()} (measurement only); judged rows in {JUDGEMENTS.relative_to(ROOT)}",
            **score_real(kb, table, texts),
        }
    print_report(report)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"saved {RESULTS.relative_to(ROOT)}")


def print_report(report: dict[str, Any]) -> None:
    print(f"{'':34}{'questions':>10}{'right':>7}{'wrong':>7}{'abstained':>10}")
    parts = [(name, report[name]) for name in ("held_out", "tuning")]
    if "real" in report and "skipped" not in report["real"]:
        parts += [(f"real {name} {view}", report["real"][name][view]) for name in SETS for view in VIEWS]
    for name, scores in parts:
        for part in ("all", "answerable", "no_answer"):
            r = scores[part]
            print(f"{name:22}{part:12}{r['questions']:>10}{r['right']:>7}{r['wrong']:>7}{r['abstained']:>10}")
    if "real" in report and "skipped" not in report["real"]:
        for name in SETS:
            for view in VIEWS:
                r = report["real"][name][view]["all"]
                print(
                    f"real questions, {name} set, {view}: wrong {r['wrong_rate']:.1%}, "
                    f"right {r['right_rate']:.1%}, abstained {r['abstained_rate']:.1%} of {r['questions']}"
                )
        changed = report["real"]["changed_since_judged"]
        if changed:
            print(
                f"{len(changed)} real rows answered otherwise since judged: judge them again (--show changed)"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
