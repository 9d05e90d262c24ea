"""Retiring an item settles its queued messages at once and its pushes get reported."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.catalogue import CatalogueError, NewItem, create_item, retire_item
from bot.content.taxonomy import default_taxonomy
from bot.runtime.outbox import notify_outbox
from bot.sandbox.harness import RunningBot
from bot.services import push as push_service
from storage import outbox as outbox_store
from storage.models import ContentItem, OutboxMessage, Push
from tests.conftest import FIXED_NOW, SHANGHAI, FixedClock
from tests.content_push.conftest import add_readers, seed_world
from tests.content_push.test_curator_e2e import (
    audit_of,
    import_starter,
    make_curator,
    outbox_rows,
    tap,
    text_of,
)

LATER = FIXED_NOW + dt.timedelta(hours=22)  # the next morning, e.g. after quiet hours
# 09:00-08:00 in Shanghai: at 10:00 (FIXED_NOW) the informant waits until 08:00 tomorrow.
QUIET = (dt.time(9), dt.time(8))
TOMORROW_8 = dt.datetime(2026, 11, 24, 0, 0, tzinfo=dt.UTC)


async def _item(session: AsyncSession, title: str) -> int:
    item = await create_item(
        session=session,
        new=NewItem(
            title=title,
            summary="摘要。",
            category="health",
            url="https://kepu.test/x",
            publish_at=FIXED_NOW,
        ),
        taxonomy=default_taxonomy(),
        actor_id=None,
        now=FIXED_NOW,
    )
    assert item.id is not None
    return item.id


async def _push(session: AsyncSession, content_id: int, chats: dict[int, dt.datetime]) -> int:
    """A push of the item with one content row per chat, due at the given time."""
    push = await outbox_store.create_push(
        session=session,
        content_id=content_id,
        kind="content",
        created_by=None,
        targeting={},
        now=FIXED_NOW,
    )
    assert push.id is not None
    await outbox_store.enqueue(
        session=session,
        push_id=push.id,
        messages=[
            outbox_store.NewMessage(
                chat_id=chat,
                kind="content",
                payload={"content_id": content_id, "locale": "zh_CN"},
                dedupe_key=f"push:{content_id}:{chat}",
                due_at=due,
            )
            for chat, due in chats.items()
        ],
        now=FIXED_NOW,
    )
    return push.id


def _by_chat(rows: list[OutboxMessage]) -> dict[int, tuple[str, str | None]]:
    return {r.chat_id: (r.state, r.error) for r in rows}


# --- storage, both backends ----------------------------------------------------------------
async def test_fail_pending_content_settles_only_the_items_pending_rows(
    session: AsyncSession,
) -> None:
    retired = await _item(session, "要下架的")
    kept = await _item(session, "保留的")
    first = await _push(session, retired, {1: FIXED_NOW, 2: FIXED_NOW, 3: LATER, 4: FIXED_NOW})
    second = await _push(session, retired, {5: LATER})  # a later push of the same item
    other = await _push(session, kept, {3: LATER, 6: FIXED_NOW})
    await outbox_store.enqueue(  # a reminder (no push, another kind) to the same chat
        session=session,
        push_id=None,
        messages=[
            outbox_store.NewMessage(
                chat_id=3,
                kind="message",
                payload={"text": "hi", "content_id": retired},
                dedupe_key="reminder:3",
                due_at=FIXED_NOW,
            )
        ],
        now=FIXED_NOW,
    )
    # Chat 1 got it, chat 2 blocked the bot; chat 4's row is claimed by a sender right now.
    lease = FIXED_NOW + dt.timedelta(seconds=30)
    claimed = {
        m.chat_id: m
        for m in await outbox_store.claim_due(
            session=session, now=FIXED_NOW, lease_until=lease, limit=10
        )
    }
    await outbox_store.mark_sent(
        session=session,
        message_id=claimed[1].id,
        now=FIXED_NOW,
        telegram_message_id=9,
        attempts=1,
    )
    await outbox_store.mark_final(
        session=session,
        message_id=claimed[2].id,
        state="blocked",
        error="Forbidden",
        attempts=1,
    )
    await outbox_store.release(
        session=session, ids=[claimed[6].id, claimed[3].id], due_at=FIXED_NOW
    )
    assert await outbox_store.settled_pushes(session=session) == []

    cancelled = await outbox_store.fail_pending_content(session=session, content_id=retired)

    assert cancelled == 3  # chat 3 (deferred), chat 4 (leased), chat 5 (second push)
    assert _by_chat(await outbox_store.messages_of(session=session, push_id=first)) == {
        1: ("sent", None),
        2: ("blocked", "Forbidden"),
        3: ("failed", "content_retired"),
        4: ("failed", "content_retired"),
    }
    assert _by_chat(await outbox_store.messages_of(session=session, push_id=second)) == {
        5: ("failed", "content_retired")
    }
    assert _by_chat(await outbox_store.messages_of(session=session, push_id=other)) == {
        3: ("pending", None),
        6: ("pending", None),
    }
    reminder = [
        r
        for r in await outbox_store.messages_of(session=session, chat_id=3)
        if r.kind == "message"
    ]
    assert [(r.state, r.error) for r in reminder] == [("pending", None)]
    failed = [
        r
        for r in await outbox_store.messages_of(session=session, kind="content")
        if r.state == "failed"
    ]
    assert {r.next_attempt_at for r in failed} == {None}
    # Both pushes of the item have nothing pending left: the sender finishes them.
    assert await outbox_store.settled_pushes(session=session) == [first, second]
    assert await outbox_store.finish_push(session=session, push_id=first, now=FIXED_NOW)
    assert await outbox_store.settled_pushes(session=session) == [second]
    # A second call finds nothing left to cancel.
    assert await outbox_store.fail_pending_content(session=session, content_id=retired) == 0


async def test_cancelled_rows_are_never_claimed_again_but_a_send_in_flight_wins(
    session: AsyncSession,
) -> None:
    """The sender that held chat 1's lease sent it: ``sent`` wins; a retry revives nothing."""
    content_id = await _item(session, "要下架的")
    push_id = await _push(session, content_id, {1: FIXED_NOW, 2: FIXED_NOW, 3: FIXED_NOW})
    lease = FIXED_NOW + dt.timedelta(seconds=30)
    claimed = {
        m.chat_id: m
        for m in await outbox_store.claim_due(
            session=session, now=FIXED_NOW, lease_until=lease, limit=10
        )
    }
    assert await outbox_store.fail_pending_content(session=session, content_id=content_id) == 3

    # The sends in flight end: one went out, one timed out (retry), one was given back.
    await outbox_store.mark_sent(
        session=session,
        message_id=claimed[1].id,
        now=FIXED_NOW,
        telegram_message_id=7,
        attempts=1,
    )
    await outbox_store.mark_retry(
        session=session,
        message_id=claimed[2].id,
        due_at=FIXED_NOW,
        error="TimedOut: x",
        attempts=1,
    )
    await outbox_store.release(session=session, ids=[claimed[3].id], due_at=FIXED_NOW)

    rows = await outbox_store.messages_of(session=session, push_id=push_id)
    assert [(r.chat_id, r.state, r.error, r.next_attempt_at) for r in rows] == [
        (1, "sent", None, None),
        (2, "failed", "content_retired", None),
        (3, "failed", "content_retired", None),
    ]
    after_lease = lease + dt.timedelta(seconds=1)
    assert (
        await outbox_store.claim_due(
            session=session, now=after_lease, lease_until=after_lease, limit=10
        )
        == []
    )
    assert await outbox_store.counts(session=session, push_id=push_id) == {
        "pending": 0,
        "sent": 1,
        "failed": 2,
        "blocked": 0,
    }


