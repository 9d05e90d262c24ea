"""Campaign rules on SQLite and PostgreSQL: the figures' campaign filter, pushes, summaries.

Also the typed dates, the config entries and the activity tagging rule (one running
campaign in the station's region, never two).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CampaignSettings, ConfigError, Settings, load_settings
from bot.core.propagation import volume_over
from bot.sandbox.factories import (
    activity_row,
    make_content,
    make_informant,
    make_region_tree,
    make_share,
    make_station,
)
from bot.services import campaigns as service
from bot.services.campaigns import CampaignError
from storage import figures
from storage import outbox as outbox_store
from storage.figures import Window
from storage.models import Activity
from tests.campaigns.conftest import SCIENCE_DAY
from tests.conftest import FIXED_NOW

TODAY = dt.date(2026, 11, 23)


def _settings(*campaigns: CampaignSettings) -> Settings:
    return Settings().model_copy(update={"campaigns": list(campaigns)})


async def _world(session: AsyncSession) -> dict[str, int]:
    await make_region_tree(session, ("330106", "330203"))
    west = await make_station(session, name="西湖区文化站", county="330106")
    haishu = await make_station(session, name="海曙科普站", county="330203")
    assert west.id is not None and haishu.id is not None
    reader = await make_informant(session, station_id=west.id, telegram_id=501, consent_at=None)
    far = await make_informant(session, station_id=haishu.id, telegram_id=502, consent_at=None)
    tagged = await make_content(session, guid="t", campaign="science_day", publish_at=FIXED_NOW)
    other = await make_content(session, guid="o", publish_at=FIXED_NOW)
    assert reader.id and far.id and tagged.id and other.id
    day = dt.date(2026, 11, 21)
    for informant, station, content, audience in (
        (reader.id, west.id, tagged.id, 30),
        (reader.id, west.id, other.id, 50),  # not the campaign's content
        (far.id, haishu.id, tagged.id, 10),  # outside the campaign's regions
    ):
        await make_share(
            session, informant_id=informant, station_id=station, content_id=content, day=day,
            channel="wechat_group", audience=audience,
        )  # fmt: skip
    await make_share(  # before the campaign: not in its window
        session, informant_id=reader.id, station_id=west.id, content_id=tagged.id,
        day=dt.date(2026, 11, 19), channel="qq_group", audience=5,
    )  # fmt: skip
    for station, participants, campaign in ((west.id, 45, "science_day"), (west.id, 99, None)):
        session.add(
            Activity(
                **activity_row(station_id=station, held_on=day, participants=participants),
                campaign=campaign,
            )  # fmt: skip
        )
    await session.flush()
    return {"west": west.id, "haishu": haishu.id, "tagged": tagged.id}


async def test_campaign_filter_counts_only_the_campaigns_content_and_activities(
    session: AsyncSession,
) -> None:
    ids = await _world(session)
    settings = _settings(SCIENCE_DAY)
    window = Window(dt.date(2026, 11, 20), dt.date(2026, 11, 29))
    rows = {
        r.station_id: r
        for r in await figures.station_figures(
            session=session,
            window=window,
            volume=volume_over(settings.propagation),
            campaign="science_day",
        )  # fmt: skip
    }
    assert rows[ids["west"]].shares == 1 and rows[ids["west"]].reported_reach == 30
    assert rows[ids["west"]].activities == 1 and rows[ids["west"]].participants == 45
    # Without the filter the same window counts everything (one definition, one filter).
    unfiltered = await figures.station_figures(
        session=session, window=window, volume=volume_over(settings.propagation)
    )
    west = next(r for r in unfiltered if r.station_id == ids["west"])
    assert west.shares == 2 and west.activities == 2

    campaign = await service.get_campaign(session=session, settings=settings, key="science_day")
    assert campaign is not None
    report = await service.build_report(
        session=session, settings=settings, campaign=campaign, today=TODAY, now=FIXED_NOW
    )
    assert report.window == Window(dt.date(2026, 11, 20), TODAY, "range")
    assert not report.complete
    assert [line.name for line in report.regions] == ["杭州市"]  # Ningbo is outside
    assert (report.total.shares, report.total.activities, report.total.participants) == (1, 1, 45)
    assert report.items == 1


async def test_pushes_of_the_campaign_are_counted_by_station(session: AsyncSession) -> None:
    ids = await _world(session)
    push = await outbox_store.create_push(
        session=session, content_id=ids["tagged"], kind="content", created_by=None,
        targeting={}, now=FIXED_NOW,
    )  # fmt: skip
    assert push.id is not None
    await outbox_store.enqueue(
        session=session,
        push_id=push.id,
        messages=[
            outbox_store.NewMessage(
                chat, "content", {"content_id": ids["tagged"]}, f"p{chat}", FIXED_NOW
            )  # fmt: skip
            for chat in (501, 502)
        ],
        now=FIXED_NOW,
    )
    for row in await outbox_store.messages_of(session=session, push_id=push.id):
        assert row.id is not None
        await outbox_store.mark_sent(
            session=session, message_id=row.id, now=FIXED_NOW, telegram_message_id=1, attempts=1
        )
    since = dt.datetime(2026, 11, 19, 16, 0, tzinfo=dt.UTC)  # 20 November, Shanghai
    pushed = await figures.campaign_pushes(
        session=session, campaign="science_day", since=since, until=since + dt.timedelta(days=10)
    )
    assert (pushed.items, pushed.sent) == (1, 2)
    assert pushed.sent_by_station == {ids["west"]: 1, ids["haishu"]: 1}
    before = await figures.campaign_pushes(
        session=session, campaign="science_day", since=since - dt.timedelta(days=10), until=since
    )
    assert (before.items, before.sent) == (0, 0)


async def test_summaries_for_the_desk_by_scope_and_state(session: AsyncSession) -> None:
    await _world(session)
    ningbo_week = CampaignSettings(
        key="nb_week", name_zh="宁波科普周", start=dt.date(2026, 12, 7),
        end=dt.date(2026, 12, 13), regions=["330200"],
    )  # fmt: skip
    old = CampaignSettings(
        key="st_week", name_zh="2026年科技活动周", start=dt.date(2026, 5, 17),
        end=dt.date(2026, 5, 23),
    )  # fmt: skip
    settings = _settings(old, ningbo_week, SCIENCE_DAY)
    everywhere = await service.campaign_summaries(session, None, FIXED_NOW, settings=settings)
    assert [(s.key, s.state) for s in everywhere] == [
        ("science_day", "running"), ("nb_week", "upcoming"), ("st_week", "ended"),
    ]  # fmt: skip
    running = everywhere[0]
    assert running.window == Window(dt.date(2026, 11, 20), TODAY, "range")
    assert (running.shares, running.activities, running.participants) == (1, 1, 45)
    assert everywhere[1].window is None  # upcoming: no figures yet
    hangzhou = await service.campaign_summaries(session, ["3301"], FIXED_NOW, settings=settings)
    assert [s.key for s in hangzhou] == ["science_day", "st_week"]  # Ningbo's is not theirs
    ningbo = await service.campaign_summaries(session, ["3302"], FIXED_NOW, settings=settings)
    assert [s.key for s in ningbo] == ["nb_week", "st_week"]


async def test_activity_is_tagged_only_when_one_campaign_runs_there(
    session: AsyncSession,
) -> None:
    ids = await _world(session)
    one = _settings(SCIENCE_DAY)
    fields: dict[str, object] = {"held_on": "2026-11-21"}
    tagged = await service.tag_activity_fields(
        session=session, settings=one, station_id=ids["west"], fields=fields
    )
    assert tagged == "science_day" and fields["campaign"] == "science_day"
    outside: dict[str, object] = {"held_on": "2026-11-21"}
    assert (
        await service.tag_activity_fields(
            session=session, settings=one, station_id=ids["haishu"], fields=outside
        )
        is None
    )
    assert "campaign" not in outside
    before: dict[str, object] = {"held_on": "2026-11-19"}  # the day before it started
    assert (
        await service.tag_activity_fields(
            session=session, settings=one, station_id=ids["west"], fields=before
        )
        is None
    )
    also = CampaignSettings(
        key="safety_month", name_zh="安全宣传月", start=dt.date(2026, 11, 1),
        end=dt.date(2026, 11, 30),
    )  # fmt: skip
    two: dict[str, object] = {"held_on": "2026-11-21"}
    assert (
        await service.tag_activity_fields(
            session=session,
            settings=_settings(SCIENCE_DAY, also),
            station_id=ids["west"],
            fields=two,
        )  # fmt: skip
        is None
    )  # two campaigns run there: nothing is guessed
    assert "campaign" not in two


def test_dates_in_natural_chinese() -> None:
    cases = {
        "9月15日至21日": (dt.date(2026, 9, 15), dt.date(2026, 9, 21)),
        "11月20日到12月5日": (dt.date(2026, 11, 20), dt.date(2026, 12, 5)),
        "12月28日至1月3日": (dt.date(2026, 12, 28), dt.date(2027, 1, 3)),
        "2027-05-17—2027-05-23": (dt.date(2027, 5, 17), dt.date(2027, 5, 23)),
        "2027年5月17日至5月23日": (dt.date(2027, 5, 17), dt.date(2027, 5, 23)),
        "12月5日": (dt.date(2026, 12, 5), dt.date(2026, 12, 5)),
        "３月１日～３月７日": (dt.date(2027, 3, 1), dt.date(2027, 3, 7)),  # full-width
    }
    for text, expected in cases.items():
        assert service.parse_range(text, today=TODAY) == expected, text
    for text, code in (
        ("下个月吧", "dates_unreadable"),
        ("12月1日至", "dates_unreadable"),
        ("9月15日至32日", "dates_unreadable"),
        ("12月10日至12月1日", "dates_reversed"),
    ):
        with pytest.raises(CampaignError) as refused:
            service.parse_range(text, today=TODAY)
        assert refused.value.code == code, text


def test_config_campaigns_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[[campaigns]]\nkey = "science_day"\nname_zh = "全国科普日"\nstart = 2026-09-15\n'
        'end = 2026-09-21\nregions = ["330100"]\n',
        encoding="utf-8",
    )
    [campaign] = load_settings(path).campaigns
    assert (campaign.start, campaign.end, campaign.regions) == (
        dt.date(2026, 9, 15), dt.date(2026, 9, 21), ["330100"],
    )  # fmt: skip
    for bad in ("end = 2026-09-01\nregions = []\n", 'end = 2026-09-21\nregions = ["3301"]\n'):
        path.write_text(
            '[[campaigns]]\nkey = "science_day"\nname_zh = "全国科普日"\nstart = 2026-09-15\n'
            + bad,
            encoding="utf-8",
        )
        with pytest.raises(ConfigError) as error:
            load_settings(path)
        assert error.value.key.startswith("campaigns.0.")
