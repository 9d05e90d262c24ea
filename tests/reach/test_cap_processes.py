"""Three senders ("processes", each its own engine and application) on one PostgreSQL share
one send cap: together they keep to the sandbox's cap without a single 429.

The sandbox allows 5 sends per 0.1 s; each sender is told that cap (50/s in a 0.1 s
window). On their own in-process windows three senders would send up to three times the
cap and live on 429s (the control case shows it); with the shared buckets they never draw
one. Counts, not time, are asserted.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.app import build_runtime
from bot.runtime.outbox import OutboxOptions
from bot.runtime.ratelimit import KepuRateLimiter
from bot.sandbox import Limits, Sandbox
from bot.sandbox.harness import sandbox_settings
from storage import outbox as outbox_store
from tests.content_push.conftest import RunningClock, standalone_worker

SANDBOX = Limits(
    global_per_second=5, per_chat_per_second=None, per_group_per_minute=None, scale=0.1
)
BOT_LIMITS = {"global_per_second": 50.0, "flood_window_seconds": 0.1, "per_chat_per_second": 1e4}
OPTIONS = OutboxOptions(batch_size=10, concurrency=2, lease=dt.timedelta(seconds=30))


async def _three_senders(db_url: str, shared: bool, n: int) -> tuple[Sandbox, list[int]]:
    clock = RunningClock()
    async with Sandbox(token="123456:TEST-TOKEN", limits=SANDBOX) as sandbox:
        users = [sandbox.user(f"U{i}", started=True) for i in range(n)]
        settings = sandbox_settings(sandbox, db_url, limits={**BOT_LIMITS, "shared": shared})
        runtimes = [build_runtime(settings, clock=clock) for _ in range(3)]
        try:
            async with runtimes[0].sessions() as session, session.begin():
                push = await outbox_store.create_push(
                    session=session,
                    content_id=None,
                    kind="test",
                    created_by=None,
                    targeting={},
                    now=clock(),
                )
                await outbox_store.enqueue(
                    session=session,
                    push_id=push.id,
                    messages=[
                        outbox_store.NewMessage(
                            chat_id=u.id,
                            kind="message",
                            payload={"text": "科普"},
                            dedupe_key=f"t:{u.id}",
                            due_at=clock(),
                        )
                        for u in users
                    ],
                    now=clock(),
                )
            async with (
                standalone_worker(sandbox, runtimes[0], OPTIONS) as a,
                standalone_worker(sandbox, runtimes[1], OPTIONS) as b,
                standalone_worker(sandbox, runtimes[2], OPTIONS) as c,
            ):
                for worker in (a, b, c):
                    limiter = worker.bot.rate_limiter
                    assert isinstance(limiter, KepuRateLimiter)
                    assert (limiter.shared is not None) == shared
                await asyncio.gather(*(w.drain(timeout=60) for w in (a, b, c)))
                sent = [a.stats.sent, b.stats.sent, c.stats.sent]
            return sandbox, sent + [sum(len(u.messages) for u in users)]
        finally:
            for runtime in runtimes:
                await runtime.engine.dispose()


@pytest.mark.postgres
async def test_three_senders_share_one_cap_without_a_429(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several processes share one cap on PostgreSQL")
    sandbox, counts = await _three_senders(db_url, shared=True, n=90)
    *per_sender, delivered = counts
    assert delivered == 90 and sum(per_sender) == 90  # each exactly once
    assert sum(1 for s in per_sender if s) >= 2  # the work was shared
    assert sandbox.stats.rate_limited == 0


@pytest.mark.postgres
async def test_control_three_senders_on_their_own_windows_overrun_the_cap(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several processes share one cap on PostgreSQL")
    sandbox, counts = await _three_senders(db_url, shared=False, n=90)
    assert counts[-1] == 90  # still each exactly once, but only by living on 429s
    assert sandbox.stats.rate_limited > 0
