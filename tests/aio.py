"""Run a coroutine to its end from a synchronous test.

A test run that drives a browser (Playwright's sync API) leaves an event loop running in the main
thread, and `asyncio.run` refuses to start another there: each coroutine gets its own loop in a
thread of its own instead, whatever ran before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """The coroutine's result (or its exception), run on a fresh event loop in its own thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
