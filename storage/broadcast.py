"""Paid broadcasts of pushes: each opted-in push's Stars budget and what it spent.

A ``push_broadcast`` row exists for a push the curator opted into paid broadcasts. Each
message sent with ``allow_paid_broadcast`` is first *reserved* here in one ``UPDATE … WHERE
within budget RETURNING`` statement, so however many senders share the push, it never
spends more than its budget; a send Telegram refused gives its reservation back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import PushBroadcast, table_of

_T = table_of(PushBroadcast)
ON = "on"
SPENT = "spent"  # the budget is used up
BALANCE = "balance"  # Telegram answered that the bot's Stars balance is too low
_EPS = 1e-9


async def open_broadcast(
    *,
    session: AsyncSession,
    push_id: int,
    budget_stars: float,
    stars_per_message: float,
    estimate_seconds: float,
    estimate_stars: float,
    now: dt.datetime,
) -> PushBroadcast:
    """Record that ``push_id`` may send paid, up to ``budget_stars``."""
    row = PushBroadcast(
        push_id=push_id,
        budget_stars=budget_stars,
        stars_per_message=stars_per_message,
        estimate_seconds=estimate_seconds,
        estimate_stars=estimate_stars,
        state=ON if budget_stars >= stars_per_message else SPENT,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def get_broadcast(*, session: AsyncSession, push_id: int) -> PushBroadcast | None:
    """Return a push's paid-broadcast row, if it was opted in."""
    return await session.get(PushBroadcast, push_id)


async def broadcasts(
    *, session: AsyncSession, push_ids: Iterable[int]
) -> dict[int, PushBroadcast]:
    """Return the paid-broadcast rows of these pushes, by push id."""
    ids = sorted(set(push_ids))
    if not ids:
        return {}
    rows = await session.execute(select(PushBroadcast).where(col(PushBroadcast.push_id).in_(ids)))
    return {row.push_id: row for row in rows.scalars()}


async def reserve_paid(*, session: AsyncSession, push_id: int, now: dt.datetime) -> bool:
    """Count one paid message against the push's budget; False once it is off or spent.

    The first refusal for want of budget switches the push to ``spent``: it carries on at
    the free rate.
    """
    taken = await session.execute(
        update(_T)
        .where(
            _T.c.push_id == push_id,
            _T.c.state == ON,
            (_T.c.paid_sent + 1) * _T.c.stars_per_message <= _T.c.budget_stars + _EPS,
        )
        .values(paid_sent=_T.c.paid_sent + 1)
        .returning(_T.c.paid_sent)
    )
    if taken.first() is not None:
        return True
    await stop(session=session, push_id=push_id, state=SPENT, now=now)
    return False


async def refund_paid(*, session: AsyncSession, push_id: int) -> None:
    """Give back a reservation whose message Telegram did not take."""
    await session.execute(
        update(_T)
        .where(_T.c.push_id == push_id, _T.c.paid_sent > 0)
        .values(paid_sent=_T.c.paid_sent - 1)
    )


async def stop(*, session: AsyncSession, push_id: int, state: str, now: dt.datetime) -> bool:
    """Stop paid sends of a push (``spent`` or ``balance``); True if this call stopped it."""
    result = await session.execute(
        update(_T)
        .where(_T.c.push_id == push_id, _T.c.state == ON)
        .values(state=state, stopped_at=now)
        .returning(_T.c.push_id)
    )
    return result.first() is not None
