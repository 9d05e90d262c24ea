"""The weekly digest of one region: figures, change, top stations, silent ones, reviews, flags.

``build_digest`` reads the tally (plain values out); ``bot/reports/digest.py`` turns
them into the message text, the chart PNG and the XLSX, in the reader's language.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.services.access import level_of, region_prefix
from bot.services.finding_text import KIND_NAMES as FINDING_KINDS
from bot.services.tally import TallyError, shift_week, week_bounds
from storage import figures
from storage import findings as findings_store
from storage import tally as tally_store
from storage.figures import Window
from storage.models import WeeklyRegionTally, WeeklyStationTally
from storage.tally import FIGURES

TREND_WEEKS = 12
TOP_STATIONS = 10
# Which applications wait for a coordinator of each level: county review, city re-verification.
PENDING_STATES = {
    "county": ("submitted",),
    "city": ("county_approved",),
    "province": ("submitted", "county_approved"),
}
# Every stored kind of finding; the digest lists all that were raised in the week.
FLAG_KINDS: tuple[str, ...] = tuple(FINDING_KINDS)


class DigestError(TallyError):
    """A refused digest request (``code``: bad_week, week_not_over, unknown_region, …)."""


@dataclass(frozen=True)
class Figures:
    """A region's sums for one week (zeros when nothing was counted)."""

    values: dict[str, float]
    stations_counted: int = 0
    stations_silent: int = 0

    def __getitem__(self, name: str) -> float:
        return self.values.get(name, 0)

    @classmethod
    def of(cls, row: WeeklyRegionTally | None) -> Figures:
        """Return the figures of a region row, or zeros."""
        if row is None:
            return cls(values={})
        values: dict[str, float] = {name: getattr(row, name) for name in FIGURES}
        values["volume"] = row.volume
        return cls(
            values=values,
            stations_counted=row.stations_counted,
            stations_silent=row.stations_silent,
        )


@dataclass(frozen=True)
class StationLine:
    """One station's row of the week."""

    station_id: int
    name: str
    county: str
    values: dict[str, Any]
    silent: bool

    @property
    def volume(self) -> float:
        """Return the propagation volume."""
        return float(self.values["volume"])


@dataclass(frozen=True)
class FlagLine:
    """An integrity flag raised this week."""

    kind: str
    station: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class ChildLine:
    """A sub-region's sums (counties of a city, cities of a province)."""

    code: str
    name: str
    figures: Figures


@dataclass(frozen=True)
class DigestData:
    """Everything a digest shows, as plain values."""

    region_code: str
    region_name: str
    level: str
    week: str
    start: dt.date
    end: dt.date
    timezone: str  # the zone its days are local dates of (scheduler.timezone)
    this: Figures
    last: Figures
    trend_weeks: list[str]
    trend: dict[str, list[float]]
    stations: list[StationLine]
    pending: dict[str, int]
    flags: list[FlagLine]
    children: list[ChildLine] = field(default_factory=list)
    open_findings: int = 0  # integrity findings in the region awaiting review (any week)
    # The week's channel posts in the region and their subscribers (channels_1): a figure
    # of its own, shown on its own line, never part of the informants' figures above.
    channel_reach: figures.ChannelReach | None = None

    @property
    def window(self) -> Window:
        """Return the week's window (docs/figures.md), for the text and the sheets."""
        return Window(self.start, self.end, "week")

    @property
    def top(self) -> list[StationLine]:
        """Return the best stations by volume (only those with any volume)."""
        return [s for s in self.stations if s.volume > 0][:TOP_STATIONS]

    @property
    def silent(self) -> list[StationLine]:
        """Return the stations with nothing this week."""
        return [s for s in self.stations if s.silent]

    @property
    def flag_counts(self) -> dict[str, int]:
        """Return how many flags of each kind were raised."""
        return dict(Counter(flag.kind for flag in self.flags))


async def build_digest(
    *, session: AsyncSession, region_code: str, week: str, settings: Settings
) -> DigestData:
    """Read the digest of ``region_code`` for ``week`` from the tally."""
    bounds = week_bounds(week, settings.scheduler.tz)
    names = await tally_store.region_names(session=session, codes=[region_code])
    if region_code not in names:
        raise DigestError("unknown_region", region=region_code)
    level = level_of(region_code)
    prefix = region_prefix(region_code, level)
    weeks = [shift_week(week, -n) for n in range(TREND_WEEKS - 1, -1, -1)]
    rows = await tally_store.region_rows(session=session, region_code=region_code, weeks=weeks)
    trend = {
        name: [float(getattr(rows[w], name)) if w in rows else 0.0 for w in weeks]
        for name in ("volume", "shares_total", "activities")
    }
    station_rows = await tally_store.station_rows(
        session=session, region_code=region_code, level=level, week=week
    )
    counties = await tally_store.region_names(
        session=session,
        codes=sorted({row.county_code for row, _, _ in station_rows if row.county_code}),
    )
    stations = [
        StationLine(
            station_id=row.station_id,
            name=name,
            county=counties.get(row.county_code or "", row.county_code or ""),
            values=_values(row),
            silent=bool(row.silent),
        )
        for row, name, _ in station_rows
    ]
    pending = await tally_store.pending_reviews(
        session=session, prefix=prefix, statuses=PENDING_STATES[level]
    )
    flags = [
        FlagLine(kind=flag.kind, station=station, detail=dict(flag.detail or {}))
        for flag, station in await tally_store.flags_in(
            session=session, prefix=prefix, start_ts=bounds.start_ts, end_ts=bounds.end_ts
        )
    ]
    children: list[ChildLine] = []
    child_level = {"province": "city", "city": "county"}.get(level)
    if child_level is not None:
        child_rows = await tally_store.child_region_rows(
            session=session, prefix=prefix, level=child_level, week=week
        )
        child_names = await tally_store.region_names(
            session=session, codes=[r.region_code for r in child_rows]
        )
        children = [
            ChildLine(
                code=r.region_code,
                name=child_names.get(r.region_code, r.region_code),
                figures=Figures.of(r),
            )
            for r in child_rows
        ]
    return DigestData(
        region_code=region_code,
        region_name=names[region_code],
        level=level,
        week=week,
        start=bounds.start,
        end=bounds.end,
        timezone=settings.scheduler.timezone,
        this=Figures.of(rows.get(week)),
        last=Figures.of(rows.get(shift_week(week, -1))),
        trend_weeks=weeks,
        trend=trend,
        stations=stations,
        pending=pending,
        flags=flags,
        children=children,
        open_findings=await findings_store.count_open(session=session, prefixes=[prefix]),
        channel_reach=await figures.channel_reach(
            session=session,
            window=Window(bounds.start, bounds.end, "week"),
            tz=settings.scheduler.tz,
            prefixes=[prefix],
        ),
    )


def _values(row: WeeklyStationTally) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(row, name) for name in FIGURES}
    values["volume"] = row.volume
    return values


def change(now: float, before: float) -> tuple[str, float | None]:
    """Return the direction (up, down, same, none) and the relative change from last week."""
    if before == 0:
        return ("none", None) if now == 0 else ("new", None)
    ratio = (now - before) / before
    if abs(ratio) < 0.0005:
        return "same", 0.0
    return ("up" if ratio > 0 else "down"), ratio
