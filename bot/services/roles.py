"""Granting and revoking roles, with scope validation and audit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import DomainError
from bot.services.desk_open import queue_menu_refresh
from storage import audit, people, roles
from storage import regions as region_store
from storage.models import Region, RoleGrant, Station

ROLE_ALIASES = {"station-admin": "station_admin"}


class RoleError(DomainError, ValueError, area="role"):
    """A grant request is invalid; ``code`` says why, ``params`` fill the message."""


@dataclass(frozen=True)
class GrantResult:
    """The outcome of a grant or revoke."""

    grant: RoleGrant | None
    changed: bool


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
) -> GrantResult:
    """Grant a role to the Telegram user (created if unknown), audited."""
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
            detail={"role": role, "station_id": station_id, "telegram_id": telegram_id},
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
            detail={"role": role, "station_id": station_id, "telegram_id": telegram_id},
        )
        await queue_menu_refresh(session=session, telegram_id=telegram_id, now=now)
    return GrantResult(grant=None, changed=bool(removed))
