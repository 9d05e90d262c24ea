"""People: anyone who talked to the bot."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from storage.models import Person, table_of
from storage.upsert import insert_for


async def upsert_person(
    *,
    session: AsyncSession,
    telegram_id: int,
    first_name: str | None,
    username: str | None,
    now: dt.datetime,
) -> Person:
    """Create or refresh the person for a Telegram user and return it."""
    stmt = insert_for(session, table_of(Person)).values(
        telegram_id=telegram_id,
        first_name=first_name,
        username=username,
        created_at=now,
        last_seen_at=now,
        unreachable=False,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["telegram_id"],
        set_={
            "first_name": first_name,
            "username": username,
            "last_seen_at": now,
            "unreachable": False,
        },
    )
    await session.execute(stmt)
    person = await get_person_by_telegram_id(session=session, telegram_id=telegram_id)
    assert person is not None
    return person


async def get_person_by_telegram_id(*, session: AsyncSession, telegram_id: int) -> Person | None:
    """Return the person with this Telegram id, if any."""
    result = await session.execute(
        select(Person)
        .where(col(Person.telegram_id) == telegram_id)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def get_person(*, session: AsyncSession, person_id: int) -> Person | None:
    """Return the person by id."""
    return await session.get(Person, person_id)


async def ensure_person(*, session: AsyncSession, telegram_id: int, now: dt.datetime) -> Person:
    """Return the person for ``telegram_id``, creating a bare record if needed (CLI grants)."""
    person = await get_person_by_telegram_id(session=session, telegram_id=telegram_id)
    if person is not None:
        return person
    person = Person(telegram_id=telegram_id, created_at=now)
    session.add(person)
    await session.flush()
    return person


async def set_language(*, session: AsyncSession, person_id: int, language: str) -> None:
    """Store the person's chosen language."""
    await session.execute(
        update(Person).where(col(Person.id) == person_id).values(language=language)
    )


async def mark_unreachable(*, session: AsyncSession, telegram_id: int) -> None:
    """Remember that the user blocked the bot."""
    await session.execute(
        update(Person).where(col(Person.telegram_id) == telegram_id).values(unreachable=True)
    )


def _references_to_person() -> list[Column[Any]]:
    """Return every column of every table that points at person.id."""
    return [
        column
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table.name == "person" for fk in column.foreign_keys)
    ]


async def is_referenced(*, session: AsyncSession, person_id: int) -> bool:
    """Tell whether any row (a grant, an audit entry, a station…) points at the person."""
    for column in _references_to_person():
        found = await session.execute(select(column).where(column == person_id).limit(1))
        if found.first() is not None:
            return True
    return False


async def erase_person(*, session: AsyncSession, person_id: int) -> bool:
    """Erase the person: delete the row, or, if other rows point at it, make it anonymous.

    An anonymous row keeps only its id and ``created_at``; its Telegram id becomes minus the
    row id (Telegram user ids are positive, so it can never match anyone). Return True if
    the row was deleted.
    """
    if not await is_referenced(session=session, person_id=person_id):
        await session.execute(delete(Person).where(col(Person.id) == person_id))
        return True
    await session.execute(
        update(Person)
        .where(col(Person.id) == person_id)
        .values(
            telegram_id=-person_id,
            first_name=None,
            username=None,
            language=None,
            unreachable=True,
            last_seen_at=None,
        )
    )
    return False
