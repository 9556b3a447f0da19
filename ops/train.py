"""Train the Rasa model only when its inputs changed, and print the model's path.

The model is named by a content hash of everything training reads (config, domain, training data,
the jieba dictionary), so an unchanged project never trains twice and a changed one always does.
"""

from __future__ import annotations

import argparse
import codecs
import hashlib
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from ops.progress import TrainingProgress, clock, split_output

ROOT = Path(__file__).resolve().parent.parent
TRAINING_INPUTS = ("config.yml", "bot/domain.yml", "bot/data", "bot/dictionary", "bot/nlu", "bot/shared")
# in those folders, yet never read by training: the cross-validation driver only evaluates
NOT_READ_BY_TRAINING = ("bot/nlu/crossval.py",)
KEEP_MODELS = 3
LAST_TRAINING = "last-training.json"


def inputs_hash(root: Path = ROOT) -> str:
    """Hash the path and content of every file the Rasa training reads."""
    digest = hashlib.sha256()
    for entry in TRAINING_INPUTS:
        path = root / entry
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            name = file.relative_to(root).as_posix()
            if name in NOT_READ_BY_TRAINING or "__pycache__" in file.parts:
                continue  # (bytecode: Python writes it when training imports bot/nlu)
            digest.update(name.encode())
            digest.update(b"\0")
            digest.update(file.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(models_dir: Path, digest: str) -> Path:
    return models_dir / f"jiesu-{digest}.tar.gz"


def train(models_dir: Path, digest: str) -> float:
    """Run `rasa train` in the Rasa environment; return the seconds it took."""
    env = dict(
        os.environ,
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONWARNINGS="ignore",
        PYTHONPATH=str(ROOT),
    )  # our NLU components (bot/nlu/) are imported by Rasa
    command = [
        str(ROOT / ".venv-rasa/bin/rasa"),
        "train",
        "--config",
        "config.yml",
        "--domain",
        "bot/domain.yml",
        "--data",
        "bot/data",
        "--out",
        str(models_dir),
        "--fixed-model-name",
        f"jiesu-{digest}",
    ]
    log = models_dir / "train.log"
    print(f"training the Rasa model; {last_training(models_dir)}; Rasa's own log: {log}", file=sys.stderr)
    started = time.monotonic()
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert process.stdout is not None
        follow(process.stdout, output, started)
        returncode = process.wait()
    if returncode != 0:
        lines = log.read_text(errors="replace").splitlines()
        print("\n".join(lines[-30:]), file=sys.stderr)
        raise SystemExit(f"rasa train failed (exit {returncode}); the whole log is in {log}")
    seconds = time.monotonic() - started
    (models_dir / LAST_TRAINING).write_text(json.dumps({"seconds": round(seconds), "cores": os.cpu_count()}))
    return seconds


def follow(source: IO[bytes], log: IO[bytes], started: float) -> None:
    """Copy rasa's output into the log as it comes, and print a progress line now and then."""
    progress, pending = TrainingProgress(), ""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while True:
        if not select.select([source], [], [], 5.0)[0]:
            say(progress.heartbeat(time.monotonic() - started))
            continue
        chunk = os.read(source.fileno(), 65536)  # what is there; never waits for more
        if not chunk:
            return
        log.write(chunk)
        log.flush()
        lines, pending = split_output(pending, decoder.decode(chunk))
        for line in lines:
            say(progress.feed(line, time.monotonic() - started))


def say(line: str | None) -> None:
    if line:
        print(f"  {line}", file=sys.stderr, flush=True)


def last_training(models_dir: Path) -> str:
    """What the last training on this machine took, as a guide to this one."""
    try:
        seconds = json.loads((models_dir / LAST_TRAINING).read_text())["seconds"]
    except (OSError, ValueError, KeyError):
        return "7-8 minutes on 2 free cores"
    return f"the last training here took {clock(seconds)}"


def prune(models_dir: Path, keep: Path) -> None:
    """Keep the newest few models so that switching branches does not retrain."""
    models = sorted(models_dir.glob("jiesu-*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in models[KEEP_MODELS:]:
        if old != keep:
            old.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    parser.add_argument("--force", action="store_true", help="train even when a model exists")
    args = parser.parse_args()
    args.models_dir.mkdir(parents=True, exist_ok=True)
    digest = inputs_hash()
    target = model_path(args.models_dir, digest)
    if target.exists() and not args.force:
        print(f"model up to date: {target.relative_to(ROOT)}", file=sys.stderr)
        target.touch()
    else:
        seconds = train(args.models_dir, digest)
        print(f"trained {target.relative_to(ROOT)} in {seconds:.0f} s", file=sys.stderr)
    prune(args.models_dir, target)
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
