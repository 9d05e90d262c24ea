"""Who is due a reminder: idle informants, idle stations, rectification deadlines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Activity,
    Informant,
    OutboxMessage,
    Person,
    RoleGrant,
    ShareEvent,
    Station,
)


@dataclass(frozen=True)
class Contact:
    """Someone to write to."""

    person_id: int
    chat_id: int
    language: str | None
    name: str | None = None


@dataclass(frozen=True)
class StationRef:
    """A station a reminder is about."""

    id: int
    name: str
    region_code: str | None
    deadline: dt.date | None = None


async def idle_informants(
    *,
    session: AsyncSession,
    no_share_since: dt.date,
    joined_before: dt.datetime,
    station_states: Sequence[str],
) -> list[tuple[int, Contact, str]]:
    """Return (informant id, contact, station name) of reachable informants without a share
    on or after ``no_share_since`` who joined before ``joined_before``."""
    shared = exists().where(
        ShareEvent.informant_id == Informant.id, ShareEvent.day >= no_share_since
    )  # type: ignore[operator]
    result = await session.execute(
        select(
            Informant.id,
            Person.id,
            Person.telegram_id,
            Person.language,
            Informant.real_name,
            Station.name,
        )
        .join(Person, Person.id == Informant.person_id)
        .join(Station, Station.id == Informant.station_id)
        .where(
            Informant.removed_at.is_(None),
            Informant.forgotten_at.is_(None),  # type: ignore[union-attr]
            Informant.consent_at.is_not(None),
            Informant.paused.is_(False),  # type: ignore[union-attr, attr-defined]
            Informant.joined_at < joined_before,  # type: ignore[operator]
            Person.unreachable.is_(False),  # type: ignore[attr-defined]
            Station.status.in_(list(station_states)),  # type: ignore[attr-defined]
            ~shared,
        )
        .order_by(Informant.id)
    )
    return [
        (iid, Contact(pid, int(chat), lang, name), station)
        for iid, pid, chat, lang, name, station in result.all()
    ]


async def idle_stations(
    *,
    session: AsyncSession,
    no_activity_since: dt.date,
    counted_before: dt.datetime,
    station_states: Sequence[str],
) -> list[StationRef]:
    """Return counted stations (for long enough) with no activity since ``no_activity_since``."""
    ran = exists().where(
        Activity.station_id == Station.id,
        Activity.held_on >= no_activity_since,  # type: ignore[operator]
        Activity.deleted_at.is_(None),
    )  # type: ignore[union-attr]
    since = func.coalesce(Station.recognised_at, Station.created_at)
    result = await session.execute(
        select(Station.id, Station.name, Station.region_code)
        .where(Station.status.in_(list(station_states)), since < counted_before, ~ran)  # type: ignore[attr-defined]
        .order_by(Station.id)
    )
    return [StationRef(sid, name, code) for sid, name, code in result.all()]


async def rectifications(*, session: AsyncSession, until: dt.date) -> list[StationRef]:
    """Return stations under rectification whose deadline is on or before ``until``."""
    result = await session.execute(
        select(Station.id, Station.name, Station.region_code, Station.rectify_deadline)
        .where(
            Station.status == "rectifying",
            Station.rectify_deadline.is_not(None),  # type: ignore[union-attr]
            Station.rectify_deadline <= until,
        )  # type: ignore[operator]
        .order_by(Station.id)
    )
    return [StationRef(sid, name, code, deadline) for sid, name, code, deadline in result.all()]


async def station_admins(
    *, session: AsyncSession, station_ids: Sequence[int]
) -> dict[int, list[Contact]]:
    """Return the reachable admins of each station."""
    if not station_ids:
        return {}
    result = await session.execute(
        select(
            RoleGrant.station_id, Person.id, Person.telegram_id, Person.language, Person.first_name
        )
        .join(Person, Person.id == RoleGrant.person_id)
        .where(
            RoleGrant.role == "station_admin",
            RoleGrant.station_id.in_(list(station_ids)),  # type: ignore[union-attr]
            Person.unreachable.is_(False),
        )  # type: ignore[attr-defined]
        .order_by(RoleGrant.station_id, Person.id)
    )
    admins: dict[int, list[Contact]] = {}
    for sid, pid, chat, lang, name in result.all():
        admins.setdefault(sid, []).append(Contact(pid, int(chat), lang, name))
    return admins


async def coordinators_of(
    *, session: AsyncSession, region_codes: Sequence[str]
) -> dict[str, list[Contact]]:
    """Return the coordinators granted exactly each of ``region_codes``."""
    if not region_codes:
        return {}
    result = await session.execute(
        select(
            RoleGrant.region_code,
            Person.id,
            Person.telegram_id,
            Person.language,
            Person.first_name,
        )
        .join(Person, Person.id == RoleGrant.person_id)
        .where(RoleGrant.role == "coordinator", RoleGrant.region_code.in_(list(region_codes)))  # type: ignore[union-attr]
        .order_by(RoleGrant.region_code, Person.id)
    )
    found: dict[str, list[Contact]] = {}
    for code, pid, chat, lang, name in result.all():
        found.setdefault(code, []).append(Contact(pid, int(chat), lang, name))
    return found


async def recent_keys(*, session: AsyncSession, prefix: str, since: dt.datetime) -> list[str]:
    """Return outbox dedupe keys starting with ``prefix`` created at or after ``since``."""
    result = await session.execute(
        select(OutboxMessage.dedupe_key).where(
            and_(
                OutboxMessage.dedupe_key.startswith(prefix),  # type: ignore[attr-defined]
                OutboxMessage.created_at >= since,
            )
        )  # type: ignore[operator]
    )
    return list(result.scalars())
