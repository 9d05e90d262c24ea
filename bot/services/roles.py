"""Granting and revoking roles, with scope validation and audit."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import DomainError
from bot.core.regions import level_of, region_contains, region_prefix
from bot.i18n import N_, get_translator
from bot.services.access import (
    administered_station_ids,
    audit_refusal,
    coordinator_regions,
    is_admin,
)
from bot.services.desk_open import queue_menu_refresh
from storage import audit, people, roles
from storage import exports as export_store
from storage import regions as region_store
from storage.models import Person, Region, RoleGrant, Station
from storage.outbox import NewMessage, enqueue

ROLE_ALIASES = {"station-admin": "station_admin"}


class RoleError(DomainError, ValueError, area="role"):
    """A grant request is invalid; ``code`` says why, ``params`` fill the message."""


@dataclass(frozen=True)
class GrantResult:
    """The outcome of a grant or revoke."""

    grant: RoleGrant | None
    changed: bool


def _detail(
    role: str, station_id: int | None, telegram_id: int, via: str | None
) -> dict[str, object]:
    detail: dict[str, object] = {
        "role": role,
        "station_id": station_id,
        "telegram_id": telegram_id,
    }
    if via is not None:
        detail["via"] = via
    return detail


def normalize_role(role: str) -> str:
    """Map CLI spellings to stored role names."""
    role = ROLE_ALIASES.get(role, role)
    if role not in RoleGrant.ROLES:
        raise RoleError("unknown_role", role=role)
    return role


async def _check_scope(
    session: AsyncSession, role: str, region_code: str | None, station_id: int | None
) -> None:
    if role == "coordinator" and region_code is None:
        raise RoleError("region_required", role=role)
    if region_code is not None and await session.get(Region, region_code) is None:
        # On a fresh database the cause is that no regions were imported: say what to run.
        if not await region_store.any_region(session=session):
            raise RoleError("regions_not_imported", region=region_code)
        raise RoleError("unknown_region", region=region_code)
    if role == "station_admin":
        if station_id is None:
            raise RoleError("station_required", role=role)
        if await session.get(Station, station_id) is None:
            raise RoleError("unknown_station", station_id=station_id)
    elif station_id is not None:
        raise RoleError("station_not_allowed", role=role)


async def grant(
    *,
    session: AsyncSession,
    telegram_id: int,
    role: str,
    region_code: str | None = None,
    station_id: int | None = None,
    actor_id: int | None = None,
    now: dt.datetime,
    via: str | None = None,
) -> GrantResult:
    """Grant a role to the Telegram user (created if unknown), audited.

    ``via`` (``bot``, ``desk``) goes into the audit entry; the command line leaves it out.
    """
    role = normalize_role(role)
    await _check_scope(session, role, region_code, station_id)
    person = await people.ensure_person(session=session, telegram_id=telegram_id, now=now)
    assert person.id is not None
    grant_row, created = await roles.grant_role(
        session=session,
        person_id=person.id,
        role=role,
        region_code=region_code,
        station_id=station_id,
        granted_by=actor_id,
        now=now,
    )
    if created:
        await audit.record(
            session=session,
            actor_id=actor_id,
            action="role.grant",
            now=now,
            subject_type="person",
            subject_id=person.id,
            region_code=region_code,
            detail=_detail(role, station_id, telegram_id, via),
        )
        # The desk's menu button follows the roles, set after this commit (desk_open).
        await queue_menu_refresh(session=session, telegram_id=telegram_id, now=now)
    return GrantResult(grant=grant_row, changed=created)


async def revoke(
    *,
    session: AsyncSession,
    telegram_id: int,
    role: str,
    region_code: str | None = None,
    station_id: int | None = None,
    actor_id: int | None = None,
    now: dt.datetime,
    via: str | None = None,
) -> GrantResult:
    """Revoke a role, audited; unknown users or grants change nothing."""
    role = normalize_role(role)
    person = await people.get_person_by_telegram_id(session=session, telegram_id=telegram_id)
    if person is None or person.id is None:
        return GrantResult(grant=None, changed=False)
    removed = await roles.revoke_role(
        session=session,
        person_id=person.id,
        role=role,
        region_code=region_code,
        station_id=station_id,
    )
    if removed:
        await audit.record(
            session=session,
            actor_id=actor_id,
            action="role.revoke",
            now=now,
            subject_type="person",
            subject_id=person.id,
            region_code=region_code,
            detail=_detail(role, station_id, telegram_id, via),
        )
        await queue_menu_refresh(session=session, telegram_id=telegram_id, now=now)
    return GrantResult(grant=None, changed=bool(removed))


# --- delegation: who may grant what where (the bot's /grant and the desk's people page) ----

# Coordinator levels from the top; a coordinator grants only strictly lower levels.
LEVEL_RANK = {"province": 0, "city": 1, "county": 2}
# Roles that can be delegated; admin and curator only come from the command line.
DELEGABLE_ROLES: tuple[str, ...] = ("coordinator", "station_admin")
ROLE_TITLES: dict[str, str] = {
    "county": N_("county coordinator"),
    "city": N_("city coordinator"),
    "province": N_("province coordinator"),
    "station_admin": N_("station admin"),
    "coordinator": N_("coordinator"),
    "admin": N_("system administrator"),
    "curator": N_("content curator"),
}
GRANTED_NOTICE = N_("🎖 You are now {role} of {scope}. Send /help to see what you can do now.")
REVOKED_NOTICE = N_("Your role {role} of {scope} was withdrawn. Thank you for your work!")


# The refusals' wording (the same msgids as bot.core.error_text's role.* entries).
ROLE_REFUSALS: dict[str, str] = {
    "above_you": N_(
        "Sorry, you can only grant roles below your own level: a city coordinator "
        "appoints county coordinators, a province coordinator city or county ones."
    ),
    "outside_region": N_("Sorry, that is outside your region or your station."),
}


@dataclass(frozen=True)
class Actor:
    """Who grants: their person id and role grants."""

    person_id: int | None
    grants: tuple[RoleGrant, ...]


@dataclass(frozen=True)
class Delegation:
    """A grant or revoke as a delegate asks for it (a target level for coordinators)."""

    role: str  # coordinator | station_admin
    region_code: str | None = None
    station_id: int | None = None


def role_title(role: str, region_code: str | None) -> str:
    """Return the msgid naming a role, a coordinator's by the level of its region."""
    if role == "coordinator" and region_code:
        return ROLE_TITLES[level_of(region_code)]
    return ROLE_TITLES.get(role, role)


