"""The soak drill's judgements: memory by the slope after warm-up (on series made up for it), and the
accounting of messages and replies (on a transcript in the gateway's schema)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine

from connectors.core.models import Base
from drills.soak import FLAT_MB_PER_MINUTE, memory_trends, read_transcript, trend, unaccounted

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


def transcript_db(path: Path) -> sqlite3.Connection:
    """A gateway transcript, in the gateway's own schema."""
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return sqlite3.connect(path)


def fill(db: sqlite3.Connection, rows: list[tuple[str, str, dict[str, object] | None, str | None]]) -> None:
    """rows: (direction, state, payload, outbox state or None when answered in the request)."""
    db.execute(
        "INSERT INTO conversations (id, channel, identity, sender_id, handling, created_at, last_message_at)"
        " VALUES (1, 'webchat', 'x', 'webchat-x', 'bot', '2026-12-06', '2026-12-06')"
    )
    for n, (direction, state, payload, outbox) in enumerate(rows, start=1):
        db.execute(
            "INSERT INTO messages (id, conversation_id, direction, author, text, payload, state, created_at)"
            " VALUES (?, 1, ?, 'bot', 't', ?, ?, '2026-12-06')",
            (n, direction, json.dumps(payload or {}), state),
        )
        if outbox is not None:
            db.execute(
                "INSERT INTO outbox (message_id, conversation_id, state, attempts, next_attempt_at,"
                " created_at) VALUES (?, 1, ?, 1, '2026-12-06', '2026-12-06')",
                (n, outbox),
            )
    db.commit()


def tally(sent: int, replies: int, notices: int = 0) -> dict[str, object]:
    return {"sent": sent, "replies": replies, "notices": notices, "errors": []}


def test_a_reply_delivered_later_through_the_outbox_is_accounted_for(tmp_path: Path) -> None:
    """A message that waited its turn: the request got "正在排队", the answer came later by the outbox."""
    db = transcript_db(tmp_path / "gateway.db")
    fill(
        db,
        [
            ("out", "processed", {"greeting": True}, None),  # the web chat's greeting: answers nothing
            ("in", "processed", None, None),
            ("out", "processed", None, None),  # the queued notice, in the request's answer
            ("out", "processed", None, "sent"),  # the bot's answer, later
            ("out", "processed", {"case_event": "dispatched"}, "sent"),
            ("out", "processed", {"internal": True}, None),
        ],
    )
    transcript = read_transcript(db)
    assert transcript == {
        "in": 1,
        "in_unanswered": 0,
        "out": 2,
        "out_later": 1,
        "pushed": 1,
        "undelivered": 0,
    }
    assert unaccounted(tally(sent=1, replies=1, notices=1), transcript, cases_match=True) == []


def test_a_reply_nobody_received_or_an_unanswered_message_fails(tmp_path: Path) -> None:
    db = transcript_db(tmp_path / "gateway.db")
    fill(
        db,
        [
            ("in", "processed", None, None),
            ("out", "processed", None, None),
            ("out", "processed", None, None),  # in the transcript, yet neither in a request nor sent later
            ("in", "pending", None, None),  # never answered
        ],
    )
    failed = unaccounted(tally(sent=2, replies=1), read_transcript(db), cases_match=True)
    assert failed == ["every message answered", "replies in the transcript"]


def test_a_queued_message_without_its_later_answer_fails(tmp_path: Path) -> None:
    db = transcript_db(tmp_path / "gateway.db")
    fill(db, [("in", "processed", None, None), ("out", "processed", None, None)])
    failed = unaccounted(tally(sent=1, replies=1, notices=1), read_transcript(db), cases_match=True)
    assert failed == ["a later reply for every queued message"]
