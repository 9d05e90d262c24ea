"""Share events, their per-period aggregates, and integrity flags about them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage import figures
from storage.bulk import BulkInsert, DriverQuery, IdList
from storage.models import (
    ContentItem,
    Informant,
    IntegrityFlag,
    ShareEvent,
    Station,
    TrackedLink,
    table_of,
)
from storage.upsert import insert_ignoring

_SHARE = table_of(ShareEvent)

# Channels whose audience Telegram measured (group member counts); the rest are reported.
TELEGRAM_CHANNELS: tuple[str, ...] = figures.TELEGRAM_CHANNELS


async def insert_share(*, session: AsyncSession, values: dict[str, Any]) -> int | None:
    """Insert a share unless its dedupe key exists; return the new id or None."""
    stmt = (
        insert_ignoring(session, table_of(ShareEvent), ["dedupe_key"])
        .values(**values)
        .returning(table_of(ShareEvent).c.id)
    )
    row = (await session.execute(stmt)).first()
    return int(row[0]) if row is not None else None


async def set_audience(*, session: AsyncSession, share_ids: Sequence[int], audience: int) -> None:
    """Set the audience of shares whose reach was learned after they were recorded."""
    if share_ids:
        await session.execute(
            update(ShareEvent)
            .where(col(ShareEvent.id).in_(list(share_ids)))
            .values(audience=audience)
        )


async def count_since(*, session: AsyncSession, informant_id: int, since: dt.datetime) -> int:
    """Return how many shares an informant recorded since ``since``."""
    result = await session.execute(
        select(func.count())
        .select_from(ShareEvent)
        .where(
            col(ShareEvent.informant_id) == informant_id,
            col(ShareEvent.created_at) >= since,
        )
    )
    return int(result.scalar_one())


async def station_informants(
    *, session: AsyncSession, station_id: int
) -> list[tuple[int, str | None]]:
    """Return (id, real name) of a station's active informants."""
    result = await session.execute(
        select(col(Informant.id), col(Informant.real_name))
        .where(col(Informant.station_id) == station_id, col(Informant.removed_at).is_(None))
        .order_by(col(Informant.id))
    )
    return [(int(i), name) for i, name in result.all()]


async def recognised_stations(
    *, session: AsyncSession, region_prefix: str
) -> list[tuple[int, str]]:
    """Return (id, name) of recognised stations whose region starts with ``region_prefix``."""
    result = await session.execute(
        select(col(Station.id), col(Station.name))
        .where(
            col(Station.status) == "recognised",
            col(Station.region_code).startswith(region_prefix),
        )
        .order_by(col(Station.id))
    )
    return [(int(i), str(name)) for i, name in result.all()]


async def add_flag(
    *,
    session: AsyncSession,
    kind: str,
    station_id: int | None,
    region_code: str | None,
    subject_type: str,
    subject_id: int,
    detail: dict[str, Any],
    now: dt.datetime,
) -> None:
    """Raise an integrity flag for coordinators."""
    session.add(
        IntegrityFlag(
            kind=kind,
            station_id=station_id,
            region_code=region_code,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail,
            created_at=now,
        )
    )
    await session.flush()


async def content_id_by_title(*, session: AsyncSession, title: str) -> int | None:
    """Return the newest item whose Chinese or English title is exactly ``title``."""
    result = await session.execute(
        select(col(ContentItem.id))
        .where((col(ContentItem.title) == title) | (col(ContentItem.title_en) == title))
        .order_by(col(ContentItem.id).desc())
        .limit(1)
    )
    found = result.scalar_one_or_none()
    return int(found) if found is not None else None


async def content_id_by_code(*, session: AsyncSession, code: str) -> int | None:
    """Return the item a tracked-link code points at."""
    result = await session.execute(
        select(col(TrackedLink.content_id)).where(col(TrackedLink.code) == code)
    )
    found = result.scalar_one_or_none()
    return int(found) if found is not None else None


async def informant_ref(
    *, session: AsyncSession, person_id: int
) -> tuple[int, int, str | None, str | None] | None:
    """Return (informant id, station id, station region, station status) of an active informant."""
    result = await session.execute(
        select(
            col(Informant.id),
            col(Informant.station_id),
            col(Station.region_code),
            col(Station.status),
        )
        .join(Station, col(Station.id) == Informant.station_id)
        .where(col(Informant.person_id) == person_id, col(Informant.removed_at).is_(None))
    )
    row = result.first()
    return (int(row[0]), int(row[1]), row[2], row[3]) if row is not None else None


