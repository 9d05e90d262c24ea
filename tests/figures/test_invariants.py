"""Invariants of the figures over randomly generated small worlds, on SQLite and PostgreSQL.

* a region's figure is the sum of its stations' (the tally's SQL roll-up included);
* a station's year is at least any of its weeks, and the sum of its weeks cut to the year;
* an informant's figure is at most their station's for the same window;
* the same subject and window give the same number in every output (tally rows,
  evaluation scores, /me and /top, the integrity report);
* ranks follow scores, and "among the best N %" is true.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.core.propagation import volume_over
from bot.sandbox import factories as f
from bot.services import evaluation as ev
from bot.services import integrity, share_stats
from bot.services import tally as tally_service
from storage import figures
from storage import tally as tally_store
from storage.db import create_engine, session_factory
from storage.figures import VolumeSql, Window, region_of, top_percent, weeks_within
from storage.models import ShareEvent
from tests.conftest import _reset_postgres, make_settings, postgres_url

YEAR = 2026
FIRST = dt.date(2025, 12, 22)  # some days fall outside the year on both sides
SPAN = (dt.date(2027, 1, 10) - FIRST).days
COUNTIES = ("330106", "330108", "330203")  # two counties of 杭州市, one of 宁波市
NOW = dt.datetime(2027, 1, 12, 2, 0, tzinfo=dt.UTC)
ADDITIVE = (
    "shares",
    "telegram_reach",
    "reported_reach",
    "visits",
    "activities",
    "participants",
    "content_uses",
    "content_use_audience",
)


@dataclass(frozen=True)
class StationSpec:
    county: int
    status: str
    recognised: int | None  # day offset of recognition, None = long before


@dataclass(frozen=True)
class World:
    stations: list[StationSpec]
    informants: list[int]  # station index of each informant
    # informant, station it was recorded on if not theirs, day, channel, audience
    shares: list[tuple[int, int | None, int, str, int]]
    visits: list[tuple[int, int]]  # informant, day
    # station, day, participants, flagged, deleted
    activities: list[tuple[int, int, int, bool, bool]]
    uses: list[tuple[int, int, int]]  # station, day, audience


def _day(offset: int) -> dt.date:
    return FIRST + dt.timedelta(days=offset)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    days = st.integers(0, SPAN)
    stations = draw(
        st.lists(
            st.builds(
                StationSpec,
                st.integers(0, len(COUNTIES) - 1),
                st.sampled_from(["recognised", "recognised", "rectifying", "submitted"]),
                st.none() | days,
            ),
            min_size=1,
            max_size=4,
        )
    )
    n = len(stations)
    informants = draw(st.lists(st.integers(0, n - 1), min_size=0, max_size=5))
    k = len(informants)
    shares = (
        draw(
            st.lists(
                st.tuples(
                    st.integers(0, k - 1),
                    st.none() | st.integers(0, n - 1),  # recorded on another station (moved)
                    days,
                    st.sampled_from(ShareEvent.CHANNELS),
                    st.integers(0, 300),
                ),
                max_size=12,
            )
        )
        if k
        else []
    )
    visits = draw(st.lists(st.tuples(st.integers(0, k - 1), days), max_size=8)) if k else []
    activities = draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1), days, st.integers(0, 80), st.booleans(), st.booleans()
            ),
            max_size=5,
        )
    )
    uses = draw(st.lists(st.tuples(st.integers(0, n - 1), days, st.integers(0, 60)), max_size=5))
    return World(stations, informants, shares, visits, activities, uses)


@dataclass
class Built:
    stations: list[int]
    informants: list[int]
    days: set[dt.date]


async def _build(session: AsyncSession, world: World) -> Built:
    await f.make_region_tree(session, COUNTIES)
    content = await f.make_content(session)
    station_ids = []
    for i, spec in enumerate(world.stations):
        recognised = (
            dt.datetime.combine(_day(spec.recognised), dt.time(2), dt.UTC)
            if spec.recognised is not None
            else dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
        )
        station = await f.make_station(
            session,
            name=f"站{i}",
            county=COUNTIES[spec.county],
            status=spec.status,
            recognised_at=recognised if spec.status != "submitted" else None,
        )
        assert station.id is not None
        station_ids.append(station.id)
    informant_ids = []
    for j, s in enumerate(world.informants):
        informant = await f.make_informant(
            session,
            station_id=station_ids[s],
            telegram_id=9000 + j,
            real_name=f"信息员{j}",
            joined_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        )
        assert informant.id is not None
        informant_ids.append(informant.id)
    days: set[dt.date] = set()
    for n, (i, other, day, channel, audience) in enumerate(world.shares):
        station = station_ids[other] if other is not None else station_ids[world.informants[i]]
        await f.make_share(
            session,
            informant_id=informant_ids[i],
            station_id=station,
            content_id=content.id,
            day=_day(day),
            channel=channel,
            audience=audience,
            dedupe_key=f"s{n}",
        )
        days.add(_day(day))
    links: dict[int, int] = {}
    for n, (i, day) in enumerate(world.visits):
        if i not in links:
            link = await f.make_link(session, informant_id=informant_ids[i], content_id=content.id)
            assert link.id is not None
            links[i] = link.id
        await f.make_visit(session, link_id=links[i], day=_day(day), visitor_hash=f"v{n}")
        days.add(_day(day))
    for s, day, participants, flagged, deleted in world.activities:
        await f.make_activity(
            session,
            station_id=station_ids[s],
            held_on=_day(day),
            participants=participants,
            flagged=flagged,
            deleted_at=NOW if deleted else None,
        )
        days.add(_day(day))
    for s, day, audience in world.uses:
        await f.make_content_use(
            session,
            station_id=station_ids[s],
            content_id=content.id,
            used_on=_day(day),
            audience=audience,
        )
        days.add(_day(day))
    return Built(station_ids, informant_ids, days)


def _parts(fig: object) -> dict[str, int]:
    return {name: getattr(fig, name) for name in ADDITIVE}


def _formula(fig: object, config: Settings) -> float:
    w = config.propagation
    value = (
        w.w_shares * fig.shares  # type: ignore[attr-defined]
        + w.w_telegram_reach * fig.telegram_reach  # type: ignore[attr-defined]
        + w.w_reported_reach * fig.reported_reach  # type: ignore[attr-defined]
        + w.w_visits * fig.visits  # type: ignore[attr-defined]
    )
    return round(value, 1)


async def _check(url: str, world: World) -> None:
    config = make_settings(url)
    volume = volume_over(config.propagation)
    tz = config.scheduler.tz
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            try:
                built = await _build(session, world)
                await _check_world(session, config, volume, tz, built)
            finally:
                await session.rollback()
    finally:
        await engine.dispose()


async def _check_world(
    session: AsyncSession, config: Settings, volume: VolumeSql, tz: dt.tzinfo, built: Built
) -> None:
    year = Window.year(YEAR)
    year_figs = {
        s.station_id: s
        for s in await figures.station_figures(session=session, window=year, volume=volume)
    }
    for s in year_figs.values():
        assert s.volume == _formula(s, config)  # the one formula of bot.core.propagation
    # Weeks holding an event, cut to the year (the other weeks are empty by construction).
    weeks = [w for w in weeks_within(year) if any(w.contains(d) for d in built.days)]
    sums = {sid: dict.fromkeys(ADDITIVE, 0) for sid in year_figs}
    for week in weeks:
        week_figs = await figures.station_figures(session=session, window=week, volume=volume)
        for s in week_figs:
            y = year_figs[s.station_id]
            # a station's year is at least any of its weeks
            assert y.volume >= s.volume
            for name in ADDITIVE:
                assert getattr(y, name) >= getattr(s, name), name
                sums[s.station_id][name] += getattr(s, name)
    for sid, y in year_figs.items():
        # … and equals the sum of its weeks when the windows align
        assert _parts(y) == sums[sid]

    # A region's figure is the sum of its stations': the tally's SQL roll-up agrees.
    for week in {Window.week_of(d) for d in built.days if d.year == YEAR}:
        key = f"{week.start.isocalendar().year}-W{week.start.isocalendar().week:02d}"
        await tally_service.tally_week(session=session, week=key, settings=config, now=NOW)
        week_figs = await figures.station_figures(session=session, window=week, volume=volume)
        rows = {
            r.station_id: r
            for r, _name, _code in await tally_store.station_rows(
                session=session, region_code="330000", level="province", week=key
            )
        }
        assert set(rows) == {s.station_id for s in week_figs}
        for s in week_figs:
            row = rows[s.station_id]
            # the same subject and window: the tally row is the figure
            assert (row.shares_total, row.reach_telegram, row.reach_reported, row.visits) == (
                s.shares,
                s.telegram_reach,
                s.reported_reach,
                s.visits,
            )
            assert (row.activities, row.participants, row.content_uses) == (
                s.activities,
                s.participants,
                s.content_uses,
            )
            assert row.content_use_audience == s.content_use_audience
            assert row.volume == s.volume
        for prefix, level in (("330106", "county"), ("3301", "city"), ("33", "province")):
            code = prefix.ljust(6, "0")
            region = region_of(prefix, week_figs)
            stored = await tally_store.region_rows(session=session, region_code=code, weeks=[key])
            if region.stations == 0:
                assert key not in stored
                continue
            r = stored[key]
            assert r.level == level
            assert (r.shares_total, r.visits, r.activities, r.content_uses) == (
                region.shares,
                region.visits,
                region.activities,
                region.content_uses,
            )
            inside = [s.volume for s in week_figs if s.region_code.startswith(prefix)]
            assert r.volume == region.volume == round(sum(inside), 1)

    # An informant's figure is at most their station's (and all of them together too).
    for window in [year, *weeks]:
        stations = {
            s.station_id: s
            for s in await figures.station_figures(
                session=session, window=window, volume=volume, states=None
            )
        }
        people = await figures.informant_figures(session=session, window=window, volume=volume)
        together: dict[int, dict[str, float]] = {}
        for p in people.values():
            s = stations[p.station_id]
            assert p.volume <= s.volume
            mine = (p.shares, p.telegram_reach, p.reported_reach, p.visits)
            theirs = (s.shares, s.telegram_reach, s.reported_reach, s.visits)
            assert all(a <= b for a, b in zip(mine, theirs, strict=True))
            acc = together.setdefault(p.station_id, {"shares": 0, "visits": 0, "volume": 0.0})
            acc["shares"] += p.shares
            acc["visits"] += p.visits
            acc["volume"] += p.volume
        for sid, acc in together.items():
            assert acc["shares"] <= stations[sid].shares
            assert acc["visits"] <= stations[sid].visits
            assert round(acc["volume"], 1) <= stations[sid].volume

    # The evaluation's scores are the year's figures; ranks follow scores; "top N %" is true.
    result = await ev.run_evaluation(
        session=session,
        evaluation=config.evaluation,
        propagation=config.propagation,
        tz=tz,
        year=YEAR,
        region_code=None,
        as_of=dt.date(YEAR, 12, 31),
        now=NOW,
    )
    for score in result.scores:
        y = year_figs[score.station_id]
        assert score.counted_from == year.start
        assert (score.figures.volume, score.figures.shares, score.figures.activities) == (
            y.volume,
            y.shares,
            y.activities,
        )
        assert score.figures.last_active_on == y.last_active_on
    by_city: dict[str, list[ev.StationScore]] = {}
    for score in result.scores:
        by_city.setdefault(score.city, []).append(score)
    for items in by_city.values():
        for a in items:
            for b in items:
                if a.score > b.score:
                    assert a.rank_city < b.rank_city
                elif a.score == b.score:
                    assert a.rank_city == b.rank_city
    scored = {s.station_id: s for s in result.scores}
    for proposal in result.proposals:
        if proposal.kind == "commend":
            s = scored[proposal.station_id]
            assert 100 * s.rank_city <= proposal.detail["share"] * s.city_count

    # The integrity report shows the same last active day as the scores (得分与排名 = 诚信报告).
    report = await integrity.integrity_report(
        session=session,
        evaluation=config.evaluation,
        propagation=config.propagation,
        tz=tz,
        region_code="",
        start=year.start,
        end=year.end,
    )
    for paper in report.paper:
        assert paper.last_active_on == scored[paper.station_id].figures.last_active_on

    # /me and /top: the same figures for the same window.
    for today in sorted(built.days)[:3]:
        month = Window.month_of(today)
        area = await share_stats.area_board(
            session=session, settings=config, region_prefix="33", period="month", today=today
        )
        month_figs = {
            s.station_id: s
            for s in await figures.station_figures(
                session=session, window=month, volume=volume, states=("recognised",)
            )
        }
        assert area.window == month
        for row in area.rows:
            assert (row.volume, row.figures.shares, row.figures.visits) == (
                month_figs[row.key].volume,
                month_figs[row.key].shares,
                month_figs[row.key].visits,
            )
        people = await figures.informant_figures(session=session, window=month, volume=volume)
        for sid in built.stations:
            board = await share_stats.station_board(
                session=session, settings=config, station_id=sid, period="month", today=today
            )
            for row in board.rows:
                assert row.volume == people[row.key].volume
                assert row.figures.shares == people[row.key].shares
            ranks = [r.rank for r in board.rows]
            assert ranks == sorted(ranks)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database; every example runs in a transaction rolled back after."""
    if request.param == "postgres":
        return asyncio.run(_reset_postgres(postgres_url()))
    path = tmp_path / "figures.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_figures_agree_everywhere(backend_url: str, world: World) -> None:
    asyncio.run(_check(backend_url, world))


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))))
def test_top_percent_is_true_and_tight(pair: tuple[int, int]) -> None:
    rank, count = pair
    n = top_percent(rank, count)
    assert 100 * rank <= n * count  # rank/count ≤ N %
    assert 100 * rank > (n - 1) * count  # and N is the smallest such whole number
    assert 1 <= n <= 100


def test_rank_2_of_14_is_not_the_best_10_percent() -> None:
    assert top_percent(2, 14) == 15
    assert top_percent(1, 14) == 8
    assert top_percent(1, 10) == 10
