"""Several processes: a killed sender's rows are taken over, a stalled one's are fenced off.

Each "process" is its own runtime on its own engine (its own connection pool), as two
``kepubot run`` processes on one database are; the sandbox stands in for Telegram.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.app import build_runtime
from bot.runtime.context import Runtime
from bot.sandbox import Sandbox, SimUser
from bot.sandbox.factories import make_content
from bot.sandbox.harness import sandbox_settings
from bot.services import push as push_service
from storage import outbox as outbox_store
from storage.outbox import ClaimedMessage
from tests.conftest import FixedClock
from tests.content_push.conftest import FAST, seed_world, standalone_worker

OPTIONS = dataclasses.replace(FAST, batch_size=10, concurrency=2)


@pytest.fixture
async def two_runtimes(
    sandbox: Sandbox, db_url: str, clock: FixedClock
) -> AsyncIterator[tuple[Runtime, Runtime]]:
    """Two 'processes' on one database, one fixed clock (leases run out when it moves)."""
    settings = sandbox_settings(sandbox, db_url)
    first = build_runtime(settings, clock=clock)
    second = build_runtime(settings, clock=clock)
    assert first.engine is not second.engine
    try:
        yield first, second
    finally:
        await first.engine.dispose()
        await second.engine.dispose()


async def _push(runtime: Runtime, users: list[SimUser]) -> int:
    await seed_world(runtime, users)
    async with runtime.sessions() as session, session.begin():
        item = await make_content(
            session, title="防诈骗", publish_at=runtime.now() - dt.timedelta(hours=1)
        )
        result = await push_service.push_item(
            session=session, content_id=item.id or 0, now=runtime.now(), tz=dt.UTC
        )
    assert result.queued == len(users) and result.push_id is not None
    return result.push_id


async def test_a_killed_senders_rows_are_taken_over_by_the_other_process(
    sandbox: Sandbox, two_runtimes: tuple[Runtime, Runtime], clock: FixedClock
) -> None:
    first, second = two_runtimes
    users = [sandbox.user(f"U{i}", started=True) for i in range(40)]
    push_id = await _push(first, users)
    async with (
        standalone_worker(sandbox, first, dataclasses.replace(OPTIONS, concurrency=1)) as a,
        standalone_worker(sandbox, second, OPTIONS) as b,
    ):
        # Both send at once; A dies after its 7th send with the rest of its batch claimed
        # (one send at a time in A, so exactly 7 went out and none was in flight).
        await asyncio.gather(a.drain(max_sends=7), b.drain())
        assert a.stats.sent == 7
        async with second.sessions() as session:
            left = (await outbox_store.counts(session=session, push_id=push_id))["pending"]
        assert 0 < left < OPTIONS.batch_size  # A's claimed, unsent rows: leased to the dead
        assert b.stats.sent == 40 - 7 - left
        await b.drain()  # still leased: B leaves them be
        assert b.stats.sent == 40 - 7 - left
        clock.advance(seconds=31)  # the dead process's lease runs out
        await b.drain()
        assert b.stats.sent == 40 - 7
    assert [len(u.messages) for u in users] == [1] * 40  # no gap, no duplicate
    async with second.sessions() as session:
        counts = await outbox_store.counts(session=session, push_id=push_id)
    assert (counts["sent"], counts["pending"]) == (40, 0)


async def test_a_stalled_sender_sends_none_of_the_rows_taken_from_it(
    sandbox: Sandbox,
    two_runtimes: tuple[Runtime, Runtime],
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = two_runtimes
    users = [sandbox.user(f"U{i}", started=True) for i in range(10)]
    push_id = await _push(first, users)
    # A lease of 0 s: A must renew before every send, which shows the fence at each one.
    options = dataclasses.replace(OPTIONS, concurrency=1, lease=dt.timedelta(0))
    taken: list[ClaimedMessage] = []
    async with standalone_worker(sandbox, first, options) as a:
        real: Callable[[ClaimedMessage], Any] = a._send_one

        async def stall_after_first(row: ClaimedMessage) -> float | None:
            wait = await real(row)
            if not taken:  # A stalls here past its lease; process B claims the rest
                clock.advance(seconds=1)
                async with second.sessions() as session, session.begin():
                    taken.extend(
                        await outbox_store.claim_due(
                            session=session,
                            now=second.now(),
                            lease_until=second.now() + dt.timedelta(seconds=30),
                            limit=100,
                        )
                    )
            return wait

        monkeypatch.setattr(a, "_send_one", stall_after_first)
        await a.process_batch()
        assert a.stats.sent == 1
    assert len(taken) == 9
    assert sum(len(u.messages) for u in users) == 1  # A sent none of B's rows
    async with second.sessions() as session:
        rows = await outbox_store.messages_of(session=session, push_id=push_id)
    b_lease = second.now() + dt.timedelta(seconds=30)
    # A gave nothing back: B's lease on its rows is untouched.
    assert sorted(r.next_attempt_at for r in rows if r.state == "pending") == [b_lease] * 9
    clock.advance(seconds=31)  # B dies too; a third sender takes over once that lease ends
    async with standalone_worker(sandbox, second, OPTIONS) as c:
        await c.drain()
    assert [len(u.messages) for u in users] == [1] * 10


async def test_renew_and_release_touch_only_rows_still_held(
    two_runtimes: tuple[Runtime, Runtime], sandbox: Sandbox, clock: FixedClock
) -> None:
    first, second = two_runtimes
    users = [sandbox.user(f"U{i}", started=True) for i in range(3)]
    await _push(first, users)
    now = first.now()
    async with first.sessions() as session, session.begin():
        mine = await outbox_store.claim_due(
            session=session, now=now, lease_until=now + dt.timedelta(seconds=30), limit=10
        )
    assert len(mine) == 3 and {m.lease_until for m in mine} == {now + dt.timedelta(seconds=30)}
    ids = {m.id for m in mine}
    held = mine[0].lease_until
    assert held is not None
    async with first.sessions() as session, session.begin():
        assert (
            await outbox_store.renew(
                session=session,
                ids=ids,
                held_until=held,
                lease_until=held + dt.timedelta(seconds=5),
            )
            == ids
        )
    held += dt.timedelta(seconds=5)
    clock.advance(seconds=40)
    async with second.sessions() as session, session.begin():
        theirs = await outbox_store.claim_due(
            session=session,
            now=second.now(),
            lease_until=second.now() + dt.timedelta(seconds=30),
            limit=1,
        )
    assert len(theirs) == 1
    async with first.sessions() as session, session.begin():
        still = await outbox_store.renew(
            session=session, ids=ids, held_until=held, lease_until=first.now()
        )
        assert still == ids - {theirs[0].id}
        await outbox_store.release(
            session=session, ids=ids, due_at=first.now(), held_until=first.now()
        )
    async with second.sessions() as session:
        rows = {r.id: r for r in await outbox_store.messages_of(session=session)}
    assert rows[theirs[0].id].next_attempt_at == theirs[0].lease_until
    assert all(rows[i].next_attempt_at == first.now() for i in still)