async def content_exists(*, session: AsyncSession, content_id: int) -> bool:
    """Tell whether a content item exists."""
    result = await session.execute(
        select(col(ContentItem.id)).where(col(ContentItem.id) == content_id)
    )
    return result.first() is not None


# The burst's lookups (``record_inline_shares``): statement texts run on the driver
# (``storage.bulk``), the ids in one parameter.
_RECENT_SHARES = (
    "(SELECT count(*) FROM share_event WHERE share_event.informant_id = informant.id "
    "AND share_event.created_at >= {since})"
)
_INFORMANTS = (
    "SELECT person.telegram_id, informant.id, informant.station_id, station.region_code, "
    "station.status, {recent} FROM person "
    "JOIN informant ON informant.person_id = person.id "
    "JOIN station ON station.id = informant.station_id "
    "WHERE person.telegram_id {among} AND informant.removed_at IS NULL"
)
_SQLITE_AMONG, _PG_AMONG = "IN (SELECT value FROM json_each(?1))", "= ANY($1::bigint[])"
_INFORMANTS_RECENT = DriverQuery(
    sqlite=_INFORMANTS.format(recent=_RECENT_SHARES.format(since="?2"), among=_SQLITE_AMONG),
    postgresql=_INFORMANTS.format(recent=_RECENT_SHARES.format(since="$2"), among=_PG_AMONG),
    params=(IdList, _SHARE.c.created_at),
)
_INFORMANTS_ONLY = DriverQuery(
    sqlite=_INFORMANTS.format(recent="0", among=_SQLITE_AMONG),
    postgresql=_INFORMANTS.format(recent="0", among=_PG_AMONG),
    params=(IdList,),
)
_CONTENT_IDS = DriverQuery(
    sqlite=f"SELECT id FROM content_item WHERE id {_SQLITE_AMONG}",
    postgresql=f"SELECT id FROM content_item WHERE id {_PG_AMONG}",
    params=(IdList,),
)


async def informants_by_telegram_id(
    *,
    session: AsyncSession,
    telegram_ids: Sequence[int],
    shares_since: dt.datetime | None = None,
) -> dict[int, tuple[int, int, str | None, str | None, int]]:
    """Return telegram id → (informant id, station id, region, status, recent shares).

    Active informants only. ``recent shares``: how many shares each recorded since
    ``shares_since`` (0 when it is None), counted in the same statement. It runs for every
    burst of shares, on the driver (``storage.bulk``).
    """
    if not telegram_ids:
        return {}
    ids = sorted(set(telegram_ids))
    if shares_since is None:
        rows = await _INFORMANTS_ONLY.rows(session, ids)
    else:
        rows = await _INFORMANTS_RECENT.rows(session, ids, shares_since)
    return {int(r[0]): (int(r[1]), int(r[2]), r[3], r[4], int(r[5])) for r in rows}


async def existing_content_ids(*, session: AsyncSession, content_ids: Sequence[int]) -> set[int]:
    """Return which of ``content_ids`` exist."""
    if not content_ids:
        return set()
    rows = await _CONTENT_IDS.rows(session, sorted(set(content_ids)))
    return {int(r[0]) for r in rows}


async def insert_shares(*, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert many shares, ignoring dedupe-key repeats; return how many were new.

    Each row names every column of ``_INSERT_SHARES``.
    """
    return len(await _INSERT_SHARES.run(session, rows))


_INSERT_SHARES = BulkInsert(
    _SHARE,
    [
        "informant_id",
        "station_id",
        "content_id",
        "channel",
        "target",
        "audience",
        "audience_reported",
        "chat_type",
        "flagged",
        "day",
        "dedupe_key",
        "created_at",
    ],
    conflict=["dedupe_key"],
    returning="id",
)


async def inline_chat_types(
    *, session: AsyncSession, informant_id: int, start: dt.date, end: dt.date
) -> dict[str | None, int]:
    """Return the informant's inline shares in [start, end) per chat type (None: unknown)."""
    result = await session.execute(
        select(col(ShareEvent.chat_type), func.count())
        .where(
            col(ShareEvent.informant_id) == informant_id,
            col(ShareEvent.channel) == "telegram_inline",
            col(ShareEvent.day) >= start,
            col(ShareEvent.day) < end,
        )
        .group_by(col(ShareEvent.chat_type))
    )
    return {chat_type: int(n) for chat_type, n in result.all()}
