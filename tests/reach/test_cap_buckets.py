"""One shared send cap: token buckets in the database, several processes, fake time."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import BroadcastSettings, LimitsSettings
from bot.runtime import ratelimit
from bot.runtime.ratelimit import FREE, PAID, KepuRateLimiter, SharedBuckets, shared_buckets
from storage import ratelimit as bucket_store
from storage.db import create_engine, session_factory

T0 = 1_800_000_000.0  # a fixed wall-clock second


class FakeTime:
    """One clock for every "process"; sleeping moves it on (no real waiting)."""

    def __init__(self) -> None:
        self.now = T0
        self.slept = 0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept += 1
        self.now += max(seconds, 1e-6)
        await asyncio.sleep(0)


async def test_a_bucket_refills_by_elapsed_time_and_never_above_capacity(
    engine: AsyncEngine,
) -> None:
    sessions = session_factory(engine)

    async def take(now: float) -> bucket_store.Take:
        async with sessions() as session, session.begin():
            return await bucket_store.take(
                session=session, name="free", rate=10.0, capacity=2.0, now=now
            )

    first, second, third = await take(T0), await take(T0), await take(T0)
    assert (first.granted, second.granted, third.granted) == (True, True, False)
    assert third.wait == pytest.approx(0.1)  # one token at 10/s
    assert (await take(T0 + 0.05)).granted is False  # half a token back
    assert (await take(T0 + 0.1)).granted is True
    # An hour idle fills it to its capacity, not to 36,000 tokens.
    assert [(await take(T0 + 3600)).granted for _ in range(3)] == [True, True, False]
    # A clock a little behind (another process) neither refills nor breaks the bucket.
    assert (await take(T0 + 3599)).granted is False
    async with sessions() as session:
        level = await bucket_store.level(session=session, name="free")
    assert level is not None and level[1] == T0 + 3600


async def test_idle_chat_buckets_are_pruned_and_count_as_full(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await bucket_store.take(session=session, name="c:1", rate=1.0, capacity=1.0, now=T0)
        await bucket_store.take(session=session, name="c:2", rate=1.0, capacity=1.0, now=T0 + 20)
        await bucket_store.take(session=session, name="free", rate=1.0, capacity=1.0, now=T0)
    async with sessions() as session, session.begin():
        gone = await bucket_store.prune(session=session, prefix="c:", idle_before=T0 + 10)
    assert gone == 1
    async with sessions() as session:
        assert await bucket_store.level(session=session, name="c:1") is None
        assert await bucket_store.level(session=session, name="c:2") is not None
        assert await bucket_store.level(session=session, name="free") is not None


def test_shared_only_on_postgresql_unless_configured() -> None:
    sessions = object()  # never used to decide
    auto = LimitsSettings()
    assert shared_buckets(auto, sessions, "sqlite") is None  # type: ignore[arg-type]
    assert shared_buckets(auto, sessions, "postgresql") is not None  # type: ignore[arg-type]
    off = LimitsSettings(shared=False)
    assert shared_buckets(off, sessions, "postgresql") is None  # type: ignore[arg-type]


def _pg_only(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several processes share one cap on PostgreSQL")


@pytest.mark.postgres
async def test_processes_taking_at_the_same_instant_share_one_bucket(db_url: str) -> None:
    _pg_only(db_url)
    engines = [create_engine(db_url) for _ in range(3)]  # three "processes"
    try:

        async def grab(engine: AsyncEngine) -> int:
            sessions = session_factory(engine)
            granted = 0
            for _ in range(20):
                async with sessions() as session, session.begin():
                    answer = await bucket_store.take(
                        session=session, name="free", rate=30.0, capacity=10.0, now=T0
                    )
                granted += answer.granted
            return granted

        counts = await asyncio.gather(*(grab(e) for e in engines for _ in range(3)))
        # 180 concurrent attempts at one instant: exactly the bucket's 10 tokens went out.
        assert sum(counts) == 10
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_window_slot_is_held_while_in_flight_and_a_window_after_its_answer(
    engine: AsyncEngine,
) -> None:
    now = [T0]
    shared = SharedBuckets(session_factory(engine), clock=lambda: now[0])
    taken = [await shared.take_slot("w:t:", slots=2, hold=10.0) for _ in range(2)]
    assert all(isinstance(name, str) for name in taken) and taken[0] != taken[1]
    # Both in flight: none free; the one that frees first is 10 s away unless answered.
    assert await shared.take_slot("w:t:", slots=2, hold=10.0) == pytest.approx(10.0)
    await shared.release_slot(str(taken[0]), after=1.0)  # answered now: a window from now
    assert await shared.take_slot("w:t:", slots=2, hold=10.0) == pytest.approx(1.0)
    now[0] += 1.0
    assert await shared.take_slot("w:t:", slots=2, hold=10.0) == taken[0]
    # A holder that never answers (killed) loses its slot only for the hold.
    now[0] += 9.0
    assert await shared.take_slot("w:t:", slots=2, hold=10.0) == taken[1]


@pytest.mark.postgres
async def test_processes_taking_slots_at_the_same_instant_share_one_window(db_url: str) -> None:
    _pg_only(db_url)
    engines = [create_engine(db_url) for _ in range(3)]  # three "processes"
    try:

        async def grab(engine: AsyncEngine) -> list[str]:
            shared = SharedBuckets(session_factory(engine), clock=lambda: T0)
            names = [await shared.take_slot("w:free:10:", slots=10, hold=5.0) for _ in range(20)]
            return [n for n in names if isinstance(n, str)]

        taken = [
            n
            for names in await asyncio.gather(*(grab(e) for e in engines for _ in range(3)))
            for n in names
        ]
        # 180 concurrent attempts at one instant: each of the 10 slots went out once.
        assert sorted(taken) == [f"w:free:10:{i:04d}" for i in range(10)]
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.mark.postgres
async def test_three_limiters_keep_one_global_cap_and_one_chat_limit(db_url: str) -> None:
    _pg_only(db_url)
    fake = FakeTime()
    engines = [create_engine(db_url) for _ in range(3)]
    limits = LimitsSettings(global_per_second=30, per_chat_per_second=1)
    paid = BroadcastSettings(enabled=True, paid_per_second=1000)
    try:
        limiters = [
            KepuRateLimiter(
                limits,
                paid,
                shared=SharedBuckets(session_factory(e), clock=fake, sleep=fake.sleep),
            )
            for e in engines
        ]
        stamps: list[tuple[float, str]] = []

        async def process(limiter: KepuRateLimiter, first_chat: int, paying: bool) -> None:
            async def send(**_: object) -> bool:
                # What the server sees: a send arriving now, on the lane it was sent on.
                stamps.append((fake.now, PAID if data.get("allow_paid_broadcast") else FREE))
                return True

            async def reserve() -> bool:
                return True

            for chat in range(first_chat, first_chat + 40):
                data: dict[str, object] = {"chat_id": chat}
                with ratelimit.paying(reserve if paying else None):
                    await limiter.process_request(send, (), {}, "sendMessage", data, None)

        # Two free-only processes and one that may pay, 40 recipients each.
        await asyncio.gather(
            process(limiters[0], 1_000, False),
            process(limiters[1], 2_000, False),
            process(limiters[2], 3_000, True),
        )
        free = sorted(t for t, lane in stamps if lane == FREE)
        paid_sends = [t for t, lane in stamps if lane == PAID]
        assert len(free) + len(paid_sends) == 120
        assert limiters[0].lanes[PAID] == limiters[1].lanes[PAID] == 0
        assert limiters[2].lanes[PAID] == len(paid_sends) > 0
        # Together the free sends never beat the cap: at most 30 in any second (the 31st
        # send after any one comes a full second later at least) ...
        assert all(later - first >= 1.0 for first, later in zip(free, free[30:], strict=False))
        # ... and the cap is used: the first 30 went at once, before anything was paid.
        assert free[29] == T0 and len(free) >= 30
    finally:
        for engine in engines:
            await engine.dispose()


async def _until(condition: object, what: str) -> None:
    """Let the tasks run until ``condition()`` holds (they only wait on the database)."""
    for _ in range(5000):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"never happened: {what}")


@pytest.mark.postgres
async def test_one_chat_gets_one_message_a_second_from_all_processes(db_url: str) -> None:
    _pg_only(db_url)
    now = [T0]

    async def no_wait(seconds: float) -> None:
        await asyncio.sleep(0)  # time stands still until the test moves it

    engines = [create_engine(db_url) for _ in range(3)]
    limits = LimitsSettings(per_chat_per_second=1, global_per_second=1000)
    try:
        limiters = [
            KepuRateLimiter(
                limits,
                shared=SharedBuckets(session_factory(e), clock=lambda: now[0], sleep=no_wait),
            )
            for e in engines
        ]
        done: list[int] = []

        async def to_one_chat(index: int) -> None:
            await limiters[index].acquire_send(42, paid_allowed=False)
            limiters[index].end_send()
            done.append(index)

        tasks = [asyncio.create_task(to_one_chat(i)) for i in range(3)]
        await _until(lambda: len(done) == 1, "the first message")
        for _ in range(50):  # the others keep asking and are told to wait
            await asyncio.sleep(0.001)
        assert len(done) == 1
        now[0] += 0.5
        for _ in range(50):
            await asyncio.sleep(0.001)
        assert len(done) == 1  # half a second is not enough
        now[0] += 0.5
        await _until(lambda: len(done) == 2, "the second message, a second later")
        now[0] += 1.0
        await _until(lambda: len(done) == 3, "the third message")
        await asyncio.gather(*tasks)
        assert sorted(done) == [0, 1, 2]
    finally:
        for engine in engines:
            await engine.dispose()
