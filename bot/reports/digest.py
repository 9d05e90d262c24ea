"""A digest for one reader: HTML message text, chart PNG and XLSX, all localised; sending it."""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass
from typing import Any

from telegram import InputFile

from bot.config import PropagationSettings
from bot.core.text_fit import CAPTION_LIMIT, fit_text
from bot.i18n import N_, Translator
from bot.reports.chart import ChartSeries, WeeklyChartData, render_weekly_chart
from bot.reports.xlsx import Sheet, write_table_xlsx
from bot.services.digest import DigestData, change
from storage.models import ShareEvent

SILENT_SHOWN = 20  # names listed in the message; the XLSX has them all
FLAGS_SHOWN = 5

LEVEL_NAMES = {"county": N_("county"), "city": N_("city"), "province": N_("province")}
# (figure, label) in the order the message and the totals sheet show them.
TOTALS = (
    ("volume", N_("Propagation volume")),
    ("shares_total", N_("Shares")),
    ("reach_telegram", N_("Telegram reach")),
    ("reach_reported", N_("Reported reach")),
    ("visits", N_("Link visits")),
    ("activities", N_("Activities")),
    ("participants", N_("Participants")),
    ("content_uses", N_("Content uses")),
    ("sharing_informants", N_("Sharing informants")),
    ("active_informants", N_("Active informants")),
    ("informants", N_("Registered informants")),
)
CHANNEL_LABELS = {
    "telegram_inline": N_("Shares: Telegram inline"),
    "telegram_forward": N_("Shares: Telegram forwards"),
    "wechat_group": N_("Shares: WeChat groups"),
    "wechat_moments": N_("Shares: WeChat Moments"),
    "qq_group": N_("Shares: QQ groups"),
    "public_account": N_("Shares: public accounts"),
    "other": N_("Shares: other"),
}
FLAG_LABELS = {
    "photo_reuse": N_("reused photos"),
    "participants_high": N_("participant counts unusually high"),
    "audience_capped": N_("reported audiences capped"),
    "application_burst": N_("burst of applications"),
}
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
    """Return e.g. ``2026年第48周（11月23日–11月29日）``."""
    year, week = data.week.split("-W")
    return t(
        "{year} week {week} ({start} – {end})",
        year=year,
        week=int(week),
        start=t.date(data.start, t("MMM d")),
        end=t.date(data.end, t("MMM d")),
    )


def region_title(t: Translator, data: DigestData) -> str:
    """Return the region name with its level."""
    return t("{name} ({level})", name=data.region_name, level=t(LEVEL_NAMES[data.level]))


