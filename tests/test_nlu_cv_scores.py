"""The NLU cross-validation bench scores what the assistant acts on: the final intent (a fallback is a
miss) and the final entities, exact span and type."""

from __future__ import annotations

from bench.nlu_cv import entity_table, intent_table


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
