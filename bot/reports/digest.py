"""A digest for one reader: HTML message text, chart PNG and XLSX, all localised; sending it."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
from dataclasses import dataclass
from typing import Any

from telegram import InputFile

from bot.config import PropagationSettings
from bot.core.text_fit import CAPTION_LIMIT, fit_text
from bot.i18n import N_, Translator
from bot.reports.chart import ChartSeries, WeeklyChartData, render_weekly_chart
from bot.reports.windows import date_range, week_text, weeks_range
from bot.reports.xlsx import (
    CHANGE_FORMAT,
    INTEGER_FORMAT,
    VOLUME_FORMAT,
    Column,
    Sheet,
    write_table_xlsx,
)
from bot.services.digest import DigestData, change
from bot.services.finding_text import KIND_NAMES as FINDING_KINDS
from storage import tally as tally_store
from storage.figures import ChannelReach
from storage.models import ShareEvent

SILENT_SHOWN = 20  # names listed in the message; the XLSX has them all
FLAGS_SHOWN = 5

LEVEL_NAMES = {"county": N_("county"), "city": N_("city"), "province": N_("province")}
CHANNEL_LABELS = {
    "telegram_inline": N_("Shares: Telegram inline"),
    "telegram_forward": N_("Shares: Telegram forwards"),
    "wechat_group": N_("Shares: WeChat groups"),
    "wechat_moments": N_("Shares: WeChat Moments"),
    "qq_group": N_("Shares: QQ groups"),
    "public_account": N_("Shares: public accounts"),
    "other": N_("Shares: other"),
}
# The one definition of every figure's label; the message, the chart and each sheet pick
# from it in their own order.
FIGURE_LABELS = {
    "volume": N_("Propagation volume"),
    "shares_total": N_("Shares"),
    **{f"shares_{ch}": CHANNEL_LABELS[ch] for ch in ShareEvent.CHANNELS},
    "reach_telegram": N_("Telegram reach"),
    "reach_reported": N_("Reported reach"),
    "visits": N_("Link visits"),
    "activities": N_("Activities"),
    "participants": N_("Participants"),
    "content_uses": N_("Content uses"),
    "content_use_audience": N_("Content use audience"),
    "sharing_informants": N_("Sharing informants"),
    "active_informants": N_("Active informants"),
    "informants": N_("Registered informants"),
}
# Figures in the order the message, the totals and the sub-regions sheets show them.
TOTALS = (
    "volume",
    "shares_total",
    "reach_telegram",
    "reach_reported",
    "visits",
    "activities",
    "participants",
    "content_uses",
    "sharing_informants",
    "active_informants",
    "informants",
)
# Figures in the order of the per-station sheet: shares broken down by channel.
# (the tally's own list of summed figures, so a new figure reaches the sheet by itself).
STATION_COLUMNS = ("volume", *tally_store.FIGURES)
# Findings are named from the one table of kinds (bot.services.finding_text.KIND_NAMES).
FLAG_LABELS = FINDING_KINDS
PENDING_LABELS = {
    "submitted": N_("{n} application(s) await county review"),
    "county_approved": N_("{n} application(s) await city re-verification"),
}
FINDINGS_WAITING = N_("{n} integrity finding(s) await your review: /findings")
ARROWS = {"up": "▲", "down": "▼", "same": "→"}


@dataclass(frozen=True)
class RenderedDigest:
    """What a coordinator receives."""

    text: str
    png: bytes
    xlsx: bytes
    png_name: str
    xlsx_name: str
    caption: str


def esc(value: object) -> str:
    """Escape text for an HTML message."""
    return html.escape(str(value), quote=False)


def number(t: Translator, value: float) -> str:
    """Format a figure: integers without decimals, volumes with at most one."""
    if float(value).is_integer():
        return t.number(int(value))
    return t.number(round(float(value), 1))


def change_text(t: Translator, now: float, before: float) -> str:
    """Return ``▲ 12.5%``, ``▼ 3.0%``, ``→ 0%`` or ``—`` (last week was zero)."""
    direction, ratio = change(now, before)
    if ratio is None:
        return "—"
    if direction == "same":
        return "→ 0%"
    return f"{ARROWS[direction]} {abs(ratio) * 100:.1f}%"


def week_label(t: Translator, data: DigestData) -> str:
    """Return e.g. ``2026年第48周（11月23日—11月29日）``."""
    return week_text(t, data.week, data.start, data.end)


def region_title(t: Translator, data: DigestData) -> str:
    """Return the region name with its level."""
    return t("{name} ({level})", name=data.region_name, level=t(LEVEL_NAMES[data.level]))


def digest_title(t: Translator, data: DigestData, part: str = "") -> str:
    """Return what the digest is and its window: ``西湖区科普e站周报 · 2026年第48周（…）``."""
    name = t("{region} e-station weekly digest", region=data.region_name)
    if part:
        name = t("{title} · {part}", title=name, part=part)
    return t("{title} · {period}", title=name, period=week_label(t, data))


def top_title(t: Translator, data: DigestData) -> str:
    """Return the heading of the top list (never "top 0": the caller says none instead)."""
    return t("Top {n} stations by propagation volume this week", n=len(data.top))


def channel_reach_line(t: Translator, reach: ChannelReach, start: dt.date, end: dt.date) -> str:
    """Return the line of channel reach in a window (storage.figures.channel_reach)."""
    return t(
        "📢 Channel reach {span}: {posts} posts in {channels} channels, {subscribers} "
        "subscribers, {visits} link visits (apart from informants' figures)",
        span=t.span(start, end),
        posts=t.number(reach.posts),
        channels=t.number(reach.channels),
        subscribers=t.number(reach.subscribers),
        visits=t.number(reach.visits),
    )


def render_text(t: Translator, data: DigestData) -> str:
    """Return the digest message (HTML, escaped, within Telegram's 4096 characters)."""
    this, last = data.this, data.last
    out = [
        "<b>" + esc(t("Weekly digest · {region}", region=region_title(t, data))) + "</b>",
        esc(week_label(t, data)),
        "",
        "<b>" + esc(t("This week (change from last week)")) + "</b>",
    ]
    for name in TOTALS:
        out.append(
            t(
                "{figure}: {value}  {change}",
                figure=esc(t(FIGURE_LABELS[name])),
                value=f"<b>{number(t, this[name])}</b>",
                change=change_text(t, this[name], last[name]),
            )
        )
    out.append(
        esc(
            t(
                "Stations counted: {n}, silent this week: {m}",
                n=t.number(this.stations_counted),
                m=t.number(this.stations_silent),
            )
        )
    )
    reach = data.channel_reach
    if reach is not None and reach.posts:  # its own line and window: never in the totals
        out.append(esc(channel_reach_line(t, reach, data.start, data.end)))
    out.append("")
    if data.top:
        out.append("<b>" + esc(top_title(t, data)) + "</b>")
        out += [f"{i}. {esc(s.name)} — {number(t, s.volume)}" for i, s in enumerate(data.top, 1)]
    else:
        out.append(esc(t("No station had any propagation this week.")))
    silent = data.silent
    out += [
        "",
        "<b>" + esc(t("Stations with nothing this week ({n})", n=t.number(len(silent)))) + "</b>",
    ]
    if silent:
        names = "、".join(esc(s.name) for s in silent[:SILENT_SHOWN])
        if len(silent) > SILENT_SHOWN:
            names += esc(
                t(" and {n} more (see the spreadsheet)", n=t.number(len(silent) - SILENT_SHOWN))
            )
        out.append(names)
    else:
        out.append(esc(t("None — every counted station did something.")))
    out += ["", "<b>" + esc(t("Pending reviews")) + "</b>"]
    out += [esc(t(PENDING_LABELS[status], n=t.number(n))) for status, n in data.pending.items()]
    if data.open_findings:
        out.append(esc(t(FINDINGS_WAITING, n=t.number(data.open_findings))))
    out += [
        "",
        "<b>" + esc(t("Integrity flags this week ({n})", n=t.number(len(data.flags)))) + "</b>",
    ]
    if data.flags:
        counts = data.flag_counts
        out.append(
            esc(
                " · ".join(
                    f"{t(FLAG_LABELS.get(kind, kind))} {counts[kind]}" for kind in sorted(counts)
                )
            )
        )
        for flag in data.flags[:FLAGS_SHOWN]:
            out.append(
                "  · "
                + t(
                    "{where}: {what}",
                    where=esc(flag.station or t("the whole region")),
                    what=esc(t(FLAG_LABELS.get(flag.kind, flag.kind))),
                )
            )
    else:
        out.append(esc(t("None.")))
    out += ["", esc(t("The chart and the spreadsheet follow."))]
    return fit_text("\n".join(out))


def chart_data(t: Translator, data: DigestData) -> WeeklyChartData:
    """Return the localised chart input: 12-week trends, each in its panel, and the top."""
    weeks = data.trend_weeks
    trend_title = ""
    if weeks:
        trend_title = t(
            "Last {n} weeks ({window})",
            n=len(weeks),
            window=weeks_range(t, weeks[0], weeks[-1]),
        )
    return WeeklyChartData(
        title=digest_title(t, data),
        subtitle=t(
            "{region}; days are dates in {timezone}",
            region=region_title(t, data),
            timezone=data.timezone,
        ),
        weeks=[w.split("-")[1] for w in weeks],
        series=[
            ChartSeries(t(FIGURE_LABELS["volume"]), data.trend["volume"]),
            ChartSeries(t(FIGURE_LABELS["shares_total"]), data.trend["shares_total"]),
            ChartSeries(t(FIGURE_LABELS["activities"]), data.trend["activities"], kind="bar"),
        ],
        trend_title=trend_title,
        top_stations=[(s.name, s.volume) for s in data.top],
        top_title=top_title(t, data),
        empty_top_text=t("No station had any propagation this week."),
        axis_labels={"x": t("Week"), "bar": t(FIGURE_LABELS["volume"])},
    )


def chart_labels(t: Translator, data: DigestData) -> list[str]:
    """Return every string the chart draws (for glyph coverage checks)."""
    chart = chart_data(t, data)
    return [
        chart.title,
        chart.subtitle,
        chart.trend_title,
        chart.top_title,
        chart.empty_top_text,
        *chart.weeks,
        *(s.label for s in chart.series),
        *chart.axis_labels.values(),
        *(name for name, _ in chart.top_stations),
    ]


def _figure_format(name: str) -> str:
    """Return the number format of a figure's column."""
    return VOLUME_FORMAT if name == "volume" else INTEGER_FORMAT


def _totals_format(values: list[float]) -> str:
    """Return the format of the totals' week columns, which mix volume with counts."""
    integral = all(float(v).is_integer() for v in values)
    return INTEGER_FORMAT if integral else VOLUME_FORMAT


def render_xlsx(t: Translator, data: DigestData, formula: str) -> bytes:
    """Return the workbook: per-station table, totals with change, sub-regions."""
    definition = t(
        "Propagation volume = {formula}. Days are dates in {timezone}.",
        formula=formula,
        timezone=data.timezone,
    )
    by_volume = sorted(data.stations, key=lambda s: -s.volume)  # stable: ties keep their order
    stations = Sheet(
        title=t("Stations"),
        heading=digest_title(t, data, t("Stations")),
        notes=[t("Rows by propagation volume this week, highest first."), definition],
        columns=[
            Column(t("Rank"), INTEGER_FORMAT),
            Column(t("Station")),
            Column(t("County")),
            *(Column(t(FIGURE_LABELS[name]), _figure_format(name)) for name in STATION_COLUMNS),
            Column(t("Silent this week")),
        ],
        rows=[
            [
                i,
                s.name,
                s.county,
                *(s.values[name] for name in STATION_COLUMNS),
                t("yes (silent)") if s.silent else "",
            ]
            for i, s in enumerate(by_volume, 1)
        ],
        frozen_columns=2,
    )
    last_start = data.start - dt.timedelta(days=7)
    last_end = data.end - dt.timedelta(days=7)
    this_values = [data.this[name] for name in TOTALS]
    last_values = [data.last[name] for name in TOTALS]
    weeks_format = _totals_format(this_values + last_values)
    totals_rows: list[list[object]] = [
        [t(FIGURE_LABELS[name]), now, before, _ratio(now, before)]
        for name, now, before in zip(TOTALS, this_values, last_values, strict=True)
    ]
    totals_rows += [
        [t("Stations counted"), data.this.stations_counted, data.last.stations_counted, None],
        [t("Silent stations"), data.this.stations_silent, data.last.stations_silent, None],
    ]
    totals = Sheet(
        title=t("Totals"),
        heading=digest_title(t, data, t("Totals")),
        notes=[definition],
        columns=[
            Column(t("Figure")),
            Column(
                t("This week ({window})", window=date_range(t, data.start, data.end)),
                weeks_format,
            ),
            Column(
                t("Last week ({window})", window=date_range(t, last_start, last_end)),
                weeks_format,
            ),
            Column(t("Change"), CHANGE_FORMAT),
        ],
        rows=totals_rows,
        frozen_columns=1,
    )
    sheets = [stations, totals]
    if data.children:
        children = sorted(data.children, key=lambda c: -c.figures["volume"])
        sheets.append(
            Sheet(
                title=t("Sub-regions"),
                heading=digest_title(t, data, t("Sub-regions")),
                notes=[t("Rows by propagation volume this week, highest first."), definition],
                columns=[
                    Column(t("Region")),
                    Column(t("Stations counted"), INTEGER_FORMAT),
                    Column(t("Silent stations"), INTEGER_FORMAT),
                    *(Column(t(FIGURE_LABELS[name]), _figure_format(name)) for name in TOTALS),
                ],
                rows=[
                    [
                        c.name,
                        c.figures.stations_counted,
                        c.figures.stations_silent,
                        *(c.figures[name] for name in TOTALS),
                    ]
                    for c in children
                ],
                frozen_columns=1,
            )
        )
    return write_table_xlsx(sheets)


def _ratio(now: float, before: float) -> float | str:
    """Return the change as a ratio for the sheet, or ``—`` when last week was zero."""
    _direction, ratio = change(now, before)
    return ratio if ratio is not None else "—"


async def render(t: Translator, data: DigestData, weights: PropagationSettings) -> RenderedDigest:
    """Render text, chart and spreadsheet (the CPU-bound parts in a worker thread)."""
    png = await asyncio.to_thread(render_weekly_chart, chart_data(t, data))
    xlsx = await asyncio.to_thread(render_xlsx, t, data, formula_text(t, weights))
    base = f"digest-{data.region_code}-{data.week}"
    return RenderedDigest(
        text=render_text(t, data),
        png=png,
        xlsx=xlsx,
        png_name=f"{base}.png",
        xlsx_name=f"{base}.xlsx",
        caption=fit_text(
            t("{region} · {period}", region=region_title(t, data), period=week_label(t, data)),
            CAPTION_LIMIT,
        ),
    )


def formula_text(t: Translator, weights: PropagationSettings) -> str:
    """Return the propagation volume formula in words, with the configured weights."""
    ws, wt, wr, wv = (
        format(w, "g")
        for w in (
            weights.w_shares,
            weights.w_telegram_reach,
            weights.w_reported_reach,
            weights.w_visits,
        )
    )
    return t(
        "{ws} × shares + {wt} × Telegram reach + {wr} × reported reach + {wv} × visits",
        ws=ws,
        wt=wt,
        wr=wr,
        wv=wv,
    )


# --- sending -----------------------------------------------------------------------------


def digest_calls(chat_id: int, digest: RenderedDigest) -> list[tuple[str, dict[str, Any]]]:
    """Return the Bot API calls that deliver a digest: its text, the chart, the workbook."""
    return [
        ("sendMessage", {"chat_id": chat_id, "text": digest.text, "parse_mode": "HTML"}),
        (
            "sendPhoto",
            {
                "chat_id": chat_id,
                "photo": InputFile(digest.png, filename=digest.png_name),
                "caption": digest.caption,
            },
        ),
        (
            "sendDocument",
            {
                "chat_id": chat_id,
                "document": InputFile(digest.xlsx, filename=digest.xlsx_name),
                "caption": digest.caption,
            },
        ),
    ]


async def deliver(bot: Any, chat_id: int, digest: RenderedDigest) -> None:
    """Send a digest in a handler (the sends go out after the update commits)."""
    for method, params in digest_calls(chat_id, digest):
        await bot.do_api_request(method, api_kwargs=params)