# --- the catalogue service -----------------------------------------------------------------
async def test_retire_cancels_a_quiet_hours_push_in_the_same_transaction(
    session: AsyncSession, clock: FixedClock
) -> None:
    await add_readers(session, first_id=700, quiet=QUIET)
    content_id = await _item(session, "冬季预防一氧化碳中毒")
    pushed = await push_service.push_item(
        session=session, content_id=content_id, now=clock(), tz=SHANGHAI
    )
    assert (pushed.queued, pushed.deferred) == (3, 3)
    rows = await outbox_store.messages_of(session=session, kind="content")
    assert {(r.state, r.next_attempt_at) for r in rows} == {("pending", TOMORROW_8)}

    clock.advance(minutes=5)
    retired = await retire_item(session=session, content_id=content_id, actor_id=None, now=clock())

    assert retired.cancelled == 3 and retired.item.retired_at == clock()
    rows = await outbox_store.messages_of(session=session, kind="content")
    assert {(r.state, r.error) for r in rows} == {("failed", "content_retired")}
    assert pushed.push_id is not None
    assert await outbox_store.settled_pushes(session=session) == [pushed.push_id]
    with pytest.raises(CatalogueError) as caught:
        await retire_item(session=session, content_id=content_id, actor_id=None, now=clock())
    assert caught.value.code == "already_retired"


