"""Search the knowledge base: TF-IDF over characters and jieba words of every question variant.

An entry answers only a question about its subject: the best entries by TF-IDF are tried in order, and
the first one whose declared subjects (kb.yml) the question states (in its opening or in a sentence that
asks, subject.focus) answers; none answers otherwise, nor when the question states a subject next to the
entry's that its answer does not cover (its not_about) or one no entry covers (kb.yml's not_about_any).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from backend.knowledge.subject import focus, subject_of
from backend.routing.model import word_analyzer
from backend.routing.text import normalise

DATA = Path(__file__).resolve().parent / "data" / "kb.yml"
# Ways of saying the same thing, folded before matching ("取出来" and "提" are both 提取).
SAME_WORDS = (
    ("取出来", "提取"),
    ("提出来", "提取"),
    ("取出", "提取"),
    ("咋", "怎么"),
    ("啥", "什么"),
    ("公基金", "公积金"),
    ("暖器", "暖气"),
    ("社宝", "社保"),
    ("哪儿", "哪里"),
    ("在哪", "哪里"),
    ("能不能", "能"),
    ("可不可以", "可以"),
    ("拉圾", "垃圾"),
    ("公机金", "公积金"),
    ("社报卡", "社保卡"),
    ("居著证", "居住证"),
    ("签移", "迁移"),
    ("违张", "违章"),
)


def fold(text: str) -> str:
    """Normalise a question and fold synonyms, for both the knowledge base and the query."""
    text = normalise(text)
    for said, meant in SAME_WORDS:
        text = text.replace(said, meant)
    return text


MIN_SCORE = 0.25
SUBJECT_SPAN = 12  # characters on either side of a subject's first part within which the others must occur
CANDIDATES = 3  # how many of the best entries may answer, each only if the question is about its subject


@dataclass(frozen=True)
class Subjects:
    """What an entry is about (kb.yml's header): alternatives of patterns that all occur close together."""

    alternatives: tuple[tuple[re.Pattern[str], ...], ...]
    excluded: tuple[tuple[re.Pattern[str], ...], ...] = ()  # written as the subjects are

    @classmethod
    def parse(cls, about: list[str], not_about: list[str]) -> Subjects:
        return cls(alternatives=_alternatives(about), excluded=_alternatives(not_about))

    def named_in(self, folded: str) -> bool:
        """Whether a folded question names one of the subjects and none of the excluded ones."""
        if any(_close_together(patterns, folded) for patterns in self.excluded):
            return False
        return any(_close_together(patterns, folded) for patterns in self.alternatives)


def _alternatives(items: list[str]) -> tuple[tuple[re.Pattern[str], ...], ...]:
    """Each item's patterns, split at ` & ` (parts that must all occur close together)."""
    return tuple(tuple(re.compile(part.strip()) for part in item.split(" & ")) for item in items)


def _close_together(patterns: tuple[re.Pattern[str], ...], text: str) -> bool:
    """Whether every pattern occurs within one stretch of SUBJECT_SPAN characters (a thing and its aspect)."""
    first, *others = patterns
    for match in first.finditer(text):
        start, end = max(0, match.start() - SUBJECT_SPAN), match.end() + SUBJECT_SPAN
        window = text[start:end]
        if all(pattern.search(window) for pattern in others):
            return True
    return False


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    department_code: str | None
    subjects: Subjects
    questions: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Hit:
    entry: Entry
    question: str
    score: float


@dataclass(frozen=True)
class Consultation:
    """The knowledge base on one question: its answer if it has one, the closest entries, the subject."""

    answer: Hit | None
    hits: list[Hit]  # best first, the answer first when there is one
    subject: str  # the question's subject in a few words (subject.subject_of)


class KnowledgeBase:
    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self._rows = [(entry, question) for entry in entries for question in entry.questions]
        self._features = FeatureUnion(
            [
                ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)),
                ("words", TfidfVectorizer(analyzer=word_analyzer, sublinear_tf=True)),
            ]
        )
        self._matrix = self._features.fit_transform([fold(q) for _, q in self._rows])
        self._lock = threading.Lock()

    def search(self, text: str, *, limit: int = 3) -> list[Hit]:
        """The best-matching entries, one hit per entry, best first."""
        with self._lock:
            query = self._features.transform([fold(text)])
        scores = (self._matrix @ query.T).toarray().ravel() / 2  # two L2-normalised blocks
        best: dict[str, Hit] = {}
        for index in np.argsort(scores)[::-1]:
            entry, question = self._rows[index]
            if entry.id not in best:
                best[entry.id] = Hit(entry, question, float(scores[index]))
            if len(best) == limit:
                break
        return list(best.values())

    def answer(self, text: str) -> Hit | None:
        """The best close entry whose subject the question names, or None: no answer beats a wrong one."""
        stated = focus(fold(text))
        for hit in self.search(text, limit=CANDIDATES):
            if hit.score < MIN_SCORE:
                break
            if hit.entry.subjects.named_in(stated):
                return hit
        return None

    def consult(self, text: str, *, limit: int = 3) -> Consultation:
        """The answer, the `limit` closest entries and the question's subject, for the search API."""
        found = self.answer(text)
        hits = self.search(text, limit=limit)
        if found is not None:
            hits = [found, *(h for h in hits if h.entry.id != found.entry.id)][:limit]
        return Consultation(answer=found, hits=hits, subject=subject_of(text))


def load_entries(path: Path = DATA) -> list[Entry]:
    """The entries of kb.yml, each also not about the subjects no entry is about (its not_about_any)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    nobody = document.get("not_about_any", [])
    return [
        Entry(
            id=item["id"],
            topic=item["topic"],
            department_code=item.get("department"),
            subjects=Subjects.parse(item["subjects"], [*item.get("not_about", []), *nobody]),
            questions=tuple(item["questions"]),
            answer=" ".join(item["answer"].split()),
        )
        for item in document["entries"]
    ]


@cache
def knowledge_base() -> KnowledgeBase:
    return KnowledgeBase(load_entries())
