"""The weekly chart renders Chinese text with real glyphs, at phone size, for odd data too."""

from __future__ import annotations

import io
import logging
import warnings

import pytest
from PIL import Image

from bot.reports.chart import ChartSeries, WeeklyChartData, format_number, render_weekly_chart

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
            ChartSeries(samples.SERIES_LABELS[2], [float(i % 4) for i in range(12)]),
        ],
        top_stations=[(name, 150000.0 / (i + 1)) for i, name in enumerate(samples.STATIONS)],
        top_title=samples.TOP_TITLE,
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
        assert image.size == (1280, 960)
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
