"""Held-out data stays held out: no test conversation turn and no example of the fresh NLU set
(bench/data/nlu_fresh/) is a training example, and no routing evaluation message is a routing training
message."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)|\[([^\]]+)\]\{[^}]+\}")


SPACING = re.compile(r"[\s，,。!！?？~～、]")


def plain(text: str) -> str:
    return ANNOTATION.sub(lambda m: m.group(1) or m.group(2), text).strip()


def folded(text: str) -> str:
    """Without spaces and punctuation: "对 是这些" and "对，是这些" are one sentence."""
    return SPACING.sub("", text)


def nlu_examples(folder: Path = ROOT / "bot/data/nlu") -> list[str]:
    examples = []
    for path in folder.glob("*.yml"):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in item:
                examples += [
                    plain(line.strip()[2:]) for line in item["examples"].splitlines() if line.strip()
                ]
    return examples


def test_conversation_tests_use_no_training_sentence() -> None:
    stories = [
        story
        for path in sorted((ROOT / "bot/tests").glob("test_*.yml"))
        for story in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]
    ]
    turns = {plain(step["user"]) for story in stories for step in story["steps"] if "user" in step}
    assert len(stories) >= 145 and len(turns) >= 400
    examples = nlu_examples()
    assert sorted(turns & set(examples)) == []
    # Beyond the shortest answers (对, 是的, 早上好: the whole vocabulary of their intents), not even a
    # sentence that differs only in spacing or punctuation.
    longer = {folded(t) for t in turns if len(folded(t)) >= 4}
    assert sorted(longer & {folded(e) for e in examples}) == []


def test_the_fresh_nlu_set_shares_no_sentence_with_the_training_data() -> None:
    fresh = nlu_examples(ROOT / "bench/data/nlu_fresh")
    assert len(fresh) >= 11000
    training = {folded(e) for e in nlu_examples()}
    assert [text for text in fresh if folded(text) in training] == []


def test_routing_evaluation_messages_are_not_training_messages() -> None:
    def texts(folder: str) -> set[str]:
        found = set()
        for path in (ROOT / "backend/routing/corpus" / folder).glob("*.jsonl"):
            found |= {
                json.loads(line)["text"].strip()
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()
            }
        return found

    train, held_out = texts("train"), texts("eval")
    assert len(train) >= 3000 and len(held_out) >= 700
    assert sorted(train & held_out) == []
