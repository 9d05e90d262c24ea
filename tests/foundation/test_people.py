"""Identifying the sender: roles, informant flag, language, and few writes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import NOW, make_region_tree, make_station
from bot.services import roles as role_service
from bot.services.people import identify


async def who(session: AsyncSession, now: dt.datetime, **kw: object) -> object:
    params: dict[str, object] = {
        "telegram_id": 77,
        "first_name": "甲",
        "username": "jia",
        "language_code": "en-US",
        "default_locale": "zh_CN",
    }
    params.update(kw)
    return await identify(session=session, now=now, **params)  # type: ignore[arg-type]


async def test_identity_carries_roles_and_language(session: AsyncSession) -> None:
    await make_region_tree(session)
    station = await make_station(session)
    first = await who(session, NOW)
    assert first.locale == "en" and first.role_names == frozenset()  # type: ignore[attr-defined]
    await role_service.grant(
        session=session, telegram_id=77, role="station_admin", station_id=station.id, now=NOW
    )
    await role_service.grant(
        session=session, telegram_id=77, role="coordinator", region_code="330106", now=NOW
    )
    again = await who(session, NOW, language_code="zh-hans")
    assert again.role_names == {"station_admin", "coordinator"}  # type: ignore[attr-defined]
    assert again.locale == "zh_CN"  # type: ignore[attr-defined]


async def test_last_seen_is_written_only_when_stale_or_changed(session: AsyncSession) -> None:
    first = await who(session, NOW)
    soon = await who(session, NOW + dt.timedelta(minutes=2))
    assert soon.person.last_seen_at == NOW  # type: ignore[attr-defined]
    renamed = await who(session, NOW + dt.timedelta(minutes=3), first_name="甲乙")
    assert renamed.person.first_name == "甲乙"  # type: ignore[attr-defined]
    later = await who(session, NOW + dt.timedelta(minutes=20), first_name="甲乙")
    assert later.person.last_seen_at == NOW + dt.timedelta(minutes=20)  # type: ignore[attr-defined]
    assert first.person.id == later.person.id  # type: ignore[attr-defined]


async def test_blocking_the_bot_marks_unreachable_and_writing_again_clears_it(
    session: AsyncSession,
) -> None:
    from storage.people import get_person_by_telegram_id, mark_unreachable

    async def unreachable() -> bool:
        person = await get_person_by_telegram_id(session=session, telegram_id=77)
        assert person is not None
        await session.refresh(person)
        return person.unreachable

    # Blocking is the first thing the bot hears of a user: still recorded, unreachable.
    await who(session, NOW, blocked_bot=True)
    assert await unreachable() is True
    await who(session, NOW + dt.timedelta(minutes=1))  # writes again (unblocked, /start)
    assert await unreachable() is False
    # A refused push marked them first; the "kicked" update processed later keeps it so.
    await mark_unreachable(session=session, telegram_id=77)
    await who(session, NOW + dt.timedelta(minutes=2), blocked_bot=True)
    assert await unreachable() is True
