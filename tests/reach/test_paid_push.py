"""Paid broadcasts end to end: the curator's choice, paid sends, Stars, budget, balance.

The sandbox's free cap is tiny (5 sends a second) and its paid rate Telegram's 1,000, so a
push reaches most recipients on the paid lane; the tests count paid sends and Stars, never
time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select

from bot.runtime.outbox import WORKER_KEY
from bot.runtime.ratelimit import PAID, KepuRateLimiter
from bot.sandbox import Limits, Sandbox, SimUser
from bot.sandbox.harness import RunningBot, running_bot, sandbox_settings
from bot.services import broadcast as broadcast_service
from bot.services import push as push_service
from storage import broadcast as broadcast_store
from storage import outbox as outbox_store
from storage.models import AuditLog, ContentItem, PushBroadcast
from tests.conftest import FixedClock
from tests.content_push.conftest import seed_world, wait_outbox
from tests.content_push.test_curator_e2e import import_starter, make_curator, tap, text_of

FREE = 5  # the sandbox's (and the bot's) free cap, messages a second
SANDBOX_LIMITS = Limits(
    global_per_second=FREE, per_chat_per_second=None, per_group_per_minute=None
)


@asynccontextmanager
async def paid_bot(
    sqlite_url: str,
    clock: FixedClock,
    *,
    stars: float,
    budget: float,
    enabled: bool = True,
    content: dict[str, Any] | None = None,
    daily_paid: bool = False,
) -> AsyncIterator[RunningBot]:
    """The bot against a sandbox holding ``stars``, paid broadcasts enabled with ``budget``
    (``content``: the [content] section; ``daily_paid``: [broadcast] daily_push_paid)."""
    async with Sandbox(
        token="123456:TEST-TOKEN", bot_username="kepubot_bot", limits=SANDBOX_LIMITS, stars=stars
    ) as sandbox:
        settings = sandbox_settings(
            sandbox,
            sqlite_url,
            web={"public_base_url": "http://kepu.test"},
            limits={"global_per_second": FREE, "per_chat_per_second": 1000.0},
            broadcast={"enabled": enabled, "stars_budget": budget, "daily_push_paid": daily_paid},
            **({"content": content} if content else {}),
        )
        async with running_bot(sandbox, settings, clock=clock) as bot:
            yield bot


async def _health_item(bot: RunningBot) -> int:
    await import_starter(bot)
    async with bot.runtime.sessions() as session:
        item = (
            await session.execute(
                select(ContentItem).where(ContentItem.guid == "starter-health-002")
            )
        ).scalar_one()
    assert item.id is not None
    return item.id


async def _readers(bot: RunningBot, n: int) -> list[SimUser]:
    users = [bot.sandbox.user(f"读者{i}", started=True) for i in range(n)]
    await seed_world(bot.runtime, users, interests=["health"])
    return users


async def _broadcast(bot: RunningBot) -> PushBroadcast:
    async with bot.runtime.sessions() as session:
        rows = list((await session.execute(select(PushBroadcast))).scalars())
    assert len(rows) == 1
    return rows[0]


async def _ask_push(bot: RunningBot, curator: SimUser, content_id: int):  # type: ignore[no-untyped-def]
    await curator.command("catalog")
    listing = await curator.wait_for_message()
    await curator.press(listing, data=f"CAT:view:{content_id}")
    await bot.settle()
    return await tap(bot, curator, listing, "🚀 立即推送")


def test_estimates_at_telegrams_rates() -> None:
    assert broadcast_service.estimate_push(0, True, 100.0) == (0.0, 0.0)
    seconds, stars = broadcast_service.estimate_push(3000, False, None)
    assert (seconds, stars) == (100.0, 0.0)  # 30 a second, free
    seconds, stars = broadcast_service.estimate_push(3000, True, None)
    # 1,000 a second; of each second's 1,000, 30 are free and 970 paid at 0.1 Stars.
    assert seconds == 3.0 and stars == 291.0
    # A small push: the free lane's first second carries 30 of them, 70 are paid.
    assert broadcast_service.estimate_push(100, True, None) == (0.1, 7.0)
    # A budget of 10 Stars pays for 100 messages: about 0.1 s paid, the rest at 30/s.
    seconds, stars = broadcast_service.estimate_push(3000, True, 10.0)
    assert stars == 10.0
    paying = 100 / 970
    assert abs(seconds - (paying + (3000 - paying * 1000) / 30)) < 1e-9
    assert broadcast_service.estimate_push(3000, True, 0.0)[1] == 0.0


async def test_paid_push_reaches_most_on_the_paid_lane_and_records_the_stars(
    sqlite_url: str, clock: FixedClock
) -> None:
    async with paid_bot(sqlite_url, clock, stars=100.0, budget=50.0) as bot:
        sb = bot.sandbox
        content_id = await _health_item(bot)
        readers = await _readers(bot, 30)
        curator = sb.user("策展人")
        await make_curator(bot, curator)

        ask = await _ask_push(bot, curator, content_id)
        text = text_of(ask)
        # The confirmation shows both ways with their time and cost, and the paid button.
        assert "推送给 30 位匹配的信息员吗" in text
        assert "按免费速率：约6秒。" in text
        assert "付费广播：约1秒，约2.5颗星星（超出免费速率的25条消息，预算50颗星星）。" in text
        assert "⚡ 付费推送（约2.5颗星星）" in [b.text for row in ask.buttons for b in row]
        await curator.press(ask, "⚡ 付费推送（约2.5颗星星）")
        await wait_outbox(bot, timeout=30)

        assert [len(r.messages) for r in readers] == [1] * 30
        assert sb.stats.rate_limited == 0  # paid sends never counted against the free cap
        paid = sb.stats.paid_messages
        assert paid >= 10  # the free cap alone would have sent 5 in the first second
        row = await _broadcast(bot)
        assert row.paid_sent == paid and row.state == broadcast_store.ON
        assert abs(broadcast_service.spent_stars(row) - paid * 0.1) < 1e-9
        assert abs(sb.world.stars - (100.0 - paid * 0.1)) < 1e-9
        assert row.estimate_stars == 2.5 and row.budget_stars == 50.0
        async with bot.runtime.sessions() as session:
            (entry,) = (
                await session.execute(
                    select(AuditLog).where(AuditLog.action == "content.push.paid")
                )
            ).scalars()
        assert entry.actor_id is not None and entry.subject_id == row.push_id
        assert entry.detail["budget_stars"] == 50.0 and entry.detail["recipients"] == 30
        report = await curator.wait_for_message(predicate=lambda m: "推送报告" in text_of(m))
        stars = broadcast_service.stars_text(paid * 0.1)
        assert f"付费广播：{paid}条消息，花费{stars}颗星星（预算50颗）。" in text_of(report)


async def test_without_paid_broadcasts_the_confirmation_offers_only_the_free_push(
    sqlite_url: str, clock: FixedClock
) -> None:
    async with paid_bot(sqlite_url, clock, stars=100.0, budget=50.0, enabled=False) as bot:
        content_id = await _health_item(bot)
        await _readers(bot, 3)
        curator = bot.sandbox.user("策展人")
        await make_curator(bot, curator)
        ask = await _ask_push(bot, curator, content_id)
        assert "按免费速率：约1秒。" in text_of(ask)
        assert "付费" not in text_of(ask)
        assert [b.text for row in ask.buttons for b in row] == ["确认推送", "取消"]
        await curator.press(ask, "确认推送")
        await wait_outbox(bot)
        assert bot.sandbox.stats.paid_messages == 0


async def _paid_push_by_service(bot: RunningBot, content_id: int) -> int:
    runtime = bot.runtime
    async with runtime.sessions() as session, session.begin():
        result = await push_service.push_item(
            session=session,
            content_id=content_id,
            now=runtime.now(),
            tz=runtime.settings.scheduler.tz,
        )
        assert result.push_id is not None
        await broadcast_service.open_paid_push(
            session=session,
            push_id=result.push_id,
            recipients=result.queued,
            limits=runtime.settings.limits,
            broadcast=runtime.settings.broadcast,
            now=runtime.now(),
        )
    return result.push_id


async def test_a_spent_budget_carries_on_at_the_free_rate(db_url: str, clock: FixedClock) -> None:
    # On PostgreSQL the caps are the shared buckets (one cap for every process).
    async with paid_bot(db_url, clock, stars=100.0, budget=0.5) as bot:
        sb = bot.sandbox
        content_id = await _health_item(bot)
        readers = await _readers(bot, 16)
        push_id = await _paid_push_by_service(bot, content_id)
        await wait_outbox(bot, timeout=30)

        assert [len(r.messages) for r in readers] == [1] * 16  # nobody left out
        assert sb.stats.rate_limited == 0  # the free lane kept to the sandbox's free cap
        row = await _broadcast(bot)
        # 0.5 Stars buy 5 paid messages; past them no send carried allow_paid_broadcast.
        limiter = bot.runtime.extras[WORKER_KEY].bot.rate_limiter
        assert isinstance(limiter, KepuRateLimiter)
        assert (limiter.shared is not None) == db_url.startswith("postgresql")
        assert limiter.lanes[PAID] == 5
        assert row.push_id == push_id and row.paid_sent == 5
        assert sb.stats.paid_messages == 5 and sb.stats.paid_refused == 0
        assert row.state == broadcast_store.SPENT and row.stopped_at is not None
        assert abs(sb.world.stars - 99.5) < 1e-9
        async with bot.runtime.sessions() as session:
            counts = await outbox_store.counts(session=session, push_id=push_id)
        assert counts["sent"] == 16


async def test_a_low_stars_balance_is_answered_and_the_push_goes_on_free(
    sqlite_url: str, clock: FixedClock
) -> None:
    async with paid_bot(sqlite_url, clock, stars=0.3, budget=50.0) as bot:
        sb = bot.sandbox
        content_id = await _health_item(bot)
        readers = await _readers(bot, 16)
        curator = sb.user("策展人")
        await make_curator(bot, curator)
        ask = await _ask_push(bot, curator, content_id)
        await curator.press(ask, "⚡ 付费推送（约1.1颗星星）")
        await wait_outbox(bot, timeout=30)

        assert [len(r.messages) for r in readers] == [1] * 16  # the refused one went free
        # Telegram refused the sends in flight (the sender has 2 at once), and no paid one
        # was tried after the first refusal came back.
        concurrency = bot.runtime.settings.content.sender_concurrency
        assert 1 <= sb.stats.paid_refused <= concurrency
        assert sb.stats.paid_messages == 3 and sb.world.star_nanos == 0
        row = await _broadcast(bot)
        assert row.paid_sent == 3  # the refused sends' reservations were given back
        assert row.state == broadcast_store.BALANCE
        warning = await curator.wait_for_message(predicate=lambda m: "无法付费广播" in text_of(m))
        assert "本次推送改按免费速率（每秒30条）继续发送" in text_of(warning)
        report = await curator.wait_for_message(predicate=lambda m: "推送报告" in text_of(m))
        assert "Telegram 提示机器人的星星余额不足，其余消息按免费速率发送。" in text_of(report)
        async with bot.runtime.sessions() as session:
            rows = await outbox_store.messages_of(session=session, push_id=row.push_id)
        assert {r.state for r in rows} == {"sent"}
