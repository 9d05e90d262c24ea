"""Render the weekly statistics chart (trend lines plus a top-stations bar chart) as PNG.

Start-up speed: matplotlib is imported only when a chart is drawn (``_matplotlib``);
tests/reports/test_fonts.py checks that importing the reports loads no heavy library.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import TYPE_CHECKING, Any

from bot.reports.fonts import display_width, ellipsize, register_with_matplotlib

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

# Output is 1280x960 px: wide enough to read full-screen on a phone, small for Telegram.
FIG_SIZE_IN = (8.0, 6.0)
DPI = 160
MAX_WEEKS = 12
MAX_STATIONS = 10
# Station names longer than this many columns (CJK = 2) are cut with an ellipsis.
STATION_NAME_COLUMNS = 26
# A series whose peak is below primary peak / this ratio moves to a right-hand axis,
# otherwise it would be a flat line at the bottom of the plot.
SECONDARY_AXIS_RATIO = 10.0
# All-wide (CJK) axis labels up to this length are written top to bottom.
VERTICAL_LABEL_MAX = 6
PALETTE = ("#1f6fb2", "#e07b39", "#3a9d5d", "#8e5bb5", "#c44e52", "#7f7f7f")
BAR_COLOR = "#1f6fb2"
TEXT_COLOR = "#222222"
MUTED_COLOR = "#666666"
GRID_COLOR = "#e3e3e3"

# matplotlib state (rcParams, font caches) is global and not thread-safe; callers may run
# renders in worker threads (asyncio.to_thread), so renders are serialised.
_render_lock = threading.Lock()


@dataclass(frozen=True)
class ChartSeries:
    """One trend line: a label and one value per week."""

    label: str
    values: list[float]


@dataclass(frozen=True)
class WeeklyChartData:
    """Everything the weekly chart shows, already localised by the caller.

    ``axis_labels`` keys: ``"x"`` (weeks axis), ``"y"`` (left trend axis), ``"y2"``
    (right trend axis, used only when series differ in scale), ``"bar"`` (bar value axis).
    """

    title: str
    subtitle: str
    weeks: list[str]
    series: list[ChartSeries]
    top_stations: list[tuple[str, float]]
    top_title: str
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
    """Render the weekly chart to PNG bytes (1280x960)."""
    mpl = _matplotlib()
    FigureCanvasAgg = mpl.backends.backend_agg.FigureCanvasAgg  # noqa: N806 - a class
    Figure = mpl.figure.Figure  # noqa: N806 - a class
    ConstrainedLayoutEngine = mpl.layout_engine.ConstrainedLayoutEngine  # noqa: N806 - a class
    family = register_with_matplotlib()
    with _render_lock, mpl.rc_context(_rc_params(family)):
        # The top band stays free for the title block, drawn with fig.text.
        layout = ConstrainedLayoutEngine(rect=(0.0, 0.0, 1.0, 0.87))
        fig = Figure(figsize=FIG_SIZE_IN, dpi=DPI, layout=layout)
        FigureCanvasAgg(fig)
        _draw(fig, data)
        buf = BytesIO()
        # No Software/date chunks: same input, same bytes.
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


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
        "axes.titlesize": 13,
        "axes.titleweight": "normal",  # the bundled face is Regular only
        "axes.titlelocation": "left",
        "xtick.color": MUTED_COLOR,
        "ytick.color": MUTED_COLOR,
        "xtick.labelsize": 10,
        "ytick.labelsize": 10,
        "legend.fontsize": 10.5,
        "legend.frameon": False,
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
    }


def _draw(fig: Figure, data: WeeklyChartData) -> None:
    """Draw the header, the trend panel and the top-stations panel onto fig."""
    fig.text(0.02, 0.965, data.title, fontsize=18, va="top", ha="left")
    if data.subtitle:
        fig.text(0.02, 0.905, data.subtitle, fontsize=11, color=MUTED_COLOR, va="top")
    trend_ax, bar_ax = fig.subplots(2, 1, height_ratios=(1.1, 1.0))
    weeks = data.weeks[-MAX_WEEKS:]
    series = [ChartSeries(s.label, list(s.values[-MAX_WEEKS:])) for s in data.series]
    _draw_trend(trend_ax, weeks, series, data.axis_labels)
    _draw_top(bar_ax, data.top_stations[:MAX_STATIONS], data.top_title, data.axis_labels)


def _peak(values: Sequence[float]) -> float:
    """Return the largest finite value, or 0."""
    finite = [v for v in values if math.isfinite(v)]
    return max(finite, default=0.0)


def _style_value_axis(ax: Axes, values: Sequence[float], axis: str = "y") -> None:
    """Give a value axis a zero baseline, a few round ticks and thousands separators."""
    ticker = _matplotlib().ticker
    FuncFormatter, MaxNLocator = ticker.FuncFormatter, ticker.MaxNLocator  # noqa: N806

    finite = [v for v in values if math.isfinite(v)]
    integral = all(abs(v - round(v)) < 1e-9 for v in finite)
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(nbins=5, integer=integral, min_n_ticks=2))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: format_number(v)))
    low = min(finite, default=0.0)
    high = max(finite, default=0.0)
    bottom = min(0.0, low * 1.1)
    top = high * 1.12 if high > 0 else 1.0  # all-zero data still gets a visible axis
    if axis == "y":
        ax.set_ylim(bottom, top)
    else:
        ax.set_xlim(bottom, top * 1.08)  # extra room for the value labels


def _set_value_label(ax: Axes, label: str) -> None:
    """Label a vertical axis; short Chinese labels are stacked upright, not rotated."""
    if label and len(label) <= VERTICAL_LABEL_MAX and display_width(label) == 2 * len(label):
        side = "left" if ax.yaxis.get_label_position() == "right" else "right"
        ax.set_ylabel("\n".join(label), rotation=0, va="center", ha=side, linespacing=1.05)
    else:
        ax.set_ylabel(label)


def _draw_trend(
    ax: Axes, weeks: list[str], series: list[ChartSeries], labels: dict[str, str]
) -> None:
    """Draw one line per series over the weeks, with a right axis for small series."""
    if not weeks or not series:
        _draw_empty(ax)
        return
    x = list(range(len(weeks)))
    primary_peak = _peak(series[0].values) if series else 0.0
    use_secondary = len(series) > 1 and any(
        _peak(s.values) * SECONDARY_AXIS_RATIO < primary_peak for s in series[1:]
    )
    right = ax.twinx() if use_secondary else None
    if right is not None:
        right.spines["right"].set_visible(True)
        _set_value_label(right, labels.get("y2", ""))
    left_values: list[float] = []
    right_values: list[float] = []
    handles = []
    for i, s in enumerate(series):
        on_right = right is not None and i > 0
        target = right if on_right and right is not None else ax
        (right_values if on_right else left_values).extend(s.values)
        # The latest value goes into the legend: annotating line ends collides with the
        # right axis ticks and with other lines.
        latest = format_number(s.values[-1]) if s.values else ""
        (line,) = target.plot(
            x,
            s.values,
            color=PALETTE[i % len(PALETTE)],
            linewidth=2.2,
            marker="o",
            markersize=4.5,
            label=f"{s.label}  {latest}".rstrip(),
            linestyle="--" if on_right else "-",
        )
        handles.append(line)
    _style_value_axis(ax, left_values)
    if right is not None:
        _style_value_axis(right, right_values)
    ax.grid(axis="y", color=GRID_COLOR, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xticks(x, weeks, rotation=30 if len(weeks) > 8 else 0)
    ax.set_xlim(-0.4, max(len(weeks) - 1, 0) + 0.4)  # one week still gets a width
    ax.set_xlabel(labels.get("x", ""))
    _set_value_label(ax, labels.get("y", ""))
    if handles:
        ax.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncols=min(len(handles), 4),
            borderaxespad=0.2,
            handlelength=2.4,
        )


def _draw_empty(ax: Axes) -> None:
    """Show an empty panel as a bare dash instead of meaningless axes."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.text(
        0.5,
        0.5,
        "—",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=20,
        color=MUTED_COLOR,
    )


def _draw_top(
    ax: Axes, stations: list[tuple[str, float]], title: str, labels: dict[str, str]
) -> None:
    """Draw a horizontal bar per station, best at the top, values at the bar ends."""
    ax.set_title(title, pad=8)
    if not stations:
        _draw_empty(ax)
        return
    names = [ellipsize(name, STATION_NAME_COLUMNS) for name, _ in stations]
    values = [float(v) for _, v in stations]
    y = list(range(len(stations)))
    bars = ax.barh(y, values, color=BAR_COLOR, height=0.65)
    ax.set_yticks(y, names)
    # Slots sized for a full top ten, best at the top: a short list keeps slim bars.
    ax.set_ylim(max(MAX_STATIONS, len(stations)) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.bar_label(
        bars, labels=[format_number(v) for v in values], padding=4, fontsize=9.5, color=TEXT_COLOR
    )
    _style_value_axis(ax, values, axis="x")
    ax.grid(axis="x", color=GRID_COLOR, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel(labels.get("bar", ""))
