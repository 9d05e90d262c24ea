"""Shared setup for the stations tests: the Zhejiang sample, people, a small photo."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Awaitable, Callable
from typing import TypeVar

from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import make_station
from bot.sandbox.harness import RunningBot
from bot.sandbox.models import SimMessage
from bot.sandbox.world import SimUser
from bot.services import regions as region_service
from bot.services import roles as role_service
from storage.models import Station, StationEvidence

T = TypeVar("T")

XIHU, BINJIANG, HANGZHOU, NINGBO, HAISHU, ZHEJIANG = (
    "330106",
    "330108",
    "330100",
    "330200",
    "330203",
    "330000",
)


def png(color: str = "red") -> bytes:
    """Return a small PNG photo."""
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(buffer, format="PNG")
    return buffer.getvalue()


async def load_sample(session: AsyncSession, now: dt.datetime) -> None:
    """Import the shipped Zhejiang regions."""
    result = await region_service.import_sample(session=session, now=now)
    assert not result.errors


async def grant_coordinator(
    session: AsyncSession, telegram_id: int, region: str, now: dt.datetime
) -> None:
    await role_service.grant(
        session=session, telegram_id=telegram_id, role="coordinator", region_code=region, now=now
    )


async def complete_application(
    session: AsyncSession,
    *,
    applicant_id: int,
    region: str = XIHU,
    name: str = "西湖e站",
    status: str = "draft",
    now: dt.datetime,
) -> Station:
    """Store an application with every part filled in."""
    station = await make_station(
        session,
        name=name,
        venue_type="school",
        address="文三路1号",
        county=region,
        status=status,
        applicant_id=applicant_id,
        created_at=now,
    )
    assert station.id is not None
    for have in StationEvidence.HAVES:
        session.add(
            StationEvidence(station_id=station.id, have=have, text=f"{have} ok", created_at=now)
        )
    await session.flush()
    return station


async def settle_last(bot_env: RunningBot, user: SimUser) -> SimMessage:
    """Let the bot finish, then return its newest message to ``user``."""
    await bot_env.settle()
    return user.messages[-1]


def texts(user: SimUser) -> str:
    """Return every bot message to ``user`` joined (text or caption)."""
    return "\n".join((m.text or m.caption or "") for m in user.messages)


async def in_tx(bot_env: RunningBot, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``fn`` in one transaction next to the running bot."""
    async with bot_env.runtime.sessions() as session, session.begin():
        return await fn(session)
