"""What the coordinator's desk shows: a region's week and trend, and its stations.

Every figure is read from the one definition (``storage.figures``): the current week live
with ``station_figures`` and ``region_of`` (the roll-up rule), past weeks from the weekly
tally (which stores the same SELECT). Idle stations: no share, activity or content use on
any of the last ``desk.idle_days`` days (their 最近活跃 is older, or they never were active).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.core.propagation import volume_over
from bot.services.access import LEVEL_PREFIX, level_of, region_prefix
from bot.services.digest import PENDING_STATES
from bot.services.tally import shift_week, week_key
from storage import desk as desk_store
from storage import findings as findings_store
from storage import tally as tally_store
from storage.figures import (
    COUNTED_STATES,
    RegionFigures,
    StationFigures,
    Window,
    region_of,
    station_figures,
)
from storage.models import IntegrityFlag, Region, Station, WeeklyRegionTally

log = logging.getLogger(__name__)

LIVE_CACHE_MAX = 64
STALE_FACTOR = 10  # a stale live week is still answered (while refreshed) this many TTLs
REFRESH_TASKS = "refresh_tasks"
monotonic = time.monotonic  # the cache's clock (a test replaces it)
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
    computed_at: dt.datetime | None = None  # when the week's figures were computed


# --- the live week, computed once a minute per region ---------------------------------------


@dataclass(frozen=True)
class LiveWeek:
    """Every station's figures (any status) in a window, and when they were computed."""

    window: Window
    stations: list[StationFigures]
    computed_at: dt.datetime

    def counted(self) -> list[StationFigures]:
        """Return the counted stations' figures (tallies, boards and region sums use them)."""
        return [s for s in self.stations if s.status in COUNTED_STATES]


async def _compute_week(
    session: AsyncSession, settings: Settings, window: Window, prefixes: Sequence[str] | None
) -> list[StationFigures]:
    return await station_figures(
        session=session,
        window=window,
        volume=volume_over(settings.propagation),
        states=None,
        prefixes=list(prefixes) if prefixes is not None else None,
    )


