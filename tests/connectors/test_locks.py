"""KeyedLocks: one conversation's turns in order, other conversations free, nothing kept afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from connectors.core.locks import KeyedLocks
from tests.aio import run


def run_apart(test: Callable[[], Awaitable[None]]) -> None:
    """Run on an event loop of its own thread: the session's browser fixture keeps a loop running
    in the main thread (Playwright's sync API), where pytest-asyncio cannot start another."""

    async def main() -> None:
        await test()

    run(main())


def test_turns_of_one_conversation_wait_for_each_other_and_others_do_not() -> None:
    run_apart(turns_in_order)


async def turns_in_order() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def turn(key: str, name: str, hold_until: asyncio.Event | None = None) -> None:
        async with locks.hold(key):
            order.append(f"{name} in")
            if hold_until:
                first_in.set()
                await hold_until.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(turn("webchat:a", "a1", release))
    await first_in.wait()
    second = asyncio.create_task(turn("webchat:a", "a2"))
    await turn("webchat:b", "b1")  # another conversation is not held up
    await asyncio.sleep(0)
    assert order == ["a1 in", "b1 in", "b1 out"]
    assert len(locks) == 1  # a's lock is kept: held by a1, waited for by a2
    release.set()
    await asyncio.gather(first, second)
    assert order == ["a1 in", "b1 in", "b1 out", "a1 out", "a2 in", "a2 out"]
    assert len(locks) == 0


def test_a_failing_turn_releases_and_forgets_its_lock() -> None:
    run_apart(failing_turn)


async def failing_turn() -> None:
    locks = KeyedLocks()
    try:
        async with locks.hold("telegram:7"):
            raise RuntimeError("rasa down")
    except RuntimeError:
        pass
    assert len(locks) == 0
    async with locks.hold("telegram:7"):
        assert len(locks) == 1
