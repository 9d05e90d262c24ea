"""Render the weekly statistics chart as PNG: one panel per trend, then the top stations.

Each trend (propagation volume, shares, activities…) gets its own panel and its own value
axis, stacked over the same weeks: series of very different size never share an axis, so
none is flattened against zero and no two lines lie on top of each other. Counts such as
activities are drawn as bars. The top-stations panel is as tall as its bars; a panel with
nothing to show is left out (the caller's sentence says so instead).

Start-up speed: matplotlib is imported only when a chart is drawn (``_matplotlib``);
tests/reports/test_fonts.py checks that importing the reports loads no heavy library.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import TYPE_CHECKING, Any, Literal

from bot.reports.fonts import display_width, ellipsize, register_with_matplotlib

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

# 1280 px wide (8 in at 160 dpi): readable full-screen on a phone, small for Telegram.
# The height follows the content: a short top list makes a shorter picture, not empty slots.
FIG_WIDTH_IN = 8.0
DPI = 160
HEADER_IN = 0.95
TREND_PANEL_IN = 1.2
TREND_EXTRA_IN = 0.75  # the trend block's title and the week labels under its last panel
BAR_IN = 0.3  # per station
BAR_EXTRA_IN = 0.85  # the top panel's title and value axis
NOTE_IN = 0.45  # a sentence standing for a panel left out
MAX_WEEKS = 12
MAX_STATIONS = 10
# Station names longer than this many columns (CJK = 2) are cut with an ellipsis.
STATION_NAME_COLUMNS = 26
TITLE_PT = 16.0
TITLE_WIDTH_IN = 7.6
PALETTE = ("#1f6fb2", "#e07b39", "#3a9d5d", "#8e5bb5", "#c44e52", "#7f7f7f")
MARKERS = ("o", "s", "^", "D", "v", "P")
BAR_COLOR = "#1f6fb2"
TEXT_COLOR = "#222222"
MUTED_COLOR = "#666666"
GRID_COLOR = "#e3e3e3"

# matplotlib state (rcParams, font caches) is global and not thread-safe; callers may run
# renders in worker threads (asyncio.to_thread), so renders are serialised.
_render_lock = threading.Lock()


@dataclass(frozen=True)
class ChartSeries:
    """One trend: a label, one value per week, drawn as a line or (counts) as bars."""

    label: str
    values: list[float]
    kind: Literal["line", "bar"] = "line"


@dataclass(frozen=True)
class WeeklyChartData:
    """Everything the weekly chart shows, already localised by the caller.

    ``title`` says what the chart is and which window it covers; ``trend_title`` heads the
    trend panels (their window); ``top_title`` heads the bars; ``empty_top_text`` replaces
    the bars when no station has any. ``axis_labels`` keys: ``"x"`` (weeks), ``"bar"``.
    """

    title: str
    subtitle: str
    weeks: list[str]
    series: list[ChartSeries]
    top_stations: list[tuple[str, float]]
    top_title: str
    trend_title: str = ""
    empty_top_text: str = ""
    axis_labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Reject series whose length does not match the weeks."""
        for s in self.series:
            if len(s.values) != len(self.weeks):
                raise ValueError(
                    f"series {s.label!r} has {len(s.values)} values for {len(self.weeks)} weeks"
                )


def format_number(value: float) -> str:
    """Format a number with thousands separators, without decimals when integral."""
    if not math.isfinite(value):
        return ""
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.1f}"


def _matplotlib() -> Any:
    """Return matplotlib, imported when a chart is first drawn.

    The one lazy import of this module: matplotlib adds about half a second to every start
    of the bot and the CLI, and most runs draw no chart.
    """
    import matplotlib.backends.backend_agg
    import matplotlib.figure
    import matplotlib.layout_engine
    import matplotlib.ticker

    return matplotlib


def render_weekly_chart(data: WeeklyChartData) -> bytes:
    """Render the weekly chart to PNG bytes, 1280 px wide."""
    png, _figure = draw_weekly_chart(data)
    return png


def draw_weekly_chart(data: WeeklyChartData) -> tuple[bytes, Figure]:
    """Render the chart and return its PNG bytes and the drawn Figure (for inspection)."""
    mpl = _matplotlib()
    FigureCanvasAgg = mpl.backends.backend_agg.FigureCanvasAgg  # noqa: N806 - a class
    Figure = mpl.figure.Figure  # noqa: N806 - a class
    ConstrainedLayoutEngine = mpl.layout_engine.ConstrainedLayoutEngine  # noqa: N806 - a class
    family = register_with_matplotlib()
    plan = _Plan.of(data)
    with _render_lock, mpl.rc_context(_rc_params(family)):
        # The top band stays free for the title block and the bottom band for the notes,
        # both drawn with fig.text.
        bottom = plan.notes_in / plan.height
        top = 1.0 - HEADER_IN / plan.height
        layout = ConstrainedLayoutEngine(rect=(0.0, bottom, 1.0, top - bottom))
        fig = Figure(figsize=(FIG_WIDTH_IN, plan.height), dpi=DPI, layout=layout)
        FigureCanvasAgg(fig)
        _draw(fig, data, plan)
        buf = BytesIO()
        # No Software/date chunks: same input, same bytes.
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue(), fig