def grantable_levels(grants: Sequence[RoleGrant]) -> list[str]:
    """Return the coordinator levels the person may grant somewhere (admins: every level)."""
    if is_admin(grants):
        return list(LEVEL_RANK)
    ranks = [LEVEL_RANK[level_of(code)] for code in coordinator_regions(grants)]
    if not ranks:
        return []
    top = min(ranks)
    return [level for level, rank in LEVEL_RANK.items() if rank > top]


def may_delegate(
    grants: Sequence[RoleGrant], request: Delegation, station_region: str | None = None
) -> str | None:
    """Return None when the person may grant (or revoke) ``request``, else why not.

    A coordinator grants coordinators of a strictly lower level inside their region (county
    under a city, city or county under a province) and station admins of stations inside
    their region; a station admin grants co-admins of their own station. Admins grant
    anything; the administrator and curator roles come only from the command line.
    Reasons: ``not_delegable``, ``above_you``, ``outside_region``.
    """
    if is_admin(grants):
        return None
    if request.role not in DELEGABLE_ROLES:
        return "not_delegable"
    regions = coordinator_regions(grants)
    if request.role == "coordinator":
        target = request.region_code
        if target is None:
            return "outside_region"
        holding = [code for code in regions if region_contains(code, target)]
        if not holding:
            return "outside_region"
        rank = LEVEL_RANK[level_of(target)]
        if all(LEVEL_RANK[level_of(code)] >= rank for code in holding):
            return "above_you"
        return None
    if request.station_id is not None and any(
        g.role == "station_admin" and g.station_id == request.station_id for g in grants
    ):
        return None
    if station_region is not None and any(region_contains(c, station_region) for c in regions):
        return None
    return "outside_region"


