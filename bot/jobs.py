"""Every scheduled job, defined in one place. Times come from ``[scheduler]`` settings.

Periods name what a run covers: ``2026-11-23`` (a day), ``2026-W47`` (an ISO week),
``2026`` (a year). A weekly job firing on Monday covers the ISO week that just ended.
"""

from __future__ import annotations

import datetime as dt
import re

from apscheduler.triggers.cron import CronTrigger

from bot.config import Settings

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


def daily_at(attr: str) -> object:
    """Return a trigger factory firing every day at ``settings.scheduler.<attr>``."""

    def make(settings: Settings) -> CronTrigger:
        at: dt.time = getattr(settings.scheduler, attr)
        return CronTrigger(hour=at.hour, minute=at.minute, timezone=settings.scheduler.tz)

    return make


def weekly_at(day_attr: str, time_attr: str) -> object:
    """Return a trigger factory firing weekly on the configured day and time."""

    def make(settings: Settings) -> CronTrigger:
        at: dt.time = getattr(settings.scheduler, time_attr)
        return CronTrigger(day_of_week=getattr(settings.scheduler, day_attr), hour=at.hour,
                           minute=at.minute, timezone=settings.scheduler.tz)

    return make


def load_jobs() -> None:
    """Import the feature modules whose jobs are registered (idempotent)."""
