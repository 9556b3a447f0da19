"""The real-data routing bench: what it counts as right, review shares, and its skip without the data."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import real_data, routing_real
from bench.routing_real import Outcome, scores


def outcome(label: str, department: str, *, right: bool, strict: bool, review: bool = False) -> Outcome:
    return Outcome(label=label, department=department, review=review, right=right, strict=strict)


def test_scores_count_acceptable_strict_and_the_rest_after_review() -> None:
    results = [
        outcome("环境保护", "ecology_environment", right=True, strict=True),
        outcome("环境保护", "water", right=True, strict=False),
        outcome("环境保护", "hrss", right=False, strict=False, review=True),
        outcome("卫生计生", "health", right=True, strict=True, review=True),
    ]
    report = scores(results)
    assert report["department_accuracy"] == 0.75
    assert report["strict_accuracy"] == 0.5
    assert report["review_share"] == 0.5
    assert report["accuracy_without_review"] == 1.0
    assert report["per_class"]["环境保护"]["accuracy"] == 0.667
    assert report["per_class"]["环境保护"]["predicted"][0][1] == 1


def test_the_bench_skips_with_a_message_without_the_real_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(real_data.ENV_VAR, str(tmp_path / "absent"))
    monkeypatch.setattr("sys.argv", ["routing_real"])
    routing_real.main()
    assert capsys.readouterr().out.startswith("skipped: real data not found")