async def _station_region(session: AsyncSession, station_id: int | None) -> str | None:
    if station_id is None:
        return None
    station = await session.get(Station, station_id)
    return station.region_code if station is not None else None


async def _refuse(
    session: AsyncSession,
    actor: Actor,
    action: str,
    reason: str,
    request: Delegation,
    telegram_id: int | None,
    now: dt.datetime,
    via: str,
) -> RoleError:
    await audit_refusal(
        session=session,
        actor_id=actor.person_id,
        action=action,
        reason=reason,
        now=now,
        subject_type="person",
        region_code=request.region_code,
        detail={
            "role": request.role,
            "station_id": request.station_id,
            "telegram_id": telegram_id,
            "via": via,
        },
    )
    return RoleError(reason, role=request.role)


async def _scope_name(session: AsyncSession, request: Delegation) -> str:
    if request.station_id is not None:
        station = await session.get(Station, request.station_id)
        return station.name if station is not None else str(request.station_id)
    if request.region_code is not None:
        region = await session.get(Region, request.region_code)
        return region.name if region is not None else request.region_code
    return ""


async def _notify(
    session: AsyncSession,
    person: Person,
    msgid: str,
    request: Delegation,
    key: str,
    default_locale: str,
    now: dt.datetime,
) -> None:
    """Tell the person in their language; sent by the outbox after the commit."""
    if person.telegram_id <= 0:
        return
    t = get_translator(person.language or default_locale)
    text = t(
        msgid,
        role=t(role_title(request.role, request.region_code)),
        scope=html.escape(await _scope_name(session, request), quote=False),
    )
    await enqueue(
        session=session,
        push_id=None,
        messages=[
            NewMessage(
                chat_id=person.telegram_id,
                kind="message",
                payload={"text": text},
                dedupe_key=key,
                due_at=now,
            )
        ],
        now=now,
    )


async def grant_as(
    *,
    session: AsyncSession,
    actor: Actor,
    telegram_id: int,
    request: Delegation,
    now: dt.datetime,
    via: str,
    default_locale: str = "zh_CN",
    notify_grantee: bool = True,
) -> GrantResult:
    """Grant ``request`` to the Telegram user if the actor may, audited; tell the grantee.

    ``notify_grantee=False`` when the grantee is answered directly (a co-admin invite they
    just accepted).

    A refusal is audited (``role.grant``, ``allowed=False``) and raised as RoleError: the
    caller answers it and must not let it roll the transaction back. A new grant enqueues
    the grantee's notice in the same transaction (sent after the commit).
    """
    role = normalize_role(request.role)
    request = Delegation(role, request.region_code, request.station_id)
    await _check_scope(session, role, request.region_code, request.station_id)
    station_region = await _station_region(session, request.station_id)
    reason = may_delegate(actor.grants, request, station_region)
    if reason is not None:
        raise await _refuse(session, actor, "role.grant", reason, request, telegram_id, now, via)
    result = await grant(
        session=session,
        telegram_id=telegram_id,
        role=role,
        region_code=request.region_code,
        station_id=request.station_id,
        actor_id=actor.person_id,
        now=now,
        via=via,
    )
    if notify_grantee and result.changed and result.grant is not None:
        person = await people.get_person(session=session, person_id=result.grant.person_id)
        if person is not None:
            key = f"role:grant:{result.grant.id}:{now.isoformat()}"
            await _notify(session, person, GRANTED_NOTICE, request, key, default_locale, now)
    return result


