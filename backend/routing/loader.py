"""Load the router once per process, on first use (or at start-up, to warm it)."""

from __future__ import annotations

import threading
from pathlib import Path

from backend.cases.schemas import CaseRouting
from backend.routing.service import Router


class RouterHolder:
    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir
        self._router: Router | None = None
        self._lock = threading.Lock()

    def get(self) -> Router:
        if self._router is None:
            with self._lock:
                if self._router is None:
                    self._router = Router.load(self.models_dir)
        return self._router

    def suggest(self, text: str, address: str | None) -> CaseRouting:
        return self.get().suggest(text, address)
