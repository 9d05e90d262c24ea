"""Rows of the exports (shares, content uses, the roster) and the people holding roles.

Every query takes the same scope: ``prefixes`` (region code prefixes, None = everywhere),
``station_ids`` (None = any station) and ``statuses`` (station states, None = any). The
figures of the stations sheet and the roster's shares come from ``storage.figures``; these
are the rows behind them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.db import rowcount
from storage.figures import region_filter
from storage.models import (
    ContentItem,
    ContentUse,
    DeskDownload,
    Informant,
    Person,
    Region,
    RoleGrant,
    ShareEvent,
    Station,
)


@dataclass(frozen=True)
class ShareRow:
    """One recorded share with its station and content (no personal data)."""

    share_id: int
    day: dt.date
    station_id: int
    station_name: str
    region_code: str
    county_name: str
    content_title: str
    channel: str
    audience: int
    flagged: bool
    informant_id: int


@dataclass(frozen=True)
class UseRow:
    """One offline use of content by a station."""

    use_id: int
    used_on: dt.date
    station_id: int
    station_name: str
    region_code: str
    county_name: str
    content_title: str
    use_kind: str
    place: str
    audience: int


@dataclass(frozen=True)
class RosterEntry:
    """One current informant; ``real_name`` and ``phone`` are personal data."""

    informant_id: int
    station_id: int
    station_name: str
    region_code: str
    county_name: str
    real_name: str | None
    phone: str | None
    joined_at: dt.datetime
    last_active_at: dt.datetime | None
    paused: bool


@dataclass(frozen=True)
class HeldRole:
    """A role grant with its holder and, for a station admin, the station."""

    grant: RoleGrant
    person: Person
    station: Station | None


def scope_condition(prefixes: Sequence[str] | None, station_ids: Sequence[int] | None) -> Any:
    """Return the condition on Station of a scope: under a prefix OR one of the stations.

    None for either means no limit from it; both None: everywhere (returns None).
    """
    if prefixes is None and station_ids is None:
        return None
    parts: list[Any] = []
    if prefixes:
        parts.append(region_filter(col(Station.region_code), prefixes))
    if station_ids:
        parts.append(col(Station.id).in_(list(station_ids)))
    if not parts:
        return col(Station.id).is_(None)  # an empty scope: nothing
    return or_(*parts)


def _scope(
    prefixes: Sequence[str] | None,
    station_ids: Sequence[int] | None,
    statuses: Sequence[str] | None,
) -> list[Any]:
    conditions: list[Any] = []
    inside = scope_condition(prefixes, station_ids)
    if inside is not None:
        conditions.append(inside)
    if statuses is not None:
        conditions.append(col(Station.status).in_(list(statuses)))
    return conditions


async def _with_station_and_content(
    session: AsyncSession,
    model: type[ShareEvent] | type[ContentUse],
    day: Any,
    date_from: dt.date,
    date_to: dt.date,
    scope: list[Any],
) -> list[Any]:
    """Return (row, station name, region code, county name, content title) of ``model``'s
    rows whose ``day`` is between two days (inclusive), by region, station, day and id."""
    result = await session.execute(
        select(
            model,
            col(Station.name),
            col(Station.region_code),
            col(Region.name),
            col(ContentItem.title),
        )
        .join(Station, col(Station.id) == model.station_id)
        .outerjoin(Region, col(Region.code) == Station.region_code)
        .join(ContentItem, col(ContentItem.id) == model.content_id)
        .where(day >= date_from, day <= date_to, *scope)
        .order_by(col(Station.region_code), col(Station.name), day, col(model.id))
    )
    return list(result.all())


async def share_rows(
    *,
    session: AsyncSession,
    date_from: dt.date,
    date_to: dt.date,
    prefixes: Sequence[str] | None = None,
    station_ids: Sequence[int] | None = None,
    statuses: Sequence[str] | None = None,
) -> list[ShareRow]:
    """Return the shares recorded between two days (inclusive), on the station recorded."""
    rows = await _with_station_and_content(
        session,
        ShareEvent,
        col(ShareEvent.day),
        date_from,
        date_to,
        _scope(prefixes, station_ids, statuses),
    )
    return [
        ShareRow(
            share_id=share.id or 0,
            day=share.day,
            station_id=share.station_id,
            station_name=name,
            region_code=code or "",
            county_name=county or "",
            content_title=title,
            channel=share.channel,
            audience=share.audience,
            flagged=share.flagged,
            informant_id=share.informant_id,
        )
        for share, name, code, county, title in rows
    ]


async def use_rows(
    *,
    session: AsyncSession,
    date_from: dt.date,
    date_to: dt.date,
    prefixes: Sequence[str] | None = None,
    station_ids: Sequence[int] | None = None,
    statuses: Sequence[str] | None = None,
) -> list[UseRow]:
    """Return the content uses of stations between two days (inclusive)."""
    rows = await _with_station_and_content(
        session,
        ContentUse,
        col(ContentUse.used_on),
        date_from,
        date_to,
        _scope(prefixes, station_ids, statuses),
    )
    return [
        UseRow(
            use_id=use.id or 0,
            used_on=use.used_on,
            station_id=use.station_id,
            station_name=name,
            region_code=code or "",
            county_name=county or "",
            content_title=title,
            use_kind=use.use_kind,
            place=use.place or "",
            audience=use.audience,
        )
        for use, name, code, county, title in rows
    ]


async def roster_rows(
    *,
    session: AsyncSession,
    prefixes: Sequence[str] | None = None,
    station_ids: Sequence[int] | None = None,
    statuses: Sequence[str] | None = None,
    joined_before: dt.datetime | None = None,
) -> list[RosterEntry]:
    """Return the current informants (not removed, not forgotten) of the stations in scope.

    ``joined_before``: only those registered before this instant (the end of the window).
    """
    conditions = [
        col(Informant.removed_at).is_(None),
        col(Informant.forgotten_at).is_(None),
        col(Informant.consent_at).is_not(None),
        *_scope(prefixes, station_ids, statuses),
    ]
    if joined_before is not None:
        conditions.append(col(Informant.joined_at) < joined_before)
    result = await session.execute(
        select(Informant, col(Station.name), col(Station.region_code), col(Region.name))
        .join(Station, col(Station.id) == Informant.station_id)
        .outerjoin(Region, col(Region.code) == Station.region_code)
        .where(and_(*conditions))
        .order_by(
            col(Station.region_code),
            col(Station.name),
            col(Informant.joined_at),
            col(Informant.id),
        )
    )
    return [
        RosterEntry(
            informant_id=inf.id or 0,
            station_id=inf.station_id,
            station_name=name,
            region_code=code or "",
            county_name=county or "",
            real_name=inf.real_name,
            phone=inf.phone,
            joined_at=inf.joined_at,
            last_active_at=inf.last_active_at,
            paused=inf.paused,
        )
        for inf, name, code, county in result.all()
    ]


async def roles_in_scope(
    *,
    session: AsyncSession,
    prefixes: Sequence[str] | None,
    station_ids: Sequence[int] | None = None,
    roles: Sequence[str] = ("coordinator", "station_admin"),
) -> list[HeldRole]:
    """Return the grants of ``roles`` inside the scope, with holders and stations.

    A coordinator's grant is inside when its region is under a prefix; a station admin's
    when the station's region is under a prefix or the station is one of ``station_ids``.
    ``prefixes`` None means everywhere.
    """
    stmt = (
        select(RoleGrant, Person, Station)
        .join(Person, col(Person.id) == RoleGrant.person_id)
        .outerjoin(Station, col(Station.id) == RoleGrant.station_id)
        .where(col(RoleGrant.role).in_(list(roles)))
    )
    if prefixes is not None:
        inside: list[Any] = []
        by_region = region_filter(col(RoleGrant.region_code), prefixes)
        by_station = region_filter(col(Station.region_code), prefixes)
        if prefixes:
            inside += [by_region, by_station]
        if station_ids:
            inside.append(col(RoleGrant.station_id).in_(list(station_ids)))
        if not inside:
            return []
        stmt = stmt.where(or_(*inside))
    elif station_ids is not None:
        stmt = stmt.where(col(RoleGrant.station_id).in_(list(station_ids)))
    result = await session.execute(
        stmt.order_by(
            col(RoleGrant.role),
            col(RoleGrant.region_code),
            col(RoleGrant.station_id),
            col(Person.id),
        )
    )
    return [HeldRole(grant, person, station) for grant, person, station in result.all()]


async def stations_in_scope(
    *,
    session: AsyncSession,
    prefixes: Sequence[str] | None,
    station_ids: Sequence[int] | None = None,
    statuses: Sequence[str] | None = None,
) -> list[Station]:
    """Return the stations inside the scope (a prefix OR a station), by region and name."""
    conditions = _scope(prefixes, station_ids, statuses)
    result = await session.execute(
        select(Station).where(*conditions).order_by(col(Station.region_code), col(Station.name))
    )
    return list(result.scalars().all())


async def station_informant_people(
    *, session: AsyncSession, station_id: int
) -> list[tuple[Informant, Person]]:
    """Return the station's current informants with their person rows (co-admin choices)."""
    result = await session.execute(
        select(Informant, Person)
        .join(Person, col(Person.id) == Informant.person_id)
        .where(
            col(Informant.station_id) == station_id,
            col(Informant.removed_at).is_(None),
            col(Informant.forgotten_at).is_(None),
        )
        .order_by(col(Informant.joined_at), col(Informant.id))
    )
    return [(inf, person) for inf, person in result.all()]


