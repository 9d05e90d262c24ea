"""The desk's campaigns page (issue #19): the campaigns reaching the viewer's area.

FIXED_NOW is Monday 23 November 2026. Three campaigns: 全国科普日 in config, running
20–29 November in Hangzhou; a stored one in Ningbo that ended on 7 November; a stored one
everywhere starting 1 December. The figures are the campaign report's (``build_report``,
the one definition with the campaign filter), each with its window.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CampaignSettings
from bot.sandbox.factories import make_activity, make_content, make_share
from bot.services import campaigns as service
from storage.models import AuditLog, Informant
from tests.conftest import FIXED_NOW
from tests.desk import world as w
from tests.desk.conftest import DeskClient

SCIENCE_DAY = CampaignSettings(
    key="science_day",
    name_zh="2026年全国科普日",
    name_en="National Science Day 2026",
    start=dt.date(2026, 11, 20),
    end=dt.date(2026, 11, 29),
    regions=["330100"],
)
TODAY = dt.date(2026, 11, 23)


@pytest.fixture
async def campaigned(desk: DeskClient, seeded: w.World) -> w.World:
    """The desk's small province with three campaigns and some campaign figures."""
    runtime = desk.runtime
    runtime.settings = runtime.settings.model_copy(update={"campaigns": [SCIENCE_DAY]})
    async with runtime.sessions() as s, s.begin():
        settings = runtime.settings
        await service.add_campaign(
            session=s, settings=settings, name="宁波科技活动周", start=dt.date(2026, 11, 1),
            end=dt.date(2026, 11, 7), regions=["330200"], actor_id=None, now=FIXED_NOW,
        )  # fmt: skip
        await service.add_campaign(
            session=s, settings=settings, name="冬季安全月", start=dt.date(2026, 12, 1),
            end=dt.date(2026, 12, 31), regions=[], actor_id=None, now=FIXED_NOW,
        )  # fmt: skip
        item = await make_content(
            s, guid="sd-1", title="科普日海报", campaign="science_day", publish_at=FIXED_NOW
        )
        assert item.id is not None
        informants = {
            station: informant
            for station, informant in (
                (seeded.xihu, await _informant(s, seeded.xihu)),
                (seeded.haishu, await _informant(s, seeded.haishu)),
            )
        }
        for station, target, audience in (
            (seeded.xihu, "g1", 30),
            (seeded.xihu, "g2", 20),
            (seeded.haishu, "g1", 9),
        ):
            await make_share(
                s, informant_id=informants[station], station_id=station, content_id=item.id,
                day=dt.date(2026, 11, 21), channel="wechat_group", target=target,
                audience=audience,
            )  # fmt: skip
        await make_share(  # before the campaign: outside its window
            s, informant_id=informants[seeded.xihu], station_id=seeded.xihu,
            content_id=item.id, day=dt.date(2026, 11, 18), channel="qq_group", audience=5,
        )  # fmt: skip
        tagged = await make_activity(
            s, station_id=seeded.binjiang, held_on=dt.date(2026, 11, 22), title="科普日展览",
            participants=80,
        )  # fmt: skip
        tagged.campaign = "science_day"
    return seeded


async def _informant(s: AsyncSession, station_id: int) -> int:
    found = await s.scalar(select(Informant.id).where(Informant.station_id == station_id))
    assert found is not None
    return int(found)


def _figure(text: str, key: str, label: str) -> int:
    """Return the figure labelled ``label`` in campaign ``key``'s block of a page."""
    block = text.split(f'id="campaign-{key}"')[1].split("<section")[0]
    found = re.search(rf'<div class="value">([\d,]+)</div><div class="label">{label}</div>', block)
    assert found is not None, (key, label)
    return int(found[1].replace(",", ""))


def _sections(text: str) -> list[str]:
    return re.findall(r'<section id="campaign-([a-z0-9_]+)"', text)


async def test_admin_sees_every_campaign_running_first_with_the_reports_figures(
    desk: DeskClient, campaigned: w.World
) -> None:
    page = await desk.get("campaigns", user=w.ADMIN)
    assert page.status == 200, page.text
    text = page.text
    keys = _sections(text)
    assert keys[0] == "science_day" and len(keys) == 3
    assert keys[1].startswith("c20261201") and keys[2].startswith("c20261101")
    assert "进行中" in text and "未开始" in text and "已结束" in text
    # Dates, regions, content items.
    assert "2026年全国科普日" in text and "杭州市" in text and "全部地区" in text
    # The running campaign's window is its dates cut at today, said "so far".
    assert "截至目前" in text
    # Its figures are the campaign report's, in total and by city.
    settings = desk.runtime.settings
    async with desk.runtime.sessions() as s:
        campaign = await service.get_campaign(session=s, settings=settings, key="science_day")
        assert campaign is not None
        report = await service.build_report(
            session=s, settings=settings, campaign=campaign, today=TODAY, now=FIXED_NOW
        )
    assert (report.total.shares, report.total.activities, report.total.participants) == (2, 1, 80)
    assert [line.code for line in report.regions] == ["330100"]  # Ningbo is outside
    assert _figure(text, "science_day", "分享次数") == report.total.shares
    assert _figure(text, "science_day", "参与人数") == report.total.participants
    assert _figure(text, "science_day", "计入站点数") == report.total.stations
    block = text.split('id="campaign-science_day"')[1].split("<section")[0]
    assert "<td>杭州市</td>" in block and "宁波市" not in block
    # The upcoming campaign has no figures yet.
    upcoming = text.split(f'id="campaign-{keys[1]}"')[1].split("<section")[0]
    assert "尚未开始" in upcoming and "desk-table" not in upcoming
    assert "统计于" in text


