"""Keep a long-running service's resident memory from creeping up."""

from __future__ import annotations

import ctypes
import ctypes.util

M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Let glibc's malloc use at most `arenas` arenas; call before the service starts its threads.

    glibc gives threads arenas of their own (up to eight per core), and memory freed in one of them is
    seldom returned, so a service with a thread pool (the backend's sync endpoints, aiosqlite's one
    thread per connection) grows slowly for as long as it runs. Measured on the backend, resident
    memory from 500 to 3,000 cases created and looked up: +17 MB with glibc's default, +5 MB with two
    arenas; in the soak drill it had grown by about 3 MB a minute.
    Returns False where the C library is not glibc (nothing to limit there).
    """
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
