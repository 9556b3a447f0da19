"""NLU cross-validation of the assistant as it runs: intent macro-F1 (the final intent, fallback
included), entity F1 (the final entities, after the rule clean-up, exact span and type), and the
per-intent and per-entity tables. The folds are trained and parsed in the Rasa environment by
bot/nlu/crossval.py. Cross-validation puts near-identical sentences on both sides of a fold, so its
figures are no target. Then the same scores for the trained model (RASA_MODEL, else the newest in
models/) on sets it was never trained on: the conversation tests' user turns; bench/data/nlu_fresh/
rounds 8 and 9, whose misreads guided round 10's training data (a tuning set since); and round 11,
written after that and held out (nothing was changed because of it). No training example repeats a
sentence of any of them (tests/test_held_out.py).

    .venv/bin/python -m bench.nlu_cv [--folds 3] [--rows misread.json] [--held-out-only]

--held-out-only skips the folds (about 15 minutes) and updates only the held-out parts of the result.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ops.stack import ROOT, model_path, rasa_cli_env

FRESH = ROOT / "bench" / "data" / "nlu_fresh"


def scores(tp: int, predicted: int, gold: int) -> dict[str, float]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def intent_table(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    gold = Counter(r["intent"] for r in rows)
    said = Counter(r["predicted"] for r in rows)
    right = Counter(r["intent"] for r in rows if r["predicted"] == r["intent"])
    return {
        name: {**scores(right[name], said[name], gold[name]), "support": gold[name]} for name in sorted(gold)
    }


def entity_table(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    gold: Counter[str] = Counter()
    said: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for r in rows:
        truth = {tuple(e) for e in r["entities"]}
        found = {tuple(e) for e in r["predicted_entities"]}
        gold.update(e[0] for e in truth)
        said.update(e[0] for e in found)
        right.update(e[0] for e in truth & found)
    table = {
        name: {**scores(right[name], said[name], gold[name]), "support": gold[name]} for name in sorted(gold)
    }
    table["all"] = {
        **scores(sum(right.values()), sum(said.values()), sum(gold.values())),
        "support": sum(gold.values()),
    }
    return table


def rasa_rows(arguments: list[str]) -> tuple[list[dict[str, Any]], float]:
    """Rows from bot/nlu/crossval.py in the Rasa environment, and the seconds it took."""
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        subprocess.run(
            [
                str(ROOT / ".venv-rasa/bin/python"),
                *("-m", "bot.nlu.crossval", *arguments),
                *("--out", str(Path(out) / "rows.json")),
            ],
            cwd=ROOT,
            env=rasa_cli_env(),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds = time.monotonic() - started
        return json.loads((Path(out) / "rows.json").read_text(encoding="utf-8")), seconds


def scored(rows: list[dict[str, Any]]) -> dict[str, Any]:
    intents = intent_table(rows)
    entities = entity_table(rows)
    confusions = Counter(f"{r['intent']}->{r['predicted']}" for r in rows if r["predicted"] != r["intent"])
    return {
        "examples": len(rows),
        "intent_macro_f1": round(sum(r["f1"] for r in intents.values()) / len(intents), 3),
        "intent_accuracy": round(sum(r["predicted"] == r["intent"] for r in rows) / len(rows), 3),
        "entity_f1": entities["all"]["f1"],
        "per_intent": intents,
        "per_entity": entities,
        "confusions": dict(confusions.most_common(15)),
    }


def report(title: str, results: dict[str, Any]) -> None:
    print(title)
    print(f"intent macro-F1 {results['intent_macro_f1']}   accuracy {results['intent_accuracy']}")
    print(f"entity F1 {results['entity_f1']} (final entities, exact span and type)")
    print(f"{'intent':<22}{'precision':>10}{'recall':>8}{'f1':>8}{'n':>6}")
    for name, r in sorted(results["per_intent"].items(), key=lambda kv: kv[1]["f1"]):
        print(f"{name:<22}{r['precision']:>10}{r['recall']:>8}{r['f1']:>8}{r['support']:>6}")
    print(f"{'entity':<22}{'precision':>10}{'recall':>8}{'f1':>8}{'n':>6}")
    for name, r in results["per_entity"].items():
        print(f"{name:<22}{r['precision']:>10}{r['recall']:>8}{r['f1']:>8}{r['support']:>6}")
    print(
        "most frequent confusions (gold->predicted):",
        ", ".join(f"{k} {v}" for k, v in list(results["confusions"].items())[:8]),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument(
        "--rows", type=Path, help="also keep every example's result here (JSON; each set's beside it)"
    )
    parser.add_argument("--held-out-only", action="store_true", help="skip the cross-validation")
    args = parser.parse_args()
    target = ROOT / "bench" / "results" / "nlu.json"
    if args.held_out_only:
        results = json.loads(target.read_text(encoding="utf-8"))
    else:
        rows, seconds = rasa_rows(["--folds", str(args.folds)])
        if args.rows:
            args.rows.write_text(json.dumps(rows, ensure_ascii=False, indent=0), encoding="utf-8")
        results = {
            "date": time.strftime("%Y-%m-%d"),
            "machine": f"{os.cpu_count()} cores, {platform.machine()}",
            "folds": args.folds,
            "seconds": round(seconds),
            **scored(rows),
        }
        title = f"{args.folds}-fold cross-validation over {len(rows)} examples in {results['seconds']} s"
        report(title, results)
    model = model_path()
    apart = {
        # written apart from the training data, mostly short answers in a dialogue
        "test_turns": ("the conversation tests' user turns", []),
        # writing rounds 8 and 9 over the whole range of each intent, never trained on; their misreads
        # guided round 10's training data, so they are a tuning set since
        "fresh": (
            "bench/data/nlu_fresh rounds 8-9",
            ["--examples", str(FRESH), "--pattern", "round[89]_*.yml"],
        ),
        # round 11, written after round 10 and before anything was changed because of it: held out
        "fresh_round11": (
            "bench/data/nlu_fresh round 11",
            ["--examples", str(FRESH), "--pattern", "round11_*.yml"],
        ),
    }
    for key, (title, extra) in apart.items():
        found, _ = rasa_rows(["--model", model, *extra])
        if args.rows:
            kept = args.rows.with_name(f"{args.rows.stem}.{key}{args.rows.suffix}")
            kept.write_text(json.dumps(found, ensure_ascii=False, indent=0), encoding="utf-8")
        results[key] = {"model": Path(model).name, "date": time.strftime("%Y-%m-%d"), **scored(found)}
        report(f"\n{title}: {len(found)} examples, parsed by {Path(model).name}", results[key])
    target.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"saved {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
