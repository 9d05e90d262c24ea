"""Campaigns end to end through the real bot and the sandbox (issue #19).

A campaign from config (``[[campaigns]]``, Hangzhou, 20–29 November 2026) and one a curator
adds in the bot; cards show the campaign, /feed browses it, a curator pushes its newest
item to its regions, a station admin's report during it is tagged, the weekly digest has
its block while it runs and coordinators and curators get its XLSX once it ended.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot import jobs
from bot.__main__ import main
from bot.runtime.scheduler import run_job
from bot.sandbox.factories import (
    activity_row,
    make_content,
    make_informant,
    make_region_tree,
    make_share,
    make_station,
)
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimMessage, SimUser
from bot.services import campaigns as campaign_service
from bot.services import roles as role_service
from storage import audit
from storage.models import Activity, Campaign, ContentItem
from tests.activities.helpers import png
from tests.activities.test_form_e2e import press
from tests.conftest import FIXED_NOW, FixedClock

TODAY = dt.date(2026, 11, 23)


def labels(msg: SimMessage) -> list[str]:
    return [b.text for row in msg.buttons for b in row]


def text_of(msg: SimMessage) -> str:
    return msg.text or msg.caption or ""


async def _world(bot: RunningBot) -> dict[str, object]:
    """Hangzhou and Ningbo stations, a health reader in each, campaign and other content."""
    sb = bot.sandbox
    hangzhou = sb.user("杭州读者", started=True)
    ningbo = sb.user("宁波读者", started=True)
    async with bot.runtime.sessions() as s, s.begin():
        await make_region_tree(s, ("330106", "330203"))
        west = await make_station(s, name="西湖区文化站", county="330106")
        haishu = await make_station(s, name="海曙科普站", county="330203")
        assert west.id is not None and haishu.id is not None
        readers = {}
        for user, station in ((hangzhou, west), (ningbo, haishu)):
            assert station.id is not None
            readers[user.id] = await make_informant(
                s, station_id=station.id, telegram_id=user.id, real_name=user.first_name,
                interests=["health"], consent_at=None,
            )  # fmt: skip
        item = await make_content(
            s, guid="sd-1", title="科普日：识别电信诈骗", campaign="science_day",
            publish_at=FIXED_NOW - dt.timedelta(hours=2),
        )  # fmt: skip
        await make_content(
            s, guid="other", title="冬季饮食", publish_at=FIXED_NOW - dt.timedelta(hours=1)
        )
    return {"hangzhou": hangzhou, "ningbo": ningbo, "west": west, "haishu": haishu,
            "item": item, "readers": readers}  # fmt: skip


async def _grant(bot: RunningBot, user: SimUser, role: str, **scope: object) -> None:
    async with bot.runtime.sessions() as s, s.begin():
        await role_service.grant(
            session=s, telegram_id=user.id, role=role, now=bot.runtime.now(), **scope
        )


async def _tap(bot: RunningBot, user: SimUser, msg: SimMessage, label: str) -> SimMessage:
    user.mark_seen()
    await user.press(msg, label)
    return await user.wait_for_message()


async def _say(user: SimUser, text: str) -> SimMessage:
    user.mark_seen()
    await user.send(text)
    return await user.wait_for_message()


async def test_config_campaign_on_cards_in_feed_and_pushed_to_its_regions(
    campaign_bot: RunningBot,
) -> None:
    bot = campaign_bot
    world = await _world(bot)
    hangzhou, ningbo = world["hangzhou"], world["ningbo"]
    assert isinstance(hangzhou, SimUser) and isinstance(ningbo, SimUser)

    # /feed offers the running campaign; its page lists only the campaign's content.
    hangzhou.mark_seen()
    await hangzhou.command("feed")
    feed = await hangzhou.wait_for_message()
    assert "🎯 2026年全国科普日" in labels(feed)
    page = await _tap(bot, hangzhou, feed, "🎯 2026年全国科普日")
    assert "2026年全国科普日（2026年11月20日—11月29日）" in text_of(page)
    assert "科普日：识别电信诈骗" in text_of(page) and "冬季饮食" not in text_of(page)
    card = await _tap(bot, hangzhou, page, "1")
    assert "🎯 主题活动：2026年全国科普日" in text_of(card)

    # A curator pushes the campaign's newest item: the campaign's regions only.
    curator = bot.sandbox.user("内容编辑", started=True)
    await _grant(bot, curator, "curator")
    listing = await _say(curator, "/campaigns")
    assert "<b>2026年全国科普日</b>（2026年11月20日—11月29日）— 进行中，内容1条" in text_of(
        listing
    )
    assert "分享0次 · 活动0场（参与0人）· 推送0条（2026年11月20日—11月23日）" in text_of(listing)
    view = await _tap(bot, curator, listing, "2026年全国科普日")
    assert "数据（2026年11月20日—11月23日，截至目前）：" in text_of(view)
    assert "📍 修改地区" not in labels(view)  # a config campaign is edited in the file
    confirm = await _tap(bot, curator, view, "🚀 推送最新一条内容")
    # The one push confirmation (as /catalog's), led by what the campaign push is.
    assert "“科普日：识别电信诈骗”是2026年全国科普日最新的一条内容" in text_of(confirm)
    assert "推送给 1 位匹配的信息员吗" in text_of(confirm)
    assert labels(confirm) == ["确认推送", "取消"]
    hangzhou.mark_seen()
    queued = await _tap(bot, curator, confirm, "确认推送")
    # start_push's progress message, edited as it goes, then the push report.
    assert "科普日：识别电信诈骗" in text_of(queued)
    pushed = await hangzhou.wait_for_message()
    assert "科普日：识别电信诈骗" in text_of(pushed) and "🎯 主题活动" in text_of(pushed)
    await bot.settle()
    assert all("识别电信诈骗" not in text_of(m) for m in ningbo.messages)

    # A reader cannot list campaigns; forged or outdated buttons are answered, never raise.
    refused = await _say(ningbo, "/campaigns")
    assert "没有权限" in text_of(refused)
    gone = await curator.press(listing, data="CMP:v:nope")
    assert gone is not None and "没有找到这个主题活动" in str(gone.get("text"))
    for forged in ("CMP:zz", "CMP:f:science_day:x", "PRT:abc"):
        answer = await curator.press(listing, data=forged)
        assert answer is not None and "按钮" in str(answer.get("text")), forged


async def test_curator_adds_and_edits_a_campaign_with_natural_dates(
    campaign_bot: RunningBot,
) -> None:
    bot = campaign_bot
    await _world(bot)
    curator = bot.sandbox.user("内容编辑", started=True)
    await _grant(bot, curator, "curator")
    listing = await _say(curator, "/campaigns")
    ask_name = await _tap(bot, curator, listing, "➕ 新建主题活动")
    assert "1/3" in text_of(ask_name) and "科技活动周" in labels(ask_name)
    ask_dates = await _say(curator, "冬季安全宣传周")
    assert "2/3" in text_of(ask_dates)
    bad = await _say(curator, "下个月吧")
    assert "没能读懂日期" in text_of(bad)
    reversed_dates = await _say(curator, "12月10日至12月1日")
    assert "结束日期早于开始日期" in text_of(reversed_dates)
    ask_regions = await _say(curator, "12月1日至7日")
    assert "3/3" in text_of(ask_regions) and labels(ask_regions) == ["全部地区"]
    bad_region = await _say(curator, "33010")
    assert "“33010”不是6位行政区划代码" in text_of(bad_region)
    saved = await _say(curator, "330106")
    assert "✅ 主题活动已保存。" in text_of(saved)
    assert "冬季安全宣传周</b>（2026年12月1日—12月7日）" in text_of(saved)
    assert "地区：西湖区" in text_of(saved)

    async with bot.runtime.sessions() as s:
        [row] = (await s.execute(select(Campaign))).scalars().all()
        taxonomy = await campaign_service.taxonomy_with_campaigns(
            session=s, settings=bot.runtime.settings
        )
        entries = await audit.entries(session=s, subject_type="campaign", subject_id=row.id)
    assert row.key == "c20261201" and row.regions == ["330106"]
    # The taxonomy API (C1's picker) sees config and stored campaigns.
    assert taxonomy.campaign_name("c20261201", "zh_CN") == "冬季安全宣传周"
    assert taxonomy.campaign_name("science_day", "zh_CN") == "2026年全国科普日"
    assert [e.action for e in entries] == ["campaign.create"]

    # Edit its dates: the stored campaign has the buttons, the change is audited.
    listing = await _say(curator, "/campaigns")
    assert "冬季安全宣传周</b>（2026年12月1日—12月7日）— 未开始" in text_of(listing)
    view = await _tap(bot, curator, listing, "冬季安全宣传周")
    ask = await _tap(bot, curator, view, "✏️ 修改日期")
    assert "起止日期" in text_of(ask)
    changed = await _say(curator, "11月30日到12月6日")
    assert "✅ 主题活动已修改。" in text_of(changed)
    assert "2026年11月30日—12月6日" in text_of(changed)
    view = await _tap(bot, curator, await _say(curator, "/campaigns"), "冬季安全宣传周")
    ask = await _tap(bot, curator, view, "📍 修改地区")
    everywhere = await _tap(bot, curator, ask, "全部地区")
    assert "地区：全部地区" in text_of(everywhere)
    async with bot.runtime.sessions() as s:
        row2 = (await s.execute(select(Campaign))).scalars().one()
        entries = await audit.entries(session=s, subject_type="campaign", subject_id=row.id)
    assert (row2.starts_on, row2.ends_on, row2.regions) == (
        dt.date(2026, 11, 30), dt.date(2026, 12, 6), [],
    )  # fmt: skip
    assert sorted(e.action for e in entries) == ["campaign.create", "campaign.edit",
                                                 "campaign.edit"]  # fmt: skip


async def test_activity_report_during_the_campaign_is_tagged(campaign_bot: RunningBot) -> None:
    bot = campaign_bot
    world = await _world(bot)
    admin = bot.sandbox.user("西湖管理员", started=True)
    outsider = bot.sandbox.user("海曙管理员", started=True)
    for user, station in ((admin, world["west"]), (outsider, world["haishu"])):
        await _grant(bot, user, "station_admin", station_id=station.id)  # type: ignore[attr-defined]
    for user in (admin, outsider):
        await user.send_photo(png(user.id % 200), caption="#活动 今天 讲座 防范电信诈骗 40人")
        await bot.settle()
        await press(bot, user, "确认提交")
    async with bot.runtime.sessions() as s:
        acts = {a.station_id: a for a in (await s.execute(select(Activity))).scalars()}
    assert acts[world["west"].id].campaign == "science_day"  # type: ignore[attr-defined]
    assert acts[world["haishu"].id].campaign is None  # type: ignore[attr-defined]


async def _campaign_figures(bot: RunningBot, world: dict[str, object]) -> None:
    """A share of the campaign item and a tagged activity in Hangzhou, others elsewhere."""
    item, west, haishu = world["item"], world["west"], world["haishu"]
    readers = world["readers"]
    assert isinstance(item, ContentItem) and isinstance(readers, dict)
    hangzhou = world["hangzhou"]
    assert isinstance(hangzhou, SimUser)
    async with bot.runtime.sessions() as s, s.begin():
        await make_share(
            s, informant_id=readers[hangzhou.id].id, station_id=west.id,  # type: ignore[attr-defined]
            content_id=item.id, day=dt.date(2026, 11, 21), channel="wechat_group", audience=30,
        )  # fmt: skip
        s.add(Activity(**activity_row(station_id=west.id, held_on=dt.date(2026, 11, 21),  # type: ignore[attr-defined]
                                      participants=45), campaign="science_day"))  # fmt: skip
        s.add(Activity(**activity_row(station_id=west.id, held_on=dt.date(2026, 11, 21),  # type: ignore[attr-defined]
                                      participants=99)))  # fmt: skip
        s.add(Activity(**activity_row(station_id=haishu.id, held_on=dt.date(2026, 11, 21),  # type: ignore[attr-defined]
                                      participants=20), campaign="science_day"))  # fmt: skip


async def test_digest_has_the_campaign_block_while_it_runs(
    campaign_bot: RunningBot, clock: FixedClock
) -> None:
    bot = campaign_bot
    world = await _world(bot)
    await _campaign_figures(bot, world)
    city = bot.sandbox.user("杭州市科协", started=True)
    await _grant(bot, city, "coordinator", region_code="330100")
    assert (await run_job(bot.runtime, jobs.WEEKLY_TALLY, period="2026-W47")).status == "done"
    city.mark_seen()
    await city.command("digest")
    text = await city.wait_for_message(timeout=30)
    body = text_of(text)
    assert "<b>主题活动</b>" in body
    assert "🎯 <b>2026年全国科普日</b>（2026年11月20日—11月29日）" in body
    # The window is the campaign's dates up to the digest week's end; Ningbo's activity
    # and the untagged one do not count.
    assert "数据（2026年11月20日—11月22日，截至目前）：" in body
    assert "分享1次" in body and "活动1场、参与45人" in body


async def test_xlsx_reaches_coordinators_and_curators_after_the_end(
    campaign_bot: RunningBot,
    clock: FixedClock,
    tmp_path: Path,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bot = campaign_bot
    world = await _world(bot)
    await _campaign_figures(bot, world)
    city = bot.sandbox.user("杭州市科协", started=True)
    ningbo_city = bot.sandbox.user("宁波市科协", started=True)
    curator = bot.sandbox.user("内容编辑", started=True)
    await _grant(bot, city, "coordinator", region_code="330100")
    await _grant(bot, ningbo_city, "coordinator", region_code="330200")
    await _grant(bot, curator, "curator")

    # While it runs, the job sends nothing.
    running = await run_job(bot.runtime, jobs.CAMPAIGN_REPORTS, period="2026-11-23")
    assert running.status == "done" and (running.result or {}).get("campaigns") == 0

    clock.set(dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC))
    for user in (city, ningbo_city, curator):
        user.mark_seen()
    ended = await run_job(bot.runtime, jobs.CAMPAIGN_REPORTS, period="2026-12-01")
    assert ended.status == "done" and (ended.result or {}).get("queued") == 2
    for user in (city, curator):
        document = await user.wait_for_message(timeout=30)
        assert document.filename == "campaign-science_day-20261120-20261129.xlsx"
        assert "2026年11月20日—11月29日" in (document.caption or "")
        sheet = load_workbook(io.BytesIO(document.document_bytes())).worksheets[0]
        assert sheet.cell(row=1, column=1).value == (
            "2026年全国科普日 — 主题活动报告（2026年11月20日—11月29日）"
        )
        header = [c.value for c in sheet[4]]
        assert header[:6] == [
            "地区",
            "计入站点数",
            "推送消息（条）",
            "分享次数",
            "链接访问（次）",
            "活动",
        ]
        rows = {r[0].value: [c.value for c in r] for r in sheet.iter_rows(min_row=5)}
        assert rows["杭州市"][3] == 1 and rows["杭州市"][5] == 1 and rows["杭州市"][6] == 45
        assert "宁波市" not in rows  # outside the campaign's regions
    await bot.settle()
    assert ningbo_city.messages == []  # the campaign does not reach Ningbo
    again = await run_job(bot.runtime, jobs.CAMPAIGN_REPORTS, period="2026-12-01", force=True)
    assert (again.result or {}).get("queued", 0) == 0  # once per person and campaign

    # On demand: kepubot report campaign KEY writes the same workbook.
    def cli() -> int:
        monkeypatch.setenv("KEPUBOT_DATABASE__URL", sqlite_url)
        monkeypatch.setenv("KEPUBOT_CAMPAIGNS", "[" + _campaign_json() + "]")
        return main(["--lang", "zh_CN", "report", "campaign", "science_day", "--out",
                     str(tmp_path)])  # fmt: skip

    assert await asyncio.to_thread(cli) == 0
    out = capsys.readouterr().out
    assert "数据（2026年11月20日—11月29日）：" in out
    assert (tmp_path / "campaign-science_day-20261120-20261129.xlsx").exists()


def _campaign_json() -> str:
    return (
        '{"key": "science_day", "name_zh": "2026年全国科普日", "start": "2026-11-20", '
        '"end": "2026-11-29", "regions": ["330100"]}'
    )