@dataclass(frozen=True)
class _Plan:
    """Which panels the chart has and how tall the picture is."""

    weeks: list[str]
    series: list[ChartSeries]
    stations: list[tuple[str, float]]
    notes: list[str]

    @classmethod
    def of(cls, data: WeeklyChartData) -> _Plan:
        """Keep the last weeks and the best stations; drop what has nothing to show."""
        weeks = data.weeks[-MAX_WEEKS:]
        series = [ChartSeries(s.label, list(s.values[-MAX_WEEKS:]), s.kind) for s in data.series]
        stations = data.top_stations[:MAX_STATIONS]
        notes = [] if stations or not data.empty_top_text else [data.empty_top_text]
        return cls(weeks if series else [], series if weeks else [], stations, notes)

    @property
    def notes_in(self) -> float:
        """Return the height of the bottom band holding the notes, in inches."""
        return NOTE_IN * len(self.notes)

    @property
    def height(self) -> float:
        """Return the figure height in inches."""
        trends = TREND_PANEL_IN * len(self.series) + (TREND_EXTRA_IN if self.series else 0)
        bars = BAR_IN * len(self.stations) + (BAR_EXTRA_IN if self.stations else 0)
        return HEADER_IN + trends + bars + self.notes_in + 0.15


def _rc_params(family: str) -> dict[RcKeyType, Any]:
    """Return the rcParams of the house chart style."""
    return {
        "font.family": [family],
        "font.size": 11,
        "text.color": TEXT_COLOR,
        "axes.labelcolor": MUTED_COLOR,
        "axes.edgecolor": "#bbbbbb",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 12,
        "axes.titleweight": "normal",  # the bundled face is Regular only
        "axes.titlelocation": "left",
        "xtick.color": MUTED_COLOR,
        "ytick.color": MUTED_COLOR,
        "xtick.labelsize": 10,
        "ytick.labelsize": 9.5,
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
    }


def _title_size(title: str) -> float:
    """Return a title font size that fits the width (a CJK character is one em wide)."""
    width = display_width(title) / 2  # in ems
    return min(TITLE_PT, TITLE_WIDTH_IN * 72 / width) if width else TITLE_PT


def _draw(fig: Figure, data: WeeklyChartData, plan: _Plan) -> None:
    """Draw the header, one panel per trend and the top-stations panel onto fig."""
    top = 1.0 - 0.22 / plan.height
    fig.text(0.02, top, data.title, fontsize=_title_size(data.title), va="top", ha="left")
    if data.subtitle:
        fig.text(
            0.02,
            top - 0.42 / plan.height,
            data.subtitle,
            fontsize=10.5,
            color=MUTED_COLOR,
            va="top",
        )
    ratios = [TREND_PANEL_IN] * len(plan.series)
    if plan.stations:
        ratios.append(BAR_IN * len(plan.stations) + BAR_EXTRA_IN * 0.4)
    if plan.notes:
        _draw_notes(fig, plan.notes, plan.notes_in / plan.height)
    if not ratios:
        return
    axes = fig.subplots(len(ratios), 1, height_ratios=ratios, squeeze=False)[:, 0]
    trend_axes = list(axes[: len(plan.series)])
    for i, (ax, s) in enumerate(zip(trend_axes, plan.series, strict=True)):
        _draw_trend(ax, plan.weeks, s, i)
    if trend_axes:
        _finish_trend_block(trend_axes, plan.weeks, data.trend_title, data.axis_labels)
    if plan.stations:
        _draw_top(axes[-1], plan.stations, data.top_title, data.axis_labels)


def _draw_notes(fig: Figure, notes: list[str], y: float) -> None:
    """Write the sentences that stand for panels left out, from y (a figure fraction) down."""
    step = NOTE_IN / fig.get_figheight()
    for i, note in enumerate(notes):
        fig.text(0.02, y - (i + 0.3) * step, note, fontsize=12, va="top")


def _style_value_axis(ax: Axes, values: Sequence[float], axis: str = "y") -> None:
    """Give a value axis a zero baseline, a few round ticks and thousands separators."""
    ticker = _matplotlib().ticker
    FuncFormatter, MaxNLocator = ticker.FuncFormatter, ticker.MaxNLocator  # noqa: N806

    finite = [v for v in values if math.isfinite(v)]
    integral = all(abs(v - round(v)) < 1e-9 for v in finite)
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(nbins=4, integer=integral, min_n_ticks=2))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: format_number(v)))
    low = min(finite, default=0.0)
    high = max(finite, default=0.0)
    bottom = min(0.0, low * 1.1)
    top = high * 1.25 if high > 0 else 1.0  # room for the value label; all-zero: 0–1
    if axis == "y":
        ax.set_ylim(bottom, top)
    else:
        ax.set_xlim(bottom, top)


