"""common/memory.py: the malloc tuning every service sets at start, and the trim that gives free heap
pages back (a fragmented heap in a child process, measured by its resident memory)."""

from __future__ import annotations

import platform
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from common.database import PAGE_CACHE_KIB, make_engine
from common.memory import keep_memory_lean
from connectors.app import make_async_engine
from tests.aio import run

GLIBC = platform.libc_ver()[0] == "glibc"

FRAGMENT = """
import ctypes, sys
from common.memory import release_free_memory

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
blocks = [libc.malloc(4096) for _ in range(40_000)]  # 160 MB, in the heap (under the mmap threshold)
for block in blocks:
    ctypes.memset(block, 1, 4096)
kept = blocks[::64]  # one block in 64 stays: the heap cannot shrink from its top
for n, block in enumerate(blocks):
    if n % 64:
        libc.free(block)
before = rss_mb()
released = release_free_memory()
print(before, rss_mb(), released)
"""


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc only")
def test_free_pages_inside_the_heap_go_back_to_the_system() -> None:
    out = subprocess.run(
        [sys.executable, "-c", FRAGMENT], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    before, after, released = float(out[0]), float(out[1]), out[2]
    assert before > 150  # the freed blocks are still resident: free() alone gave nothing back
    assert released == "True"
    assert after < before - 100


def test_the_tuning_takes_on_glibc_and_the_trimmer_runs() -> None:
    assert keep_memory_lean(2, trim_every_s=3600) is GLIBC
    if GLIBC:
        trimmers = [t for t in threading.enumerate() if t.name == "malloc-trim"]
        assert trimmers and all(t.daemon and t.is_alive() for t in trimmers)


def test_every_sqlite_connection_keeps_a_small_page_cache(tmp_path: Path) -> None:
    """Both services' SQLite engines bound each pooled connection's page cache (it grew with the file)."""
    backend = make_engine(f"sqlite:///{tmp_path / 'backend.db'}")
    with backend.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -PAGE_CACHE_KIB
    backend.dispose()

    async def gateway_cache() -> int:
        engine = make_async_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
        async with engine.connect() as connection:
            size = (await connection.exec_driver_sql("PRAGMA cache_size")).scalar()
        await engine.dispose()
        return int(size or 0)

    assert run(gateway_cache()) == -PAGE_CACHE_KIB
