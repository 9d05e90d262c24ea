"""Who gets an item: interests, regions and quiet hours (pure rules, no database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from bot.core.regions import region_contains


def wants_category(interests: Sequence[str], categories: Iterable[str]) -> bool:
    """Tell whether an informant's interests cover any of ``categories`` (none = all)."""
    return not interests or any(code in interests for code in categories)


def in_regions(station_region: str | None, regions: Sequence[str]) -> bool:
    """Tell whether a station region lies inside one of ``regions`` (none = everywhere)."""
    if not regions:
        return True
    if not station_region:
        return False
    return any(region_contains(code, station_region) for code in regions)


def quiet_until(
    now: dt.datetime, start: dt.time | None, end: dt.time | None, tz: ZoneInfo | dt.tzinfo
) -> dt.datetime | None:
    """Return when the quiet window around ``now`` ends (UTC), or None when not quiet.

    Times are local wall-clock times in ``tz``; a window may span midnight (22:00-07:00).
    Equal start and end mean no quiet hours.
    """
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    today = local.date()
    if start < end:
        if not start <= clock < end:
            return None
        day = today
    elif clock >= start:
        day = today + dt.timedelta(days=1)
    elif clock < end:
        day = today
    else:
        return None
    return dt.datetime.combine(day, end, tzinfo=tz).astimezone(dt.UTC)