async def revoke_as(
    *,
    session: AsyncSession,
    actor: Actor,
    grant_id: int,
    now: dt.datetime,
    via: str,
    default_locale: str = "zh_CN",
) -> tuple[RoleGrant, Person]:
    """Revoke the grant ``grant_id`` if the actor may, audited; tell its holder.

    Refusals (``unknown_grant``, ``own_role`` and those of ``may_delegate``) are audited
    as ``role.revoke`` and raised as RoleError. Return the removed grant and its holder.
    """
    row = await session.get(RoleGrant, grant_id)
    if row is None:
        request = Delegation("?", None, None)
        raise await _refuse(
            session, actor, "role.revoke", "unknown_grant", request, None, now, via
        )
    request = Delegation(row.role, row.region_code, row.station_id)
    holder = await people.get_person(session=session, person_id=row.person_id)
    assert holder is not None  # the grant's foreign key
    if actor.person_id is not None and row.person_id == actor.person_id:
        raise await _refuse(
            session, actor, "role.revoke", "own_role", request, holder.telegram_id, now, via
        )
    reason = may_delegate(actor.grants, request, await _station_region(session, row.station_id))
    if reason is not None:
        raise await _refuse(
            session, actor, "role.revoke", reason, request, holder.telegram_id, now, via
        )
    await revoke(
        session=session,
        telegram_id=holder.telegram_id,
        role=row.role,
        region_code=row.region_code,
        station_id=row.station_id,
        actor_id=actor.person_id,
        now=now,
        via=via,
    )
    key = f"role:revoke:{grant_id}:{now.isoformat()}"
    await _notify(session, holder, REVOKED_NOTICE, request, key, default_locale, now)
    return row, holder


# --- what a delegate may pick (the /grant flow and the desk's people page) -----------------
Kind = Literal["county", "city", "station"]
KIND_TITLES: dict[str, str] = {
    "county": N_("county coordinator"),
    "city": N_("city coordinator"),
    "station": N_("station co-admin"),
}


def person_label(person: Person) -> str:
    """Return how a person is named on a button or a page (their Telegram name, no more)."""
    if person.first_name:
        return person.first_name + (f" (@{person.username})" if person.username else "")
    if person.username:
        return "@" + person.username
    return str(person.telegram_id)


def kind_choices(grants: Sequence[RoleGrant]) -> list[Kind]:
    """Return what the person may grant somewhere: coordinator levels, station co-admins."""
    levels = grantable_levels(grants)
    kinds: list[Kind] = [level for level in ("city", "county") if level in levels]
    if is_admin(grants) or coordinator_regions(grants) or administered_station_ids(grants):
        kinds.append("station")
    return kinds


def request_of(kind: str, region_code: str | None, station_id: int | None) -> Delegation:
    """Return the delegation a picked kind means (a coordinator level, or a co-admin)."""
    if kind == "station":
        return Delegation("station_admin", None, station_id)
    return Delegation("coordinator", region_code)


async def delegable_regions(
    *, session: AsyncSession, grants: Sequence[RoleGrant], level: str, limit: int = 500
) -> list[Region]:
    """Return the regions of ``level`` the person may appoint a coordinator in."""
    tops: list[str | None] = [None] if is_admin(grants) else list(coordinator_regions(grants))
    found: dict[str, Region] = {}
    frontier = tops
    for _depth in range(3):  # province → city → county
        following: list[str | None] = []
        for parent in frontier:
            for region in await region_store.children(session=session, parent_code=parent):
                if region.level == level:
                    found[region.code] = region
                elif region.level != "county":
                    following.append(region.code)
        frontier = following
        if not frontier or len(found) >= limit:
            break
    allowed = [
        r
        for r in found.values()
        if may_delegate(grants, Delegation("coordinator", r.code)) is None
    ]
    return sorted(allowed, key=lambda r: r.code)[:limit]


async def delegable_stations(
    *, session: AsyncSession, grants: Sequence[RoleGrant], limit: int = 500
) -> list[Station]:
    """Return the stations the person may appoint a co-admin of."""
    if is_admin(grants):
        prefixes: list[str] | None = None
    else:
        prefixes = [region_prefix(code) for code in coordinator_regions(grants)]
    own = administered_station_ids(grants)
    if prefixes is not None and not prefixes and not own:
        return []
    stations = await export_store.stations_in_scope(
        session=session, prefixes=prefixes, station_ids=own if prefixes is not None else None
    )
    return stations[:limit]
