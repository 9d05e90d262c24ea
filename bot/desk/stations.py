"""Stations: the list (search, filters, paging) and one station's page (docs/desk.md).

Scope is the bot's: coordinators see the stations of their regions, admins every station,
station admins their own (``bot.services.access``). Figures come from the one definition:
the current week live, past weeks from the weekly tally.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from bot.core.propagation import volume_over
from bot.desk import labels
from bot.desk.dashboard import region_code
from bot.desk.photos import photo_url
from bot.desk.web import (
    NOT_FOUND,
    DeskProblem,
    DeskRoute,
    Viewer,
    bad_input,
    desk_page,
    forbidden,
    render,
)
from bot.i18n import N_
from bot.reports.chart import ChartSeries, render_trend_svg
from bot.services import desk as desk_service
from bot.services.access import (
    administered_station_ids,
    can_act_on_station,
    can_view_region,
    region_prefix,
    visible_regions,
)
from bot.services.figures import window_text
from bot.services.finding_text import why
from bot.services.tally import shift_week, week_key
from storage import desk as desk_store
from storage import regions as region_store
from storage.figures import Window, station_figures
from storage.models import Station

ORDERS = ("name", "volume", "last_active")
SEARCH_MAX = 64
HISTORY_WEEKS = 12
SERIES = (
    ("volume", N_("Propagation volume"), "line"),
    ("shares_total", N_("desk: shares"), "line"),
    ("activities", N_("desk: activities"), "bar"),
    ("content_uses", N_("desk: content uses"), "bar"),
)
HISTORY_TITLE = N_("desk: last {n} weeks ({span})")


def _scope(viewer: Viewer) -> tuple[list[str] | None, list[int] | None]:
    """Return (region prefixes, station ids) the viewer's list covers (None: no limit)."""
    regions = visible_regions(viewer.grants)
    if regions is None:
        return None, None
    if regions:
        return [region_prefix(code) for code in regions], None
    return None, administered_station_ids(viewer.grants)


def station_ids_only(viewer: Viewer) -> bool:
    """Tell whether the viewer sees stations only as their admin (no region role)."""
    return visible_regions(viewer.grants) == ()


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "") in ("1", "on", "true")


