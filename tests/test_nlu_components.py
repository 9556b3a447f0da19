"""Our NLU entity clean-up (bot/nlu/entities.py), and the component that runs it inside Rasa."""

from __future__ import annotations

from bot.nlu.entities import clean
from tests.test_rasa_server import in_rasa_env

TEXT = "我叫林晓 电话 138 0013 8000 工单2026112700001"


def entity(name: str, start: int, end: int, extractor: str = "DIETClassifier") -> dict[str, object]:
    return {"entity": name, "start": start, "end": end, "value": TEXT[start:end], "extractor": extractor}


def test_numbers_come_from_the_patterns_and_spans_are_trimmed() -> None:
    phone = TEXT.index("138")
    found = clean(
        [
            entity("person_name", 2, 4),
            entity("phone_number", 2, phone + 13),  # DIET swallowed the name
            entity("phone_number", phone, phone + 13, "RegexEntityExtractor"),
            entity("case_number", TEXT.index("2026") - 1, TEXT.index("2026") + 13),  # learned, unconfirmed
            entity("address", phone - 1, phone + 2),  # overlaps a pattern match
        ],
        TEXT,
    )
    assert [(e["entity"], e["value"]) for e in found] == [
        ("person_name", "林晓"),
        ("phone_number", "138 0013 8000"),
    ]
    padded = clean(
        [{"entity": "address", "start": 0, "end": 5, "value": " 朝阳区 ", "extractor": "DIETClassifier"}],
        " 朝阳区 ",
    )
    assert (padded[0]["start"], padded[0]["end"], padded[0]["value"]) == (1, 4, "朝阳区")


def test_the_component_loads_in_the_rasa_environment() -> None:
    name = in_rasa_env(
        "import json; from bot.nlu.components import NumbersByPattern as C; print(json.dumps(C.__name__))"
    )
    assert name == "NumbersByPattern"
