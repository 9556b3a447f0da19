"""The NLU cross-validation bench scores what the assistant acts on: the final intent (a fallback is a
miss) and the final entities, exact span and type."""

from __future__ import annotations

from pathlib import Path

from bench.nlu_cv import entity_table, intent_table
from tests.rasa_env import in_rasa_env


def row(
    intent: str, predicted: str, entities: list[list[object]], found: list[list[object]]
) -> dict[str, object]:
    return {
        "text": "",
        "intent": intent,
        "predicted": predicted,
        "entities": entities,
        "predicted_entities": found,
    }


def test_a_fallback_counts_as_a_miss_of_the_gold_intent() -> None:
    rows = [
        row("greet", "greet", [], []),
        row("greet", "nlu_fallback", [], []),
        row("thank", "greet", [], []),
    ]
    table = intent_table(rows)
    assert table["greet"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert table["thank"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert "nlu_fallback" not in table


def test_entities_count_only_with_the_exact_span_and_type() -> None:
    rows = [
        row("inform", "inform", [["address", 0, 5]], [["address", 0, 5]]),
        row(
            "inform", "inform", [["address", 0, 8]], [["address", 0, 5]]
        ),  # truncated: a miss and a false find
        row("inform", "inform", [["phone_number", 2, 13]], [["person_name", 2, 13]]),  # wrong type
        row("inform", "inform", [], [["person_name", 0, 2]]),
    ]
    table = entity_table(rows)
    assert table["address"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert table["phone_number"]["recall"] == 0.0
    assert table["all"] == {"precision": 0.25, "recall": 0.333, "f1": 0.286, "support": 3}


def test_the_held_out_turns_are_the_conversation_tests_typed_turns(tmp_path: Path) -> None:
    """Typed text with its labelled intent and annotated entities; a button's payload and the
    gateway's external intent are not language and are left out."""
    (tmp_path / "test_a.yml").write_text(
        """
stories:
  - story: one
    steps:
      - intent: EXTERNAL_rate_case
      - user: |
          我叫[王小明](person_name) 电话[13800138000](phone_number)
        intent: inform
      - action: utter_x
      - user: |
          /affirm
        intent: affirm
      - user: |
          [很不满意]{"entity": "satisfaction", "value": "dissatisfied"}
        intent: rate
""",
        encoding="utf-8",
    )
    (tmp_path / "other.yml").write_text("stories: []", encoding="utf-8")  # not a test file
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from bot.nlu.crossval import spans, test_turns\n"
        "turns = test_turns(Path(sys.argv[1]))\n"
        "print(json.dumps([[m.get('text'), m.get('intent'), sorted(spans(m.get('entities') or []))]"
        " for m in turns], ensure_ascii=False))\n"
    )
    assert in_rasa_env(code, str(tmp_path)) == [
        ["我叫王小明 电话13800138000", "inform", [["person_name", 2, 5], ["phone_number", 8, 19]]],
        ["很不满意", "rate", [["satisfaction", 0, 4]]],
    ]


def test_labelled_examples_are_read_with_their_intents_and_entities(tmp_path: Path) -> None:
    """What the fresh set (bench/data/nlu_fresh/) is scored on: each example's text, intent and spans;
    a regex or lookup table in the same files is no example, nor is a README beside them."""
    (tmp_path / "a.yml").write_text(
        """version: "3.1"
nlu:
  - intent: inform
    examples: |
      - [海淀区万柳](address) 电话[139 1234 5678](phone_number)
      - 不留名字了
  - intent: rate
    examples: |
      - [还凑合]{"entity": "satisfaction", "value": "basically_satisfied"} 就是慢了点
  - regex: case_number
    examples: |
      - \\\\d{13}
""",
        encoding="utf-8",
    )
    (tmp_path / "b.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - 您好 在吗\n', encoding="utf-8"
    )
    (tmp_path / "README.md").write_text("# what these are\n", encoding="utf-8")
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from bot.nlu.crossval import examples_in, spans\n"
        "found = examples_in(Path(sys.argv[1]))\n"
        "print(json.dumps(sorted([m.get('text'), m.get('intent'), sorted(spans(m.get('entities') or []))]"
        " for m in found), ensure_ascii=False))\n"
    )
    assert in_rasa_env(code, str(tmp_path)) == [
        ["不留名字了", "inform", []],
        ["您好 在吗", "greet", []],
        ["海淀区万柳 电话139 1234 5678", "inform", [["address", 0, 5], ["phone_number", 8, 21]]],
        ["还凑合 就是慢了点", "rate", [["satisfaction", 0, 3]]],
    ]
