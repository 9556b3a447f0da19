"""Held-out data stays held out: no test conversation turn and no example of the fresh NLU set
(bench/data/nlu_fresh/) is a training example, and no routing evaluation message is a routing training
message."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)|\[([^\]]+)\]\{[^}]+\}")


SPACING = re.compile(r"[\s，,。!！?？~～、]")
WORDS_ONLY = re.compile(r"[\W_]+")


def plain(text: str) -> str:
    return ANNOTATION.sub(lambda m: m.group(1) or m.group(2), text).strip()


def folded(text: str) -> str:
    """Without spaces and punctuation: "对 是这些" and "对，是这些" are one sentence."""
    return SPACING.sub("", text)


def nlu_examples(folder: Path = ROOT / "bot/data/nlu") -> list[str]:
    return [example for path in folder.glob("*.yml") for example in nlu_examples_of(path)]


def nlu_examples_of(path: Path) -> list[str]:
    examples = []
    for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
        if "intent" in item:
            examples += [plain(line.strip()[2:]) for line in item["examples"].splitlines() if line.strip()]
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


def trigrams(text: str) -> frozenset[str]:
    bare = WORDS_ONLY.sub("", text).lower()
    return frozenset(bare[i : i + 3] for i in range(max(1, len(bare) - 2)))


def near_copies(texts: list[str], others: list[str], *, same: bool = False) -> list[tuple[str, str]]:
    """Pairs whose character 3-grams overlap by a Jaccard of 0.8 or more, equal texts included
    (`same`: texts and others are one list, and an example is no copy of itself)."""
    grams = [trigrams(other) for other in others]
    holding: dict[str, list[int]] = {}
    for index, gram_set in enumerate(grams):
        for gram in gram_set:
            holding.setdefault(gram, []).append(index)
    pairs = []
    for position, text in enumerate(texts):
        mine = trigrams(text)
        shared = Counter(index for gram in mine for index in holding.get(gram, ()))
        pairs += [
            (text, others[i])
            for i, n in shared.items()
            if not (same and i == position) and n / len(mine | grams[i]) >= 0.8
        ]
    return pairs


def fresh_rounds_from_9() -> list[str]:
    """Round 9 on: written after the near-copy check existed (round 8 predates it)."""
    examples = []
    for path in (ROOT / "bench/data/nlu_fresh").glob("round*_*.yml"):
        if int(path.name[5 : path.name.index("_")]) >= 9:
            examples += nlu_examples_of(path)
    return examples


def test_fresh_rounds_from_9_have_no_near_copy_in_the_training_data_or_themselves() -> None:
    fresh = fresh_rounds_from_9()
    assert len(fresh) >= 1400
    assert near_copies(fresh, nlu_examples()) == []
    assert near_copies(fresh, fresh, same=True) == []


def test_the_held_out_round_copies_no_earlier_round() -> None:
    """Round 11 is the held-out set because rounds 8 and 9 guided training data: a near copy of one of
    theirs would carry that guidance over."""
    folder = ROOT / "bench/data/nlu_fresh"
    held_out = [e for path in folder.glob("round11_*.yml") for e in nlu_examples_of(path)]
    earlier = [e for path in folder.glob("round[89]_*.yml") for e in nlu_examples_of(path)]
    assert len(held_out) >= 1400 and len(earlier) >= 12000
    assert near_copies(held_out, earlier) == []


def test_near_copies_are_found_by_shared_trigrams() -> None:
    training = ["建议在小区门口加个快递柜", "我的工单"]
    assert near_copies(["建议在小区门口加个快递柜吧"], training) != []
    assert near_copies(["我的工单！！"], training) == [("我的工单！！", "我的工单")]
    assert near_copies(["建议在地铁站口放几把雨伞"], training) == []
    assert near_copies(training, training, same=True) == []
    assert near_copies(["我的工单", "我的工单"], ["我的工单", "我的工单"], same=True) != []


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
