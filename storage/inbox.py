"""The durable update inbox: store before acknowledging, process exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.bulk import BulkInsert
from storage.db import rowcount
from storage.models import InboxUpdate, table_of

# Where an update names its sender: ``from`` for messages, button presses, inline queries,
# chosen inline results, member changes and join requests; ``user`` for poll answers and
# reactions.
_SENDER_KEYS = ("from", "user")


def sender_id(payload: dict[str, Any]) -> int | None:
    """Return the Telegram id of the user who sent the update, if it names one."""
    for key, value in payload.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        for sender_key in _SENDER_KEYS:
            sender = value.get(sender_key)
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                return int(sender["id"])
    return None


async def store_updates(
    *, session: AsyncSession, payloads: Iterable[dict[str, Any]], now: dt.datetime
) -> int:
    """Store raw updates, ignoring ones already stored; return how many were new."""
    return len(await store_new_updates(session=session, payloads=payloads, now=now))


async def store_new_updates(
    *,
    session: AsyncSession,
    payloads: Iterable[dict[str, Any]],
    now: dt.datetime,
    done: Collection[int] = (),
) -> list[int]:
    """Store raw updates, ignoring ones already stored; return the ids that were new.

    Updates whose ids are in ``done`` are stored as processed: the caller handles them
    in this same transaction (``bot.runtime.inbox.store_and_notify``).
    """
    rows = [
        {
            "update_id": int(p["update_id"]),
            "payload": p,
            "user_id": sender_id(p),
            "status": "done" if int(p["update_id"]) in done else "pending",
            "attempts": 0,
            "received_at": now,
            "processed_at": now if int(p["update_id"]) in done else None,
        }
        for p in payloads
    ]
    return [int(update_id) for update_id in await _INSERT_UPDATES.run(session, rows)]


_INSERT_UPDATES = BulkInsert(
    table_of(InboxUpdate),
    ["update_id", "payload", "user_id", "status", "attempts", "received_at", "processed_at"],
    conflict=["update_id"],
    returning="update_id",
)


@dataclass(frozen=True)
class ClaimedUpdate:
    """A pending update taken for processing (plain values, no ORM object to track)."""

    update_id: int
    payload: dict[str, Any]
    attempts: int


_table = table_of(InboxUpdate)


async def claim_pending(
    *,
    session: AsyncSession,
    now: dt.datetime,
    limit: int,
    unordered: Sequence[str] = (),
) -> list[ClaimedUpdate]:
    """Lock and return due pending updates in order; other processes skip locked rows.

    On PostgreSQL several processes claim at once. A sender's update is left out while an
    earlier due update of the same sender is still pending outside this claim (another
    process holds it, or it was stored later than this claim's snapshot of it): each
    user's updates are processed one after the other, in order, whichever process takes
    them. Left-out rows stay pending and are claimed by a later batch. Updates of the
    ``unordered`` kinds (payload keys, e.g. ``chosen_inline_result``: set-based handlers
    that need no order) are never left out.
    """
    c = _table.c
    due = (
        c.status == "pending",
        or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now),
    )
    stmt = select(c.update_id, c.payload, c.attempts, c.user_id).where(*due)
    stmt = stmt.order_by(c.update_id).limit(limit)
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    if postgres:
        stmt = stmt.with_for_update(skip_locked=True)
    rows = (await session.execute(stmt)).all()
    first_elsewhere: dict[int, int] = {}
    users = {int(r[3]) for r in rows if r[3] is not None}
    if postgres and users:
        mine = [int(r[0]) for r in rows]
        earliest = await session.execute(
            select(c.user_id, func.min(c.update_id))
            .where(*due, c.user_id.in_(users), c.update_id.not_in(mine))
            .group_by(c.user_id)
        )
        first_elsewhere = {int(u): int(m) for u, m in earliest.all()}
    return [
        ClaimedUpdate(int(u), p, int(a))
        for u, p, a, user in rows
        if user is None
        or int(u) < first_elsewhere.get(int(user), int(u) + 1)
        or any(key in p for key in unordered)
    ]


async def mark_done(*, session: AsyncSession, update_ids: Sequence[int], now: dt.datetime) -> None:
    """Mark processed updates done in one statement."""
    if not update_ids:
        return
    c = _table.c
    await session.execute(
        update(_table)
        .where(c.update_id.in_(list(update_ids)))
        .values(status="done", processed_at=now, last_error=None)
    )


async def mark_failed(
    *,
    session: AsyncSession,
    update_id: int,
    attempts: int,
    error: str,
    now: dt.datetime,
    retry_at: dt.datetime | None,
) -> None:
    """Record a failed try: due again at ``retry_at``, or parked when it is None."""
    values: dict[str, Any] = {"attempts": attempts, "last_error": error[:2000]}
    if retry_at is None:
        values.update(status="parked", processed_at=now)
    else:
        values.update(next_attempt_at=retry_at)
    await session.execute(update(_table).where(_table.c.update_id == update_id).values(**values))


async def count_by_status(*, session: AsyncSession) -> dict[str, int]:
    """Return how many updates are in each state."""
    result = await session.execute(
        select(col(InboxUpdate.status), func.count()).group_by(col(InboxUpdate.status))
    )
    return {status: count for status, count in result.all()}


async def get_update(*, session: AsyncSession, update_id: int) -> InboxUpdate | None:
    """Return one stored update."""
    return await session.get(InboxUpdate, update_id)


async def next_due_at(*, session: AsyncSession) -> dt.datetime | None:
    """Return when the earliest postponed pending update becomes due."""
    result = await session.execute(
        select(func.min(col(InboxUpdate.next_attempt_at))).where(
            col(InboxUpdate.status) == "pending"
        )
    )
    return result.scalar_one_or_none()


async def purge_finished(
    *, session: AsyncSession, done_before: dt.datetime, parked_before: dt.datetime
) -> dict[str, int]:
    """Delete done and parked updates past their retention; return how many of each."""
    purged: dict[str, int] = {}
    for status, before in (("done", done_before), ("parked", parked_before)):
        result = await session.execute(
            delete(InboxUpdate).where(
                col(InboxUpdate.status) == status, col(InboxUpdate.processed_at) < before
            )
        )
        purged[status] = rowcount(result) or 0
    return purged


# --- personal data -------------------------------------------------------------------------


async def updates_of_user(*, session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """Return every stored update the user sent, oldest first, as plain rows."""
    result = await session.execute(
        select(_table).where(_table.c.user_id == user_id).order_by(_table.c.update_id)
    )
    return [dict(row._mapping) for row in result.all()]


def _settled(through_update_id: int | None) -> Any:
    """Match rows no longer waiting to be processed, and the update being processed."""
    c = _table.c
    if through_update_id is None:
        return c.status != "pending"
    return or_(c.status != "pending", c.update_id <= through_update_id)


async def delete_user_updates(
    *, session: AsyncSession, user_id: int, through_update_id: int | None = None
) -> int:
    """Delete the user's stored updates, processed and parked, and the one being processed.

    Updates that arrived after ``through_update_id`` and wait for processing are kept: they
    are new messages the bot still has to answer.
    """
    c = _table.c
    result = await session.execute(
        delete(_table).where(c.user_id == user_id, _settled(through_update_id))
    )
    return rowcount(result) or 0


def scrub_user(value: Any, user_id: int) -> tuple[Any, bool]:
    """Return ``value`` with every user, private chat or contact of ``user_id`` erased."""
    if isinstance(value, list):
        items = [scrub_user(v, user_id) for v in value]
        return [v for v, _ in items], any(changed for _, changed in items)
    if not isinstance(value, dict):
        return value, False
    if value.get("id") == user_id or value.get("user_id") == user_id:
        return {"erased": True}, True
    changed = False
    out: dict[str, Any] = {}
    for key, item in value.items():
        out[key], item_changed = scrub_user(item, user_id)
        changed = changed or item_changed
    return out, changed


async def scrub_user_mentions(
    *, session: AsyncSession, user_id: int, through_update_id: int | None = None
) -> int:
    """Erase the user from other people's stored updates (forwards, contacts, member lists).

    The text search only narrows the rows; ``scrub_user`` decides on the parsed payload.
    """
    c = _table.c
    result = await session.execute(
        select(c.update_id, c.payload).where(
            _settled(through_update_id),
            or_(c.user_id.is_(None), c.user_id != user_id),
            cast(c.payload, String).contains(str(user_id), autoescape=True),
        )
    )
    scrubbed = 0
    for update_id, payload in result.all():
        clean, changed = scrub_user(payload, user_id)
        if changed:
            await session.execute(
                update(_table).where(c.update_id == update_id).values(payload=clean)
            )
            scrubbed += 1
    return scrubbed
