"""People: anyone who talked to the bot."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

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
