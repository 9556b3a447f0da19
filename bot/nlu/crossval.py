"""Cross-validation of the NLU pipeline as the assistant runs it (run in the Rasa environment).

Rasa's own `rasa test nlu --cross-validation` scores each entity extractor alone (DIET, the patterns)
against every entity, before our clean-up (bot/nlu/entities.py) merges them; the assistant acts on the
merged result. This splits the examples into stratified folds, trains the pipeline of config.yml on the
other folds, parses each held-out example with the trained model and compares what comes out (the final
intent, fallback included, and the final entities) with the annotation.

    PYTHONPATH=. .venv-rasa/bin/python -m bot.nlu.crossval --folds 3 --out result.json

The result is JSON, one row per held-out example (gold and predicted intent, the top of the intent
ranking, gold and predicted entity spans), scored in bench/nlu_cv.py.

The same rows for the user turns of the conversation tests (bot/tests/test_*.yml, written apart from
the training data and checked to share no sentence with it), parsed by a trained model:

    PYTHONPATH=. .venv-rasa/bin/python -m bot.nlu.crossval --model models/jiesu-….tar.gz --out turns.json

or for labelled examples that were never trained on (NLU YAML files, a file or a folder), such as
bench/data/nlu_fresh/:

    PYTHONPATH=. .venv-rasa/bin/python -m bot.nlu.crossval --model … --examples bench/data/nlu_fresh \
        --out fresh.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from rasa.core.agent import Agent
from rasa.model_training import train_nlu
from rasa.shared.nlu.training_data.entities_parser import parse_training_example
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.common import configure_logging_and_warnings
from rasa.utils.log_utils import configure_structlog

Span = tuple[str, int, int]


def folds_of(examples: list[Message], folds: int, seed: int) -> list[list[Message]]:
    """Stratified by intent: each intent's examples are shuffled and dealt round the folds."""
    by_intent: dict[str, list[Message]] = defaultdict(list)
    for example in examples:
        by_intent[example.get("intent")].append(example)
    dealt: list[list[Message]] = [[] for _ in range(folds)]
    rng = random.Random(seed)
    position = 0
    for intent in sorted(by_intent):
        group = by_intent[intent]
        rng.shuffle(group)
        for example in group:
            dealt[position % folds].append(example)
            position += 1
    return dealt


def spans(entities: list[dict[str, Any]]) -> set[Span]:
    return {(e["entity"], int(e["start"]), int(e["end"])) for e in entities}


async def parsed(model: str, held_out: list[Message]) -> list[dict[str, Any]]:
    agent = Agent.load(model)
    rows = []
    for example in held_out:
        text = example.get("text")
        result = await agent.parse_message(text)
        rows.append(
            {
                "text": text,
                "intent": example.get("intent"),
                "predicted": (result.get("intent") or {}).get("name"),
                # the ranking behind it (the fallback, when it decided, first): for choosing thresholds
                "ranking": [
                    [row["name"], round(float(row["confidence"]), 4)]
                    for row in (result.get("intent_ranking") or [])[:4]
                ],
                "entities": sorted(spans(example.get("entities") or [])),
                "predicted_entities": sorted(spans(result.get("entities") or [])),
            }
        )
    return rows


def labelled(data: TrainingData) -> list[Message]:
    return [m for m in data.training_examples if m.get("intent")]


def examples_in(path: Path, pattern: str = "*.yml") -> list[Message]:
    """The labelled examples of an NLU file, or of a folder's YAML files matching `pattern` (a README
    beside them is no data)."""
    files = sorted(path.glob(pattern)) if path.is_dir() else [path]
    return labelled(TrainingData().merge(*(load_data(str(f)) for f in files)))


def run(config: str, nlu: str, domain: str, folds: int, seed: int) -> list[dict[str, Any]]:
    data = load_data(nlu)
    examples = labelled(data)
    dealt = folds_of(examples, folds, seed)
    rows: list[dict[str, Any]] = []
    for index, held_out in enumerate(dealt):
        train = [m for i, fold in enumerate(dealt) if i != index for m in fold]
        fold_data = TrainingData(
            training_examples=train,
            entity_synonyms=data.entity_synonyms,
            regex_features=data.regex_features,
            lookup_tables=data.lookup_tables,
        )
        with tempfile.TemporaryDirectory() as work:
            nlu_file = Path(work) / "nlu.yml"
            fold_data.persist_nlu(str(nlu_file))
            model = train_nlu(config, str(nlu_file), str(Path(work) / "models"), domain=domain)
            if model is None:
                raise RuntimeError(f"training fold {index + 1} failed")
            for row in asyncio.run(parsed(model, held_out)):
                rows.append({**row, "fold": index + 1})
    return rows


def test_turns(stories: Path) -> list[Message]:
    """Each user turn of the conversation tests that has text and a labelled intent (a button's
    "/intent" payload and the gateway's external intents are no language to understand)."""
    turns = []
    for path in sorted(stories.glob("test_*.yml")):
        for story in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]:
            for step in story["steps"]:
                text = str(step.get("user") or "").strip()
                if text and step.get("intent") and not text.startswith("/"):
                    turns.append(parse_training_example(text, step["intent"]))
    return turns


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="config.yml")
    parser.add_argument("--nlu", default="bot/data/nlu")
    parser.add_argument("--domain", default="bot/domain.yml")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--model", help="parse the conversation tests' turns with this model instead")
    parser.add_argument("--stories", default="bot/tests")
    parser.add_argument("--examples", help="with --model: parse these labelled NLU files instead")
    parser.add_argument("--pattern", default="*.yml", help="with a folder of --examples: these files of it")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    if args.model:
        if args.examples:
            held_out = examples_in(Path(args.examples), args.pattern)
        else:
            held_out = test_turns(Path(args.stories))
        rows = asyncio.run(parsed(args.model, held_out))
    else:
        rows = run(args.config, args.nlu, args.domain, args.folds, args.seed)
    Path(args.out).write_text(json.dumps(rows, ensure_ascii=False))


if __name__ == "__main__":
    main()
