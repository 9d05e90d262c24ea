"""Campaigns at the desk (issue #19): every campaign reaching the viewer's area.

The campaigns and figures come from ``bot.services.campaigns``: the campaigns reaching the
scope and their order are those of ``campaign_summaries`` (running first, then upcoming,
then ended; tested equal), and each started campaign's figures are its ``build_report``
(the one definition of ``storage.figures`` with the campaign filter), in total and by
city, computed once per campaign. Every block says its window: the campaign's dates, cut
at today while it runs.
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
from bot.reports import campaign as campaign_text
from bot.services import campaigns as service
from bot.services.access import region_prefix, visible_regions
from bot.services.campaigns import CampaignDef, CampaignReport, State
from storage import campaigns as campaign_store
from storage import regions as region_store

# Who sees campaigns: as the bot's /campaigns (curators and admins everywhere,
# coordinators those reaching their regions).
CAMPAIGN_ROLES = frozenset({"coordinator", "admin", "curator"})
EVERYWHERE_ROLES = frozenset({"admin", "curator"})
KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
CACHE_KEY = "campaigns"


@dataclass(frozen=True)
class CampaignBlock:
    """One campaign as the page shows it: its state, items and, once started, its report."""

    campaign: CampaignDef
    state: State
    items: int
    report: CampaignReport | None

    @property
    def key(self) -> str:
        """Return the campaign's key."""
        return self.campaign.key

    @property
    def regions(self) -> tuple[str, ...]:
        """Return the campaign's region codes (empty: everywhere)."""
        return self.campaign.regions


# The order of ``campaign_summaries`` (and so of the bot's /campaigns): running, upcoming,
# ended; running and upcoming by start, ended newest first. Tested to stay the same.
ORDER = {"running": 0, "upcoming": 1, "ended": 2}


def _order(block: CampaignBlock) -> tuple[int, int, str]:
    start = block.campaign.start.toordinal()
    return ORDER[block.state], -start if block.state == "ended" else start, block.key


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
    """Build every campaign's block: one ``build_report`` per started campaign.

    The same selection as ``campaign_summaries`` (campaigns whose regions overlap the
    scope) and the same order, but each report is computed once and kept whole, for its
    figures by city.
    """
    settings = viewer.runtime.settings
    session = viewer.session
    prefixes = list(scope) if scope is not None else None
    counts = await campaign_store.item_counts(session=session, now=viewer.now)
    blocks = []
    for campaign in await service.all_campaigns(session=session, settings=settings):
        if not campaign.overlaps(prefixes):
            continue
        state = campaign.state(viewer.today)
        report = None
        if state != "upcoming":
            report = await service.build_report(
                session=session,
                settings=settings,
                campaign=campaign,
                today=viewer.today,
                prefixes=prefixes,
                now=viewer.now,
            )
        blocks.append(CampaignBlock(campaign, state, counts.get(campaign.key, 0), report))
    blocks.sort(key=_order)
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
        cache = viewer.cache
        for old in [k for k in cache if isinstance(k, tuple) and k[:1] == (CACHE_KEY,)]:
            if viewer.now - cache[old].at >= ttl:
                del cache[old]  # expired entries of other scopes or days go too
        cache[key] = fresh
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
        blocks = [b for b in blocks if b.key == wanted]
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
    codes = {code for b in blocks for code in b.regions}
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
        dates_text=lambda b: campaign_text.dates_text(t, b.campaign),
        regions_text=lambda b: campaign_text.regions_text(t, b.campaign, names),
        figures=campaign_text.FIGURES,
        name_of=lambda b: b.campaign.name(t.locale),
    )


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
