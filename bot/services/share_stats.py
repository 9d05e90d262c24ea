"""Share figures: an informant's own stats (/me) and leaderboards (/top).

Every figure comes from ``storage.figures`` (docs/figures.md): an informant's figure is
their figure at their station (shares recorded on it, visits to their links), a station's
is its shares and its informants' visits; the volume is the one formula of
``bot.core.propagation``.  Only recognised stations are ranked on area
boards; a station's informants are ranked among themselves whatever its status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.core.propagation import ShareFigures, propagation_volume, volume_over
from bot.i18n import N_
from bot.services.informants import ProfileStat, ProfileStatsProvider
from storage import figures
from storage import shares as share_store
from storage.figures import InformantFigures, StationFigures, Window
from storage.models import Informant

PERIODS: tuple[str, ...] = ("week", "month")
BOARD_SIZE = 10


@dataclass(frozen=True)
class Ranked:
    """One row of a leaderboard."""

    key: int
    name: str
    figures: ShareFigures
    volume: float
    rank: int


@dataclass(frozen=True)
class Board:
    """A leaderboard over a period."""

    kind: str  # station (its informants) | area (recognised stations of a region)
    period: str
    start: dt.date
    end: dt.date  # exclusive
    rows: list[Ranked]

    @property
    def window(self) -> Window:
        """Return the board's window (closed range of days)."""
        return Window(self.start, self.end - dt.timedelta(days=1), self.period)

    def row_of(self, key: int) -> Ranked | None:
        """Return the row of ``key``, if present."""
        return next((row for row in self.rows if row.key == key), None)


@dataclass(frozen=True)
class InformantStats:
    """An informant's figures this month and rank in the station."""

    figures: ShareFigures
    volume: float
    rank: int
    ranked: int
    window: Window | None = None


def period_bounds(today: dt.date, period: str) -> tuple[dt.date, dt.date]:
    """Return [start, end) of the ISO week or calendar month containing ``today``."""
    if period == "week":
        start = today - dt.timedelta(days=today.weekday())
        return start, start + dt.timedelta(days=7)
    if period == "month":
        start = today.replace(day=1)
        return start, (start + dt.timedelta(days=32)).replace(day=1)
    raise ValueError(f"unknown period {period!r}")


def window_of(today: dt.date, period: str) -> Window:
    """Return the calendar window (week Mon–Sun or month) containing ``today``."""
    start, end = period_bounds(today, period)
    return Window(start, end - dt.timedelta(days=1), period)


def rank_rows(
    entries: Sequence[tuple[int, str, ShareFigures] | tuple[int, str, ShareFigures, float]],
    settings: Settings,
) -> list[Ranked]:
    """Rank by volume, then shares (ties share a rank: 1, 1, 3).

    An entry may carry its volume (from ``storage.figures``); otherwise it is computed
    with the same formula.
    """
    scored: list[tuple[int, str, ShareFigures, float]] = []
    for entry in entries:
        key, name, figures_ = entry[0], entry[1], entry[2]
        given = entry[3] if len(entry) > 3 else None  # type: ignore[misc]
        volume = propagation_volume(figures_, settings.propagation) if given is None else given
        scored.append((key, name, figures_, float(volume)))
    scored.sort(key=lambda e: (-e[3], -e[2].shares, e[0]))
    rows: list[Ranked] = []
    for position, (key, name, row_figures, volume) in enumerate(scored, start=1):
        same = rows and rows[-1].volume == volume and rows[-1].figures.shares == row_figures.shares
        rank = rows[-1].rank if same else position
        rows.append(Ranked(key=key, name=name, figures=row_figures, volume=volume, rank=rank))
    return rows


def _figures(found: InformantFigures | StationFigures | None) -> ShareFigures:
    if found is None:
        return ShareFigures()
    return ShareFigures(
        shares=found.shares,
        telegram_reach=found.telegram_reach,
        reported_reach=found.reported_reach,
        visits=found.visits,
    )


def mask_name(name: str | None) -> str:
    """Return a name with its middle hidden (王*英, 李*), as boards are seen by others."""
    if not name:
        return "—"
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


