"""The soak drill's memory judgement, on series made up for it: the slope after warm-up decides."""

from __future__ import annotations

import numpy as np
import pytest

from drills.soak import FLAT_MB_PER_MINUTE, memory_trends, trend

RUN_MINUTES = 120
MINUTES = np.arange(0, RUN_MINUTES, 0.5)  # a sample every 30 s for two hours


def correlated_noise(rng: np.random.Generator, sd: float, r: float = 0.8) -> np.ndarray:
    """Noise like resident memory's: each sample much like the one before (AR(1), lag-1 r)."""
    noise = np.zeros(len(MINUTES))
    for i in range(1, len(noise)):
        noise[i] = r * noise[i - 1] + rng.normal(0, sd * np.sqrt(1 - r * r))
    return noise


def samples(**series: np.ndarray) -> list[dict[str, float]]:
    return [
        {"minute": float(m), "load": 2.0, **{name: float(s[i]) for name, s in series.items()}}
        for i, m in enumerate(MINUTES)
    ]


def test_a_flat_noisy_series_passes() -> None:
    rss = 110 + correlated_noise(np.random.default_rng(1), sd=1.0)
    judged = trend(MINUTES[48:], rss[48:])
    assert judged.flat and judged.conclusive
    assert judged.low < 0 < judged.high


def test_a_slow_ramp_fails() -> None:
    rss = 110 + 0.1 * MINUTES + correlated_noise(np.random.default_rng(2), sd=1.0)
    judged = trend(MINUTES[48:], rss[48:])
    assert not judged.flat and judged.conclusive
    assert judged.low < 0.1 < judged.high


def test_a_step_in_the_warm_up_passes() -> None:
    """The backend loads its routing model on the first case: +130 MB once, in the first minutes."""
    rss = np.where(MINUTES < 3, 290.0, 430.0) + correlated_noise(np.random.default_rng(3), sd=0.5)
    trends = memory_trends(samples(backend=rss), RUN_MINUTES)
    assert list(trends) == ["backend"]
    assert trends["backend"].flat
    assert trends["backend"].samples == len(MINUTES) - 48  # the first 24 minutes are left out


def test_every_service_is_judged_and_one_leak_is_enough_to_fail() -> None:
    rng = np.random.default_rng(4)
    trends = memory_trends(
        samples(
            rasa=990 + correlated_noise(rng, sd=0.2),
            gateway=100 + 0.27 * MINUTES + correlated_noise(rng, sd=0.5),
        ),
        RUN_MINUTES,
    )
    assert trends["rasa"].flat and not trends["gateway"].flat


def test_the_interval_holds_the_true_slope_about_95_times_in_100() -> None:
    """With correlated noise the textbook interval would be far too narrow (it holds about half)."""
    rng = np.random.default_rng(5)
    held = 0
    for _ in range(200):
        rss = 200 + 0.03 * MINUTES + correlated_noise(rng, sd=2.0)
        judged = trend(MINUTES[48:], rss[48:])
        held += judged.low <= 0.03 <= judged.high
    assert 0.88 <= held / 200 <= 0.995


def test_too_few_samples_are_refused() -> None:
    with pytest.raises(ValueError, match="too few"):
        trend([0, 0.5, 1.0], [1.0, 1.0, 1.0])


def test_the_threshold_is_the_issues() -> None:
    assert FLAT_MB_PER_MINUTE == 0.05
