"""How a figure's window is said in messages (docs/figures.md, the glossary's format).

``window_text`` is the one wording: 本周（2026年11月23日—11月29日）, 本月（…）,
2026年全年（1月1日—12月31日）, or 2026年（1月1日—11月30日） for a year not over yet.
"""

from __future__ import annotations

import datetime as dt

from bot.i18n import N_, Translator
from storage.figures import Window

WINDOW_WEEK = N_("this week ({span})")
WINDOW_MONTH = N_("this month ({span})")
WINDOW_YEAR = N_("{year} whole year ({span})")
WINDOW_YEAR_SO_FAR = N_("{year} so far ({span})")
WINDOW_RANGE = N_("{span}")


def window_text(t: Translator, window: Window, today: dt.date | None = None) -> str:
    """Return the window as a reader sees it, in ``t``'s language."""
    if window.kind == "year":
        span = t.span(window.start, window.end, year=False)
        template = WINDOW_YEAR if window.complete else WINDOW_YEAR_SO_FAR
        return t(template, year=window.start.year, span=span)
    span = t.span(window.start, window.end)
    current = today is None or window.contains(today)
    if window.kind == "week" and current:
        return t(WINDOW_WEEK, span=span)
    if window.kind == "month" and current:
        return t(WINDOW_MONTH, span=span)
    return t(WINDOW_RANGE, span=span)


def year_window(year: int, start: dt.date | None, end: dt.date | None) -> Window:
    """Return a run's year window (its stored start/end, or the whole calendar year)."""
    whole = Window.year(year)
    return Window(start or whole.start, end or whole.end, "year")
