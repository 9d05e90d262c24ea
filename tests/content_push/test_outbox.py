"""The outbox: storage on both backends, and the sender's state machine through the sandbox."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime.outbox import OutboxOptions, notify_outbox
from bot.sandbox import Faults, Limits
from bot.sandbox.factories import make_content
from bot.services import push as push_service
from storage import outbox as outbox_store
from storage.models import OutboxMessage, Person
from tests.conftest import FIXED_NOW
from tests.content_push.conftest import (
    FAST,
    seed_world,
    standalone_worker,
    wait_outbox,
)


def _msg(
    chat: int, key: str | None = None, due: dt.datetime = FIXED_NOW
) -> outbox_store.NewMessage:
    return outbox_store.NewMessage(
        chat_id=chat,
        kind="message",
        payload={"text": f"hi {chat}"},
        dedupe_key=key or f"t:{chat}",
        due_at=due,
    )


async def test_storage_enqueue_claim_release_and_marks(session: AsyncSession) -> None:
    push = await outbox_store.create_push(
        session=session, content_id=None, kind="test", created_by=None, targeting={}, now=FIXED_NOW
    )
    later = FIXED_NOW + dt.timedelta(hours=1)
    added = await outbox_store.enqueue(
        session=session,
        push_id=push.id,
        messages=[_msg(1), _msg(2), _msg(3), _msg(1), _msg(4, due=later)],
        now=FIXED_NOW,
    )
    assert added == 4  # the repeated dedupe key is skipped
    lease = FIXED_NOW + dt.timedelta(seconds=30)
    claimed = await outbox_store.claim_due(
        session=session, now=FIXED_NOW, lease_until=lease, limit=2
    )
    assert [m.chat_id for m in claimed] == [1, 2]
    rest = await outbox_store.claim_due(
        session=session, now=FIXED_NOW, lease_until=lease, limit=10
    )
    assert [m.chat_id for m in rest] == [3]  # leased rows are not claimed twice
    assert (
        await outbox_store.claim_due(session=session, now=FIXED_NOW, lease_until=lease, limit=10)
        == []
    )
    await outbox_store.mark_sent(
        session=session, message_id=claimed[0].id, now=FIXED_NOW, telegram_message_id=7, attempts=1
    )
    await outbox_store.mark_final(
        session=session, message_id=claimed[1].id, state="blocked", error="Forbidden", attempts=1
    )
    await outbox_store.release(session=session, ids=[rest[0].id, claimed[0].id], due_at=FIXED_NOW)
    again = await outbox_store.claim_due(
        session=session, now=FIXED_NOW, lease_until=lease, limit=10
    )
    assert [m.chat_id for m in again] == [3]  # released; the sent row stays sent
    counts = await outbox_store.counts(session=session, push_id=push.id)
    assert counts == {"pending": 2, "sent": 1, "failed": 0, "blocked": 1}
    assert await outbox_store.next_due_at(session=session) == lease
    assert await outbox_store.finish_push(session=session, push_id=push.id or 0, now=FIXED_NOW)
    assert not await outbox_store.finish_push(session=session, push_id=push.id or 0, now=FIXED_NOW)
    # After the lease, a crashed sender's rows are claimed again.
    after = lease + dt.timedelta(seconds=1)
    assert [
        m.chat_id
        for m in await outbox_store.claim_due(
            session=session, now=after, lease_until=after, limit=10
        )
    ] == [3]


async def _push_text(bot, chats: list[int]) -> int:  # type: ignore[no-untyped-def]
    async with bot.runtime.sessions() as session, session.begin():
        push = await outbox_store.create_push(
            session=session,
            content_id=None,
            kind="test",
            created_by=None,
            targeting={},
            now=bot.runtime.now(),
        )
        await outbox_store.enqueue(
            session=session,
            push_id=push.id,
            messages=[_msg(c, due=bot.runtime.now()) for c in chats],
            now=bot.runtime.now(),
        )
    notify_outbox(bot.runtime)
    assert push.id is not None
    return push.id


async def _states(bot, push_id: int) -> dict[int, OutboxMessage]:  # type: ignore[no-untyped-def]
    async with bot.runtime.sessions() as session:
        return {
            r.chat_id: r for r in await outbox_store.messages_of(session=session, push_id=push_id)
        }


async def test_blocked_user_is_marked_unreachable_and_unknown_chat_fails(push_bot) -> None:
    async with push_bot() as bot:
        sb = bot.sandbox
        users = [sb.user(f"U{i}", started=True) for i in range(3)]
        await seed_world(bot.runtime, users)
        await users[1].block_bot()
        push_id = await _push_text(bot, [u.id for u in users] + [987654])
        await wait_outbox(bot)
        rows = await _states(bot, push_id)
        assert rows[users[0].id].state == "sent" and rows[users[2].id].state == "sent"
        assert rows[users[1].id].state == "blocked" and "blocked" in (
            rows[users[1].id].error or ""
        )
        assert (
            rows[987654].state == "failed"
            and "chat not found" in (rows[987654].error or "").lower()
        )
        assert await _unreachable(bot, users[1].id) is True
        assert users[1].messages == []
        # The user's own "kicked" update (processed before or after the refused send) must
        # not make them reachable again; unblocking does.
        await bot.settle()
        assert await _unreachable(bot, users[1].id) is True
        await users[1].unblock_bot()
        await bot.settle()
        assert await _unreachable(bot, users[1].id) is False


async def _unreachable(bot: Any, telegram_id: int) -> bool:
    async with bot.runtime.sessions() as session:
        return (
            await session.execute(
                select(Person.unreachable).where(Person.telegram_id == telegram_id)
            )
        ).scalar_one()


async def test_transient_errors_retry_with_backoff(push_bot) -> None:
    faults = Faults(error_rate=0.3, seed=3)
    async with push_bot(faults=faults) as bot:
        sb = bot.sandbox
        users = [sb.user(f"U{i}", started=True) for i in range(20)]
        push_id = await _push_text(bot, [u.id for u in users])
        await wait_outbox(bot, timeout=30)
        rows = await _states(bot, push_id)
        assert {r.state for r in rows.values()} == {"sent"}
        assert sb.stats.faults["error"] > 0
        assert any(r.attempts > 1 for r in rows.values())
        assert all(len(u.messages) == 1 for u in users)


async def test_persistent_errors_fail_after_max_attempts(push_bot) -> None:
    options = OutboxOptions(backoff_base=0.01, backoff_max=0.02, max_attempts=3, idle_poll=0.1)
    async with push_bot(faults=Faults(error_rate=1.0), options=options) as bot:
        user = bot.sandbox.user("U", started=True)
        push_id = await _push_text(bot, [user.id])
        await wait_outbox(bot, timeout=30)
        row = (await _states(bot, push_id))[user.id]
        assert row.state == "failed" and row.attempts == 3 and "Bad Gateway" in (row.error or "")


async def test_flood_control_reschedules_and_everyone_gets_one(push_bot) -> None:
    # The sandbox allows 5 sends per 0.1 s; the bot is told 1000/s, so it overruns and
    # must live on RetryAfter answers: no message lost, none doubled.
    limits = Limits(global_per_second=5, per_chat_per_second=None, scale=0.1)
    async with push_bot(limits=limits, bot_limits={"global_per_second": 1000.0}) as bot:
        sb = bot.sandbox
        users = [sb.user(f"U{i}", started=True) for i in range(40)]
        push_id = await _push_text(bot, [u.id for u in users])
        await wait_outbox(bot, timeout=30)
        rows = await _states(bot, push_id)
        assert {r.state for r in rows.values()} == {"sent"}
        assert sb.stats.rate_limited > 0
        assert [len(u.messages) for u in users] == [1] * 40


async def test_the_flood_window_keeps_a_push_under_the_cap_without_a_single_429(push_bot) -> None:
    # Same sandbox cap (5 sends per 0.1 s); the bot knows it (50/s in a 0.1 s window). Two
    # sends in flight, catch-up after every claim: the server never has to refuse one.
    limits = Limits(global_per_second=5, per_chat_per_second=None, scale=0.1)
    bot_limits = {"global_per_second": 50.0, "flood_window_seconds": 0.1}
    options = dataclasses.replace(FAST, concurrency=2)
    async with push_bot(limits=limits, bot_limits=bot_limits, options=options) as bot:
        sb = bot.sandbox
        users = [sb.user(f"U{i}", started=True) for i in range(60)]
        push_id = await _push_text(bot, [u.id for u in users])
        await wait_outbox(bot, timeout=30)
        rows = await _states(bot, push_id)
        assert {r.state for r in rows.values()} == {"sent"}
        assert sb.stats.rate_limited == 0
        assert [len(u.messages) for u in users] == [1] * 60


class Crash(BaseException):
    """The process dies here."""


@pytest.mark.parametrize("window", [False, True])
async def test_crash_and_restart_no_gap_no_duplicate(
    sandbox, standalone_runtime, monkeypatch: pytest.MonkeyPatch, window: bool
) -> None:
    runtime, clock = standalone_runtime
    settings = runtime.settings
    users = [sandbox.user(f"U{i}", started=True) for i in range(30)]
    await seed_world(runtime, users)
    async with runtime.sessions() as session, session.begin():
        item = await make_content(
            session,
            guid="g",
            title="防诈骗",
            summary="摘要",
            category="anti_fraud",
            url="https://kepu.example/a",
            publish_at=clock() - dt.timedelta(hours=1),
            created_at=clock(),
        )
        result = await push_service.push_item(
            session=session, content_id=item.id or 0, now=clock(), tz=settings.scheduler.tz
        )
    assert result.queued == 30
    options = OutboxOptions(batch_size=8, lease=dt.timedelta(seconds=30))
    async with standalone_worker(sandbox, runtime, options) as first:
        if window:
            # Die after Telegram accepted message 12 and before its row is marked sent.
            real = outbox_store.mark_sent
            calls = {"n": 0}

            async def dying(**kw: object) -> None:
                calls["n"] += 1
                if calls["n"] == 12:
                    raise Crash
                await real(**kw)  # type: ignore[arg-type]

            monkeypatch.setattr(outbox_store, "mark_sent", dying)
            with pytest.raises(Crash):
                await first.drain()
            monkeypatch.setattr(outbox_store, "mark_sent", real)
        else:
            await first.drain(max_sends=11)
    delivered = sum(len(u.messages) for u in users)
    assert delivered == (12 if window else 11)
    # The new process finds the dead one's rows leased; once the lease runs out it sends them.
    async with standalone_worker(sandbox, runtime, options) as second:
        await second.drain()
        # Rows 12-16 are still leased by the dead sender; 17-30 were never claimed.
        assert second.stats.sent == 14
        clock.advance(seconds=31)
        await second.drain()
    counts = [len(u.messages) for u in users]
    assert all(c >= 1 for c in counts)  # no gap
    assert sum(c - 1 for c in counts) == (1 if window else 0)  # at most the one in flight
    async with runtime.sessions() as session:
        assert (await outbox_store.counts(session=session))["sent"] == 30
