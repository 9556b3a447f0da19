"""NLU cross-validation of the assistant (Rasa's own `rasa test nlu --cross-validation`, in the Rasa
environment): intent macro-F1, entity F1, and the per-intent table. Targets: intent macro-F1 >= 0.95,
entity F1 >= 0.90.

    .venv/bin/python -m bench.nlu_cv [--folds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from ops.stack import ROOT, rasa_cli_env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    env = rasa_cli_env()
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        subprocess.run(
            [
                str(ROOT / ".venv-rasa/bin/rasa"),
                "test",
                "nlu",
                "--nlu",
                "bot/data/nlu",
                "--config",
                "config.yml",
                "--domain",
                "bot/domain.yml",
                "--cross-validation",
                "--folds",
                str(args.folds),
                "--out",
                out,
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds = time.monotonic() - started
        intents: dict[str, Any] = json.loads((Path(out) / "intent_report.json").read_text())
        entity_files = sorted(Path(out).glob("*Extractor_report.json")) + sorted(
            Path(out).glob("DIET*_report.json")
        )
        entities = {p.name.removesuffix("_report.json"): json.loads(p.read_text()) for p in entity_files}
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "folds": args.folds,
        "seconds": round(seconds),
        "intent_macro_f1": round(intents["macro avg"]["f1-score"], 3),
        "intent_accuracy": round(intents.get("accuracy", intents.get("micro avg", {}).get("f1-score", 0)), 3),
        "entity_f1": {
            name: round(report.get("micro avg", report.get("weighted avg", {})).get("f1-score", 0), 3)
            for name, report in entities.items()
        },
        "per_intent": {
            name: {
                "precision": round(r["precision"], 3),
                "recall": round(r["recall"], 3),
                "f1": round(r["f1-score"], 3),
                "support": r["support"],
            }
            for name, r in intents.items()
            if isinstance(r, dict)
            and "support" in r
            and name not in ("macro avg", "micro avg", "weighted avg")
        },
    }
    print(f"{args.folds}-fold cross-validation in {results['seconds']} s")
    print(f"intent macro-F1 {results['intent_macro_f1']}   accuracy {results['intent_accuracy']}")
    for name, f1 in results["entity_f1"].items():
        print(f"entity F1 ({name}) {f1}")
    print(f"{'intent':<22}{'precision':>10}{'recall':>8}{'f1':>8}{'n':>6}")
    for name, r in sorted(results["per_intent"].items(), key=lambda kv: kv[1]["f1"]):
        print(f"{name:<22}{r['precision']:>10}{r['recall']:>8}{r['f1']:>8}{r['support']:>6}")
    target = ROOT / "bench" / "results" / "nlu.json"
    target.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"saved {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
