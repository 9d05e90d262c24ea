"""A campaign's report: the text (in /campaigns and the weekly digest) and the XLSX.

Figures come from ``bot.services.campaigns.build_report`` (the one definition of
``storage.figures`` with the campaign filter); every output says its window — the
campaign's dates, cut at the last day counted while it runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InputFile

from bot.config import Settings
from bot.i18n import N_, Translator
from bot.reports.digest import RenderedDigest, esc
from bot.reports.windows import date_range
from bot.reports.xlsx import INTEGER_FORMAT, Column, Sheet, write_table_xlsx
from bot.services import campaigns as service
from bot.services.access import region_prefix
from bot.services.campaigns import CampaignDef, CampaignReport, RegionLine
from storage import regions as region_store

STATE_NAMES = {
    "upcoming": N_("not started"),
    "running": N_("under way"),
    "ended": N_("ended"),
}
FIGURES: tuple[tuple[str, str], ...] = (
    ("stations", N_("Stations counted")),
    ("pushed", N_("Messages pushed")),
    ("shares", N_("Shares")),
    ("visits", N_("Link visits")),
    ("activities", N_("Activities")),
    ("participants", N_("Participants")),
    ("content_uses", N_("Content uses")),
    ("sharing_informants", N_("Sharing informants")),
)


def window_text(t: Translator, report: CampaignReport) -> str:
    """Return the window a report covers, saying so when the campaign is not over."""
    span = date_range(t, report.window.start, report.window.end)
    if report.complete:
        return span
    return t("{window}, so far", window=span)


def dates_text(t: Translator, campaign: CampaignDef) -> str:
    """Return the campaign's own dates."""
    return date_range(t, campaign.start, campaign.end)


def regions_text(t: Translator, campaign: CampaignDef, names: dict[str, str]) -> str:
    """Return the campaign's regions by name (or "everywhere")."""
    if not campaign.regions:
        return t("everywhere")
    sep = "、" if t.locale == "zh_CN" else ", "
    return sep.join(names.get(code, code) for code in campaign.regions)


def summary_text(t: Translator, report: CampaignReport) -> str:
    """Return a campaign's figures in two lines, with their window."""
    total = report.total
    return "\n".join(
        [
            t("Figures ({window}):", window=window_text(t, report)),
            t(
                "pushed {pushed} messages of {items} items · {shares} shares · {visits} link "
                "visits · {activities} activities with {participants} participants",
                pushed=total.pushed,
                items=report.pushes.items,
                shares=total.shares,
                visits=total.visits,
                activities=total.activities,
                participants=total.participants,
            ),
        ]
    )


def report_text(t: Translator, report: CampaignReport, names: dict[str, str]) -> str:
    """Return a campaign's report as a message: dates, regions, totals, top regions."""
    campaign = report.campaign
    lines = [
        t(
            "🎯 <b>{name}</b> ({dates})",
            name=esc(campaign.name(t.locale)),
            dates=dates_text(t, campaign),
        ),  # fmt: skip
        t("Regions: {regions}", regions=esc(regions_text(t, campaign, names))),
        summary_text(t, report),
    ]
    for line in report.regions[:5]:
        lines.append(_region_line(t, line))
    return "\n".join(lines)


def _region_line(t: Translator, line: RegionLine) -> str:
    return t(
        "· {region}: {shares} shares, {activities} activities ({participants} participants), "
        "{pushed} pushed",
        region=esc(line.name),
        shares=line.shares,
        activities=line.activities,
        participants=line.participants,
        pushed=line.pushed,
    )


def report_sheets(t: Translator, report: CampaignReport) -> list[Sheet]:
    """Return the report's sheet: one row per city, then the total."""
    campaign = report.campaign
    heading = t(
        "{name} — campaign report ({window})",
        name=campaign.name(t.locale),
        window=window_text(t, report),
    )
    notes = [
        t("Campaign dates: {dates}.", dates=dates_text(t, campaign)),
        t(
            "Shares, link visits and content uses of the campaign's content; activities "
            "tagged with the campaign; messages of its content pushed in the window. "
            "Rows by shares and activities, highest first."
        ),
    ]

    def values(line: RegionLine) -> list[object]:
        return [getattr(line, name) for name, _ in FIGURES]

    rows: list[list[object]] = [[line.name, *values(line)] for line in report.regions]
    rows.append([t("Total"), *values(report.total)])
    return [
        Sheet(
            title=t("Campaign"),
            heading=heading,
            notes=notes,
            columns=[
                Column(t("Region")),
                *(Column(t(label), INTEGER_FORMAT) for _, label in FIGURES),
            ],
            rows=rows,
            frozen_columns=1,
        )
    ]


def report_xlsx(t: Translator, report: CampaignReport) -> bytes:
    """Return the report as an XLSX workbook."""
    return write_table_xlsx(report_sheets(t, report))


def report_filename(report: CampaignReport) -> str:
    """Return the workbook's file name: the key and the window."""
    w = report.window
    return f"campaign-{report.campaign.key}-{w.start:%Y%m%d}-{w.end:%Y%m%d}.xlsx"


async def region_names(session: AsyncSession, codes: Sequence[str]) -> dict[str, str]:
    """Return region names by code (for the regions line and the rows)."""
    found = await region_store.get_regions(session=session, codes=list(codes))
    return {code: region.name for code, region in found.items()}


# --- the weekly digest's block ---------------------------------------------------------------
async def digest_block(
    *,
    session: AsyncSession,
    settings: Settings,
    t: Translator,
    region_code: str,
    start: dt.date,
    end: dt.date,
) -> str:
    """Return the digest's campaign block for a region's week ("" without a campaign).

    Campaigns running at some day of the week ``[start, end]`` in the region; figures over
    each campaign's dates up to the week's end, within the region.
    """
    prefixes = [region_prefix(region_code)]
    lines: list[str] = []
    for campaign in await service.all_campaigns(session=session, settings=settings):
        if campaign.end < start or campaign.start > end or not campaign.overlaps(prefixes):
            continue
        report = await service.build_report(
            session=session, settings=settings, campaign=campaign, today=end, prefixes=prefixes
        )
        lines.append(
            t(
                "🎯 <b>{name}</b> ({dates})",
                name=esc(campaign.name(t.locale)),
                dates=dates_text(t, campaign),
            )  # fmt: skip
        )
        lines.append(summary_text(t, report))
    if not lines:
        return ""
    return "\n".join([t("<b>Campaigns</b>"), *lines])


async def with_campaigns(
    *,
    session: AsyncSession,
    settings: Settings,
    t: Translator,
    digest: RenderedDigest,
    region_code: str,
    start: dt.date,
    end: dt.date,
) -> RenderedDigest:
    """Return the digest with its campaign block appended (unchanged without one)."""
    block = await digest_block(
        session=session, settings=settings, t=t, region_code=region_code, start=start, end=end
    )
    return replace(digest, text=f"{digest.text}\n\n{block}") if block else digest


def document_call(chat_id: int, t: Translator, report: CampaignReport) -> dict[str, object]:
    """Return the sendDocument parameters that deliver a report's XLSX."""
    return {
        "chat_id": chat_id,
        "document": InputFile(report_xlsx(t, report), filename=report_filename(report)),
        "caption": t(
            "{name}: campaign report ({window})",
            name=report.campaign.name(t.locale),
            window=window_text(t, report),
        ),
    }
