"""Who is due a reminder: idle informants, idle stations, rectification deadlines, reviews."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import (
    Activity,
    AuditLog,
    Informant,
    OutboxMessage,
    Person,
    RoleGrant,
    ShareEvent,
    Station,
    StationReview,
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
        col(ShareEvent.informant_id) == Informant.id, col(ShareEvent.day) >= no_share_since
    )
    result = await session.execute(
        select(
            col(Informant.id),
            col(Person.id),
            col(Person.telegram_id),
            col(Person.language),
            col(Informant.real_name),
            col(Station.name),
        )
        .join(Person, col(Person.id) == Informant.person_id)
        .join(Station, col(Station.id) == Informant.station_id)
        .where(
            col(Informant.removed_at).is_(None),
            col(Informant.forgotten_at).is_(None),
            col(Informant.consent_at).is_not(None),
            col(Informant.paused).is_(False),
            col(Informant.joined_at) < joined_before,
            col(Person.unreachable).is_(False),
            col(Station.status).in_(list(station_states)),
            ~shared,
        )
        .order_by(col(Informant.id))
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
        col(Activity.station_id) == Station.id,
        col(Activity.held_on) >= no_activity_since,
        col(Activity.deleted_at).is_(None),
    )
    since = func.coalesce(col(Station.recognised_at), col(Station.created_at))
    result = await session.execute(
        select(col(Station.id), col(Station.name), col(Station.region_code))
        .where(col(Station.status).in_(list(station_states)), since < counted_before, ~ran)
        .order_by(col(Station.id))
    )
    return [StationRef(sid, name, code) for sid, name, code in result.all()]


async def rectifications(*, session: AsyncSession, until: dt.date) -> list[StationRef]:
    """Return stations under rectification whose deadline is on or before ``until``."""
    result = await session.execute(
        select(
            col(Station.id),
            col(Station.name),
            col(Station.region_code),
            col(Station.rectify_deadline),
        )
        .where(
            col(Station.status) == "rectifying",
            col(Station.rectify_deadline).is_not(None),
            col(Station.rectify_deadline) <= until,
        )
        .order_by(col(Station.id))
    )
    return [StationRef(sid, name, code, deadline) for sid, name, code, deadline in result.all()]


async def _contacts(
    *,
    session: AsyncSession,
    key: Any,
    role: str,
    keys: Sequence[Any],
    reachable_only: bool,
) -> dict[Any, list[Contact]]:
    """Return the holders of ``role`` whose grant column ``key`` is in ``keys``, by key."""
    if not keys:
        return {}
    conditions = [col(RoleGrant.role) == role, key.in_(list(keys))]
    if reachable_only:
        conditions.append(col(Person.unreachable).is_(False))
    result = await session.execute(
        select(
            key,
            col(Person.id),
            col(Person.telegram_id),
            col(Person.language),
            col(Person.first_name),
        )
        .join(Person, col(Person.id) == RoleGrant.person_id)
        .where(*conditions)
        .order_by(key, col(Person.id))
    )
    found: dict[Any, list[Contact]] = {}
    for value, pid, chat, lang, name in result.all():
        found.setdefault(value, []).append(Contact(pid, int(chat), lang, name))
    return found


async def station_admins(
    *, session: AsyncSession, station_ids: Sequence[int]
) -> dict[int, list[Contact]]:
    """Return the reachable admins of each station."""
    return await _contacts(
        session=session,
        key=col(RoleGrant.station_id),
        role="station_admin",
        keys=station_ids,
        reachable_only=True,
    )


async def coordinators_of(
    *, session: AsyncSession, region_codes: Sequence[str], reachable_only: bool = False
) -> dict[str, list[Contact]]:
    """Return the coordinators granted exactly each of ``region_codes``."""
    return await _contacts(
        session=session,
        key=col(RoleGrant.region_code),
        role="coordinator",
        keys=region_codes,
        reachable_only=reachable_only,
    )


async def recent_keys(*, session: AsyncSession, prefix: str, since: dt.datetime) -> list[str]:
    """Return outbox dedupe keys starting with ``prefix`` created at or after ``since``."""
    result = await session.execute(
        select(col(OutboxMessage.dedupe_key)).where(
            and_(
                col(OutboxMessage.dedupe_key).startswith(prefix),
                col(OutboxMessage.created_at) >= since,
            )
        )
    )
    return list(result.scalars())


# --- reviews waiting ----------------------------------------------------------------------
REVIEW_STATES = ("submitted", "county_approved")


@dataclass(frozen=True)
class WaitingReview:
    """A station application waiting for a review, and since when it waits at its stage.

    ``submitted`` waits for the county since it was submitted; ``county_approved`` waits for
    the city since the county approved it (its latest ``county_approve`` review row).
    """

    station_id: int
    name: str
    region_code: str | None
    status: str
    since: dt.datetime


async def waiting_reviews(
    *,
    session: AsyncSession,
    region_prefixes: Sequence[str] | None = None,
    statuses: Sequence[str] = REVIEW_STATES,
    limit: int | None = None,
    station_ids: Sequence[int] | None = None,
) -> list[WaitingReview]:
    """Return the applications waiting in ``statuses``, the longest waiting first.

    ``region_prefixes`` None means everywhere; an empty list means nowhere.
    ``station_ids`` keeps only those stations.
    """
    if region_prefixes is not None and not region_prefixes:
        return []
    approved = (
        select(
            col(StationReview.station_id).label("station_id"),
            func.max(col(StationReview.created_at)).label("at"),
        )
        .where(col(StationReview.decision) == "county_approve")
        .group_by(col(StationReview.station_id))
        .subquery()
    )
    submitted = func.coalesce(col(Station.submitted_at), col(Station.created_at))
    since = case(
        (col(Station.status) == "county_approved", func.coalesce(approved.c.at, submitted)),
        else_=submitted,
    )
    stmt = (
        select(
            col(Station.id),
            col(Station.name),
            col(Station.region_code),
            col(Station.status),
            since.label("since"),
        )
        .outerjoin(approved, approved.c.station_id == Station.id)
        .where(col(Station.status).in_(list(statuses)))
    )
    if region_prefixes is not None:
        stmt = stmt.where(_any_prefix(region_prefixes))
    if station_ids is not None:
        stmt = stmt.where(col(Station.id).in_(list(station_ids)))
    stmt = stmt.order_by(since, col(Station.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    result = await session.execute(stmt)
    return [
        WaitingReview(sid, name, code, status, _aware(at))
        for sid, name, code, status, at in result.all()
    ]


def _any_prefix(prefixes: Sequence[str]) -> Any:
    """Return "the station's region starts with one of ``prefixes``" as a condition."""
    condition = col(Station.region_code).startswith(prefixes[0])
    for prefix in prefixes[1:]:
        condition = condition | col(Station.region_code).startswith(prefix)
    return condition


def _aware(value: dt.datetime) -> dt.datetime:
    """Return a stored time as UTC-aware (SQLite gives it back naive)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


