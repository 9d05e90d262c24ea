"""Every push path offers channels and the paid broadcast (issue #20, part 4), end to end.

/newcontent's push now and a campaign's push show /catalog's one confirmation; the command
line's `content push --to/--paid`; the daily push's `daily_push_to` / `daily_push_paid`;
a retry keeps its original's way (channel rows, paid within the remaining budget).
The sandbox's free cap is 5 a second (as in test_paid_push), so paid sends show up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.__main__ import main
from bot.handlers.campaigns import CampaignAction, CampaignPushOk
from bot.i18n import get_translator
from bot.jobs import describe_result, push_daily
from bot.runtime.outbox import notify_outbox
from bot.sandbox import SimChannel, SimUser
from bot.sandbox.factories import make_content, make_informant
from bot.sandbox.harness import RunningBot
from bot.sandbox.models import SimMessage
from bot.services import broadcast as broadcast_service
from bot.services import campaigns as campaign_service
from bot.services import push as push_service
from storage import broadcast as broadcast_store
from storage import channels as channel_store
from storage import outbox as outbox_store
from storage.models import ChannelPost, OutboxMessage, Push, PushBroadcast, Station
from tests.conftest import FIXED_NOW, FixedClock
from tests.content_push.conftest import seed_world, wait_outbox
from tests.content_push.test_curator_e2e import (
    answer,
    labels,
    make_curator,
    tap,
    text_of,
    walk_to_schedule,
)
from tests.reach.test_paid_push import paid_bot

TARGETS = ["📨 信息员私信", "📢 频道", "📨+📢 两者"]
GHOST = 987654  # an informant's chat the sandbox does not know until the retry


# --- helpers ------------------------------------------------------------------------------
async def world(bot: RunningBot, n: int = 12) -> tuple[list[SimUser], SimChannel]:
    """``n`` health readers in 西湖区 and the 杭州科普 channel linked to 杭州市."""
    readers = [bot.sandbox.user(f"读者{i}", started=True) for i in range(n)]
    await seed_world(bot.runtime, readers, interests=["health"])
    channel = bot.sandbox.channel("杭州科普", username="hzkepu", subscribers=300, bot_admin=True)
    async with bot.runtime.sessions() as s, s.begin():
        await channel_store.link_channel(
            session=s, chat_id=channel.id, region_code="330100", title=channel.title,
            username=channel.chat.username, invite_link=None, linked_by=None,
            now=bot.runtime.now(),
        )  # fmt: skip
    return readers, channel


async def item(bot: RunningBot, *, campaign: str | None = None) -> int:
    """A published health item for every region."""
    async with bot.runtime.sessions() as s, s.begin():
        made = await make_content(
            s, guid=f"ways-{campaign}", title="冬季防煤气中毒", campaign=campaign,
            publish_at=bot.runtime.now() - dt.timedelta(hours=1),
        )  # fmt: skip
    assert made.id is not None
    return made.id


async def curator_of(bot: RunningBot) -> SimUser:
    curator = bot.sandbox.user("策展人", started=True)
    await make_curator(bot, curator)
    return curator


async def rows_of(bot: RunningBot, table: type) -> list:  # type: ignore[type-arg]
    async with bot.runtime.sessions() as s:
        return list((await s.execute(select(table))).scalars())


def paid_label(msg: SimMessage, prefix: str) -> str:
    return next(label for label in labels(msg) if label.startswith(prefix))


async def confirmation(curator: SimUser) -> SimMessage:
    return await curator.wait_for_message(predicate=lambda m: "推送给谁" in text_of(m))


@asynccontextmanager
async def newcontent_asked(
    sqlite_url: str, clock: FixedClock
) -> AsyncIterator[tuple[RunningBot, list[SimUser], SimChannel, SimUser, SimMessage]]:
    """Paid broadcasts on, a linked channel: a curator saves a /newcontent "push now"."""
    async with paid_bot(sqlite_url, clock, stars=100.0, budget=50.0) as bot:
        readers, channel = await world(bot)
        curator = await curator_of(bot)
        ask_when = await walk_to_schedule(bot, curator, category="🩺 卫生健康")
        confirm = await tap(bot, curator, ask_when, "立即推送")
        curator.mark_seen()
        await curator.press(confirm, "保存")
        yield bot, readers, channel, curator, await confirmation(curator)


# --- /newcontent's push now ---------------------------------------------------------------
async def test_newcontent_push_now_asks_how_and_channels_only_posts_to_the_channel(
    sqlite_url: str, clock: FixedClock
) -> None:
    async with newcontent_asked(sqlite_url, clock) as (bot, readers, channel, curator, ask):
        text = text_of(ask)
        # /catalog's own confirmation: informants, channels, time and the paid estimate.
        assert "符合条件的信息员12人" in text and "已关联频道1个：杭州科普" in text
        assert "按免费速率：约3秒。" in text and "付费广播：约1秒" in text
        assert labels(ask)[:3] == TARGETS and labels(ask)[-1] == "取消"
        assert paid_label(ask, "⚡ 📨 信息员付费推送（约")
        assert paid_label(ask, "⚡ 📨+📢 两者，信息员付费推送（约")
        assert await rows_of(bot, Push) == []  # nothing queued before the choice

        await curator.press(ask, "📢 频道")
        await wait_outbox(bot)
        assert len(channel.messages) == 1 and "冬季预防一氧化碳中毒" in text_of(
            channel.messages[0]
        )
        assert all(r.messages == [] for r in readers)  # channels only
        (push,) = await rows_of(bot, Push)
        assert push.targeting["to"] == "channels" and await rows_of(bot, PushBroadcast) == []


async def test_newcontent_paid_push_goes_above_the_free_rate(
    sqlite_url: str, clock: FixedClock
) -> None:
    async with newcontent_asked(sqlite_url, clock) as (bot, readers, channel, curator, ask):
        await curator.press(ask, paid_label(ask, "⚡ 📨 信息员付费推送"))
        await wait_outbox(bot, timeout=30)
        assert [len(r.messages) for r in readers] == [1] * 12
        assert channel.messages == []  # informants only
        assert bot.sandbox.stats.paid_messages > 0 and bot.sandbox.stats.rate_limited == 0
        (row,) = await rows_of(bot, PushBroadcast)
        assert row.paid_sent == bot.sandbox.stats.paid_messages and row.budget_stars == 50.0


async def test_newcontent_without_channels_or_paid_pushes_on_save(
    sqlite_url: str, clock: FixedClock
) -> None:
    async with paid_bot(sqlite_url, clock, stars=0.0, budget=50.0, enabled=False) as bot:
        reader = bot.sandbox.user("读者", started=True)
        await seed_world(bot.runtime, [reader], interests=["health"])
        curator = await curator_of(bot)
        ask_when = await walk_to_schedule(bot, curator, category="🩺 卫生健康")
        confirm = await tap(bot, curator, ask_when, "立即推送")
        await tap(bot, curator, confirm, "保存")  # Save was the confirmation: nothing to choose
        await wait_outbox(bot)
        assert len(reader.messages) == 1


async def test_newcontent_publish_later_offers_the_ways_and_waits_for_its_time(
    sqlite_url: str, clock: FixedClock
) -> None:
    # "Publish and push at …" offers the same choice as "push now" (it went to the
    # informants only, for free); what is chosen is queued for the publish time.
    async with paid_bot(sqlite_url, clock, stars=100.0, budget=50.0) as bot:
        readers, channel = await world(bot)
        curator = await curator_of(bot)
        await walk_to_schedule(bot, curator, category="🩺 卫生健康")
        confirm = await answer(bot, curator, "2026-12-01 09:30")
        curator.mark_seen()
        await curator.press(confirm, "保存")
        ask = await confirmation(curator)
        assert text_of(ask).startswith("这条内容将于 2026") and "推送届时发出" in text_of(ask)
        assert labels(ask)[:3] == TARGETS and await rows_of(bot, Push) == []
        curator.mark_seen()
        await curator.press(ask, "📨+📢 两者")
        said = await curator.wait_for_message(predicate=lambda m: "已定时" in text_of(m))
        assert "其中 1 条发到已关联频道" in text_of(said)
        await bot.settle()
        assert channel.messages == [] and all(r.messages == [] for r in readers)
        when = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)  # 09:30 in Shanghai
        (push,) = await rows_of(bot, Push)
        assert push.targeting["to"] == "both" and push.targeting["not_before"] == when.isoformat()

        clock.set(when + dt.timedelta(minutes=1))
        notify_outbox(bot.runtime)
        await wait_outbox(bot)
        assert len(channel.messages) == 1 and [len(r.messages) for r in readers] == [1] * 12


# --- a campaign's push ------------------------------------------------------------------------
async def test_campaign_push_offers_channels_and_paid_like_the_catalog(
    sqlite_url: str, clock: FixedClock
) -> None:
    async with paid_bot(sqlite_url, clock, stars=100.0, budget=50.0) as bot:
        readers, channel = await world(bot)
        async with bot.runtime.sessions() as s, s.begin():
            campaign = await campaign_service.add_campaign(
                session=s, settings=bot.runtime.settings, name="冬季安全周",
                start=bot.runtime.today(), end=bot.runtime.today(), regions=[],
                actor_id=None, now=bot.runtime.now(),
            )  # fmt: skip
        await item(bot, campaign=campaign.key)
        curator = await curator_of(bot)
        listing = await answer(bot, curator, "/campaigns")

        async def ask_push() -> SimMessage:
            curator.mark_seen()
            await curator.press(listing, data=CampaignAction("push", campaign.key).encode())
            return await confirmation(curator)

        ask = await ask_push()
        assert "“冬季防煤气中毒”是冬季安全周最新的一条内容" in text_of(ask)
        assert "已关联频道1个：杭州科普" in text_of(ask) and "付费广播：" in text_of(ask)
        assert labels(ask)[:3] == TARGETS
        await curator.press(ask, "📢 频道")
        await wait_outbox(bot)
        assert len(channel.messages) == 1 and all(r.messages == [] for r in readers)

        ask = await ask_push()  # now the informants, paid
        await curator.press(ask, paid_label(ask, "⚡ 📨 信息员付费推送"))
        await wait_outbox(bot, timeout=30)
        assert [len(r.messages) for r in readers] == [1] * 12 and len(channel.messages) == 1
        assert bot.sandbox.stats.paid_messages > 0
        pushes = await rows_of(bot, Push)
        assert [p.targeting["trigger"] for p in pushes] == ["campaign", "campaign"]
        (paid,) = await rows_of(bot, PushBroadcast)
        assert paid.push_id == pushes[1].id
        # start_push's progress message and report, as for /catalog.
        report = await curator.wait_for_message(predicate=lambda m: "推送报告" in text_of(m))
        assert "付费广播：" in text_of(report)


def test_a_campaign_push_button_fits_for_the_longest_key_and_any_item() -> None:
    # Campaign keys go up to 32 characters: the words "informants"/"paid" left no room for
    # a 9-digit item id within Telegram's 64 bytes, so the button could not be built.
    key = "k" * 32
    for to in ("informants", "channels", "both"):
        for paid in (True, False):
            button = CampaignPushOk.of(key, 2**31 - 1, to, paid)
            data = button.encode()
            assert len(data.encode()) <= 64
            back = CampaignPushOk.decode(data)
            assert back is not None and (back.key, back.content_id, back.to) == (
                key,
                2**31 - 1,
                to,
            )
            assert (back.paid == "y") is paid


# --- the command line -----------------------------------------------------------------------
def _cli(url: str, monkeypatch: pytest.MonkeyPatch, *argv: str, paid: bool = True) -> int:
    monkeypatch.setenv("KEPUBOT_DATABASE__URL", url)
    monkeypatch.setenv("KEPUBOT_BROADCAST__ENABLED", "true" if paid else "false")
    monkeypatch.setenv("KEPUBOT_BROADCAST__STARS_BUDGET", "50")
    try:
        return main(["--lang", "zh_CN", *argv])
    except SystemExit as exc:  # argparse errors exit
        return int(exc.code or 0)


async def test_cli_push_to_both_paid_and_bad_values_are_explained(
    sqlite_url: str,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with paid_bot(sqlite_url, clock, stars=100.0, budget=50.0) as bot:
        readers, channel = await world(bot)
        content_id = await item(bot)

        args = ("content", "push", str(content_id))
        code = await asyncio.to_thread(_cli, sqlite_url, monkeypatch, *args, "--to", "everyone")
        err = capsys.readouterr().err
        assert code == 2 and "无效的选项" in err and "'everyone'" in err
        assert "Traceback" not in err and "invalid choice" not in err
        code = await asyncio.to_thread(_cli, sqlite_url, monkeypatch, *args, "--paid", paid=False)
        err = capsys.readouterr().err
        assert code == 2 and "--paid 需要开启付费广播" in err and "Traceback" not in err
        assert await rows_of(bot, Push) == []

        code = await asyncio.to_thread(
            _cli, sqlite_url, monkeypatch, *args, "--to", "both", "--paid"
        )
        out = capsys.readouterr().out
        assert code == 0, out
        assert "其中 1 条是发到已关联频道的消息。" in out
        assert "⚡ 付费广播：超出免费速率的部分付费发送，预算50颗星星。" in out
        # The command line's clock is the wall clock, the bot's a fixed one: check what was
        # queued (delivery of both ways is the other tests').
        (push,) = await rows_of(bot, Push)
        assert push.targeting["trigger"] == "cli" and push.targeting["to"] == "both"
        kinds = sorted(r.kind for r in await rows_of(bot, OutboxMessage) if r.push_id == push.id)
        assert kinds == ["channel_post"] + ["content"] * len(readers)
        assert {r.chat_id for r in await rows_of(bot, OutboxMessage)} >= {channel.id}
        (paid,) = await rows_of(bot, PushBroadcast)
        assert paid.push_id == push.id and paid.budget_stars == 50.0


def test_cli_push_help_names_the_new_options(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    code = _cli(f"sqlite+aiosqlite:///{tmp_path / 'k.db'}", monkeypatch, "content", "push", "-h")
    out = capsys.readouterr().out
    assert code == 0
    assert "推送给谁：informants（信息员私信，默认）" in out
    assert "超出免费速率的部分用付费广播发送" in out


# --- the daily push ---------------------------------------------------------------------------
async def test_daily_push_to_both_and_paid_posts_once_per_channel(
    sqlite_url: str, clock: FixedClock
) -> None:
    async with paid_bot(
        sqlite_url, clock, stars=100.0, budget=50.0, content={"daily_push_to": "both"},
        daily_paid=True,
    ) as bot:  # fmt: skip
        readers, channel = await world(bot)
        content_id = await item(bot)
        runtime = bot.runtime
        for _ in range(2):  # the second run finds nothing new: idempotent
            async with runtime.sessions() as s, s.begin():
                result = await push_daily(session=s, settings=runtime.settings, now=runtime.now())
            notify_outbox(runtime)
            await wait_outbox(bot, timeout=30)
            if result.items:
                summary = result.as_dict()
        assert summary["items"] == [content_id] and summary["channel_posts"] == 1
        assert summary["paid"] == summary["pushes"]
        said = describe_result("daily_push", summary, get_translator("zh_CN"))
        assert "其中频道消息 1 条" in said and "其中 1 次推送使用付费广播" in said

        assert [len(r.messages) for r in readers] == [1] * 12
        assert len(channel.messages) == 1 and len(await rows_of(bot, ChannelPost)) == 1
        (row,) = await rows_of(bot, PushBroadcast)
        assert row.budget_stars == 50.0 and row.paid_sent == bot.sandbox.stats.paid_messages > 0
        (push,) = await rows_of(bot, Push)
        assert push.targeting["trigger"] == "daily" and push.targeting["to"] == "both"


# --- retries ------------------------------------------------------------------------------------
async def paid_channel_push(bot: RunningBot) -> tuple[SimUser, SimMessage]:
    """Push a new item to the informants and the channel, paid; return the curator and
    the push report once every message has been tried."""
    content_id = await item(bot)
    curator = await curator_of(bot)
    runtime = bot.runtime
    async with runtime.sessions() as s, s.begin():
        result = await push_service.push_item(
            session=s, content_id=content_id, now=runtime.now(),
            tz=runtime.settings.scheduler.tz, report_chat=curator.id, report_locale="zh_CN",
            channels=True,
        )  # fmt: skip
        await push_service.open_paid(
            session=s, result=result, now=runtime.now(),
            paid=push_service.PaidRates(
                limits=runtime.settings.limits, broadcast=runtime.settings.broadcast
            ),
        )  # fmt: skip
    notify_outbox(runtime)
    await wait_outbox(bot, timeout=30)
    report = await curator.wait_for_message(predicate=lambda m: "推送报告" in text_of(m))
    return curator, report


async def test_retry_of_a_paid_channel_push_keeps_its_way_and_the_rest_of_the_budget(
    sqlite_url: str, clock: FixedClock
) -> None:
    async with paid_bot(sqlite_url, clock, stars=100.0, budget=50.0) as bot:
        sb = bot.sandbox
        readers, channel = await world(bot)
        await channel.set_bot_admin(True, can_post=False)  # its post fails (400)
        async with bot.runtime.sessions() as s, s.begin():
            station = (await s.execute(select(Station))).scalars().first()
            assert station is not None and station.id is not None
            await make_informant(
                s, station_id=station.id, telegram_id=GHOST, interests=["health"], consent_at=None
            )
        curator, report = await paid_channel_push(bot)
        # The channel's post and the unknown chat failed; the retry goes paid, as its original.
        assert labels(report) == ["🔁 重试失败的 2 人（⚡ 付费）"]
        (original,) = await rows_of(bot, PushBroadcast)
        left = broadcast_service.budget_left(original)
        assert original.paid_sent > 0 and left == 50.0 - broadcast_service.spent_stars(original)

        await channel.set_bot_admin(True, can_post=True)
        ghost = sb.user("后来者", user_id=GHOST, started=True)
        curator.mark_seen()
        await curator.press(report, "🔁 重试失败的 2 人（⚡ 付费）")
        said = await curator.wait_for_message(predicate=lambda m: "正在重试" in text_of(m))
        assert "其中 1 条是发到已关联频道的消息。" in text_of(said)
        assert f"预算{broadcast_service.stars_text(left)}颗星星" in text_of(said)
        await wait_outbox(bot, timeout=30)
        assert len(channel.messages) == 1 and len(ghost.messages) == 1
        assert [len(r.messages) for r in readers] == [1] * 12

        pushes = sorted(await rows_of(bot, Push), key=lambda p: p.id)
        retry = pushes[-1]
        assert retry.targeting["trigger"] == "retry" and retry.targeting["to"] == "both"
        async with bot.runtime.sessions() as s:
            kinds = sorted(
                r.kind
                for r in (
                    await s.execute(select(OutboxMessage).where(OutboxMessage.push_id == retry.id))
                ).scalars()
            )
            paid = await s.get(PushBroadcast, retry.id)
        assert kinds == ["channel_post", "content"]
        assert paid is not None and paid.budget_stars == left


async def test_a_retry_of_channel_posts_alone_is_not_labelled_paid(
    sqlite_url: str, clock: FixedClock
) -> None:
    # Channel posts are never paid broadcasts: when only they failed, the report's retry
    # button must not promise a paid retry, whatever budget the original has left.
    async with paid_bot(sqlite_url, clock, stars=100.0, budget=50.0) as bot:
        readers, channel = await world(bot)
        await channel.set_bot_admin(True, can_post=False)  # its post fails (400)
        curator, report = await paid_channel_push(bot)
        assert [len(r.messages) for r in readers] == [1] * 12
        (original,) = await rows_of(bot, PushBroadcast)
        assert broadcast_service.budget_left(original) > 0
        assert labels(report) == ["🔁 重试失败的 1 人"]


# --- what a retry may spend ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("budget", "paid_sent", "left"),
    [(50.0, 120, 38.0), (0.5, 5, None), (0.55, 5, None), (0.0, 0, None)],
)
async def test_a_retry_spends_what_is_left_of_its_originals_budget(
    session: AsyncSession, budget: float, paid_sent: int, left: float | None
) -> None:
    async with session.begin():
        push = await outbox_store.create_push(
            session=session, content_id=None, kind="content", created_by=None,
            targeting={}, now=FIXED_NOW,
        )  # fmt: skip
        assert push.id is not None
        assert await broadcast_service.retry_budget(session=session, push_id=push.id) is None
        row = await broadcast_store.open_broadcast(
            session=session, push_id=push.id, budget_stars=budget, stars_per_message=0.1,
            estimate_seconds=1.0, estimate_stars=budget, now=FIXED_NOW,
        )  # fmt: skip
        row.paid_sent = paid_sent
        # Nothing left that pays for one more message: the retry is free.
        assert await broadcast_service.retry_budget(session=session, push_id=push.id) == left
