"""Windows of figures and how messages say them (docs/figures.md, the glossary's format)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import get_translator
from bot.services.figures import window_text
from storage.figures import Window, weeks_within


def test_windows_are_said_the_glossary_way() -> None:
    t = get_translator("zh_CN")
    week = Window.week_of(dt.date(2026, 11, 25))
    assert window_text(t, week, dt.date(2026, 11, 25)) == "本周（2026年11月23日—11月29日）"
    month = Window.month_of(dt.date(2026, 11, 5))
    assert window_text(t, month, dt.date(2026, 11, 5)) == "本月（2026年11月1日—11月30日）"
    assert window_text(t, Window.year(2026)) == "2026年全年（1月1日—12月31日）"
    so_far = Window.year(2026).until(dt.date(2026, 11, 30))
    assert window_text(t, so_far) == "2026年（1月1日—11月30日）"
    # a past week is not "this week"; across a new year both dates keep their year
    across = Window.week_of(dt.date(2026, 12, 30))
    assert window_text(t, across, dt.date(2027, 2, 1)) == "2026年12月28日—2027年1月3日"
    assert "Nov" in window_text(get_translator("en"), week, dt.date(2026, 11, 25))


@given(st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)))
def test_calendar_windows_contain_their_day_and_tile_the_year(day: dt.date) -> None:
    for window in (Window.week_of(day), Window.month_of(day), Window.year(day.year)):
        assert window.contains(day) and window.complete
    assert Window.week_of(day).start.weekday() == 0
    weeks = weeks_within(Window.year(day.year))
    assert weeks[0].start == dt.date(day.year, 1, 1) and weeks[-1].end == dt.date(day.year, 12, 31)
    assert (
        sum((w.end - w.start).days + 1 for w in weeks)
        == (dt.date(day.year, 12, 31) - dt.date(day.year, 1, 1)).days + 1
    )
