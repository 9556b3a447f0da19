"""Python run in the Rasa environment (Python 3.10, .venv-rasa) from a test in the main one."""

from __future__ import annotations

import json
import subprocess

from ops.stack import ROOT, rasa_cli_env


def in_rasa_env(code: str, *args: str) -> object:
    """Run Python code in the Rasa environment; return the JSON it prints on its last line."""
    probe = subprocess.run(
        [str(ROOT / ".venv-rasa/bin/python"), "-c", code, *args],
        cwd=ROOT,
        env={**rasa_cli_env(), "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    return json.loads(probe.stdout.strip().splitlines()[-1])