async def review_notices_sent(
    *, session: AsyncSession, actions: Sequence[str], station_ids: Sequence[int]
) -> set[tuple[int, str, str, str]]:
    """Return (station id, action, stage status, waiting since) of the recorded notices.

    Review reminders and escalations are recorded in the audit log (which is kept, unlike
    sent outbox rows), so a notice is sent once per waiting period however long it waits.
    """
    if not station_ids:
        return set()
    result = await session.execute(
        select(col(AuditLog.subject_id), col(AuditLog.action), col(AuditLog.detail)).where(
            col(AuditLog.action).in_(list(actions)),
            col(AuditLog.subject_type) == "station",
            col(AuditLog.subject_id).in_(list(station_ids)),
        )
    )
    return {
        (int(sid), action, str((detail or {}).get("status")), str((detail or {}).get("since")))
        for sid, action, detail in result.all()
        if sid is not None
    }


async def admins(*, session: AsyncSession) -> list[Contact]:
    """Return the reachable admins (who hear of a review no level above would)."""
    result = await session.execute(
        select(
            col(Person.id), col(Person.telegram_id), col(Person.language), col(Person.first_name)
        )
        .join(RoleGrant, col(RoleGrant.person_id) == Person.id)
        .where(col(RoleGrant.role) == "admin", col(Person.unreachable).is_(False))
        .order_by(col(Person.id))
    )
    return [Contact(pid, int(chat), lang, name) for pid, chat, lang, name in result.unique().all()]
