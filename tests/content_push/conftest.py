"""Fixtures for push tests: a sandbox with limits/faults, informants, and waiting helpers."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import build_application, build_runtime, build_sender
from bot.runtime.context import Runtime
from bot.runtime.outbox import OPTIONS_KEY, WORKER_KEY, OutboxOptions, OutboxWorker
from bot.sandbox import Faults, Limits, Sandbox, SimUser
from bot.sandbox.factories import make_grant, make_informant, make_region_tree, make_station
from bot.sandbox.harness import RunningBot, running_bot, sandbox_settings
from storage import outbox as outbox_store
from storage.models import Person
from storage.people import get_person_by_telegram_id
from storage.upsert import insert_for
from tests.conftest import FIXED_NOW

TOKEN = "123456:TEST-TOKEN"


class RunningClock:
    """Real time, starting at the fixed test instant; ``advance`` jumps ahead."""

    def __init__(self, start: dt.datetime = FIXED_NOW) -> None:
        self.start = start
        self.origin = time.monotonic()
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return self.start + self.offset + dt.timedelta(seconds=time.monotonic() - self.origin)

    def advance(self, **delta: float) -> None:
        self.offset += dt.timedelta(**delta)


FAST = OutboxOptions(
    backoff_base=0.05,
    backoff_max=0.2,
    idle_poll=0.2,
    progress_every=0.2,
    lease=dt.timedelta(seconds=30),
)


async def seed_world(
    runtime: Runtime,
    users: Sequence[SimUser],
    *,
    interests: Sequence[str] = (),
    region: str = "330106",
    quiet: tuple[dt.time, dt.time] | None = None,
) -> list[int]:
    """Create Zhejiang regions, one station per county and an informant per user."""
    # The regions go first: make_region writes before it reads (see there).
    async with runtime.sessions() as session, session.begin():
        await make_region_tree(session, ("330106", "330203"))
        station = await make_station(session, name=f"站点{region}", county=region)
        assert station.id is not None
        ids = []
        for user in users:
            informant = await make_informant(
                session,
                station_id=station.id,
                telegram_id=user.id,
                real_name=user.first_name,
                language="en" if user.user.get("language_code") == "en" else None,
                interests=interests,
                consent_at=None,
                quiet=quiet,
            )
            assert informant.id is not None
            ids.append(informant.id)
        return ids


async def add_readers(
    session: AsyncSession, *, first_id: int, quiet: tuple[dt.time, dt.time] | None = None
) -> None:
    """Add the regions, a station and three readers (Telegram ids from ``first_id``)."""
    await make_region_tree(session)
    station = await make_station(session)
    assert station.id is not None
    for n in range(3):
        await make_informant(
            session,
            station_id=station.id,
            telegram_id=first_id + n,
            real_name=f"读者{n}",
            consent_at=None,
            quiet=quiet,
        )


async def grant(runtime: Runtime, telegram_id: int, role: str, **scope: Any) -> None:
    """Give a role directly (curator, station_admin)."""
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            insert_for(session, Person.__table__)
            .values(
                telegram_id=telegram_id,
                first_name="x",
                created_at=runtime.now(),
                unreachable=False,
            )
            .on_conflict_do_nothing(index_elements=["telegram_id"])
        )
        person = await get_person_by_telegram_id(session=session, telegram_id=telegram_id)
        assert person is not None and person.id is not None
        await make_grant(
            session, person_id=person.id, role=role, granted_at=runtime.now(), **scope
        )


async def wait_outbox(bot: RunningBot, timeout: float = 15.0) -> None:
    """Wait until rows were enqueued and none is pending, then let the sandbox settle."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with bot.runtime.sessions() as session:
            counts = await outbox_store.counts(session=session)
        worker = bot.runtime.extras.get(WORKER_KEY)
        if sum(counts.values()) and counts["pending"] == 0 and not (worker and worker.busy):
            break
        if loop.time() > deadline:
            raise TimeoutError(f"outbox not drained: {counts}")
        await asyncio.sleep(0.02)
    await bot.settle()


@pytest.fixture
def running_clock() -> RunningClock:
    return RunningClock()


@pytest.fixture
def push_bot(sqlite_url: str, running_clock: RunningClock) -> Callable[..., Any]:
    """Return a factory: ``async with push_bot(limits=…, faults=…) as bot``."""

    @asynccontextmanager
    async def factory(
        *,
        limits: Limits | None = None,
        faults: Faults | None = None,
        options: OutboxOptions = FAST,
        bot_limits: dict[str, float] | None = None,
        url: str | None = None,
    ) -> AsyncIterator[RunningBot]:
        async with Sandbox(
            token=TOKEN, bot_username="kepubot_bot", limits=limits, faults=faults
        ) as sandbox:
            sections: dict[str, Any] = {"web": {"public_base_url": "http://kepu.test"}}
            if bot_limits:
                sections["limits"] = bot_limits
            settings = sandbox_settings(sandbox, url or sqlite_url, **sections)
            runtime = build_runtime(settings, clock=running_clock)
            runtime.extras[OPTIONS_KEY] = options
            async with running_bot(sandbox, settings, runtime=runtime) as bot:
                yield bot

    return factory


@pytest.fixture
async def standalone_runtime(
    sandbox: Sandbox, sqlite_url: str
) -> AsyncIterator[tuple[Runtime, RunningClock]]:
    """A runtime on real time for tests that run senders by hand; its engine is disposed."""
    clock = RunningClock()
    runtime = build_runtime(sandbox_settings(sandbox, sqlite_url), clock=clock)
    try:
        yield runtime, clock
    finally:
        await runtime.engine.dispose()


@asynccontextmanager
async def standalone_worker(
    sandbox: Sandbox, runtime: Runtime, options: OutboxOptions = FAST
) -> AsyncIterator[OutboxWorker]:
    """A sender on its own application (no inbox, no poller): one 'process' of a test."""
    app = build_application(runtime.settings, runtime)
    await app.bot.initialize()
    try:
        yield build_sender(app, options)
    finally:
        await app.bot.shutdown()
