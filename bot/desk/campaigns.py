"""Campaigns at the desk (issue #19): every campaign reaching the viewer's area.

The list and the figures come from ``bot.services.campaigns`` (``campaign_summaries``: the
campaigns reaching a scope, running first, then upcoming, then ended; ``build_report``:
a campaign's figures by city, the one definition of ``storage.figures`` with the campaign
filter). Every block says its window: the campaign's dates, cut at today while it runs.
The wording of states, windows and figures is the bot's (``bot.reports.campaign``).

A province's campaign figures are a scan of the campaign's days, so the page's
computation is shared for ``desk.live_cache_seconds`` per scope (the page says when it
was computed), as the dashboard's live week is; any desk action clears it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web

from bot.desk import labels
from bot.desk.web import DeskRoute, Viewer, bad_input, desk_page, forbidden, render
from bot.i18n import N_
from bot.reports import campaign as campaign_text
from bot.services import campaigns as service
from bot.services.access import region_prefix, visible_regions
from bot.services.campaigns import CampaignReport, CampaignSummary
from storage import regions as region_store

# Who sees campaigns: as the bot's /campaigns (curators and admins everywhere,
# coordinators those reaching their regions).
CAMPAIGN_ROLES = frozenset({"coordinator", "admin", "curator"})
EVERYWHERE_ROLES = frozenset({"admin", "curator"})
KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
CACHE_KEY = "campaigns"

TITLE = N_("desk menu: Campaigns")


@dataclass(frozen=True)
class CampaignBlock:
    """One campaign as the page shows it: its summary and, once started, its report."""

    summary: CampaignSummary
    report: CampaignReport | None


@dataclass(frozen=True)
class Computed:
    """The page's figures for one scope, and when they were computed."""

    at: dt.datetime
    blocks: tuple[CampaignBlock, ...]


def scope_of(viewer: Viewer) -> tuple[str, ...] | None:
    """Return the viewer's region prefixes (None: everywhere), as the bot's /campaigns."""
    if viewer.roles & EVERYWHERE_ROLES:
        return None
    visible = visible_regions(viewer.grants)
    if visible is None:
        return None
    return tuple(region_prefix(code) for code in visible)


async def _compute(viewer: Viewer, scope: tuple[str, ...] | None) -> Computed:
    settings = viewer.runtime.settings
    session = viewer.session
    prefixes = list(scope) if scope is not None else None
    summaries = await service.campaign_summaries(session, prefixes, viewer.now, settings=settings)
    campaigns = {c.key: c for c in await service.all_campaigns(session=session, settings=settings)}
    blocks = []
    for summary in summaries:
        report = None
        campaign = campaigns.get(summary.key)
        if summary.state != "upcoming" and campaign is not None:
            report = await service.build_report(
                session=session,
                settings=settings,
                campaign=campaign,
                today=viewer.today,
                prefixes=prefixes,
                now=viewer.now,
            )
        blocks.append(CampaignBlock(summary, report))
    return Computed(viewer.now, tuple(blocks))


async def computed(viewer: Viewer, scope: tuple[str, ...] | None) -> Computed:
    """Return the page's figures for ``scope``, shared for ``desk.live_cache_seconds``."""
    ttl = dt.timedelta(seconds=viewer.runtime.settings.desk.live_cache_seconds)
    key = (CACHE_KEY, scope, viewer.today)
    found = viewer.cache.get(key)
    if isinstance(found, Computed) and viewer.now - found.at < ttl:
        return found
    fresh = await _compute(viewer, scope)
    if ttl:
        viewer.cache[key] = fresh
    return fresh


async def page(request: web.Request, viewer: Viewer) -> str | web.StreamResponse:
    """The campaigns reaching the viewer's area; ``?campaign=<key>`` shows one of them."""
    scope = scope_of(viewer)
    wanted = request.query.get("campaign", "").strip()
    if wanted and not KEY.match(wanted):
        raise bad_input(viewer.t("desk: {value} is not a campaign", value=wanted[:32]))
    data = await computed(viewer, scope)
    blocks = list(data.blocks)
    if wanted:
        blocks = [b for b in blocks if b.summary.key == wanted]
        if not blocks:
            known = await service.get_campaign(
                session=viewer.session, settings=viewer.runtime.settings, key=wanted
            )
            if known is None:
                raise bad_input(viewer.t("desk: unknown campaign {key}", key=wanted))
            # It exists but does not reach the viewer's regions: refused and audited.
            return await forbidden(
                viewer, action="campaigns", subject_type="campaign", detail={"key": wanted}
            )
    codes = {code for b in blocks for code in b.summary.regions}
    codes |= {line.code for b in blocks if b.report for line in b.report.regions}
    regions = await region_store.get_regions(session=viewer.session, codes=sorted(codes))
    t = viewer.translator
    names = {code: labels.region_name(t, region) for code, region in regions.items()}
    return render(
        viewer,
        "campaigns.html",
        blocks=blocks,
        one=bool(wanted),
        names=names,
        computed_at=data.at,
        state_names=campaign_text.STATE_NAMES,
        window_text=lambda report: campaign_text.window_text(t, report),
        dates_text=lambda s: t.span(s.start, s.end),
        regions_text=lambda s: _regions_text(viewer, s, names),
        figures=campaign_text.FIGURES,
        name_of=lambda s: name_of(viewer, s),
    )


def _regions_text(viewer: Viewer, summary: CampaignSummary, names: dict[str, str]) -> str:
    if not summary.regions:
        return viewer.t("everywhere")
    sep = ", " if viewer.translator.locale == "en" else "、"
    return sep.join(names.get(code, code) for code in summary.regions)


def name_of(viewer: Viewer, summary: CampaignSummary) -> str:
    """Return a campaign's name in the viewer's language (English falls back to Chinese)."""
    if viewer.translator.locale == "en" and summary.name_en:
        return summary.name_en
    return summary.name_zh


async def running_here(viewer: Viewer, region_code: str) -> list[tuple[str, str]]:
    """Return (key, name) of the campaigns running today that reach ``region_code``."""
    found = await service.running(
        session=viewer.session, settings=viewer.runtime.settings, day=viewer.today
    )
    prefix = [region_prefix(region_code)]
    english = viewer.translator.locale == "en"
    return [
        (c.key, (c.name_en or c.name_zh) if english else c.name_zh)
        for c in found
        if c.overlaps(prefix)
    ]


def routes() -> Sequence[DeskRoute]:
    """The campaigns page."""
    return [desk_page("campaigns", page, roles=sorted(CAMPAIGN_ROLES))]
