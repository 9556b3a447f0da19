"""Entity clean-up shared by the Rasa component and its tests (no Rasa import here).

Phone and case numbers have an exact shape, so the regular expressions decide them: a learned
(DIET) entity that overlaps a pattern match is dropped, and a learned phone or case number that no
pattern confirms is dropped too. Spans never start or end with spaces.
"""

from __future__ import annotations

from typing import Any

PATTERN_EXTRACTOR = "RegexEntityExtractor"
PATTERN_ENTITIES = frozenset({"phone_number", "case_number"})


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


def clean(entities: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Prefer pattern matches for numbers, drop unconfirmed learned numbers, trim spaces, dedupe."""
    patterns = [e for e in entities if e.get("extractor") == PATTERN_EXTRACTOR]
    kept: list[dict[str, Any]] = []
    for entity in entities:
        if entity.get("extractor") != PATTERN_EXTRACTOR:
            if entity.get("entity") in PATTERN_ENTITIES:
                continue
            if any(overlaps(entity, p) for p in patterns):
                continue
        fixed = trimmed(entity, text)
        if fixed is not None and not any(
            k["start"] == fixed["start"] and k["end"] == fixed["end"] and k["entity"] == fixed["entity"]
            for k in kept
        ):
            kept.append(fixed)
    return sorted(kept, key=lambda e: int(e["start"]))
