"""The weekly chart renders Chinese text with real glyphs, at phone size, for odd data too;
each trend has its own panel and axis, and no panel is empty."""

from __future__ import annotations

import io
import logging
import warnings

import pytest
from matplotlib.axes import Axes
from PIL import Image

from bot.reports.chart import (
    ChartSeries,
    WeeklyChartData,
    draw_weekly_chart,
    format_number,
    render_weekly_chart,
)

from . import samples

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _weeks(n: int) -> list[str]:
    return [f"2026-W{40 + i}" for i in range(n)]


def _full_data() -> WeeklyChartData:
    weeks = _weeks(12)
    return WeeklyChartData(
        title=samples.CHART_TITLE,
        subtitle=samples.CHART_SUBTITLE,
        weeks=weeks,
        series=[
            ChartSeries(samples.SERIES_LABELS[0], [5000.0 + 1234 * i for i in range(12)]),
            ChartSeries(samples.SERIES_LABELS[1], [30.0 + 3 * i for i in range(12)]),
            ChartSeries(samples.SERIES_LABELS[2], [float(2 + i % 5) for i in range(12)], "bar"),
        ],
        top_stations=[(name, 150000.0 / (i + 1)) for i, name in enumerate(samples.STATIONS)],
        top_title=samples.TOP_TITLE,
        trend_title="近 12 周（2026年9月28日—12月20日）",
        empty_top_text="本周没有站点产生传播量。",
        axis_labels=samples.AXIS_LABELS,
    )


def _render_quietly(data: WeeklyChartData, caplog: pytest.LogCaptureFixture) -> bytes:
    """Render and fail on any warning or logged message (e.g. a missing glyph)."""
    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_weekly_chart(data)
    # A ResourceWarning is the garbage collector finishing some earlier test's object while
    # the chart renders (e.g. an unclosed aiosqlite connection): not about the chart.
    drawn = [w for w in caught if not issubclass(w.category, ResourceWarning)]
    messages = [str(w.message) for w in drawn] + [r.getMessage() for r in caplog.records]
    assert messages == []
    return png


def _assert_png(png: bytes) -> None:
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        image.verify()
    with Image.open(io.BytesIO(png)) as image:
        assert image.width == 1280 and 200 < image.height <= 1600
        # Not a blank canvas: the chart has dark ink (text, lines).
        darkest, _ = image.convert("L").getextrema()
        assert isinstance(darkest, int) and darkest < 80


def test_full_chart_renders_chinese_without_missing_glyphs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    png = _render_quietly(_full_data(), caplog)
    _assert_png(png)


