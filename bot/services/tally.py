"""The weekly tally: per counted station per ISO week, rolled up county → city → province.

Counted stations are those in ``COUNTED_STATES``: recognised, and recognised stations under
a rectification order (rectifying does not withdraw recognition, and coordinators need to
see whether such a station improves). Days are local dates in the configured zone
(``scheduler.timezone``). Definitions of every figure: docs/tally-and-digest.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.core.errors import DomainError
from bot.core.periods import parse_week
from bot.core.propagation import volume_over
from storage import tally as tally_store
from storage.tally import WeekBounds

COUNTED_STATES = ("recognised", "rectifying")
TALLY_JOB = "weekly_tally"


class TallyError(DomainError, area="tally"):
    """A refused tally request, with a ``code`` the caller maps to localised text."""


@dataclass(frozen=True)
class TallyResult:
    """What one recomputation wrote."""

    week: str
    stations: int
    regions: int


def week_key(day: dt.date) -> str:
    """Return the ISO week of a date, e.g. ``2026-W48``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def shift_week(week: str, weeks: int) -> str:
    """Return the week ``weeks`` later (negative: earlier)."""
    monday, _ = parse_week(week)
    return week_key(monday + dt.timedelta(weeks=weeks))


def last_full_week(today: dt.date) -> str:
    """Return the latest ISO week that has ended before ``today``."""
    return week_key(today - dt.timedelta(days=today.isoweekday()))


def week_bounds(week: str, tz: ZoneInfo) -> WeekBounds:
    """Return the local days of an ISO week and the UTC instants they span."""
    try:
        start, end = parse_week(week)
    except ValueError as exc:
        raise TallyError("bad_week", week=week) from exc
    start_ts = dt.datetime.combine(start, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    end_ts = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return WeekBounds(
        week=week, start=start, end=end, start_ts=start_ts, end_ts=end_ts.astimezone(dt.UTC)
    )


async def tally_week(
    *, session: AsyncSession, week: str, settings: Settings, now: dt.datetime
) -> TallyResult:
    """Recompute one week's station and region rows (idempotent; the caller commits)."""
    bounds = week_bounds(week, settings.scheduler.tz)
    stations, regions = await tally_store.recompute_week(
        session=session,
        bounds=bounds,
        volume=volume_over(settings.propagation),
        counted_states=COUNTED_STATES,
        now=now,
    )
    return TallyResult(week=week, stations=stations, regions=regions)


def check_finished(week: str, today: dt.date) -> None:
    """Refuse a week that is not over yet (its figures would be partial)."""
    try:
        _, end = parse_week(week)
    except ValueError as exc:
        raise TallyError("bad_week", week=week) from exc
    if end >= today:
        raise TallyError("week_not_over", week=week)
