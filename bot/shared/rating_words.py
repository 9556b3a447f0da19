"""A rating in the citizen's words ("很不满意", "打个五星吧") → one of the rating form's three values.

The NLU component cleans the satisfaction entity with these rules, and the rating form reads a rating the
model did not mark with the same ones, so that both say the same of the same words.
"""

from __future__ import annotations

import re

# Intents whose messages carry no rating, whatever words they use: a question, a status query, a report
# ("暖气费一般几月份交" asks a question: 一般 is no rating there).
NO_RATING_INTENTS = frozenset({"ask_question", "check_status", "report_issue"})

SATISFACTION_RULES = (  # first match wins; the values are the rating form's
    # "不太满意", "不是很满意": a negation a few characters before 满意 is no satisfaction; 差 but not 差不多.
    # Stars and marks as people give them in apps: one or two stars, zero, a fail (不及格) are
    # dissatisfied; three stars, a pass, 60 or 70 basic; four or five stars, full marks, 100 satisfied.
    (
        "dissatisfied",
        re.compile(
            r"不[^满]{0,3}满意|没那么满意|差(?!不多)|太次|不行|不认可|失望|不咋地|不怎么样"
            r"|[一二两12]颗?星(?!期)|(?<![\d一二三四五六七八九十百])[零0]分|负分|不及格"
        ),
    ),
    (
        "basically_satisfied",
        re.compile(
            r"基本|还行|还可以|还成|一般|凑合|将就|马马虎虎|还算|过得去|说得过去|勉强|中规中矩|差不多"
            r"|[三3]颗?星|及格|[六七67][十0]分"
        ),
    ),
    ("satisfied", re.compile(r"满意|很好|挺好|蛮好|不错|点赞|好评|[四五45]颗?星|满分|一百分|100分")),
)


def satisfaction_value(said: str) -> str | None:
    """One of satisfied / basically_satisfied / dissatisfied, or None for no rating at all."""
    if said in {value for value, _ in SATISFACTION_RULES}:
        return said
    for value, words in SATISFACTION_RULES:
        if words.search(said):
            return value
    return None