async def live_week(
    *,
    session: AsyncSession,
    settings: Settings,
    window: Window,
    prefixes: Sequence[str] | None,
    now: dt.datetime,
    cache: dict[Any, Any] | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> LiveWeek:
    """Return the stations' figures of ``window`` in the regions (None: everywhere).

    With a ``cache`` (a dict kept by the caller), a result is reused for
    ``desk.live_cache_seconds``: one computation serves every page of the region meanwhile,
    and each page says when its figures were computed. Once older than that, and given
    ``sessions`` and ``clock``, the last result is still answered (for up to STALE_FACTOR
    times as long) while one background task computes the next: only the first view of a
    region waits for the computation.
    """
    weights = settings.propagation
    key = (
        tuple(prefixes) if prefixes is not None else None,
        window,
        (weights.w_shares, weights.w_telegram_reach, weights.w_reported_reach, weights.w_visits),
    )
    ttl = settings.desk.live_cache_seconds
    tick = monotonic()
    if cache is not None and ttl > 0:
        hit = cache.get(key)
        if hit is not None and hit[0] > tick:
            found: LiveWeek = hit[1]
            return found
        if (
            hit is not None
            and sessions is not None
            and clock is not None
            and hit[0] + ttl * STALE_FACTOR > tick
        ):
            if not hit[2]:
                cache[key] = (hit[0], hit[1], True)  # one refresh at a time
                tasks: set[asyncio.Task[None]] = cache.setdefault(REFRESH_TASKS, set())
                task = asyncio.create_task(
                    _refresh(cache, key, sessions, clock, settings, window, prefixes)
                )
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            stale: LiveWeek = hit[1]
            return stale
    stations = await _compute_week(session, settings, window, prefixes)
    result = LiveWeek(window=window, stations=stations, computed_at=now)
    if cache is not None and ttl > 0:
        _store(cache, key, (monotonic() + ttl, result, False))
    return result


def _store(cache: dict[Any, Any], key: Any, entry: tuple[float, LiveWeek, bool]) -> None:
    if len(cache) >= LIVE_CACHE_MAX:
        tasks = cache.get(REFRESH_TASKS)
        cache.clear()
        if tasks is not None:
            cache[REFRESH_TASKS] = tasks
    cache[key] = entry


async def _refresh(
    cache: dict[Any, Any],
    key: Any,
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], dt.datetime],
    settings: Settings,
    window: Window,
    prefixes: Sequence[str] | None,
) -> None:
    """Compute a region's live week again in the background and store it."""
    try:
        async with sessions() as session:
            stations = await _compute_week(session, settings, window, prefixes)
    except Exception:
        log.exception("desk: could not refresh the live week")
        cache.pop(key, None)  # the next request computes it itself
        return
    result = LiveWeek(window=window, stations=stations, computed_at=clock())
    _store(cache, key, (monotonic() + settings.desk.live_cache_seconds, result, False))


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
    *,
    session: AsyncSession,
    region: Region,
    today: dt.date,
    now: dt.datetime,
    settings: Settings,
    cache: dict[Any, Any] | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> Dashboard:
    """Build the dashboard of ``region`` as of ``today`` (a handful of set-based queries)."""
    level = level_of(region.code)
    prefix = region_prefix(region.code, level)
    window = Window.week_of(today)
    live = await live_week(
        session=session,
        settings=settings,
        window=window,
        prefixes=[prefix],
        now=now,
        cache=cache,
        sessions=sessions,
        clock=clock,
    )
    current = week_key(today)
    weeks = [shift_week(current, -n) for n in range(TREND_WEEKS - 1, 0, -1)]
    rows = await tally_store.region_rows(session=session, region_code=region.code, weeks=weeks)
    past = [_point(w, rows.get(w)) for w in weeks]
    child_level = CHILD_LEVEL.get(level)
    child_rows = (
        await desk_store.child_regions(session=session, parent=region.code)
        if child_level is not None
        else []
    )
    since = idle_since(today, settings)
    # The sums and lists derived from one live week are kept with it (same week, same sums).
    derived_key = ("derived", id(live), region.code, since)
    derived = cache.get(derived_key) if cache is not None else None
    if derived is None or derived[0] is not live:
        derived = (live, *_derive(live, prefix, child_level, child_rows, since))
        if cache is not None:
            if len(cache) >= LIVE_CACHE_MAX:
                cache.clear()
            cache[derived_key] = derived
    _live, this, children, top, idle = derived
    now_point = TrendPoint(
        current, window, this.volume, this.shares, this.activities, this.content_uses
    )
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
        computed_at=live.computed_at,
    )


def _derive(
    live: LiveWeek,
    prefix: str,
    child_level: str | None,
    child_rows: Sequence[Region],
    since: dt.date,
) -> tuple[RegionFigures, list[ChildFigures], list[StationFigures], list[StationFigures]]:
    """Return the region's sums, its sub-regions' sums, its top and its idle stations."""
    stations = live.counted()
    this = region_of(prefix, stations)
    children: list[ChildFigures] = []
    if child_level is not None:
        cut = LEVEL_PREFIX[child_level]
        groups: dict[str, list[StationFigures]] = {}
        for s in stations:
            groups.setdefault(s.region_code[:cut], []).append(s)
        for child in child_rows:
            child_prefix = region_prefix(child.code, child_level)
            # region_of keeps the stations under the prefix; handing it the pre-grouped ones
            # gives the same sums without scanning every station once per sub-region.
            inside = [
                s for key, group in groups.items() if key.startswith(child_prefix) for s in group
            ]
            children.append(ChildFigures(child, region_of(child_prefix, inside)))
        children.sort(key=lambda c: (-c.figures.volume, c.region.code))
    idle = sorted(
        (s for s in stations if is_idle(s, since)),
        key=lambda s: (s.last_active_on or dt.date.min, s.name, s.station_id),
    )
    top = sorted(
        (s for s in stations if s.volume > 0 or s.activities or s.content_uses),
        key=lambda s: (-s.volume, -s.activities, -s.content_uses, s.name, s.station_id),
    )[:TOP]
    return this, children, top, idle


