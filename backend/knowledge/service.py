"""Search the knowledge base: TF-IDF over characters and jieba words of every question variant."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from backend.routing.model import word_analyzer
from backend.routing.text import normalise

DATA = Path(__file__).resolve().parent / "data" / "kb.yml"
MIN_SCORE = 0.3


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    department: str | None
    questions: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Hit:
    entry: Entry
    question: str
    score: float


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
        self._matrix = self._features.fit_transform([normalise(q) for _, q in self._rows])
        self._lock = threading.Lock()

    def search(self, text: str, *, limit: int = 3) -> list[Hit]:
        """The best-matching entries, one hit per entry, best first."""
        with self._lock:
            query = self._features.transform([normalise(text)])
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
        hits = self.search(text, limit=1)
        return hits[0] if hits and hits[0].score >= MIN_SCORE else None


def load_entries(path: Path = DATA) -> list[Entry]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Entry(
            id=item["id"],
            topic=item["topic"],
            department=item.get("department"),
            questions=tuple(item["questions"]),
            answer=" ".join(item["answer"].split()),
        )
        for item in document["entries"]
    ]


@cache
def knowledge_base() -> KnowledgeBase:
    return KnowledgeBase(load_entries())
