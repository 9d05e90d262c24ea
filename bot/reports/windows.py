"""Say which window a figure covers, the way the glossary writes it.

``2026年11月1日—11月30日`` (the year once when both dates share it), ``2026年第48周（11月23日—
11月29日）``. Every sheet, chart and message that shows a figure states its window with these.
"""

from __future__ import annotations

import datetime as dt

from bot.i18n import Translator


def date_text(t: Translator, day: dt.date) -> str:
    """Return a full date, e.g. ``2026年11月30日``."""
    return t.date(day, t("MMM d, y"))


def date_range(t: Translator, start: dt.date, end: dt.date) -> str:
    """Return ``2026年11月1日—11月30日`` (the one wording: ``Translator.span``)."""
    return t.span(start, end)


def week_text(t: Translator, week: str, start: dt.date, end: dt.date) -> str:
    """Return ``2026年第48周（11月23日—11月29日）`` for an ISO week ``2026-W48``."""
    year, number = week.split("-W")
    return t(
        "{year} week {week} ({start} – {end})",
        year=year,
        week=int(number),
        start=t.date(start, t("MMM d")),
        end=t.date(end, t("MMM d")),
    )


def weeks_range(t: Translator, first: str, last: str) -> str:
    """Return the window of a run of ISO weeks, e.g. ``2026年9月7日—11月29日``."""
    y1, w1 = first.split("-W")
    y2, w2 = last.split("-W")
    start = dt.date.fromisocalendar(int(y1), int(w1), 1)
    end = dt.date.fromisocalendar(int(y2), int(w2), 7)
    return date_range(t, start, end)