def _draw_trend(ax: Axes, weeks: list[str], series: ChartSeries, index: int) -> None:
    """Draw one series over the weeks on its own value axis, its latest value labelled."""
    x = list(range(len(weeks)))
    color = PALETTE[index % len(PALETTE)]
    latest = series.values[-1] if series.values else 0.0
    ax.set_label(f"trend:{series.label}")
    if series.kind == "bar":
        ax.bar(x, series.values, color=color, width=0.6, label=series.label)
    else:
        ax.plot(
            x,
            series.values,
            color=color,
            linewidth=2.0,
            marker=MARKERS[index % len(MARKERS)],
            markersize=4.5,
            label=series.label,
        )
    ax.annotate(
        format_number(latest),
        (x[-1], latest),
        xytext=(0, 6),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=9.5,
        color=color,
    )
    ax.set_title(series.label, fontsize=11, color=color, pad=3)
    _style_value_axis(ax, series.values)
    ax.grid(axis="y", color=GRID_COLOR, linewidth=0.8)
    ax.set_axisbelow(True)


def _finish_trend_block(
    axes: list[Axes], weeks: list[str], title: str, labels: dict[str, str]
) -> None:
    """Share the weeks axis: ticks on every panel, week labels under the last one only."""
    x = list(range(len(weeks)))
    for ax in axes:
        ax.set_xlim(-0.5, max(len(weeks) - 1, 0) + 0.5)  # one week still gets a width
        ax.set_xticks(x, weeks if ax is axes[-1] else [""] * len(weeks))
        ax.tick_params(axis="x", length=2 if ax is not axes[-1] else 3.5)
    axes[-1].set_xlabel(labels.get("x", ""))
    if title:
        # The block title sits above the first panel's own title, in the page colour.
        axes[0].set_title(title, loc="right", fontsize=10.5, color=MUTED_COLOR, pad=3)


def _draw_top(
    ax: Axes, stations: list[tuple[str, float]], title: str, labels: dict[str, str]
) -> None:
    """Draw a horizontal bar per station, best at the top, values at the bar ends."""
    ax.set_label("top")
    ax.set_title(title, pad=6)
    names = [ellipsize(name, STATION_NAME_COLUMNS) for name, _ in stations]
    values = [float(v) for _, v in stations]
    y = list(range(len(stations)))
    bars = ax.barh(y, values, color=BAR_COLOR, height=0.65)
    ax.set_yticks(y, names)
    ax.set_ylim(len(stations) - 0.5, -0.5)  # as many slots as bars, best at the top
    ax.tick_params(axis="y", length=0)
    ax.bar_label(
        bars, labels=[format_number(v) for v in values], padding=4, fontsize=9.5, color=TEXT_COLOR
    )
    _style_value_axis(ax, values, axis="x")
    ax.grid(axis="x", color=GRID_COLOR, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel(labels.get("bar", ""))


# --- the desk's inline trend chart (SVG) ---------------------------------------------------
# The Mini App (docs/desk.md) shows trends as inline SVG: one small panel per series over
# the same weeks, text kept as text (the phone's own CJK font draws it, the file stays
# small). Same input, same SVG: renders are cached, since a page is opened again and again.
SVG_WIDTH_IN = 4.8
SVG_PANEL_IN = 1.05
SVG_CACHE_MAX = 256
_svg_cache: dict[tuple[Any, ...], str] = {}


def warm_up() -> None:
    """Import matplotlib and register the CJK font now (a server's start, in a thread)."""
    _matplotlib()
    register_with_matplotlib()


def render_trend_svg(weeks: Sequence[str], series: Sequence[ChartSeries], title: str = "") -> str:
    """Return an SVG element (text) with one panel per series over ``weeks``."""
    key = (tuple(weeks), tuple((s.label, tuple(s.values), s.kind) for s in series), title)
    hit = _svg_cache.get(key)
    if hit is not None:
        return hit
    for s in series:
        if len(s.values) != len(weeks):
            raise ValueError(f"series {s.label!r} has {len(s.values)} values for {len(weeks)}")
    mpl = _matplotlib()
    FigureCanvasAgg = mpl.backends.backend_agg.FigureCanvasAgg  # noqa: N806 - a class
    Figure = mpl.figure.Figure  # noqa: N806 - a class
    family = register_with_matplotlib()
    params = {**_rc_params(family), "svg.fonttype": "none", "svg.hashsalt": "kepubot"}
    height = 0.35 + SVG_PANEL_IN * max(len(series), 1) + 0.3
    with _render_lock, mpl.rc_context(params):
        fig = Figure(figsize=(SVG_WIDTH_IN, height), layout="constrained")
        FigureCanvasAgg(fig)
        if series and weeks:
            axes = fig.subplots(len(series), 1, squeeze=False)[:, 0]
            for i, (ax, s) in enumerate(zip(axes, series, strict=True)):
                _draw_trend(ax, list(weeks), s, i)
            _finish_trend_block(list(axes), list(weeks), title, {})
        buf = BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue().decode()
    svg = text[text.index("<svg") :]  # no XML prolog or DOCTYPE inside HTML
    if len(_svg_cache) >= SVG_CACHE_MAX:
        _svg_cache.clear()
    _svg_cache[key] = svg
    return svg