async def dashboard_regions(
    *, session: AsyncSession, visible: Sequence[str] | None
) -> list[Region]:
    """Return the regions a viewer may open the dashboard of: their own, or (admins) provinces."""
    if visible is None:
        return await desk_store.child_regions_of_root(session=session)
    found = await desk_store.regions_named(session=session, codes=list(visible))
    return [found[c] for c in visible if c in found]


# --- the stations list -----------------------------------------------------------------------


@dataclass(frozen=True)
class ListedStation:
    """One line of the stations list: the station, its marks and its week's figures."""

    entry: desk_store.StationEntry
    figures: StationFigures | None
    informants: int = 0

    @property
    def last_active_on(self) -> dt.date | None:
        """Return the station's last active day (None: never)."""
        return self.figures.last_active_on if self.figures else None

    @property
    def volume(self) -> float:
        """Return the week's propagation volume."""
        return self.figures.volume if self.figures else 0.0


@dataclass(frozen=True)
class StationFilter:
    """What the list is asked for."""

    search: str = ""
    status: str = ""
    region: str = ""  # a code prefix
    idle: bool = False
    flagged: bool = False
    order: str = "name"  # name | volume | last_active


async def station_list(
    *,
    session: AsyncSession,
    settings: Settings,
    today: dt.date,
    now: dt.datetime,
    prefixes: Sequence[str] | None,
    station_ids: Sequence[int] | None,
    wanted: StationFilter,
    offset: int,
    limit: int,
    cache: dict[Any, Any] | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> tuple[list[ListedStation], int, LiveWeek]:
    """Return one page of the stations in scope that match ``wanted``, and how many match.

    The scope's station rows are cached like the live week (``cache``); any desk action
    clears the cache, so a decision taken on the desk shows at once.
    """
    key = (
        "entries",
        tuple(prefixes) if prefixes is not None else None,
        tuple(station_ids) if station_ids is not None else None,
    )
    ttl = settings.desk.live_cache_seconds
    tick = monotonic()
    hit = cache.get(key) if cache is not None and ttl > 0 else None
    if hit is not None and hit[0] > tick:
        entries: list[desk_store.StationEntry] = hit[1]
    else:
        entries = await desk_store.stations_in_scope(
            session=session, prefixes=prefixes, station_ids=station_ids
        )
        if cache is not None and ttl > 0:
            if len(cache) >= LIVE_CACHE_MAX:
                cache.clear()
            cache[key] = (tick + ttl, entries, False)
    live = await live_week(
        session=session,
        settings=settings,
        window=Window.week_of(today),
        prefixes=prefixes,
        now=now,
        cache=cache,
        sessions=sessions,
        clock=clock,
    )
    figures = {f.station_id: f for f in live.stations}
    since = idle_since(today, settings)
    needle = wanted.search.strip().casefold()
    rows = []
    for entry in entries:
        if needle and needle not in entry.name.casefold() and needle != str(entry.station_id):
            continue
        if wanted.status and entry.status != wanted.status:
            continue
        if wanted.region and not entry.region_code.startswith(wanted.region):
            continue
        if wanted.flagged and not entry.open_findings:
            continue
        row = ListedStation(entry, figures.get(entry.station_id))
        if wanted.idle and row.last_active_on is not None and row.last_active_on >= since:
            continue
        rows.append(row)
    if wanted.order == "volume":
        rows.sort(key=lambda r: -r.volume)  # stable: by name within equal volumes
    elif wanted.order == "last_active":
        rows.sort(key=lambda r: (r.last_active_on is not None, r.last_active_on or dt.date.min))
    page = rows[offset : offset + limit]
    counts = await desk_store.informant_counts(
        session=session, station_ids=[r.entry.station_id for r in page]
    )
    page = [ListedStation(r.entry, r.figures, counts.get(r.entry.station_id, 0)) for r in page]
    return page, len(rows), live
