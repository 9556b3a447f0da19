"""Time `ops/setup.sh` of two commits from empty environments, with an empty and a warm package cache.

    python -m bench.setup_speed --ref OLD --ref NEW [--rounds 2]

Each round of each commit: a fresh clone in a temporary folder, both package caches (pip's and uv's)
empty in a temporary folder, `ops/setup.sh` from no environment at all (cold); then both environments
deleted and `ops/setup.sh` again with the caches the first run filled (warm). Nothing outside the
temporary folder is read or written but the machine's own pip configuration. The machine is shared, so
each figure is given per round with the load average before it. Saves bench/results/setup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "setup.json"


def clone(ref: str, into: Path) -> str:
    subprocess.run(["git", "clone", "-q", str(ROOT), str(into)], check=True)
    subprocess.run(["git", "-C", str(into), "checkout", "-q", ref], check=True)
    done = subprocess.run(
        ["git", "-C", str(into), "rev-parse", "--short", "HEAD"], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def timed_setup(repo: Path, caches: Path, log: Path) -> dict[str, Any]:
    """Run ops/setup.sh once; return the seconds of the whole and of each environment."""
    env = {
        **os.environ,
        "PIP_CACHE_DIR": str(caches / "pip"),
        "UV_CACHE_DIR": str(caches / "uv"),
    }
    for leftover in ("PIP_NO_CACHE_DIR", "UV_NO_CACHE", "VIRTUAL_ENV"):
        env.pop(leftover, None)
    load = os.getloadavg()[0]
    started = time.time()
    with log.open("a") as output:
        done = subprocess.run(["bash", "ops/setup.sh"], cwd=repo, env=env, stdout=output, stderr=output)
    ended = time.time()
    if done.returncode != 0:
        raise SystemExit(f"ops/setup.sh failed in {repo} (exit {done.returncode}); see {log}")
    main_done = (repo / ".venv" / ".jiesu-lock").stat().st_mtime
    rasa_done = (repo / ".venv-rasa" / ".jiesu-lock").stat().st_mtime
    return {
        "total_s": round(ended - started, 1),
        "main_env_s": round(main_done - started, 1),
        "rasa_env_s": round(rasa_done - main_done, 1),
        "load_before": round(load, 1),
    }


def one_round(ref: str, scratch: Path) -> dict[str, Any]:
    repo, caches, log = scratch / "jiesu", scratch / "caches", scratch / "setup.log"
    commit = clone(ref, repo)
    cold = timed_setup(repo, caches, log)
    cache_mb = {name: du_mb(caches / name) for name in ("pip", "uv")}
    env_mb = {name: du_mb(repo / name) for name in (".venv", ".venv-rasa")}
    for name in (".venv", ".venv-rasa"):
        shutil.rmtree(repo / name)
    warm = timed_setup(repo, caches, log)
    return {"commit": commit, "cold": cold, "warm": warm, "cache_mb": cache_mb, "env_mb": env_mb}


def du_mb(path: Path) -> int:
    if not path.exists():
        return 0
    done = subprocess.run(["du", "-sm", str(path)], check=True, capture_output=True, text=True)
    return int(done.stdout.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", action="append", required=True, help="a commit to time (give two)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--append", action="store_true", help="add to the rounds already saved")
    args = parser.parse_args()
    rounds: list[dict[str, Any]] = json.loads(RESULTS.read_text())["rounds"] if args.append else []
    for number in range(1, args.rounds + 1):
        for ref in args.ref:  # interleaved, so that a busy spell of the machine hits both
            with tempfile.TemporaryDirectory(prefix="setup-speed-") as scratch:
                result = {"ref": ref, "round": number, "date": time.strftime("%Y-%m-%d %H:%M")}
            result.update(one_round(ref, Path(scratch)))
            rounds.append(result)
            print(json.dumps(result), flush=True)
    RESULTS.write_text(
        json.dumps(
            {"date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count(), "rounds": rounds}, indent=1
        )
        + "\n"
    )
    print(f"{'commit':<10} {'round':>5} {'cold: main rasa total':>24} {'warm: main rasa total':>24}  load")
    for r in rounds:
        c, w = r["cold"], r["warm"]
        print(
            f"{r['commit']:<10} {r['round']:>5} {c['main_env_s']:>8} {c['rasa_env_s']:>6} {c['total_s']:>8}"
            f" {w['main_env_s']:>12} {w['rasa_env_s']:>6} {w['total_s']:>8}"
            f"  {c['load_before']}/{w['load_before']}"
        )


if __name__ == "__main__":
    main()
