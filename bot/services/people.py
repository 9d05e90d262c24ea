"""Who is talking to the bot: the person, their roles and language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.i18n import normalize_locale
from storage import people as people_store
from storage import roles as roles_store
from storage.models import Informant, Person, RoleGrant

SEEN_RESOLUTION = dt.timedelta(minutes=5)  # last_seen_at is kept to this precision


@dataclass(frozen=True)
class Identity:
    """A person with everything handlers need to decide what they may do."""

    person: Person
    grants: Sequence[RoleGrant]
    is_informant: bool
    locale: str

    @property
    def role_names(self) -> frozenset[str]:
        """Return the role names, plus ``informant`` for registered informants."""
        names = {grant.role for grant in self.grants}
        if self.is_informant:
            names.add("informant")
        return frozenset(names)


async def identify(
    *,
    session: AsyncSession,
    telegram_id: int,
    first_name: str | None,
    username: str | None,
    language_code: str | None,
    default_locale: str,
    now: dt.datetime,
    blocked_bot: bool = False,
) -> Identity:
    """Record that the user was seen and return their identity.

    ``blocked_bot``: the update says the user blocked the bot (a private ``my_chat_member``
    change to "kicked"). It is no sign of life: the person is marked unreachable instead of
    reachable again, whichever of this update and a refused push is processed first.
    """
    person = await people_store.get_person_by_telegram_id(session=session, telegram_id=telegram_id)
    if blocked_bot:
        if person is None:
            person = await people_store.upsert_person(
                session=session,
                telegram_id=telegram_id,
                first_name=first_name,
                username=username,
                now=now,
            )
        person.unreachable = True  # written with the update's transaction
    elif (
        person is None
        or person.first_name != first_name
        or person.username != username
        or person.unreachable
        or person.last_seen_at is None
        or now - person.last_seen_at > SEEN_RESOLUTION
    ):
        # Writing only when something changed keeps a busy update stream read-mostly.
        person = await people_store.upsert_person(
            session=session,
            telegram_id=telegram_id,
            first_name=first_name,
            username=username,
            now=now,
        )
    assert person.id is not None
    grants = await roles_store.roles_of(session=session, person_id=person.id)
    is_informant = (
        await session.execute(
            select(col(Informant.id)).where(
                col(Informant.person_id) == person.id, col(Informant.removed_at).is_(None)
            )
        )
    ).first() is not None
    locale = person.language or normalize_locale(language_code, default_locale)
    return Identity(person=person, grants=grants, is_informant=is_informant, locale=locale)