def render_text(t: Translator, data: DigestData) -> str:
    """Return the digest message (HTML, escaped, within Telegram's 4096 characters)."""
    this, last = data.this, data.last
    out = [
        "<b>" + esc(t("Weekly digest · {region}", region=region_title(t, data))) + "</b>",
        esc(week_label(t, data)),
        "",
        "<b>" + esc(t("This week (change from last week)")) + "</b>",
    ]
    for name, label in TOTALS:
        out.append(
            f"{esc(t(label))}: <b>{number(t, this[name])}</b>  "
            f"{change_text(t, this[name], last[name])}"
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
    out += ["", "<b>" + esc(t("Top {n} stations by propagation volume", n=len(data.top))) + "</b>"]
    if data.top:
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
            where = flag.station or t("the whole region")
            out.append(f"  · {esc(where)}: {esc(t(FLAG_LABELS.get(flag.kind, flag.kind)))}")
    else:
        out.append(esc(t("None.")))
    out += ["", esc(t("The chart and the spreadsheet follow."))]
    return fit_text("\n".join(out))


def chart_data(t: Translator, data: DigestData) -> WeeklyChartData:
    """Return the localised chart input: 12-week trend and the top stations."""
    return WeeklyChartData(
        title=t("Kepu China e-stations · weekly figures"),
        subtitle=f"{region_title(t, data)} · {week_label(t, data)}",
        weeks=[w.split("-")[1] for w in data.trend_weeks],
        series=[
            ChartSeries(t("Propagation volume"), data.trend["volume"]),
            ChartSeries(t("Shares"), data.trend["shares_total"]),
            ChartSeries(t("Activities"), data.trend["activities"]),
        ],
        top_stations=[(s.name, s.volume) for s in data.top],
        top_title=t("Top {n} stations by propagation volume", n=len(data.top)),
        axis_labels={
            "x": t("Week"),
            "y": t("Volume"),
            "y2": t("Count"),
            "bar": t("Propagation volume"),
        },
    )


def chart_labels(t: Translator, data: DigestData) -> list[str]:
    """Return every string the chart draws (for glyph coverage checks)."""
    chart = chart_data(t, data)
    return [
        chart.title,
        chart.subtitle,
        chart.top_title,
        *chart.weeks,
        *(s.label for s in chart.series),
        *chart.axis_labels.values(),
        *(name for name, _ in chart.top_stations),
    ]


STATION_COLUMNS = (
    ("volume", N_("Propagation volume")),
    ("shares_total", N_("Shares")),
    *((f"shares_{ch}", CHANNEL_LABELS[ch]) for ch in ShareEvent.CHANNELS),
    ("sharing_informants", N_("Sharing informants")),
    ("active_informants", N_("Active informants")),
    ("informants", N_("Registered informants")),
    ("reach_telegram", N_("Telegram reach")),
    ("reach_reported", N_("Reported reach")),
    ("visits", N_("Link visits")),
    ("activities", N_("Activities")),
    ("participants", N_("Participants")),
    ("content_uses", N_("Content uses")),
    ("content_use_audience", N_("Content use audience")),
)


def _totals_row(t: Translator, label: str, now: float, before: float) -> list[object]:
    direction, ratio = change(now, before)
    return [t(label), now, before, ratio if ratio is not None else "—"]


def render_xlsx(t: Translator, data: DigestData, formula: str) -> bytes:
    """Return the workbook: per-station table, totals with change, sub-regions."""
    period = week_label(t, data)
    note = t(
        "{region}, {period}. Days are dates in {timezone}. Propagation volume = {formula}.",
        region=region_title(t, data),
        period=period,
        timezone=data.timezone,
        formula=formula,
    )
    stations = Sheet(
        title=t("Stations"),
        headers=[
            t("Rank"),
            t("Station"),
            t("County"),
            *(t(label) for _, label in STATION_COLUMNS),
            t("Silent this week"),
        ],
        rows=[
            [
                i,
                s.name,
                s.county,
                *(s.values[name] for name, _ in STATION_COLUMNS),
                t("yes (silent)") if s.silent else "",
            ]
            for i, s in enumerate(data.stations, 1)
        ],
        notes=[note],
    )
    totals = Sheet(
        title=t("Totals"),
        headers=[t("Figure"), t("This week"), t("Last week"), t("Change")],
        rows=[_totals_row(t, label, data.this[name], data.last[name]) for name, label in TOTALS]
        + [
            [t("Stations counted"), data.this.stations_counted, data.last.stations_counted, ""],
            [t("Silent stations"), data.this.stations_silent, data.last.stations_silent, ""],
        ],
        number_formats={3: "+0.0%;-0.0%;0.0%"},
        notes=[note],
    )
    sheets = [stations, totals]
    if data.children:
        sheets.append(
            Sheet(
                title=t("Sub-regions"),
                headers=[
                    t("Region"),
                    t("Code"),
                    t("Stations counted"),
                    t("Silent stations"),
                    *(t(label) for _, label in TOTALS),
                ],
                rows=[
                    [
                        c.name,
                        c.code,
                        c.figures.stations_counted,
                        c.figures.stations_silent,
                        *(c.figures[name] for name, _ in TOTALS),
                    ]
                    for c in data.children
                ],
                notes=[note],
            )
        )
    return write_table_xlsx(sheets)


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
