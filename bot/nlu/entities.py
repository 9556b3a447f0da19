"""Entity clean-up shared by the Rasa component and its tests (no Rasa import here).

Phone and case numbers have an exact shape, so the regular expressions decide them: a learned
(DIET) entity that overlaps a pattern match is dropped, and a learned phone or case number that no
pattern confirms is dropped too. A bare name matched by its shape (a surname and one or two
characters, the whole message) counts only when the message answers a question (inform,
correct_info): "谢谢" and "查进度" have that shape too. One place the model split in two ("朝阳区" +
"劲松八区", or around a short untagged piece like "二区") is joined again; a one-character place
("口" of "落户口") is no place. A name given as "姓马" is the surname 马. Spans never start or end
with spaces.
"""

from __future__ import annotations

import re
from typing import Any

PATTERN_EXTRACTOR = "RegexEntityExtractor"
PATTERN_ENTITIES = frozenset({"phone_number", "case_number"})
ANSWER_INTENTS = frozenset({"inform", "correct_info"})
JOINED_ENTITIES = frozenset({"address"})
JOINABLE_GAP = re.compile(r"\w{0,2}")  # no space or punctuation, at most two characters


def overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return int(a["start"]) < int(b["end"]) and int(b["start"]) < int(a["end"])


def trimmed(entity: dict[str, Any], text: str) -> dict[str, Any] | None:
    """The entity without surrounding spaces; None when nothing is left."""
    start, end = int(entity["start"]), int(entity["end"])
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        return None
    if (start, end) == (entity["start"], entity["end"]):
        return entity
    value = entity.get("value")
    same_text = value == text[int(entity["start"]) : int(entity["end"])]
    return {**entity, "start": start, "end": end, "value": text[start:end] if same_text else value}


def joined(entities: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Join neighbouring pieces of one place (sorted input; values must be the text itself)."""
    out: list[dict[str, Any]] = []
    for entity in entities:
        last = out[-1] if out else None
        if (
            last is not None
            and entity["entity"] == last["entity"]
            and entity["entity"] in JOINED_ENTITIES
            and JOINABLE_GAP.fullmatch(text[int(last["end"]) : int(entity["start"])])
            and last.get("value") == text[int(last["start"]) : int(last["end"])]
            and entity.get("value") == text[int(entity["start"]) : int(entity["end"])]
        ):
            out[-1] = {**last, "end": entity["end"], "value": text[int(last["start"]) : int(entity["end"])]}
        else:
            out.append(entity)
    return out


def normalised(entity: dict[str, Any]) -> dict[str, Any] | None:
    """None for a one-character place; the surname alone for a name given as 姓X."""
    value = entity.get("value")
    if entity["entity"] == "address" and isinstance(value, str) and len(value) < 2:
        return None
    if (
        entity["entity"] == "person_name"
        and isinstance(value, str)
        and len(value) in (2, 3)
        and value[0] == "姓"
    ):
        return {**entity, "value": value[1:]}
    return entity


def clean(entities: list[dict[str, Any]], text: str, intent: str | None) -> list[dict[str, Any]]:
    """Prefer pattern matches for numbers, drop unconfirmed learned numbers and shape-only names
    outside answers, trim spaces, dedupe, join split places."""
    patterns = [
        e
        for e in entities
        if e.get("extractor") == PATTERN_EXTRACTOR
        and (e.get("entity") in PATTERN_ENTITIES or intent in ANSWER_INTENTS)
    ]
    kept: list[dict[str, Any]] = []
    for entity in entities:
        if entity.get("extractor") == PATTERN_EXTRACTOR:
            if entity not in patterns:
                continue
        elif entity.get("entity") in PATTERN_ENTITIES or any(overlaps(entity, p) for p in patterns):
            continue
        fixed = trimmed(entity, text)
        if fixed is not None and not any(
            k["start"] == fixed["start"] and k["end"] == fixed["end"] and k["entity"] == fixed["entity"]
            for k in kept
        ):
            kept.append(fixed)
    places_joined = joined(sorted(kept, key=lambda e: int(e["start"])), text)
    return [e for e in map(normalised, places_joined) if e is not None]
