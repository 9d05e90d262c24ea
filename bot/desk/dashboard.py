"""The dashboard: one region's week so far and its trend (docs/desk.md).

Figures come from ``bot.services.desk`` (the one definition); each block says its window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiohttp import web

from bot.desk import campaigns, labels
from bot.desk.nav import COORDINATING
from bot.desk.web import DeskRoute, Viewer, bad_input, desk_page, forbidden, render
from bot.i18n import N_
from bot.reports.chart import ChartSeries, render_trend_svg
from bot.services import desk as desk_service
from bot.services.access import can_view_region, visible_regions
from bot.services.figures import window_text
from storage import regions as region_store
from storage.figures import Window

TREND_TITLE = N_("desk: last {n} weeks ({span})")
SERIES = (
    ("volume", N_("Propagation volume"), "line"),
    ("shares", N_("desk: shares"), "line"),
    ("activities", N_("desk: activities"), "bar"),
    ("content_uses", N_("desk: content uses"), "bar"),
)


def region_code(viewer: Viewer, value: str) -> str:
    """Return ``value`` if it is a 6-digit region code; else refuse the request (400)."""
    if len(value) != 6 or not value.isdigit():
        raise bad_input(viewer.t("desk: {value} is not a region code", value=value[:20]))
    return value


async def page(request: web.Request, viewer: Viewer) -> str | web.StreamResponse:
    """The dashboard of the region asked for (``?region=``) or the viewer's first."""
    session = viewer.session
    visible = visible_regions(viewer.grants)
    choices = await desk_service.dashboard_regions(session=session, visible=visible)
    wanted = request.query.get("region", "").strip()
    if wanted:
        code = region_code(viewer, wanted)
        if not can_view_region(viewer.grants, code):
            return await forbidden(
                viewer, action="dashboard", subject_type="region", region_code=code
            )
        region = await region_store.get_region(session=session, code=code)
        if region is None:
            raise bad_input(viewer.t("desk: unknown region {code}", code=code))
    elif choices:
        region = choices[0]
    else:
        return render(viewer, "dashboard_empty.html")
    board = await desk_service.dashboard(
        session=session,
        region=region,
        today=viewer.today,
        now=viewer.now,
        settings=viewer.runtime.settings,
        cache=viewer.cache,
        sessions=viewer.runtime.sessions,
        clock=viewer.runtime.now,
    )
    t = viewer.translator
    trend = board.trend
    span = Window(trend[0].window.start, trend[-1].window.end, "range")
    weeks = [f"{p.window.start.month}/{p.window.start.day}" for p in trend]
    # Drawn in a worker thread (CPU-bound; renders are serialised): the loop stays free.
    chart = await asyncio.to_thread(
        render_trend_svg,
        weeks,
        [
            ChartSeries(
                t(label),
                [float(getattr(p, name) or 0) for p in trend],
                "bar" if kind == "bar" else "line",
            )
            for name, label, kind in SERIES
        ],
        t(TREND_TITLE, n=len(trend), span=t.span(span.start, span.end)),
    )
    child_codes = [c.region.code for c in board.children]
    station_regions = {s.region_code for s in [*board.top, *board.idle]}
    names = {
        code: labels.region_name(t, r)
        for code, r in (
            await region_store.get_regions(
                session=session, codes=sorted(set(child_codes) | station_regions)
            )
        ).items()
    }
    return render(
        viewer,
        "dashboard.html",
        board=board,
        region_label=labels.region_name(t, region),
        week_text=window_text(t, board.window, viewer.today),
        trend_text=t(TREND_TITLE, n=len(trend), span=t.span(span.start, span.end)),
        idle_text=t.span(board.idle_since, viewer.today),
        chart=chart,
        choices=[(r.code, labels.region_name(t, r)) for r in choices],
        names=names,
        labels=labels,
        coordinating=bool(viewer.roles & COORDINATING),
        campaigns=await campaigns.running_here(viewer, region.code),
    )


def routes() -> Sequence[DeskRoute]:
    """The dashboard page."""
    return [desk_page("dashboard", page, roles=sorted(COORDINATING))]
