"""Helpers for the informants tests: stations, invites, a scripted join."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.sandbox.factories import make_region_tree, make_station
from bot.sandbox.harness import RunningBot
from bot.sandbox.models import SimMessage
from bot.sandbox.world import SimUser
from bot.services import invites as invite_service
from bot.services import roles as role_service
from storage.models import Informant, Person


async def setup_station(
    bot_env: RunningBot,
    *,
    name: str = "西湖区文化站",
    status: str = "recognised",
    regions: bool = True,
    **invite_kw: object,
) -> tuple[int, str]:
    """Create a station and an invite; return (station id, payload)."""
    async with bot_env.runtime.sessions() as s, s.begin():
        if regions:
            await make_region_tree(s)
        station = await make_station(s, name=name, status="recognised")
        assert station.id is not None
        info = await invite_service.create_invite(
            session=s,
            station_id=station.id,
            bot_username=bot_env.runtime.bot_username,
            actor_id=None,
            now=bot_env.runtime.now(),
            **invite_kw,  # type: ignore[arg-type]
        )
        station.status = status
    return station.id, info.payload


async def grant_station_admin(bot_env: RunningBot, user: SimUser, station_id: int) -> None:
    """Make ``user`` the admin of a station."""
    async with bot_env.runtime.sessions() as s, s.begin():
        await role_service.grant(
            session=s,
            telegram_id=user.id,
            role="station_admin",
            station_id=station_id,
            now=bot_env.runtime.now(),
        )


async def last(user: SimUser, bot_env: RunningBot) -> SimMessage:
    """Return the newest bot message to the user after the bot settled."""
    await bot_env.settle()
    return user.messages[-1]


def button_data(msg: SimMessage, startswith: str) -> str:
    """Return the callback data of the first button whose data starts with ``startswith``."""
    for row in msg.buttons:
        for button in row:
            if button.callback_data and button.callback_data.startswith(startswith):
                return button.callback_data
    raise LookupError(f"no button {startswith!r} in {msg.buttons}")


async def join(
    bot_env: RunningBot,
    user: SimUser,
    payload: str,
    *,
    name: str = "张三",
    phone: str = "+8613800000001",
    topics: tuple[str, ...] = ("health", "anti_fraud"),
) -> SimMessage:
    """Run the whole joining dialog; return the bot's last message."""
    await user.command("start", payload)
    consent = await last(user, bot_env)
    await user.press(consent, data="JN:agree")
    await user.send(name)
    await bot_env.settle()
    await user.send_contact(phone)
    topic_msg = await last(user, bot_env)
    for code in topics:
        await user.press(topic_msg, data=f"JN:int:{code}")
    await user.press(topic_msg, data="JN:done")
    confirm = await last(user, bot_env)
    await user.press(confirm, data="JN:ok")
    return await last(user, bot_env)


async def informant_of(bot_env: RunningBot, user: SimUser) -> Informant | None:
    """Return the user's informant row, if any."""
    async with bot_env.runtime.sessions() as s:
        result = await s.execute(
            select(Informant)
            .join(Person, Person.id == Informant.person_id)
            .where(Person.telegram_id == user.id)
        )
        return result.scalar_one_or_none()


def utc(*args: int) -> dt.datetime:
    """Return an aware UTC datetime."""
    return dt.datetime(*args, tzinfo=dt.UTC)
