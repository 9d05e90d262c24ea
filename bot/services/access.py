"""Who may act where: role and region scope checks shared by every feature.

Region containment follows GB/T 2260: a province covers codes with its first two digits, a
city those with its first four (including 省直辖县 such as 429004 under 429000), a county
only itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.regions import LEVEL_PREFIX, level_of, region_contains, region_prefix
from storage import audit
from storage.models import AuditLog, RoleGrant

__all__ = ["LEVEL_PREFIX", "level_of", "region_contains", "region_prefix"]


def is_admin(grants: Iterable[RoleGrant]) -> bool:
    """Tell whether the grants include the global admin role."""
    return any(g.role == "admin" for g in grants)


def administered_station_ids(grants: Iterable[RoleGrant]) -> list[int]:
    """Return the stations the person administers."""
    return [g.station_id for g in grants if g.role == "station_admin" and g.station_id]


def can_admin_station(grants: Iterable[RoleGrant], station_id: int) -> bool:
    """Tell whether the person may act as admin of ``station_id``."""
    grants = list(grants)
    return is_admin(grants) or station_id in administered_station_ids(grants)


def coordinator_regions(grants: Iterable[RoleGrant]) -> list[str]:
    """Return the region codes the person coordinates."""
    return [g.region_code for g in grants if g.role == "coordinator" and g.region_code]


def coordinates(grants: Iterable[RoleGrant], region_code: str) -> bool:
    """Tell whether the person coordinates a region containing ``region_code``."""
    grants = list(grants)
    return is_admin(grants) or any(
        region_contains(code, region_code) for code in coordinator_regions(grants)
    )


def may_see_personal(
    grants: Iterable[RoleGrant], station_id: int, region_code: str | None
) -> bool:
    """Tell whether the person may see an informant's real name and phone number.

    As the privacy notice says: the station's admins and the coordinators of its region
    (各级科协). The system administrator role alone does not: it is not in the notice.
    """
    grants = list(grants)
    if station_id in administered_station_ids(grants):
        return True
    return region_code is not None and any(
        region_contains(code, region_code) for code in coordinator_regions(grants)
    )


# Which coordinator levels may take each station action (admins may take every action).
# County review is the county's alone; re-verification the city's (a city coordinator may
# NOT do the county stage); rectification is dynamic management by every level (各级科协);
# revocation undoes the city's recognition, so only the city or the province may revoke.
STATION_ACTION_LEVELS: dict[str, frozenset[str]] = {
    "county_approve": frozenset({"county"}),
    "county_reject": frozenset({"county"}),
    "city_recognise": frozenset({"city"}),
    "city_send_back": frozenset({"city"}),
    "rectify": frozenset({"county", "city", "province"}),
    "lift": frozenset({"county", "city", "province"}),
    "revoke": frozenset({"city", "province"}),
    "view": frozenset({"county", "city", "province"}),
}


def coordinator_grants(grants: Iterable[RoleGrant], levels: Iterable[str]) -> list[str]:
    """Return the region codes the person coordinates at one of ``levels``."""
    wanted = set(levels)
    return [code for code in coordinator_regions(grants) if level_of(code) in wanted]


def can_act_on_station(
    grants: Iterable[RoleGrant],
    action: str,
    region_code: str | None,
    station_id: int | None = None,
) -> bool:
    """Tell whether the person may take ``action`` on a station in ``region_code``."""
    grants = list(grants)
    if is_admin(grants):
        return True
    if (
        action == "view"
        and station_id is not None
        and station_id in administered_station_ids(grants)
    ):
        return True
    levels = STATION_ACTION_LEVELS.get(action)
    if levels is None or region_code is None:
        return False
    return any(region_contains(code, region_code) for code in coordinator_grants(grants, levels))


async def audit_refusal(
    *,
    session: AsyncSession,
    actor_id: int | None,
    action: str,
    reason: str,
    now: dt.datetime,
    subject_type: str | None = None,
    subject_id: int | None = None,
    region_code: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Audit a refused attempt (``allowed=False``): who, what, which object, why.

    The row is written in the update's own transaction; the caller answers the refusal and
    must not let an exception escape the handler, or the savepoint would take the row along.
    """
    return await audit.record(
        session=session,
        actor_id=actor_id,
        action=action,
        now=now,
        allowed=False,
        subject_type=subject_type,
        subject_id=subject_id,
        region_code=region_code,
        reason=reason,
        detail=detail,
    )


# The desk (Mini App, docs/desk.md) uses the same rules as the bot: a region is visible to
# admins and to coordinators of a region containing it; a station also to its own admins.
DESK_ROLES: frozenset[str] = frozenset(RoleGrant.ROLES)


def desk_roles(grants: Iterable[RoleGrant]) -> frozenset[str]:
    """Return the roles that open the desk (an informant alone sees nothing there)."""
    return frozenset(g.role for g in grants if g.role in DESK_ROLES)


def visible_regions(grants: Iterable[RoleGrant]) -> tuple[str, ...] | None:
    """Return the region codes whose figures the person may see; None means every region.

    Nested grants collapse to the outermost (a province grant covers its cities' grants).
    """
    grants = list(grants)
    if is_admin(grants):
        return None
    codes = sorted(set(coordinator_regions(grants)), key=lambda c: (len(region_prefix(c)), c))
    kept: list[str] = []
    for code in codes:
        if not any(region_contains(outer, code) for outer in kept):
            kept.append(code)
    return tuple(kept)


def can_view_region(grants: Iterable[RoleGrant], region_code: str) -> bool:
    """Tell whether the person may see the figures of ``region_code`` (admins: all)."""
    return coordinates(grants, region_code)