def test_the_warning_check_catches_a_missing_glyph() -> None:
    data = WeeklyChartData(
        title="科普\ue000",
        subtitle="",
        weeks=_weeks(1),
        series=[],
        top_stations=[],
        top_title="",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render_weekly_chart(data)
    assert any("missing from font" in str(w.message) for w in caught)


def test_same_input_gives_identical_bytes() -> None:
    data = _full_data()
    png = render_weekly_chart(data)
    assert render_weekly_chart(data) == png
    assert b"tIME" not in png and b"Software" not in png


@pytest.mark.parametrize(
    "data",
    [
        WeeklyChartData(
            title=samples.CHART_TITLE,
            subtitle="",
            weeks=_weeks(12),
            series=[ChartSeries(label, [0.0] * 12) for label in samples.SERIES_LABELS],
            top_stations=[(name, 0.0) for name in samples.STATIONS[:3]],
            top_title=samples.TOP_TITLE,
        ),
        WeeklyChartData(
            title=samples.CHART_TITLE,
            subtitle=samples.CHART_SUBTITLE,
            weeks=_weeks(1),
            series=[ChartSeries(samples.SERIES_LABELS[0], [42.0])],
            top_stations=[],
            top_title=samples.TOP_TITLE,
            axis_labels=samples.AXIS_LABELS,
        ),
        WeeklyChartData(
            title=samples.CHART_TITLE,
            subtitle="",
            weeks=[],
            series=[],
            top_stations=[(samples.LONG_STATION * 2, 1234567.5)],
            top_title=samples.TOP_TITLE,
        ),
    ],
    ids=["all-zero", "one-week-empty-top", "no-weeks-very-long-name"],
)
def test_edge_cases_render(data: WeeklyChartData, caplog: pytest.LogCaptureFixture) -> None:
    _assert_png(_render_quietly(data, caplog))


def test_series_must_match_the_weeks() -> None:
    with pytest.raises(ValueError, match="2 values for 3 weeks"):
        WeeklyChartData(
            title="",
            subtitle="",
            weeks=_weeks(3),
            series=[ChartSeries("传播量", [1, 2])],
            top_stations=[],
            top_title="",
        )


def test_numbers_get_thousands_separators() -> None:
    assert format_number(1234567) == "1,234,567"
    assert format_number(98765.5) == "98,765.5"
    assert format_number(0) == "0"
    assert format_number(float("nan")) == ""


def _structure(data: WeeklyChartData) -> dict[str, Axes]:
    """Return the drawn axes by label: ``trend:<series>`` and ``top``."""
    _png, fig = draw_weekly_chart(data)
    return {str(ax.get_label()): ax for ax in fig.axes}


def test_each_trend_has_its_own_panel_and_axis() -> None:
    data = _full_data()
    _png, fig = draw_weekly_chart(data)
    labels = [ax.get_label() for ax in fig.axes]
    assert labels == [f"trend:{s.label}" for s in data.series] + ["top"]
    # No twin axes: every value axis belongs to one series.
    assert len({id(ax) for ax in fig.axes}) == len(fig.axes) == 4
    for ax, series in zip(fig.axes, data.series, strict=False):
        low, high = ax.get_ylim()
        peak = max(series.values)
        # The axis fits its series: nothing clipped, and the series fills over half of it
        # (activities of 2–6 are no longer a flat line on a 0–100,000 axis).
        assert low <= min(series.values) and peak <= high
        assert peak >= 0.5 * high, (series.label, peak, high)


def test_series_are_drawn_distinctly() -> None:
    axes = _structure(_full_data())
    volume, shares, activities = (axes[f"trend:{label}"] for label in samples.SERIES_LABELS)
    assert volume.lines and shares.lines
    v_line, s_line = volume.lines[0], shares.lines[0]
    assert v_line.get_color() != s_line.get_color()
    assert v_line.get_marker() != s_line.get_marker()
    assert not activities.lines and len(activities.patches) == 12


def test_no_axes_without_artists_and_no_empty_slots() -> None:
    data = _full_data()
    short = WeeklyChartData(**{**data.__dict__, "top_stations": data.top_stations[:4]})
    _png, fig = draw_weekly_chart(short)
    for ax in fig.axes:
        assert ax.lines or ax.patches, ax.get_label()
    top = next(ax for ax in fig.axes if ax.get_label() == "top")
    assert len(top.patches) == 4
    assert sorted(top.get_ylim()) == [-0.5, 3.5]  # four slots for four bars
    # A shorter list makes a shorter picture rather than blank space.
    assert fig.get_figheight() < draw_weekly_chart(data)[1].get_figheight()


def test_a_panel_with_nothing_to_show_is_left_out() -> None:
    data = WeeklyChartData(**{**_full_data().__dict__, "top_stations": []})
    _png, fig = draw_weekly_chart(data)
    assert [ax.get_label() for ax in fig.axes] == [f"trend:{s.label}" for s in data.series]
    assert data.empty_top_text in [t.get_text() for t in fig.texts]
    nothing = WeeklyChartData(**{**data.__dict__, "weeks": [], "series": []})
    assert draw_weekly_chart(nothing)[1].axes == []


def test_the_title_states_the_window() -> None:
    data = _full_data()
    _png, fig = draw_weekly_chart(data)
    texts = [t.get_text() for t in fig.texts]
    assert texts[0] == samples.CHART_TITLE and "2026年" in texts[0]
    first = fig.axes[0]
    assert first.get_title(loc="right") == data.trend_title
