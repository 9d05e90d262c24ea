"""What the coordinator's desk shows: a region's week and trend, and its stations.

Every figure is read from the one definition (``storage.figures``): the current week live
with ``station_figures`` and ``region_of`` (the roll-up rule), past weeks from the weekly
tally (which stores the same SELECT). Idle stations: no share, activity or content use on
any of the last ``desk.idle_days`` days (their 最近活跃 is older, or they never were active).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.core.propagation import volume_over
from bot.services.access import level_of, region_prefix
from bot.services.digest import PENDING_STATES
from bot.services.tally import shift_week, week_key
from storage import desk as desk_store
from storage import findings as findings_store
from storage import tally as tally_store
from storage.figures import (
    RegionFigures,
    StationFigures,
    Window,
    region_of,
    station_figures,
)
from storage.models import IntegrityFlag, Region, Station, WeeklyRegionTally

TREND_WEEKS = 12  # the current week and the 11 before it
TOP = 10
IDLE_SHOWN = 10
FINDINGS_SHOWN = 5
CHILD_LEVEL = {"province": "city", "city": "county"}


@dataclass(frozen=True)
class TrendPoint:
    """One week of the trend: its key and window, and the region's sums (None: not tallied)."""

    week: str
    window: Window
    volume: float | None
    shares: int | None
    activities: int | None
    content_uses: int | None


@dataclass(frozen=True)
class ChildFigures:
    """A sub-region (city of a province, county of a city) and its week."""

    region: Region
    figures: RegionFigures


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows for one region."""

    region: Region
    level: str
    window: Window  # the current week (Monday–Sunday), figures so far
    today: dt.date
    this: RegionFigures
    last: TrendPoint | None  # the week before, from the tally
    trend: list[TrendPoint]
    children: list[ChildFigures]
    top: list[StationFigures]
    idle: list[StationFigures]
    idle_count: int
    idle_since: dt.date
    open_findings: list[tuple[IntegrityFlag, Station | None]]
    open_findings_count: int
    pending: dict[str, int]
    content_top: list[tuple[int, str, str | None, int, int]] = field(default_factory=list)


def idle_since(today: dt.date, settings: Settings) -> dt.date:
    """Return the first day a station must have been active on not to count as idle."""
    return today - dt.timedelta(days=settings.desk.idle_days - 1)


def is_idle(station: StationFigures, since: dt.date) -> bool:
    """Tell whether a station was not active on any day from ``since`` on."""
    return station.last_active_on is None or station.last_active_on < since


def _point(week: str, row: WeeklyRegionTally | None) -> TrendPoint:
    window = Window.week_of(dt.date.fromisocalendar(int(week[:4]), int(week[6:]), 1))
    if row is None:
        return TrendPoint(week, window, None, None, None, None)
    return TrendPoint(week, window, row.volume, row.shares_total, row.activities, row.content_uses)


async def dashboard(
    *, session: AsyncSession, region: Region, today: dt.date, settings: Settings
) -> Dashboard:
    """Build the dashboard of ``region`` as of ``today`` (a handful of set-based queries)."""
    level = level_of(region.code)
    prefix = region_prefix(region.code, level)
    window = Window.week_of(today)
    stations = await station_figures(
        session=session,
        window=window,
        volume=volume_over(settings.propagation),
        prefixes=[prefix],
    )
    this = region_of(prefix, stations)
    current = week_key(today)
    weeks = [shift_week(current, -n) for n in range(TREND_WEEKS - 1, 0, -1)]
    rows = await tally_store.region_rows(session=session, region_code=region.code, weeks=weeks)
    past = [_point(w, rows.get(w)) for w in weeks]
    now_point = TrendPoint(
        current, window, this.volume, this.shares, this.activities, this.content_uses
    )
    children: list[ChildFigures] = []
    child_level = CHILD_LEVEL.get(level)
    if child_level is not None:
        for child in await desk_store.child_regions(session=session, parent=region.code):
            children.append(
                ChildFigures(child, region_of(region_prefix(child.code, child_level), stations))
            )
        children.sort(key=lambda c: (-c.figures.volume, c.region.code))
    since = idle_since(today, settings)
    idle = sorted(
        (s for s in stations if is_idle(s, since)),
        key=lambda s: (s.last_active_on or dt.date.min, s.name, s.station_id),
    )
    top = sorted(
        (s for s in stations if s.volume > 0 or s.activities or s.content_uses),
        key=lambda s: (-s.volume, -s.activities, -s.content_uses, s.name, s.station_id),
    )[:TOP]
    findings, findings_count = await findings_store.open_findings(
        session=session, prefixes=[prefix], limit=FINDINGS_SHOWN
    )
    pending = await tally_store.pending_reviews(
        session=session, prefix=prefix, statuses=PENDING_STATES[level]
    )
    content_top = await desk_store.content_use_top(
        session=session, window=window, prefixes=[prefix]
    )
    return Dashboard(
        region=region,
        level=level,
        window=window,
        today=today,
        this=this,
        last=past[-1] if past else None,
        trend=[*past, now_point],
        children=children,
        top=top,
        idle=idle[:IDLE_SHOWN],
        idle_count=len(idle),
        idle_since=since,
        open_findings=findings,
        open_findings_count=findings_count,
        pending=pending,
        content_top=content_top,
    )


async def dashboard_regions(
    *, session: AsyncSession, visible: Sequence[str] | None
) -> list[Region]:
    """Return the regions a viewer may open the dashboard of: their own, or (admins) provinces."""
    if visible is None:
        return await desk_store.child_regions_of_root(session=session)
    found = await desk_store.regions_named(session=session, codes=list(visible))
    return [found[c] for c in visible if c in found]
