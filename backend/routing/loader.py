"""Load the classifier once per process, on first use (or at start-up, to warm it)."""

from __future__ import annotations

import threading
from pathlib import Path

from backend.cases.schemas.intake import CaseRouting
from backend.routing.service import Classifier


class ClassifierHolder:
    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir
        self._classifier: Classifier | None = None
        self._lock = threading.Lock()

    def get(self) -> Classifier:
        if self._classifier is None:
            with self._lock:
                if self._classifier is None:
                    self._classifier = Classifier.load(self.models_dir)
        return self._classifier

    def suggest(self, text: str, address: str | None) -> CaseRouting:
        return self.get().suggest(text, address)
