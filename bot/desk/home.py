"""The desk's own pages: the menu fragment and "me" (who you are, what you may see)."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from bot.desk.nav import entries_for, start_page
from bot.desk.web import DeskRoute, Viewer, desk_page, render
from bot.services.access import visible_regions
from storage import regions as region_store


async def nav(request: web.Request, viewer: Viewer) -> str:
    """The menu, rendered for the viewer's roles, and the page to open first."""
    return render(
        viewer,
        "nav.html",
        entries=entries_for(viewer.roles),
        start=start_page(viewer.roles),
    )


async def home(request: web.Request, viewer: Viewer) -> str:
    """Who the viewer is: name, roles with their regions or stations."""
    regions = visible_regions(viewer.grants)
    codes = sorted({g.region_code for g in viewer.grants if g.region_code})
    found = await region_store.get_regions(session=viewer.session, codes=codes)
    names = {code: region.name for code, region in found.items()}
    return render(
        viewer,
        "home.html",
        grants=sorted(
            viewer.grants, key=lambda g: (g.role, g.region_code or "", g.station_id or 0)
        ),
        region_names=names,
        everywhere=regions is None,
    )


def routes() -> Sequence[DeskRoute]:
    """The pages of this module."""
    return [desk_page("nav", nav), desk_page("home", home)]