# --- end to end through the sandbox ---------------------------------------------------------
async def _wait_rows(bot: RunningBot, expected: set[tuple[int, str]], timeout: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while {(r.chat_id, r.state) for r in await outbox_rows(bot)} != expected:
        if loop.time() > deadline:
            raise TimeoutError([(r.chat_id, r.state) for r in await outbox_rows(bot)])
        await asyncio.sleep(0.02)
    await bot.settle()


async def test_curator_retires_a_push_waiting_for_quiet_hours_and_gets_the_report(
    bot_env: RunningBot, clock: FixedClock
) -> None:
    bot = bot_env
    await import_starter(bot)
    sb = bot.sandbox
    awake = sb.user("白天读者", started=True)
    sleepers = [sb.user(f"免打扰读者{i}", started=True) for i in range(3)]
    await seed_world(bot.runtime, [awake], interests=["health"])
    await seed_world(bot.runtime, sleepers, interests=["health"], quiet=QUIET)
    curator = sb.user("策展人")
    await make_curator(bot, curator)
    async with bot.runtime.sessions() as session:
        item = (
            await session.execute(
                select(ContentItem).where(ContentItem.guid == "starter-health-002")
            )
        ).scalar_one()
    assert item.id is not None

    await curator.command("catalog")
    listing = await curator.wait_for_message()
    await curator.press(listing, data=f"CAT:view:{item.id}")
    await bot.settle()
    ask = await tap(bot, curator, listing, "🚀 立即推送")
    await curator.press(ask, "确认推送")
    await _wait_rows(bot, {(awake.id, "sent")} | {(u.id, "pending") for u in sleepers})
    assert len(awake.messages) == 1
    rows = await outbox_rows(bot)
    assert {r.next_attempt_at for r in rows if r.state == "pending"} == {TOMORROW_8}
    async with bot.runtime.sessions() as session:
        (push,) = (await session.execute(select(Push))).scalars()
    assert push.finished_at is None
    progress = next(m for m in curator.messages if "推送 #" in text_of(m))
    assert "进行中" in text_of(progress)

    # The curator retires the item: the three waiting messages are settled at once.
    curator.mark_seen()
    retire = await tap(bot, curator, listing, "🗄 下架")
    clock.advance(minutes=5)
    await curator.press(retire, "确认下架")
    await bot.settle()
    assert retire.text == f"已下架 #{item.id}“{item.title}”，3 条待发消息已取消。"
    rows = await outbox_rows(bot)
    assert {(r.chat_id, r.state, r.error) for r in rows} == {(awake.id, "sent", None)} | {
        (u.id, "failed", "content_retired") for u in sleepers
    }
    (entry,) = await audit_of(bot, item.id, "content.retire")
    assert entry.actor_id is not None

    # The sender notices the push has nothing pending and reports it, once.
    report = await curator.wait_for_message(predicate=lambda m: "推送报告" in text_of(m))
    assert "已发送 1 ·" in text_of(report) and "失败 3 ·" in text_of(report)
    assert "（共 4）" in text_of(report)
    assert "已完成" in text_of(progress)
    async with bot.runtime.sessions() as session:
        (push,) = (await session.execute(select(Push))).scalars()
    assert push.finished_at == FIXED_NOW + dt.timedelta(minutes=5)

    # Tomorrow morning nothing goes out and nothing is reported again.
    clock.set(TOMORROW_8 + dt.timedelta(hours=1))
    notify_outbox(bot.runtime)
    await asyncio.sleep(0.3)
    await bot.settle()
    assert all(u.messages == [] for u in sleepers) and len(awake.messages) == 1
    reports = [m for m in curator.messages if "推送报告" in text_of(m)]
    assert len(reports) == 1


async def test_a_retire_stops_the_rest_of_a_batch_already_claimed(
    sandbox, standalone_runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sender re-reads the item while sending, so a claimed batch stops short too."""
    from bot.handlers import content_delivery as delivery_module
    from bot.runtime.outbox import OutboxOptions
    from tests.content_push.conftest import standalone_worker

    runtime, clock = standalone_runtime
    settings = runtime.settings
    users = [sandbox.user(f"U{i}", started=True) for i in range(6)]
    await seed_world(runtime, users)
    async with runtime.sessions() as session, session.begin():
        content_id = await _item(session, "将下架")
        result = await push_service.push_item(
            session=session, content_id=content_id, now=clock(), tz=settings.scheduler.tz
        )
    assert result.queued == 6
    real_send = delivery_module.send_card
    sends = 0

    async def send_then_retire(*args: object, **kwargs: object) -> object:
        nonlocal sends
        sends += 1
        message = await real_send(*args, **kwargs)  # type: ignore[arg-type]
        if sends == 2:  # the curator retires the item while the batch is being sent
            async with runtime.sessions() as session, session.begin():
                await retire_item(
                    session=session, content_id=content_id, actor_id=None, now=clock()
                )
        return message

    monkeypatch.setattr(delivery_module, "send_card", send_then_retire)
    options = OutboxOptions(batch_size=50, item_recheck=0.0)
    async with standalone_worker(sandbox, runtime, options) as worker:
        await worker.drain()
    assert worker.stats.claimed == 6  # one batch held every row
    assert sum(len(u.messages) for u in users) == 2
    async with runtime.sessions() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.state, OutboxMessage.error).where(
                    OutboxMessage.push_id == result.push_id
                )
            )
        ).all()
    assert sorted(state for state, _ in rows) == ["failed"] * 4 + ["sent"] * 2
    assert {error for state, error in rows if state == "failed"} == {"content_retired"}
