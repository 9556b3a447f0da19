"""The category classifier: TF-IDF of characters and jieba words, logistic regression on top.

Place names are taken out of the text before classification, so that a category is learnt from what
happened, not from where the training sentences happened to be.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from backend.reference.categories import DATA as REFERENCE_DATA
from backend.routing.places import PlaceFinder
from backend.routing.text import normalise, words

log = logging.getLogger(__name__)
CORPUS = Path(__file__).resolve().parent / "corpus"
MODEL_VERSION = "1"  # bump when features or classifier change


@dataclass(frozen=True)
class Example:
    text: str
    category: str


def read_corpus(folder: Path) -> list[Example]:
    examples = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                examples.append(Example(row["text"], row["category"]))
    return examples


def training_hash(folder: Path = CORPUS / "train") -> str:
    """Content hash of everything the model learns from: corpus, categories, gazetteer, version."""
    digest = hashlib.sha256(MODEL_VERSION.encode())
    for path in sorted([*folder.glob("*.jsonl"), *REFERENCE_DATA.glob("*.*")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def word_analyzer(text: str) -> list[str]:
    """jieba words and word bigrams (module-level so that the model pickles)."""
    tokens = words(text)
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


class CategoryModel:
    def __init__(self, places: PlaceFinder) -> None:
        self.places = places
        self.pipeline = Pipeline(
            [
                (
                    "features",
                    FeatureUnion(
                        [
                            (
                                "chars",
                                TfidfVectorizer(
                                    analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True
                                ),
                            ),
                            ("words", TfidfVectorizer(analyzer=word_analyzer, min_df=1, sublinear_tf=True)),
                        ]
                    ),
                ),
                ("classifier", LogisticRegression(C=20.0, max_iter=3000)),
            ]
        )

    @property
    def classes(self) -> list[str]:
        return list(self.pipeline.classes_)

    def prepare(self, text: str) -> str:
        """Normalise and remove the place mentions."""
        text = normalise(text)
        for mention in self.places.find(text).mentions:
            text = text.replace(mention, " ")
        return text

    def fit(self, examples: Sequence[Example]) -> CategoryModel:
        self.pipeline.fit([self.prepare(e.text) for e in examples], [e.category for e in examples])
        return self

    def probabilities(self, texts: Iterable[str]) -> np.ndarray:
        return self.pipeline.predict_proba([self.prepare(t) for t in texts])

    def __getstate__(self) -> dict[str, object]:
        return {"pipeline": self.pipeline}

    def __setstate__(self, state: dict[str, object]) -> None:
        from backend.routing.places import place_finder

        self.pipeline = state["pipeline"]
        self.places = place_finder()


def build(models_dir: Path, places: PlaceFinder, *, force: bool = False) -> tuple[CategoryModel, Path]:
    """Train unless a model for the current corpus exists; return the model and its file."""
    target = models_dir / f"routing-{training_hash()}.joblib"
    if target.exists() and not force:
        return joblib.load(target), target
    examples = read_corpus(CORPUS / "train")
    log.info("training the routing model on %d examples", len(examples))
    model = CategoryModel(places).fit(examples)
    models_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, target)
    for old in models_dir.glob("routing-*.joblib"):
        if old != target:
            old.unlink()
    return model, target
