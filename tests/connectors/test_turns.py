"""Conversation turns under load: every message is stored before the bot is asked, no database
connection waits on the bot, and every stored message ends answered (by the bot or an operator)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from common.database import sqlite_pragmas
from connectors.app import async_url, make_async_engine
from connectors.core.conversation import MAX_ATTEMPTS, ConversationCore
from connectors.core.messages import Inbound
from connectors.core.models import (
    Author,
    Base,
    Conversation,
    Direction,
    Handling,
    Message,
    MessageState,
    OutboxItem,
)
from connectors.core.rasa import RasaClient
from ops.stack import wait_until
from tests.aio import run
from tests.connectors.conftest import gateway
from tests.fakes.rasa import TOKEN, FakeRasa
from tests.fakes.server import ServerThread

KEY = "a-gateway-secret-for-tests"


def in_own_thread(test: Callable[..., Coroutine[Any, Any, None]], *args: Any) -> None:
    run(test(*args))


def pooled_engine(path: Path, *, pool_timeout_s: float) -> AsyncEngine:
    """The gateway's SQLite engine (a pool of 5 + 10 connections), waiting at most `pool_timeout_s`
    for a free connection (30 s in production, as long as the Rasa timeout)."""
    engine = create_async_engine(
        async_url(f"sqlite:///{path}"), connect_args={"timeout": 30}, pool_timeout=pool_timeout_s
    )
    event.listen(engine.sync_engine, "connect", sqlite_pragmas)
    return engine


@asynccontextmanager
async def core_on(
    tmp_path: Path, fake: FakeRasa, *, rasa_timeout_s: float = 5.0, **limits: Any
) -> AsyncIterator[tuple[ConversationCore, AsyncEngine]]:
    engine = pooled_engine(tmp_path / "gateway.db", pool_timeout_s=1.0)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    rasa = RasaClient(base_url=fake.url, token=TOKEN, timeout_s=rasa_timeout_s)  # type: ignore[attr-defined]
    core = ConversationCore(
        sessions=async_sessionmaker(engine, expire_on_commit=False),
        rasa=rasa,
        max_chars=2000,
        secret_key=KEY,
        **limits,
    )
    try:
        yield core, engine
    finally:
        await rasa.close()
        await engine.dispose()


async def eventually(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    for _ in range(int(timeout_s / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def stored_in(core: ConversationCore) -> list[str]:
    async with core.sessions() as session:
        rows = await session.scalars(select(Message.text).where(Message.direction == Direction.IN))
        return sorted(rows)


async def bot_answers(core: ConversationCore) -> int:
    async with core.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Message).where(Message.text.startswith("收到："))
        )
        return int(count or 0)


async def seventeen_turns_against_a_hung_bot(tmp_path: Path, fake: FakeRasa) -> None:
    fake.hung = True
    async with core_on(tmp_path, fake, rasa_timeout_s=30.0) as (core, engine):
        texts = [f"第{i}个市民：楼道灯坏了" for i in range(17)]  # more than the pool's 5 + 10 connections
        turns = [
            asyncio.create_task(core.receive(Inbound(channel="webchat", identity=f"citizen-{i:02d}", text=t)))
            for i, t in enumerate(texts)
        ]
        assert await eventually(lambda: len(fake.received) >= 8)  # the bot took 8 and hangs on them
        for _ in range(100):  # every message is stored while it hangs
            if await stored_in(core) == sorted(texts):
                break
            await asyncio.sleep(0.1)
        assert await stored_in(core) == sorted(texts)
        await asyncio.sleep(1.5)  # longer than a turn may wait for a database connection here
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # nothing waits on the bot
        fake.hung = False
        results = await asyncio.gather(*turns, return_exceptions=True)
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert await bot_answers(core) == 17  # and every one answered


def with_fake_rasa(test: Callable[[Path, FakeRasa], Coroutine[Any, Any, None]], tmp_path: Path) -> FakeRasa:
    fake = FakeRasa()
    with ServerThread(fake.app()) as server:
        fake.url = server.url  # type: ignore[attr-defined]
        try:
            in_own_thread(test, tmp_path, fake)
        finally:
            fake.hung = False
    return fake


def test_no_message_is_lost_when_turns_outnumber_the_database_pool(tmp_path: Path) -> None:
    with_fake_rasa(seventeen_turns_against_a_hung_bot, tmp_path)


async def a_saturated_bot_queues_with_a_bound(tmp_path: Path, fake: FakeRasa) -> None:
    fake.hung = True
    limits = {"max_in_flight": 2, "max_waiting": 2, "queue_wait_s": 0.2}
    async with core_on(tmp_path, fake, rasa_timeout_s=30.0, **limits) as (core, _):
        turns = [
            asyncio.create_task(
                core.receive(Inbound(channel="webchat", identity=f"citizen-{i}", text=f"第{i}件事：井盖丢了"))
            )
            for i in range(8)
        ]
        assert await eventually(lambda: sum(t.done() for t in turns) == 6)  # told at once, or after 0.2 s
        assert len(fake.received) == 2  # the bot is busy with two
        queued = [t.result()[0].text for t in turns if t.done()]
        assert all("排队" in text and "不用重复发送" in text for text in queued), queued
        busy = [t for t in turns if not t.done()]
        fake.hung = False
        answered = [(await t)[0].text for t in busy]
        assert len(answered) == 2 and all(text.startswith("收到：") for text in answered)
        for _ in range(20):
            if await bot_answers(core) == 8:
                break
            await core.process_pending()
        assert await bot_answers(core) == 8  # the queued ones answered later, none lost
        assert fake.most_in_flight == 2
        assert sorted(fake.texts()) == sorted(f"第{i}件事：井盖丢了" for i in range(8))  # once each


def test_a_saturated_bot_queues_with_a_bound_and_tells_the_citizen(tmp_path: Path) -> None:
    with_fake_rasa(a_saturated_bot_queues_with_a_bound, tmp_path)


async def leave_unanswered(core: ConversationCore, identity: str, text: str, *, attempts: int = 0) -> int:
    """A message as a gateway that stopped mid-turn leaves it: stored, never answered."""
    async with core.sessions() as session:
        conversation = Conversation(
            channel="telegram", identity=identity, sender_id=core.sender_id_for("telegram", identity)
        )
        session.add(conversation)
        await session.flush()
        message = Message(
            conversation_id=conversation.id,
            direction=Direction.IN,
            author=Author.CITIZEN,
            text=text,
            payload={"attempts": attempts} if attempts else {},
            state=MessageState.RECEIVED,
        )
        session.add(message)
        await session.commit()
        return conversation.id


async def messages_left_unanswered_are_answered_or_handed_over(tmp_path: Path, fake: FakeRasa) -> None:
    async with core_on(tmp_path, fake) as (core, _):
        retried = await leave_unanswered(core, "1001", "小区门口的路灯不亮")
        given_up = await leave_unanswered(core, "1002", "暖气片漏水了", attempts=MAX_ATTEMPTS - 1)
        assert await core.recover() == 2
        await core.process_pending()
        assert fake.texts(core.sender_id_for("telegram", "1001")) == ["小区门口的路灯不亮"]
        assert (
            fake.texts(core.sender_id_for("telegram", "1002")) == []
        )  # left behind too often: a person takes it
        async with core.sessions() as session:
            assert (await session.get_one(Conversation, retried)).handling == Handling.BOT
            assert (await session.get_one(Conversation, given_up)).handling == Handling.WAITING
            left = await session.scalar(
                select(func.count()).select_from(Message).where(Message.state == MessageState.RECEIVED)
            )
            assert left == 0
            queued = list(await session.scalars(select(Message.text).join(OutboxItem)))
            assert "收到：小区门口的路灯不亮" in queued
            assert any(text.startswith("已为您转接人工客服") for text in queued)


def test_messages_left_unanswered_by_a_stopped_gateway_are_answered_or_handed_over(tmp_path: Path) -> None:
    with_fake_rasa(messages_left_unanswered_are_answered_or_handed_over, tmp_path)


async def a_message_the_bot_refuses_goes_to_an_operator(tmp_path: Path, fake: FakeRasa) -> None:
    async with core_on(tmp_path, fake) as (core, _):
        fake.refuse[core.sender_id_for("webchat", "refused")] = 400
        replies = await core.receive(Inbound(channel="webchat", identity="refused", text="我要投诉噪音"))
        assert [r.text[:10] for r in replies] == ["已为您转接人工客服，"]
        async with core.sessions() as session:
            conversation = await session.scalar(select(Conversation))
            assert conversation is not None and conversation.handoff_reason == "bot_error"
            states = list(await session.scalars(select(Message.state).where(Message.direction == "in")))
            assert states == [MessageState.PROCESSED]


def test_a_message_the_bot_refuses_goes_to_an_operator(tmp_path: Path) -> None:
    with_fake_rasa(a_message_the_bot_refuses_goes_to_an_operator, tmp_path)


async def a_photo_sent_to_an_operator_is_kept_for_the_report(tmp_path: Path, fake: FakeRasa) -> None:
    async with core_on(tmp_path, fake) as (core, _):
        await core.receive(Inbound(channel="webchat", identity="photo", text="我要反映小区垃圾"))
        async with core.sessions() as session:
            conversation = await session.scalar(select(Conversation))
            assert conversation is not None
        await core.handoffs.set_handling(conversation.id, Handling.OPERATOR, operator="op1")
        replies = await core.attach("webchat", "photo", photo="upload:ab12.jpg")
        assert [r.text for r in replies] == ["已收到图片，会附在您正在反映的问题里一并提交。"]
        at_rasa = core.sender_id_for("webchat", "photo")
        assert fake.slots[at_rasa]["attachments"] == [{"kind": "photo", "ref": "upload:ab12.jpg"}]
        assert await core.receive(Inbound(channel="webchat", identity="photo", text="在吗")) == []
        assert fake.texts(at_rasa) == ["我要反映小区垃圾"]  # the operator answers, not the bot


def test_a_photo_sent_while_an_operator_talks_is_kept_for_the_report(tmp_path: Path) -> None:
    with_fake_rasa(a_photo_sent_to_an_operator_is_kept_for_the_report, tmp_path)


async def seed_unanswered(database: Path) -> None:
    engine = make_async_engine(f"sqlite:///{database}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    core = ConversationCore(sessions=sessions, rasa=None, max_chars=2000, secret_key=KEY)  # type: ignore[arg-type]
    await leave_unanswered(core, "5001", "垃圾桶满了没人清")
    await engine.dispose()


def test_a_gateway_starting_up_answers_what_it_left_unanswered(tmp_path: Path, fake_rasa: FakeRasa) -> None:
    in_own_thread(seed_unanswered, tmp_path / "gateway.db")
    stack = gateway(tmp_path, fake_rasa, RETRY_INTERVAL_S="600", GATEWAY_SECRET_KEY=KEY)  # only start-up can
    try:
        assert wait_until(
            lambda: fake_rasa.texts(stack.sender_id("telegram", "5001")) == ["垃圾桶满了没人清"], 20
        )
    finally:
        stack.stop()


class ReadsThenWaits(AsyncSession):
    """A session whose next read, once `after_read` is set, lets other work run before it returns:
    the event loop's freedom between a query's rows arriving and the code that looks at them."""

    after_read: Callable[[], Coroutine[Any, Any, None]] | None = None

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        result = await super().execute(*args, **kwargs)
        hook, ReadsThenWaits.after_read = ReadsThenWaits.after_read, None
        if hook is not None:
            await hook()
        return result


async def a_turn_ending_during_recovery_is_not_answered_twice(tmp_path: Path, fake: FakeRasa) -> None:
    async with core_on(tmp_path, fake) as (core, engine):
        core.sessions = async_sessionmaker(engine, class_=ReadsThenWaits, expire_on_commit=False)
        fake.hung = True
        turn = asyncio.create_task(core.receive(Inbound(channel="webchat", identity="w1", text="路灯不亮")))
        assert await eventually(lambda: fake.in_flight == 1)  # stored, its turn at the bot

        async def the_turn_ends() -> None:
            fake.hung = False
            await turn

        ReadsThenWaits.after_read = the_turn_ends
        assert await core.recover() == 0
        assert [r.text for r in turn.result()] == ["收到：路灯不亮"]
        await core.process_pending()
        assert fake.texts() == ["路灯不亮"]  # once: the finished turn was not taken for a stuck one
        async with core.sessions() as session:
            replies = list(await session.scalars(select(Message.text).where(Message.direction == "out")))
            assert replies == ["收到：路灯不亮"]
            states = list(await session.scalars(select(Message.state).where(Message.direction == "in")))
            assert states == [MessageState.PROCESSED]


def test_a_turn_that_ends_while_recovery_reads_is_not_answered_twice(tmp_path: Path) -> None:
    with_fake_rasa(a_turn_ending_during_recovery_is_not_answered_twice, tmp_path)
