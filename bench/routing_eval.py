"""Smart dispatch on the held-out evaluation set: accuracy, macro-F1, place precision/recall, speed.

The evaluation set (backend/routing/corpus/eval/) was written separately from the training corpus and
is never used for training. Runs pinned to one CPU core with single-threaded BLAS.

    .venv/bin/python -m bench.routing_eval [--models-dir models/routing]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from sklearn.metrics import f1_score  # noqa: E402

from backend.reference.categories import categories  # noqa: E402
from backend.routing.model import CORPUS  # noqa: E402
from backend.routing.service import Classifier  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def load_eval() -> list[dict[str, str | None]]:
    lines = (CORPUS / "eval" / "eval.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def place_scores(rows: list[tuple[str | None, str | None]]) -> dict[str, float]:
    """Precision over predicted places, recall over gold places (pairs of gold, predicted)."""
    predicted = [(g, p) for g, p in rows if p is not None]
    gold = [(g, p) for g, p in rows if g is not None]
    return {
        "precision": round(sum(g == p for g, p in predicted) / len(predicted), 3) if predicted else 0.0,
        "recall": round(sum(g == p for g, p in gold) / len(gold), 3) if gold else 0.0,
        "predicted": len(predicted),
        "gold": len(gold),
    }


def pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def evaluate(classifier: Classifier) -> dict[str, Any]:
    """Score the classifier on the synthetic held-out set."""
    items = load_eval()
    cats = categories()
    classifier.route("预热一下")  # first call loads lazily built parts
    started = time.perf_counter()
    results = [classifier.route(str(item["text"]), item.get("address")) for item in items]
    elapsed = time.perf_counter() - started

    gold_cat = [str(i["category"]) for i in items]
    pred_cat = [r.category.code for r in results]
    with_dept = [
        (cats[g].department_code, r.department.code)
        for g, r in zip(gold_cat, results, strict=True)
        if cats[g].department_code
    ]
    realistic = [k for k, i in enumerate(items) if 15 <= len(str(i["text"])) <= 300]
    realistic_dept = [
        (cats[gold_cat[k]].department_code, results[k].department.code)
        for k in realistic
        if cats[gold_cat[k]].department_code
    ]
    districts = place_scores(
        [
            (i.get("district"), r.place.district.name if r.place.district else None)
            for i, r in zip(items, results, strict=True)
        ]
    )
    streets = place_scores(
        [
            (i.get("street"), r.place.street.name if r.place.street else None)
            for i, r in zip(items, results, strict=True)
        ]
    )
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores ({platform.machine()}), measured on 1 core",
        "examples": len(items),
        "department_accuracy": round(sum(g == p for g, p in with_dept) / len(with_dept), 3),
        "department_accuracy_15_300_chars": round(
            sum(g == p for g, p in realistic_dept) / len(realistic_dept), 3
        ),
        "examples_15_300_chars": len(realistic),
        "category_accuracy": round(
            sum(g == p for g, p in zip(gold_cat, pred_cat, strict=True)) / len(items), 3
        ),
        "category_macro_f1": round(float(f1_score(gold_cat, pred_cat, average="macro")), 3),
        "district": districts,
        "street": streets,
        "classifications_per_second_one_core": round(len(items) / elapsed, 1),
        "most_confused": Counter(
            f"{g}->{p}" for g, p in zip(gold_cat, pred_cat, strict=True) if g != p
        ).most_common(10),
    }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models" / "routing")
    args = parser.parse_args()
    pin_one_core()
    report = evaluate(Classifier.load(args.models_dir))
    districts, streets = report["district"], report["street"]
    print(f"held-out examples               {report['examples']}")
    print(f"department accuracy             {report['department_accuracy']}")
    print(
        f"  on 15-300 characters          {report['department_accuracy_15_300_chars']}"
        f"  ({report['examples_15_300_chars']} examples)"
    )
    print(f"category accuracy               {report['category_accuracy']}")
    print(f"category macro-F1               {report['category_macro_f1']}")
    print(f"district precision / recall     {districts['precision']} / {districts['recall']}")
    print(f"street precision / recall       {streets['precision']} / {streets['recall']}")
    print(f"classifications per second      {report['classifications_per_second_one_core']} (one core)")
    print("most confused:", ", ".join(f"{k} ({v})" for k, v in report["most_confused"]))
    out = ROOT / "bench" / "results" / "routing.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
