"""Smart dispatch on real citizen messages (../shared/data/real/, measurement only), beside the synthetic set.

Each message of the dev set goes through what POST /api/v1/routing answers (the classifier's `public()`),
as a whole letter (cut at the API's 1,000 characters) and as a chat message (its first 60 characters).
A predicted department is right when the message's class allows it (tipdm_label_departments.yml); the
"strict" score counts only the class's most typical departments. Two halves by row parity:

- tuning (even rows): failures may be read (`--failures N` prints some) and guide changes;
- held-out (odd rows): only counted; its numbers are the honest ones.

Cases the classifier is unsure of go to review (`needs_review`); the bench reports what share does and how
accurate the rest is. Skips with a message when the real data is absent.

    .venv/bin/python -m bench.routing_real [--models-dir models/routing] [--failures 40]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from backend.routing.service import MAX_TEXT_CHARS, Classifier  # noqa: E402
from bench.real_data import (  # noqa: E402
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
from bench.routing_eval import evaluate, pin_one_core  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VIEWS = {"full": MAX_TEXT_CHARS, "chat60": CHAT_CHARS}


@dataclass(frozen=True)
class Outcome:
    label: str
    department: str
    review: bool
    right: bool
    strict: bool


def outcomes(
    classifier: Classifier, messages: list[RealMessage], labels: LabelDepartments, chars: int
) -> list[Outcome]:
    results = []
    for message in messages:
        answer = classifier.route(message.text[:chars]).public()
        department = answer["department"]["code"]
        results.append(
            Outcome(
                label=message.label,
                department=department,
                review=bool(answer.get("needs_review", False)),
                right=labels.is_right(message.label, department),
                strict=labels.is_right(message.label, department, strict=True),
            )
        )
    return results


def share(flags: list[bool]) -> float:
    return round(sum(flags) / len(flags), 3) if flags else 0.0


def scores(results: list[Outcome]) -> dict[str, Any]:
    """Overall and per class: accuracy, strict accuracy, the departments predicted most, review."""
    by_class: defaultdict[str, list[Outcome]] = defaultdict(list)
    for outcome in results:
        by_class[outcome.label].append(outcome)
    sure = [o for o in results if not o.review]
    return {
        "messages": len(results),
        "department_accuracy": share([o.right for o in results]),
        "strict_accuracy": share([o.strict for o in results]),
        "review_share": share([o.review for o in results]),
        "accuracy_without_review": share([o.right for o in sure]),
        "per_class": {
            label: {
                "messages": len(group),
                "accuracy": share([o.right for o in group]),
                "strict_accuracy": share([o.strict for o in group]),
                "predicted": Counter(o.department for o in group).most_common(5),
            }
            for label, group in sorted(by_class.items(), key=lambda kv: -len(kv[1]))
        },
    }


def print_failures(
    classifier: Classifier, messages: list[RealMessage], labels: LabelDepartments, count: int
) -> None:
    """Some wrongly routed messages of the TUNING half only, as chat messages, in a fixed random order."""
    wrong = []
    for message in messages:
        answer = classifier.route(message.text[:MAX_TEXT_CHARS]).public()
        if not labels.is_right(message.label, answer["department"]["code"]):
            wrong.append((message, answer))
    random.Random(7).shuffle(wrong)
    for message, answer in wrong[:count]:
        print(
            f"[{message.label}] -> {answer['category']['code']} / {answer['department']['code']}"
            f" ({answer['confidence']}): {message.text[:160]}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models" / "routing")
    parser.add_argument("--failures", type=int, default=0, help="print N failures of the tuning half")
    args = parser.parse_args()
    try:
        messages = load_messages()
        labels = label_departments()
    except RealDataMissing as missing:
        print(f"skipped: {missing}")
        return
    pin_one_core()
    classifier = Classifier.load(args.models_dir)
    if args.failures:
        print_failures(classifier, [m for m in messages if m.half == "tuning"], labels, args.failures)
        return
    started = time.perf_counter()
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores ({platform.machine()}), measured on 1 core",
        "source": f"{real_data_dir()}/{DEV_FILE} (measurement only)",
        "halves": {
            "tuning": "even rows: failures read and used to guide changes",
            "held_out": "odd rows: only counted, never read; the honest numbers",
        },
    }
    for half in HALVES:
        part = [m for m in messages if m.half == half]
        report[half] = {
            view: scores(outcomes(classifier, part, labels, chars)) for view, chars in VIEWS.items()
        }
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["synthetic_held_out"] = evaluate(classifier)
    show(report)
    out = ROOT / "bench" / "results" / "routing_real.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"saved {out.relative_to(ROOT)}")


def show(report: dict[str, Any]) -> None:
    print(f"source: {report['source']}")
    print(f"{'':18}{'acceptable':>11}{'strict':>8}{'review':>8}{'rest':>7}")
    for half in HALVES:
        for view in VIEWS:
            s = report[half][view]
            print(
                f"{half:9}{view:9}{s['department_accuracy']:>11}{s['strict_accuracy']:>8}"
                f"{s['review_share']:>8}{s['accuracy_without_review']:>7}   ({s['messages']} messages)"
            )
    print("per class, held-out half (acceptable accuracy, full / chat60):")
    for label, row in report["held_out"]["full"]["per_class"].items():
        chat = report["held_out"]["chat60"]["per_class"][label]
        print(f"  {label:10} {row['accuracy']:>6} / {chat['accuracy']:<6} ({row['messages']})")
    synthetic = report["synthetic_held_out"]
    print(
        f"synthetic held-out set: department accuracy {synthetic['department_accuracy']}, "
        f"category accuracy {synthetic['category_accuracy']}, "
        f"{synthetic['classifications_per_second_one_core']} classifications/s"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
