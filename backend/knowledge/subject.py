"""A question's subject in a few words (私立高中的学费), for offering to file it as a consultation (咨询).

When the knowledge base has no answer, the assistant can say "关于『私立高中的学费』的咨询，我帮您登记？".
The subject is the question's asking clause without greetings, places and the question words themselves:
what comes before the question word, and a short verb after it (公积金怎么提取 → 公积金提取).
"""

from __future__ import annotations

import re
from functools import cache

from backend.reference.gazetteer import gazetteer
from backend.routing.text import normalise

MAX_CHARS = 16
OPENING_CHARS = 40  # a message states its subject in its opening (a letter's title) ...
ASKING_CHARS = 40  # ... or in a short sentence that asks
# A letter's salutation ends its title: what follows (户口 in a 准生证 letter) is its story, not its subject.
SALUTATION = re.compile(r"尊敬|您好|你好")
CLAUSE_BREAK = re.compile(r"[，。！？、；：,.!?;:\s（）()【】\[\]「」『』“”\"']+|尊敬的?|您好|你好|谢谢")
ASKS = re.compile(
    r"怎么办(?=$|[呢啊呀吧])|怎么样|怎么回事|怎么|咋办|咋|如何|为什么|为啥|是什么|什么时候|什么|啥时候|啥|哪里|哪儿|哪个|哪些|哪|"
    r"谁|多少|几[号点天月年个次]?|吗|么|能不能|可不可以|能否|是否|是不是|有没有|要不要|会不会|算不算"
)
LEADING = re.compile(
    r"^(?:请问一下|请问|我想问一下|我想问|想问一下|想问|问一下|麻烦问一下|麻烦|打扰一下|我想咨询一下|我想咨询|"
    r"咨询一下|咨询|我想了解一下|我想了解|了解一下|我想知道|想知道|那个|就是|我说|的)+"
)
TRAILING = re.compile(r"[是的呢啊呀吧哈嘛都该要能会可以应该请问]+$")


def subject_of(question: str) -> str:
    """A few words saying what the question is about; its beginning when no asking clause is found."""
    text = _without_places(normalise(question))
    clauses = [c for c in (LEADING.sub("", c) for c in CLAUSE_BREAK.split(text)) if _has_words(c)]
    if not clauses:
        return normalise(question)[:MAX_CHARS]
    asking = next((c for c in clauses if ASKS.search(c)), clauses[0])
    return _core(asking)[:MAX_CHARS]


def focus(text: str) -> str:
    """Where a message states its subject: its opening (up to a salutation) and its short asking sentences.

    A long letter names many things in passing (a 劳动仲裁 it went through, a child's 户口 on the way to
    another question); what it is about is in its title or in the sentence that asks. A chat message cut
    from a letter often keeps only the title and the start of the story, so the story must not count.
    """
    if len(text) <= OPENING_CHARS:
        return text
    asking = [c for c in CLAUSE_BREAK.split(text) if c and len(c) <= ASKING_CHARS and ASKS.search(c)]
    return " ".join([_title(text[:OPENING_CHARS]), *asking])


def _title(opening: str) -> str:
    """The opening up to its first salutation with words before it (准生证问题尊敬的… → 准生证问题)."""
    for found in SALUTATION.finditer(opening):
        if _has_words(opening[: found.start()]):
            return opening[: found.start()]
    return opening


def _core(clause: str) -> str:
    """The words before the first question word, with a short verb after it (怎么提取 → 提取)."""
    found = ASKS.search(clause)
    if found is None:
        return clause
    head = TRAILING.sub("", clause[: found.start()])
    tail = TRAILING.sub("", ASKS.split(clause[found.end() :])[0])
    if len(head) < 2:
        return tail or clause
    if 2 <= len(tail) <= 4 or len(head) < 4 < len(tail):
        return head + tail
    return head


def _has_words(clause: str) -> bool:
    return len(re.findall(r"[\u4e00-\u9fffA-Za-z0-9]", clause)) >= 2


def _without_places(text: str) -> str:
    return _places().sub("", text)


@cache
def _places() -> re.Pattern[str]:
    """Beijing, its districts and streets by name (longest first), which say where, not what."""
    places = gazetteer()
    names = {"北京市", "北京"} | {d.name for d in places.districts.values()}
    names |= {s.name for s in places.streets.values() if len(s.name) >= 3}
    return re.compile("|".join(sorted(map(re.escape, names), key=len, reverse=True)))
