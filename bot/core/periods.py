"""Periods a scheduled run covers: ``2026-11-23`` (a day), ``2026-W47`` (an ISO week),
``2026`` (a year). A weekly job firing on Monday covers the ISO week that just ended.
"""

from __future__ import annotations

import datetime as dt
import re

DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


def day_period(fired: dt.datetime) -> str:
    """Return the local date of a firing."""
    return fired.date().isoformat()


def previous_week_period(fired: dt.datetime) -> str:
    """Return the ISO week that ended before a firing (e.g. Monday → last week)."""
    year, week, _ = (fired.date() - dt.timedelta(days=7)).isocalendar()
    return f"{year}-W{week:02d}"


def previous_year_period(fired: dt.datetime) -> str:
    """Return the year before a firing."""
    return str(fired.year - 1)


def parse_week(period: str) -> tuple[dt.date, dt.date]:
    """Return the Monday and Sunday of an ISO week like ``2026-W48``."""
    match = WEEK_RE.match(period)
    if not match:
        raise ValueError(f"not an ISO week: {period!r} (expected e.g. 2026-W48)")
    monday = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    return monday, monday + dt.timedelta(days=6)


def is_week(period: str) -> bool:
    """Tell whether ``period`` is a valid ISO week."""
    try:
        parse_week(period)
    except ValueError:
        return False
    return True


def is_day(period: str) -> bool:
    """Tell whether ``period`` is a valid date."""
    if not DAY_RE.match(period):
        return False
    try:
        dt.date.fromisoformat(period)
    except ValueError:
        return False
    return True


def is_year(period: str) -> bool:
    """Tell whether ``period`` is a year such as ``2026``."""
    return len(period) == 4 and period.isdigit() and period >= "2000"
