"""bot/shared/ is imported by both environments: it must load in each with nothing of Rasa."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
PROBE = (
    "import json, sys\n"
    "before = set(sys.modules)\n"
    "from bot.shared.rating_words import satisfaction_value\n"
    "loaded = {m.split('.')[0] for m in set(sys.modules) - before}\n"
    "outside = sorted(loaded - set(sys.stdlib_module_names) - {'bot'})\n"
    "print(json.dumps({'outside': outside, 'value': satisfaction_value('打个五星吧')}))\n"
)


def loaded_by(python: Path) -> dict[str, object]:
    done = subprocess.run(
        [str(python), "-I", "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{PROBE}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    "python", [Path(sys.executable), RASA_PYTHON], ids=["main environment", "Rasa environment"]
)
def test_the_rating_words_load_alone_in_both_environments(python: Path) -> None:
    if not python.exists():
        pytest.skip(f"{python} is not installed (make setup)")
    found = loaded_by(python)
    assert found["value"] == "satisfied"
    assert found["outside"] == []  # nothing but the standard library: no rasa, no rasa_sdk