async def list_page(request: web.Request, viewer: Viewer) -> str | web.StreamResponse:
    """The stations the viewer may see, one page at a time."""
    settings = viewer.runtime.settings
    q = request.query
    search = q.get("q", "").strip()[:SEARCH_MAX]
    status = q.get("status", "")
    if status and status not in Station.STATES:
        raise bad_input(viewer.t("desk: unknown status {status}", status=status[:24]))
    order = q.get("order", "name")
    if order not in ORDERS:
        order = "name"
    try:
        page_no = max(int(q.get("page", "1") or 1), 1)
    except ValueError as exc:
        raise bad_input(viewer.t("desk: page must be a number")) from exc
    prefixes, station_ids = _scope(viewer)
    region = q.get("region", "").strip()
    if region:
        region = region_code(viewer, region)
        if not can_view_region(viewer.grants, region):
            return await forbidden(
                viewer, action="stations", subject_type="region", region_code=region
            )
    idle = _flag(request, "idle")
    flagged = _flag(request, "flagged")
    size = settings.desk.page_size
    window = Window.week_of(viewer.today)
    rows, total, live = await desk_service.station_list(
        session=viewer.session,
        settings=settings,
        today=viewer.today,
        now=viewer.now,
        prefixes=prefixes,
        station_ids=station_ids,
        wanted=desk_service.StationFilter(
            search=search,
            status=status,
            region=region_prefix(region) if region else "",
            idle=idle,
            flagged=flagged,
            order=order,
        ),
        offset=(page_no - 1) * size,
        limit=size,
        cache=viewer.cache,
        sessions=viewer.runtime.sessions,
        clock=viewer.runtime.now,
    )
    counties = await _filter_regions(viewer, prefixes)
    names = await _names(viewer, [r.entry.region_code for r in rows])
    query: dict[str, Any] = {
        "q": search,
        "status": status,
        "region": region,
        "idle": "1" if idle else "",
        "flagged": "1" if flagged else "",
        "order": order if order != "name" else "",
    }
    pages = max((total + size - 1) // size, 1)
    return render(
        viewer,
        "stations.html",
        rows=rows,
        total=total,
        page_no=page_no,
        pages=pages,
        query=query,
        prev_query={**query, "page": page_no - 1 if page_no > 2 else ""},
        next_query={**query, "page": page_no + 1},
        states=[(s, labels.state_name(viewer.translator, s)) for s in Station.STATES],
        counties=counties,
        names=names,
        week_text=window_text(viewer.translator, window, viewer.today),
        idle_text=viewer.translator.span(
            desk_service.idle_since(viewer.today, settings), viewer.today
        ),
        labels=labels,
        orders=ORDERS,
        computed_at=live.computed_at,
    )


async def _filter_regions(viewer: Viewer, prefixes: Sequence[str] | None) -> list[tuple[str, str]]:
    """Return the counties (and cities) the region filter offers, within the viewer's scope."""
    if prefixes is None and station_ids_only(viewer):
        return []
    found = await desk_store.regions_under(session=viewer.session, prefixes=prefixes, limit=300)
    return [(r.code, labels.region_name(viewer.translator, r)) for r in found]


async def _names(viewer: Viewer, codes: Sequence[str]) -> dict[str, str]:
    regions = await region_store.get_regions(session=viewer.session, codes=sorted(set(codes)))
    return {code: labels.region_name(viewer.translator, r) for code, r in regions.items()}


async def station_page(request: web.Request, viewer: Viewer) -> str | web.StreamResponse:
    """One station: its week, history, activities, uses, informants, findings, decisions."""
    station_id = int(request.match_info["station_id"])
    session = viewer.session
    station = await session.get(Station, station_id)
    if station is None:
        raise DeskProblem(404, NOT_FOUND)
    if not can_act_on_station(viewer.grants, "view", station.region_code, station_id):
        return await forbidden(
            viewer,
            action="station",
            subject_type="station",
            subject_id=station_id,
            region_code=station.region_code,
        )
    settings = viewer.runtime.settings
    t = viewer.translator
    window = Window.week_of(viewer.today)
    (week,) = await station_figures(
        session=session,
        window=window,
        volume=volume_over(settings.propagation),
        states=None,
        station_ids=[station_id],
    )
    current = week_key(viewer.today)
    first = shift_week(current, -(HISTORY_WEEKS - 1))
    first_day = dt.date.fromisocalendar(int(first[:4]), int(first[6:]), 1)
    history = {
        row.week: row
        for row in await desk_store.station_history(
            session=session, station_id=station_id, since=first_day
        )
    }
    weeks = [shift_week(current, -n) for n in range(HISTORY_WEEKS - 1, 0, -1)]
    live = {
        "volume": week.volume,
        "shares_total": week.shares,
        "activities": week.activities,
        "content_uses": week.content_uses,
    }
    series = [
        ChartSeries(
            t(label),
            [float(getattr(history[w], name)) if w in history else 0.0 for w in weeks]
            + [float(live[name])],
            "bar" if kind == "bar" else "line",
        )
        for name, label, kind in SERIES
    ]
    span_start = first_day
    # Drawn in a worker thread (CPU-bound; renders are serialised): the loop stays free.
    chart = await asyncio.to_thread(
        render_trend_svg,
        [_week_label(w) for w in [*weeks, current]],
        series,
        t(HISTORY_TITLE, n=HISTORY_WEEKS, span=t.span(span_start, window.end)),
    )
    activities, photos = await desk_store.station_activities(
        session=session, station_id=station_id
    )
    uses = await desk_store.station_uses(session=session, station_id=station_id)
    findings = await desk_store.station_findings(session=session, station_id=station_id)
    reviews = await desk_store.station_reviews(session=session, station_id=station_id)
    decisions = await desk_store.station_decisions(session=session, station_id=station_id)
    informants = await desk_store.informant_count(session=session, station_id=station_id)
    region = (
        await region_store.get_region(session=session, code=station.region_code)
        if station.region_code
        else None
    )
    since = desk_service.idle_since(viewer.today, settings)
    return render(
        viewer,
        "station.html",
        station=station,
        region_label=labels.region_name(t, region, station.region_code or ""),
        week=week,
        week_text=window_text(t, window, viewer.today),
        history_text=t(HISTORY_TITLE, n=HISTORY_WEEKS, span=t.span(span_start, window.end)),
        chart=chart,
        activities=activities,
        photos={
            aid: [photo_url(viewer, p.id) for p in items if p.id is not None]
            for aid, items in photos.items()
        },
        uses=uses,
        findings=[(f, why(t, f)) for f in findings],
        reviews=reviews,
        decisions=decisions,
        informants=informants,
        idle=desk_service.is_idle(week, since),
        labels=labels,
    )


def _week_label(week: str) -> str:
    monday = dt.date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    return f"{monday.month}/{monday.day}"


def routes() -> Sequence[DeskRoute]:
    """The stations list and the station page."""
    roles = ["coordinator", "admin", "station_admin"]
    return [
        desk_page("stations", list_page, roles=roles),
        desk_page("stations/{station_id:\\d+}", station_page, roles=roles),
    ]