async def person_by_username(*, session: AsyncSession, username: str) -> Person | None:
    """Return the person whose Telegram username is ``username`` (without @, any case)."""
    result = await session.execute(
        select(Person)
        .where(func.lower(col(Person.username)) == username.lstrip("@").lower())
        .limit(2)
    )
    found = result.scalars().all()
    return found[0] if len(found) == 1 else None


# --- one-time download links -------------------------------------------------------------
async def add_download(
    *,
    session: AsyncSession,
    token_hash: str,
    person_id: int,
    params: dict[str, Any],
    filename: str,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> DeskDownload:
    """Store a download link (expired links of anyone are deleted on the way)."""
    await session.execute(delete(DeskDownload).where(col(DeskDownload.expires_at) <= now))
    row = DeskDownload(
        token_hash=token_hash,
        person_id=person_id,
        params=params,
        filename=filename,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return row


async def take_download(
    *, session: AsyncSession, token_hash: str, now: dt.datetime
) -> DeskDownload | None:
    """Mark the link used and return it, if it exists, is unused and has not expired.

    One conditional UPDATE: of two requests racing for one link, only one gets it.
    """
    taken = await session.execute(
        update(DeskDownload)
        .where(
            col(DeskDownload.token_hash) == token_hash,
            col(DeskDownload.used_at).is_(None),
            col(DeskDownload.expires_at) > now,
        )
        .values(used_at=now)
    )
    if not rowcount(taken):
        return None
    result = await session.execute(
        select(DeskDownload)
        .where(col(DeskDownload.token_hash) == token_hash)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def peek_download(*, session: AsyncSession, token_hash: str) -> DeskDownload | None:
    """Return the link without using it (HEAD requests)."""
    result = await session.execute(
        select(DeskDownload).where(col(DeskDownload.token_hash) == token_hash)
    )
    return result.scalar_one_or_none()
