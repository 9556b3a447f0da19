"""common/memory.py: the malloc arena limit the services set at start."""

from __future__ import annotations

import platform

from common.memory import limit_malloc_arenas


def test_the_arena_limit_takes_on_glibc() -> None:
    if platform.libc_ver()[0] == "glibc":
        assert limit_malloc_arenas(2) is True
    else:
        assert limit_malloc_arenas(2) is False
