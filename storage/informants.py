"""Informants: registration rows, the station roster, and generic personal-data lookups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from storage.models import Informant, Person, ShareEvent

# Tables the generic lookup skips: the bot's own bookkeeping, and the raw transport tables,
# whose rows are found by Telegram id instead (storage.inbox, storage.outbox).
_NOT_EXPORTED = frozenset({"inbox_update", "outbox_message", "lease", "job_run"})


@dataclass(frozen=True)
class RosterRow:
    """One informant in a station's roster."""

    informant: Informant
    last_seen_at: dt.datetime | None
    shares: int


async def get_by_person(*, session: AsyncSession, person_id: int) -> Informant | None:
    """Return the person's informant row (active or removed), if any."""
    result = await session.execute(
        select(Informant)
        .where(col(Informant.person_id) == person_id)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def get_informant(*, session: AsyncSession, informant_id: int) -> Informant | None:
    """Return an informant by id."""
    return await session.get(Informant, informant_id, populate_existing=True)


async def add_informant(*, session: AsyncSession, informant: Informant) -> Informant:
    """Insert a new informant row and return it with its id."""
    session.add(informant)
    await session.flush()
    return informant


async def update_informant(*, session: AsyncSession, informant_id: int, **values: Any) -> None:
    """Set columns of one informant."""
    await session.execute(
        update(Informant).where(col(Informant.id) == informant_id).values(**values)
    )


async def count_active(*, session: AsyncSession, station_id: int) -> int:
    """Return how many informants a station has now."""
    result = await session.execute(
        select(func.count())
        .select_from(Informant)
        .where(
            col(Informant.station_id) == station_id,
            col(Informant.removed_at).is_(None),
        )
    )
    return int(result.scalar_one())


async def roster(
    *,
    session: AsyncSession,
    station_id: int,
    month_start: dt.date,
    month_end: dt.date,
    offset: int,
    limit: int,
) -> Sequence[RosterRow]:
    """Return a page of a station's active informants with this month's share counts."""
    shares = (
        select(col(ShareEvent.informant_id), func.count().label("n"))
        .where(col(ShareEvent.day) >= month_start, col(ShareEvent.day) < month_end)
        .group_by(col(ShareEvent.informant_id))
        .subquery()
    )
    stmt = (
        select(Informant, col(Person.last_seen_at), func.coalesce(shares.c.n, 0))
        .outerjoin(Person, col(Person.id) == Informant.person_id)
        .outerjoin(shares, shares.c.informant_id == Informant.id)
        .where(col(Informant.station_id) == station_id, col(Informant.removed_at).is_(None))
        .order_by(col(Informant.joined_at), col(Informant.id))
        .offset(offset)
        .limit(limit)
    )
    result = await session.execute(stmt)
    return [RosterRow(inf, seen, int(n)) for inf, seen, n in result.all()]


def _row_dict(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


def _person_columns(table: Table) -> list[str]:
    """Return the columns of ``table`` that point at person.id."""
    return [
        col.name
        for col in table.columns
        if any(fk.column.table.name == "person" for fk in col.foreign_keys)
    ]


async def rows_about(
    *, session: AsyncSession, person_id: int, informant_ids: Sequence[int], telegram_id: int
) -> dict[str, list[dict[str, Any]]]:
    """Return every row of every table that refers to this person or their informant rows."""
    found: dict[str, list[dict[str, Any]]] = {}
    for table in SQLModel.metadata.sorted_tables:
        if table.name in _NOT_EXPORTED:
            continue
        conditions = [table.c[name] == person_id for name in _person_columns(table)]
        if table.name == "person":
            conditions.append(table.c.id == person_id)
        if informant_ids and "informant_id" in table.c:
            conditions.append(table.c.informant_id.in_(informant_ids))
        if table.name == "informant" and informant_ids:
            conditions.append(table.c.id.in_(informant_ids))
        if table.name == "dialog_state":
            conditions.append(table.c.user_id == telegram_id)
        if table.name == "audit_log":
            conditions.append(
                (table.c.subject_type == "person") & (table.c.subject_id == person_id)
            )
            if informant_ids:
                conditions.append(
                    (table.c.subject_type == "informant") & table.c.subject_id.in_(informant_ids)
                )
        if not conditions:
            continue
        result = await session.execute(select(table).where(or_(*conditions)))
        rows = [_row_dict(row) for row in result.all()]
        if rows:
            found[table.name] = rows
    return found
