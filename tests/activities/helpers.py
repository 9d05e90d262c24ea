"""Helpers for the activities tests: a recognised station with an admin, small PNG photos."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import make_region_tree, make_station
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimUser
from bot.services import roles as role_service
from storage.models import Activity, ActivityPhoto, IntegrityFlag


def png(seed: int, size: int = 64) -> bytes:
    """Return a small PNG whose bytes (hence file_unique_id) depend on ``seed``."""
    image = Image.new("RGB", (size, size), ((seed * 37) % 256, (seed * 91) % 256, seed % 256))
    image.putpixel((seed % size, (seed // size) % size), (255, 255, 255))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


async def setup_admin(
    bot_env: RunningBot, name: str = "站长", *, stations: int = 1, regions: bool = True
) -> tuple[SimUser, list[int]]:
    """Create regions, recognised station(s) and a station admin user; return user and ids."""
    user = bot_env.sandbox.user(name)
    ids = []
    async with bot_env.runtime.sessions() as s, s.begin():
        if regions:
            await make_region_tree(s)
        for i in range(stations):
            station = await make_station(
                s, name=["西湖区文化站", "滨江科普站"][i], county=["330106", "330108"][i]
            )
            assert station.id is not None
            ids.append(station.id)
            await role_service.grant(
                session=s,
                telegram_id=user.id,
                role="station_admin",
                station_id=station.id,
                now=bot_env.runtime.now(),
            )
    return user, ids


async def activities(bot_env: RunningBot) -> list[Activity]:
    async with bot_env.runtime.sessions() as s:
        return list((await s.execute(select(Activity).order_by(Activity.id))).scalars())


async def photos(bot_env: RunningBot, activity_id: int) -> list[ActivityPhoto]:
    async with bot_env.runtime.sessions() as s:
        return list(
            (
                await s.execute(
                    select(ActivityPhoto).where(ActivityPhoto.activity_id == activity_id)
                )
            ).scalars()
        )


async def flags(bot_env: RunningBot) -> list[IntegrityFlag]:
    async with bot_env.runtime.sessions() as s:
        return list((await s.execute(select(IntegrityFlag).order_by(IntegrityFlag.id))).scalars())


async def session_of(bot_env: RunningBot) -> AsyncSession:
    return bot_env.runtime.sessions()