async def station_board(
    *,
    session: AsyncSession,
    settings: Settings,
    station_id: int,
    period: str,
    today: dt.date,
) -> Board:
    """Rank a station's active informants over the period (figures at the station)."""
    window = window_of(today, period)
    people = await share_store.station_informants(session=session, station_id=station_id)
    found = await figures.informant_figures(
        session=session,
        window=window,
        volume=volume_over(settings.propagation),
        station_id=station_id,
    )
    entries = []
    for i, name in people:
        f = found.get(i)
        entries.append((i, mask_name(name), _figures(f), f.volume if f else 0.0))
    end = window.end + dt.timedelta(days=1)
    return Board("station", period, window.start, end, rank_rows(entries, settings))


async def area_board(
    *,
    session: AsyncSession,
    settings: Settings,
    region_prefix: str,
    period: str,
    today: dt.date,
) -> Board:
    """Rank the recognised stations of a region over the period."""
    window = window_of(today, period)
    stations = await share_store.recognised_stations(session=session, region_prefix=region_prefix)
    found = {
        f.station_id: f
        for f in await figures.station_figures(
            session=session,
            window=window,
            volume=volume_over(settings.propagation),
            states=("recognised",),
            station_ids=[i for i, _ in stations],
        )
    }
    entries = []
    for i, name in stations:
        f = found.get(i)
        entries.append((i, name, _figures(f), f.volume if f else 0.0))
    end = window.end + dt.timedelta(days=1)
    return Board("area", period, window.start, end, rank_rows(entries, settings))


async def informant_stats(
    *,
    session: AsyncSession,
    settings: Settings,
    informant_id: int,
    station_id: int,
    today: dt.date,
) -> InformantStats:
    """Return an informant's figures this month and their rank in the station."""
    board = await station_board(
        session=session, settings=settings, station_id=station_id, period="month", today=today
    )
    window = window_of(today, "month")
    row = board.row_of(informant_id)
    if row is None:  # removed from the roster since: figures of their own only
        found = await figures.informant_figures(
            session=session,
            window=window,
            volume=volume_over(settings.propagation),
            informant_ids=[informant_id],
        )
        f = found.get(informant_id)
        return InformantStats(_figures(f), f.volume if f else 0.0, 0, len(board.rows), window)
    return InformantStats(row.figures, row.volume, row.rank, len(board.rows), window)


# /me lines (message ids with placeholders; the informants feature renders them).
STAT_WINDOW = N_("📅 This month ({year}-{month}-1 – {month}-{last})")
STAT_SHARES = N_("📤 Shares this month: {shares}")
STAT_REACH = N_("👥 Reach: {reach} (Telegram {telegram}, reported {reported})")
STAT_VISITS = N_("🔗 Visits to your links: {visits}")
STAT_VOLUME = N_("📈 Propagation volume: {volume}")
STAT_RANK = N_("🏅 Rank in your station this month: {rank} of {total}")
STAT_UNRANKED = N_("🏅 Not ranked in a station this month")


def profile_provider(settings: Settings) -> ProfileStatsProvider:
    """Return the /me figures of the share feature (shares, reach, visits, volume, rank)."""
    zone = ZoneInfo(settings.scheduler.timezone)

    async def share_profile_stats(
        *, session: AsyncSession, informant_id: int, now: dt.datetime
    ) -> list[ProfileStat]:
        informant = await session.get(Informant, informant_id)
        if informant is None:
            return []
        stats = await informant_stats(
            session=session,
            settings=settings,
            informant_id=informant_id,
            station_id=informant.station_id,
            today=now.astimezone(zone).date(),
        )
        fig = stats.figures
        window = stats.window or window_of(now.astimezone(zone).date(), "month")
        lines = [
            ProfileStat(
                STAT_WINDOW,
                {"year": window.start.year, "month": window.start.month, "last": window.end.day},
            ),
            ProfileStat(STAT_SHARES, {"shares": fig.shares}),
            ProfileStat(
                STAT_REACH,
                {
                    "reach": fig.telegram_reach + fig.reported_reach,
                    "telegram": fig.telegram_reach,
                    "reported": fig.reported_reach,
                },
            ),
            ProfileStat(STAT_VISITS, {"visits": fig.visits}),
            ProfileStat(STAT_VOLUME, {"volume": _plain(stats.volume)}),
        ]
        if stats.rank:
            lines.append(ProfileStat(STAT_RANK, {"rank": stats.rank, "total": stats.ranked}))
        else:
            lines.append(ProfileStat(STAT_UNRANKED))
        return lines

    return share_profile_stats


def _plain(volume: float) -> str:
    """Return a volume without a useless ``.0``."""
    return str(int(volume)) if float(volume).is_integer() else f"{volume:.1f}"
