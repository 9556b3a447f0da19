"""What one conversation of bench/real_conversations.py came to, and the numbers of many: filed, department
right, turns, and what went wrong."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

ROWS_SHOWN = 12  # tuning-half row numbers kept per failure kind


@dataclass
class Conversation:
    row: int
    label: str
    half: str
    turns: int = 0
    case_number: str | None = None
    ending: str = "turns_used_up"  # filed | handoff | emergency | turns_used_up | error
    readings: list[str] = field(default_factory=list)  # how each answer of the bot was read
    knowledge: list[str] = field(default_factory=list)  # knowledge answers given (the project's text)
    department: str | None = None
    category: str | None = None
    appeal_type: str | None = None
    description_whole: bool | None = None
    right: bool = False
    place_in_message: bool = False
    review: bool = False  # routing was unsure: dispatched to the place (属地) for an operator to pick


def share(flags: Sequence[bool]) -> float:
    return round(sum(flags) / len(flags), 3) if flags else 0.0


def failure_kinds(conversations: Sequence[Conversation]) -> Counter[str]:
    """What went wrong in each conversation, one or more kinds."""
    kinds: Counter[str] = Counter()
    for kind, _ in failures(conversations):
        kinds[kind] += 1
    return kinds


def failures(conversations: Sequence[Conversation]) -> Iterator[tuple[str, Conversation]]:
    for done in conversations:
        if done.ending != "filed":
            yield f"not_filed:{done.ending}", done
        elif not done.right:
            yield f"wrong_department:{done.label}->{done.department}", done
        for reading in set(done.readings[:-1]) if done.readings else ():
            if reading in ("not_understood", "what_can_i_do", "status_check", "out_of_scope", "other"):
                yield f"bot_said:{reading}", done
            if reading == "ask_description":
                yield "asked_to_describe_again", done
            if reading == "ask_place" and done.place_in_message:
                yield "asked_for_the_place_in_the_message", done
            if reading == "not_filed":
                yield "bot_dropped_the_appeal", done
        if done.case_number and done.description_whole is False:
            yield "description_not_kept_whole", done


def scores(conversations: Sequence[Conversation]) -> dict[str, Any]:
    """The numbers of one half and view: overall, per class, endings, failure kinds."""
    filed = [c for c in conversations if c.ending == "filed"]
    report: dict[str, Any] = summary(conversations)
    report["first_answer"] = dict(Counter(c.readings[0] for c in conversations if c.readings).most_common())
    report["endings"] = dict(Counter(c.ending for c in conversations).most_common())
    report["appeal_types"] = dict(Counter(str(c.appeal_type) for c in filed).most_common())
    report["category_other"] = sum(c.category == "other" for c in filed)
    report["description_kept_whole"] = share([bool(c.description_whole) for c in filed])
    report["departments"] = dict(Counter(str(c.department) for c in filed).most_common(12))
    by_class: defaultdict[str, list[Conversation]] = defaultdict(list)
    for done in conversations:
        by_class[done.label].append(done)
    report["per_class"] = {
        label: summary(group) for label, group in sorted(by_class.items(), key=lambda kv: -len(kv[1]))
    }
    report["failure_kinds"] = dict(failure_kinds(conversations).most_common())
    return report


def summary(conversations: Sequence[Conversation]) -> dict[str, Any]:
    filed = [c for c in conversations if c.ending == "filed"]
    turns = [c.turns for c in filed]
    return {
        "conversations": len(conversations),
        "case_filed_rate": share([c.ending == "filed" for c in conversations]),
        "department_acceptable_of_filed": share([c.right for c in filed]),
        "department_acceptable_of_all": share([c.right for c in conversations]),
        "review_share_of_filed": share([c.review for c in filed]),
        "department_acceptable_without_review": share([c.right for c in filed if not c.review]),
        "median_turns_to_case": statistics.median(turns) if turns else None,
        "not_understood": sum("not_understood" in c.readings for c in conversations),
        "what_can_i_do": sum("what_can_i_do" in c.readings for c in conversations),
        "handoffs": sum(c.ending == "handoff" for c in conversations),
        "emergencies": sum(c.ending == "emergency" for c in conversations),
        "knowledge_answers": sum(bool(c.knowledge) for c in conversations),
    }


def failure_rows(conversations: Sequence[Conversation]) -> dict[str, list[int]]:
    """Row numbers of the TUNING half per failure kind (the held-out half is only counted)."""
    rows: defaultdict[str, list[int]] = defaultdict(list)
    for kind, done in failures(conversations):
        if done.half == "tuning" and len(rows[kind]) < ROWS_SHOWN:
            rows[kind].append(done.row)
    return dict(sorted(rows.items(), key=lambda kv: -len(kv[1])))


def knowledge_rows(conversations: Sequence[Conversation]) -> list[dict[str, Any]]:
    """The knowledge answers given in the TUNING half, by row number, to judge by hand."""
    return [
        {"row": c.row, "answer": c.knowledge[0]} for c in conversations if c.half == "tuning" and c.knowledge
    ]
