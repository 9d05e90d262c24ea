"""Share recording rules and figures against real databases (SQLite, PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.propagation import ShareFigures, propagation_volume
from bot.sandbox.factories import make_region_tree, make_station
from bot.services import share_stats
from bot.services import shares as share_service
from bot.services.shares import ShareError
from storage import links as link_store
from storage.models import IntegrityFlag, ShareEvent
from tests.conftest import FIXED_NOW, make_settings
from tests.shares.helpers import add_informant, add_items, ref

TODAY = dt.date(2026, 11, 23)


async def _world(session: AsyncSession) -> tuple[int, list[int], int, int]:
    await make_region_tree(session)
    station = await make_station(session)
    assert station.id is not None
    items = await add_items(session, 3)
    a = await add_informant(session, station.id, 1001, "王秀英")
    b = await add_informant(session, station.id, 1002, "李建国")
    return station.id, items, a, b


async def _share(session: AsyncSession, settings: Any, **kw: Any) -> Any:
    """Record a share at the fixed test instant (``now``/``today`` may be overridden)."""
    kw.setdefault("now", FIXED_NOW)
    kw.setdefault("today", TODAY)
    return await share_service.record_share(session=session, settings=settings, **kw)


async def test_dedupe_per_target_and_day(session: AsyncSession, db_url: str) -> None:
    settings = make_settings(db_url)
    station, items, a, _ = await _world(session)
    who = ref(a, station)
    kw = dict(
        session=session,
        settings=settings,
        informant=who,
        content_id=items[0],
        channel="telegram_forward",
        audience=40,
        now=FIXED_NOW,
        today=TODAY,
    )
    first = await share_service.record_share(target="-100", **kw)  # type: ignore[arg-type]
    again = await share_service.record_share(target="-100", **kw)  # type: ignore[arg-type]
    other = await share_service.record_share(target="-200", **kw)  # type: ignore[arg-type]
    tomorrow = await share_service.record_share(
        target="-100",
        **{**kw, "today": TODAY + dt.timedelta(days=1)},  # type: ignore[arg-type]
    )
    assert first.recorded and not again.recorded and other.recorded and tomorrow.recorded
    count = len((await session.execute(select(ShareEvent))).scalars().all())
    assert count == 3


async def test_rate_limit(session: AsyncSession, db_url: str) -> None:
    settings = make_settings(db_url, shares={"max_shares_per_hour": 2})
    station, items, a, b = await _world(session)
    for i, cid in enumerate(items[:2]):
        await _share(
            session,
            settings,
            informant=ref(a, station),
            content_id=cid,
            channel="telegram_inline",
            target=f"m{i}",
        )
    with pytest.raises(ShareError) as exc:
        await _share(
            session,
            settings,
            informant=ref(a, station),
            content_id=items[2],
            channel="telegram_inline",
            target="m3",
        )
    assert exc.value.code == "rate_limited"
    # Someone else is not limited, and an hour later the informant may share again.
    await _share(
        session,
        settings,
        informant=ref(b, station),
        content_id=items[2],
        channel="telegram_inline",
        target="m4",
    )
    later = FIXED_NOW + dt.timedelta(hours=1, seconds=1)
    out = await _share(
        session,
        settings,
        informant=ref(a, station),
        content_id=items[2],
        channel="telegram_inline",
        target="m3",
        now=later,
    )
    assert out.recorded


async def test_reported_audience_capped_and_flagged(session: AsyncSession, db_url: str) -> None:
    settings = make_settings(db_url, shares={"max_reported_audience": 500})
    station, items, a, _ = await _world(session)
    out = await _share(
        session,
        settings,
        informant=ref(a, station),
        content_id=items[0],
        channel="wechat_group",
        audience=5000,
    )
    assert out.capped and out.audience == 500
    share = (await session.execute(select(ShareEvent))).scalar_one()
    assert (share.audience, share.audience_reported, share.flagged) == (500, 5000, True)
    flag = (await session.execute(select(IntegrityFlag))).scalar_one()
    assert flag.kind == "audience_capped" and flag.station_id == station
    assert flag.region_code == "330106" and flag.subject_id == share.id
    assert flag.detail["reported"] == 5000
    ok = await _share(
        session,
        settings,
        informant=ref(a, station),
        content_id=items[0],
        channel="qq_group",
        audience=500,
    )
    assert not ok.capped
    assert len((await session.execute(select(IntegrityFlag))).scalars().all()) == 1


async def test_bad_input_refused(session: AsyncSession, db_url: str) -> None:
    settings = make_settings(db_url)
    station, items, a, _ = await _world(session)
    with pytest.raises(ShareError, match="no_content"):
        await _share(
            session,
            settings,
            informant=ref(a, station),
            content_id=99999,
            channel="qq_group",
            audience=5,
        )
    with pytest.raises(ShareError, match="bad_channel"):
        await _share(
            session, settings, informant=ref(a, station), content_id=items[0], channel="fax"
        )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("200", 200),
        ("两百", 200),
        ("约120人", 120),
        ("200人左右", 200),
        ("约 200 人", 200),
        ("-45人", None),
        ("约120", 120),
        ("三十多", 30),
        ("1,200", 1200),
        ("0", None),
        ("-5", None),
        ("abc", None),
        ("", None),
        ("2000000", None),
        ("１５０", 150),
    ],
)
def test_parse_audience(text: str, value: int | None) -> None:
    if value is None:
        with pytest.raises(ShareError):
            share_service.parse_audience(text)
    else:
        assert share_service.parse_audience(text) == value


def test_formula_matches_settings() -> None:
    settings = make_settings(
        "sqlite+aiosqlite:///x.db",
        propagation={
            "w_shares": 2.0,
            "w_telegram_reach": 1.0,
            "w_reported_reach": 0.5,
            "w_visits": 3.0,
        },
    )
    figures = ShareFigures(shares=3, telegram_reach=100, reported_reach=200, visits=7)
    assert propagation_volume(figures, settings.propagation) == 2 * 3 + 100 + 100 + 21


async def test_figures_and_boards(session: AsyncSession, db_url: str) -> None:
    settings = make_settings(db_url)
    station, items, a, b = await _world(session)
    other = await make_station(session, name="滨江站", county="330108")
    pending = await make_station(session, name="未认定站", county="330106", status="submitted")
    assert other.id is not None and pending.id is not None
    c = await add_informant(session, other.id, 1003, "张丽")
    d = await add_informant(session, pending.id, 1004, "刘洋")
    rec = share_service.record_share
    base = dict(session=session, settings=settings, now=FIXED_NOW, today=TODAY)
    await rec(
        informant=ref(a, station),
        content_id=items[0],
        channel="telegram_forward",
        target="-1",
        audience=150,
        **base,
    )  # type: ignore[arg-type]
    await rec(
        informant=ref(a, station),
        content_id=items[0],
        channel="wechat_group",
        audience=200,
        **base,
    )  # type: ignore[arg-type]
    await rec(
        informant=ref(b, station),
        content_id=items[1],
        channel="telegram_inline",
        target="x",
        **base,
    )  # type: ignore[arg-type]
    await rec(
        informant=ref(c, other.id, "330108"),
        content_id=items[1],
        channel="qq_group",
        audience=50,
        **base,
    )  # type: ignore[arg-type]
    await rec(
        informant=ref(d, pending.id), content_id=items[1], channel="qq_group", audience=400, **base
    )  # type: ignore[arg-type]
    # Last month: not in this month's figures.
    await rec(
        informant=ref(b, station),
        content_id=items[2],
        channel="qq_group",
        audience=400,
        **{**base, "today": dt.date(2026, 10, 30)},
    )  # type: ignore[arg-type]
    link = await link_store.get_or_create_link(
        session=session,
        informant_id=a,
        content_id=items[0],
        channel="wechat_group",
        new_code=lambda: "abcdefghi",
        now=FIXED_NOW,
    )
    assert link.id is not None
    for key in ("v1", "v2", "v3"):
        assert await link_store.record_visit(
            session=session, link_id=link.id, day=TODAY, visitor_hash=key, now=FIXED_NOW
        )
    stats = await share_stats.informant_stats(
        session=session, settings=settings, informant_id=a, station_id=station, today=TODAY
    )
    assert stats.figures == ShareFigures(
        shares=2, telegram_reach=150, reported_reach=200, visits=3
    )
    assert stats.volume == 2 + 150 + 100 + 3 and (stats.rank, stats.ranked) == (1, 2)
    board = await share_stats.station_board(
        session=session, settings=settings, station_id=station, period="week", today=TODAY
    )
    assert [(r.key, r.rank, r.name) for r in board.rows] == [(a, 1, "王*英"), (b, 2, "李*国")]
    area = await share_stats.area_board(
        session=session, settings=settings, region_prefix="3301", period="month", today=TODAY
    )
    # Only recognised stations are ranked: the submitted one is left out.
    assert [r.key for r in area.rows] == [station, other.id]
    county = await share_stats.area_board(
        session=session, settings=settings, region_prefix="330108", period="month", today=TODAY
    )
    assert [r.key for r in county.rows] == [other.id]
    assert county.rows[0].figures.reported_reach == 50


def test_period_bounds_and_ranks() -> None:
    assert share_stats.period_bounds(dt.date(2026, 11, 25), "week") == (
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 30),
    )
    assert share_stats.period_bounds(dt.date(2026, 12, 31), "month") == (
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 1),
    )
    settings = make_settings("sqlite+aiosqlite:///x.db")
    rows = share_stats.rank_rows(
        [
            (1, "a", ShareFigures(shares=1)),
            (2, "b", ShareFigures(shares=1)),
            (3, "c", ShareFigures(shares=3)),
        ],
        settings,
    )
    assert [(r.key, r.rank) for r in rows] == [(3, 1), (1, 2), (2, 2)]
    assert share_stats.mask_name("王秀英") == "王*英"
    assert share_stats.mask_name("张丽") == "张*"
    assert share_stats.mask_name(None) == "—"


async def test_set_based_inline_shares_follow_the_same_rules(
    session: AsyncSession, db_url: str
) -> None:
    settings = make_settings(db_url, shares={"max_shares_per_hour": 3})
    station, items, a, b = await _world(session)
    choices = [
        share_service.InlineChoice(1001, f"c{items[0]}", "m1"),
        share_service.InlineChoice(1001, f"c{items[0]}", "m1"),  # redelivered
        share_service.InlineChoice(1001, f"c{items[1]}", "m2"),
        share_service.InlineChoice(1001, f"c{items[2]}", "m3"),
        share_service.InlineChoice(1001, f"c{items[2]}", "m4"),  # over the hourly limit
        share_service.InlineChoice(1002, "c999999", "m5"),  # unknown item
        share_service.InlineChoice(1002, "x1", "m6"),  # untracked result
        share_service.InlineChoice(4242, f"c{items[0]}", "m7"),  # not an informant
        share_service.InlineChoice(1002, f"c{items[0]}", None),
    ]
    n = await share_service.record_inline_shares(
        session=session, settings=settings, choices=choices, now=FIXED_NOW, today=TODAY
    )
    assert n == 4
    again = await share_service.record_inline_shares(
        session=session, settings=settings, choices=choices[:1], now=FIXED_NOW, today=TODAY
    )
    assert again == 0
    rows = (await session.execute(select(ShareEvent.informant_id, ShareEvent.target))).all()
    assert sorted(rows) == sorted([(a, "m1"), (a, "m2"), (a, "m3"), (b, "")])
