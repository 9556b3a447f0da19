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
from backend.routing.text import normalise, words

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
)


FUNCTION_WORDS = frozenset(
    (
        "什么 怎么 怎么办 怎么样 哪里 可以 能够 还是 一下 这个 那个 如何 为什么 多少 几号 "
        "现在 今天 明天 昨天 时候 我们 你们 他们 自己 需要 应该 是不是 有没有 知道 请问 谢谢 "
        "一个 一些 什么样 要带 去哪 找谁 告诉 帮我"
    ).split()
)


def fold(text: str) -> str:
    """Normalise a question and fold synonyms, for both the knowledge base and the query."""
    text = normalise(text)
    for said, meant in SAME_WORDS:
        text = text.replace(said, meant)
    return text


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
        """The best entry when it is close enough and shares a content word with the question."""
        hits = self.search(text, limit=1)
        if hits and hits[0].score >= MIN_SCORE and shares_content(text, hits[0].entry):
            return hits[0]
        return None


def content_words(text: str) -> set[str]:
    return {w for w in words(fold(text)) if len(w) >= 2 and w not in FUNCTION_WORDS}


def shares_content(text: str, entry: Entry) -> bool:
    """Whether the question names something the entry is about (not just 怎么 / 要带什么)."""
    about = content_words(entry.topic + " " + " ".join(entry.questions) + " " + entry.answer)
    return bool(content_words(text) & about)


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
