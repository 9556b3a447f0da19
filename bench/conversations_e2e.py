"""The conversation test stories end to end (NLU included): how many conversations the assistant gets
entirely right, and which user turns it misreads. `make test` requires the dialogue part (every
action) to be exactly right; this measures the whole.

    .venv/bin/python -m bench.conversations_e2e [--stories PATH]

Another file or folder of test stories (--stories) is measured the same way; only the default set's
result is kept in bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from ops.stack import ROOT, model_path, rasa_cli_env

PREDICTED = re.compile(r"- intent: (\S+)\s+# predicted: (\S+?): (.*)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", default="bot/tests")
    args = parser.parse_args()
    env = rasa_cli_env()
    with tempfile.TemporaryDirectory() as out:
        run = subprocess.run(
            [
                str(ROOT / ".venv-rasa/bin/rasa"),
                "test",
                "core",
                "--model",
                model_path(),
                "--stories",
                args.stories,
                "--e2e",
                "--out",
                out,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        log = run.stdout + run.stderr
        conversations = re.findall(r"CONVERSATION level:.*?Correct:\s+(\d+) / (\d+)", log, re.S)
        failed = (Path(out) / "failed_test_stories.yml").read_text(encoding="utf-8")
    right, total = map(int, conversations[-1])
    turns = PREDICTED.findall(failed)
    misread = Counter(f"{gold}->{said}" for gold, said, _ in turns)
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "model": Path(model_path()).name,
        "conversations_right": right,
        "conversations": total,
        "first_misread_turns": dict(misread.most_common()),
        "misread_texts": [{"gold": g, "predicted": p, "text": t.strip()} for g, p, t in turns],
    }
    print(f"conversations entirely right, NLU included: {right} / {total}")
    print("first misread turn of each failing conversation (gold -> predicted):")
    for pair, count in misread.most_common():
        print(f"  {pair}: {count}")
    for gold, said, text in turns:
        print(f"  {gold} -> {said}: {text.strip()}")
    if args.stories == parser.get_default("stories"):
        (ROOT / "bench" / "results" / "conversations_e2e.json").write_text(
            json.dumps(result, indent=2, ensure_ascii=False)
        )


if __name__ == "__main__":
    main()