async def test_a_coordinator_sees_the_campaigns_reaching_the_area_and_its_figures_only(
    desk: DeskClient, campaigned: w.World
) -> None:
    county = await desk.get("campaigns", user=w.COUNTY)  # 西湖区
    assert county.status == 200
    assert [k[:9] for k in _sections(county.text)] == ["science_d", "c20261201"]
    # Within 西湖区: the two shares, not 滨江区's tagged activity.
    assert _figure(county.text, "science_day", "分享次数") == 2
    assert _figure(county.text, "science_day", "活动") == 0
    assert _figure(county.text, "science_day", "参与人数") == 0
    ningbo = await desk.get("campaigns", user=w.NINGBO)
    assert [k[:9] for k in _sections(ningbo.text)] == ["c20261201", "c20261101"]
    assert "2026年全国科普日" not in ningbo.text


async def test_one_campaign_and_refusals(desk: DeskClient, campaigned: w.World) -> None:
    one = await desk.get("campaigns?campaign=science_day", user=w.CITY)
    assert one.status == 200 and _sections(one.text) == ["science_day"]
    assert "全部主题活动" in one.text
    # A campaign outside the viewer's regions: 403, audited with its key.
    refused = await desk.get("campaigns?campaign=science_day", user=w.NINGBO)
    assert refused.status == 403 and "科普日" not in refused.text
    async with desk.runtime.sessions() as s:
        rows = (
            (await s.execute(select(AuditLog).where(AuditLog.action == "desk:campaigns")))
            .scalars()
            .all()
        )
    assert len(rows) == 1 and rows[0].allowed is False
    assert rows[0].detail is not None and rows[0].detail.get("key") == "science_day"
    unknown = await desk.get("campaigns?campaign=nope", user=w.ADMIN)
    assert unknown.status == 400 and "nope" in unknown.text
    bad = await desk.get("campaigns?campaign=%3Cscript%3E", user=w.ADMIN)
    assert bad.status == 400 and "<script>" not in bad.text
    # A station admin has no campaigns page (as in the bot); refused and audited.
    assert (await desk.get("campaigns", user=w.STATION_ADMIN)).status == 403


async def test_curator_menu_and_english(desk: DeskClient, campaigned: w.World) -> None:
    nav = await desk.get("nav", user=w.CURATOR)
    assert 'data-start="/desk/p/campaigns"' in nav.text
    assert (await desk.get("campaigns", user=w.CURATOR)).status == 200
    async with desk.runtime.sessions() as s, s.begin():
        await desk.person(s, 502, role="admin", language="en")
    page = await desk.get("campaigns", user=502)
    assert page.status == 200
    assert "National Science Day 2026" in page.text and "under way" in page.text
    assert "Hangzhou" in page.text or "杭州市" in page.text
    assert "so far" in page.text


async def test_dashboard_links_the_campaigns_under_way_in_its_region(
    desk: DeskClient, campaigned: w.World
) -> None:
    city = await desk.get("dashboard", user=w.CITY)
    assert city.status == 200
    assert "正在进行的主题活动" in city.text and "2026年全国科普日" in city.text
    assert "/desk/p/campaigns?campaign=science_day" in city.text
    ningbo = await desk.get("dashboard", user=w.NINGBO)
    assert "2026年全国科普日" not in ningbo.text
    assert "这里目前没有进行中的主题活动" in ningbo.text
    assert "/desk/p/campaigns" in ningbo.text


async def test_figures_are_shared_for_the_cache_period_and_say_when(
    desk: DeskClient, campaigned: w.World
) -> None:
    first = await desk.get("campaigns", user=w.ADMIN)
    async with desk.runtime.sessions() as s, s.begin():
        item = await make_content(
            s, guid="sd-2", title="又一条", campaign="science_day", publish_at=FIXED_NOW
        )
        assert item.id is not None
        informant = await _informant(s, campaigned.xihu)
        await make_share(
            s, informant_id=informant, station_id=campaigned.xihu, content_id=item.id,
            day=TODAY, channel="wechat_group", audience=3,
        )  # fmt: skip
    same = await desk.get("campaigns", user=w.ADMIN)
    assert _figure(same.text, "science_day", "分享次数") == 2  # computed a moment ago
    assert same.text.count("统计于") == first.text.count("统计于") == 1
    desk.runtime.clock.advance(seconds=61)  # type: ignore[attr-defined]
    later = await desk.get("campaigns", user=w.ADMIN)
    assert _figure(later.text, "science_day", "分享次数") == 3
    assert "2026年11月23日 10:01" in later.text
