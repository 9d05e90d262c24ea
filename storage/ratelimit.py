"""Token buckets in the database: one send cap shared by every process (docs/reach.md).

A bucket is one ``rate_bucket`` row: ``tokens`` left at ``stamp`` (seconds on the callers'
common clock). :func:`take` refills it by the time elapsed and takes ``cost`` tokens if
there are enough, in ONE ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement: the row
is locked only for that statement, never across a wait; a caller told "no" sleeps outside
any transaction and asks again. A missing bucket counts as full, so buckets are created on
first use and :func:`prune` may delete any that have been idle long enough to be full again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_F = "CAST({} AS DOUBLE PRECISION)"
_NOW, _RATE, _CAP, _COST = (_F.format(p) for p in (":now", ":rate", ":capacity", ":cost"))
_ELAPSED = f"(CASE WHEN {_NOW} > rate_bucket.stamp THEN {_NOW} - rate_bucket.stamp ELSE 0 END)"
_FILLED = f"(rate_bucket.tokens + {_RATE} * {_ELAPSED})"
_LEVEL = f"(CASE WHEN {_FILLED} > {_CAP} THEN {_CAP} ELSE {_FILLED} END)"
# Enough tokens: within a millionth of a token (float seconds drift by that much).
_ENOUGH = f"({_LEVEL} >= {_COST} - 0.000001)"

# Every expression of the SET list reads the row as it was before this statement (SQL
# semantics on PostgreSQL and SQLite alike), after the row lock was taken: two processes
# taking the last token at once are serialised by the lock and the second one sees none.
_TAKE = text(
    f"""
    INSERT INTO rate_bucket (name, tokens, stamp, granted)
    VALUES (:name, {_CAP} - {_COST}, {_NOW}, TRUE)
    ON CONFLICT (name) DO UPDATE SET
        tokens = CASE WHEN {_ENOUGH} THEN {_LEVEL} - {_COST} ELSE {_LEVEL} END,
        stamp = CASE WHEN {_NOW} > rate_bucket.stamp THEN {_NOW} ELSE rate_bucket.stamp END,
        granted = {_ENOUGH}
    RETURNING granted, tokens
    """
)


@dataclass(frozen=True)
class Take:
    """The answer of one :func:`take`: granted, or how long until ``cost`` tokens are back."""

    granted: bool
    tokens: float
    wait: float


async def take(
    *,
    session: AsyncSession,
    name: str,
    rate: float,
    capacity: float,
    now: float,
    cost: float = 1.0,
) -> Take:
    """Refill bucket ``name`` to ``now`` and take ``cost`` tokens if it holds that many.

    One statement; commit right after it (the caller's transaction holds the row lock until
    then). ``rate`` is tokens per second, ``capacity`` the most the bucket holds.
    """
    row = (
        await session.execute(
            _TAKE, {"name": name, "rate": rate, "capacity": capacity, "now": now, "cost": cost}
        )
    ).one()
    granted, tokens = bool(row[0]), float(row[1])
    wait = 0.0 if granted else max(cost - tokens, 0.0) / rate
    return Take(granted=granted, tokens=tokens, wait=wait)


async def prune(*, session: AsyncSession, prefix: str, idle_before: float) -> int:
    """Delete buckets named ``prefix…`` untouched since ``idle_before`` (full again by then)."""
    result = await session.execute(
        text("DELETE FROM rate_bucket WHERE name LIKE :pattern AND stamp < :before"),
        {"pattern": prefix + "%", "before": idle_before},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def level(*, session: AsyncSession, name: str) -> tuple[float, float] | None:
    """Return a bucket's (tokens, stamp) as stored, or None if it does not exist (tests)."""
    row = (
        await session.execute(
            text("SELECT tokens, stamp FROM rate_bucket WHERE name = :name"), {"name": name}
        )
    ).first()
    return None if row is None else (float(row[0]), float(row[1]))


# --- a sliding window of one-token slots ---------------------------------------------------
# The free cap is a window of N slots (N = the cap's sends per window), each a rate_bucket
# row named ``<prefix><i>`` whose ``stamp`` is when it is free again. A send takes the slot
# free longest; while the send is in flight the slot is held (``hold_until``), and at the
# answer it is given back for ``window`` seconds after that answer. So at most N sends can
# have arrived at the server in any window, whatever the latency, and no token is lost
# while every sender is busy elsewhere (a bucket's burst would have to cover that).


async def ensure_slots(*, session: AsyncSession, prefix: str, count: int) -> None:
    """Create the window's ``count`` slots if they are missing (free at once)."""
    await session.execute(
        text(
            "INSERT INTO rate_bucket (name, tokens, stamp, granted) "
            "VALUES (:name, 1, 0, FALSE) ON CONFLICT (name) DO NOTHING"
        ),
        [{"name": f"{prefix}{i:04d}"} for i in range(count)],
    )


def _take_slot_sql(postgres: bool) -> Any:
    lock = " FOR UPDATE SKIP LOCKED" if postgres else ""
    return text(
        "UPDATE rate_bucket SET stamp = :hold_until, granted = TRUE WHERE name = ("
        "SELECT name FROM rate_bucket WHERE name LIKE :pattern AND stamp <= :now "
        f"ORDER BY stamp, name LIMIT 1{lock}) RETURNING name"
    )


_TAKE_SLOT = {True: _take_slot_sql(True), False: _take_slot_sql(False)}


async def take_slot(
    *, session: AsyncSession, prefix: str, now: float, hold_until: float
) -> str | None:
    """Take the window's slot free longest, held until ``hold_until``; None if none is free.

    One statement; other processes skip a slot being taken (PostgreSQL) instead of waiting.
    """
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    row = (
        await session.execute(
            _TAKE_SLOT[postgres],
            {"pattern": prefix + "%", "now": now, "hold_until": hold_until},
        )
    ).first()
    return None if row is None else str(row[0])


async def next_slot_free(*, session: AsyncSession, prefix: str) -> float | None:
    """Return when the window's first slot is free again (None: the window has no slots)."""
    row = (
        await session.execute(
            text("SELECT min(stamp) FROM rate_bucket WHERE name LIKE :pattern"),
            {"pattern": prefix + "%"},
        )
    ).first()
    return None if row is None or row[0] is None else float(row[0])


async def release_slot(*, session: AsyncSession, name: str, free_at: float) -> None:
    """Give a taken slot back: it is free again at ``free_at``."""
    await session.execute(
        text("UPDATE rate_bucket SET stamp = :free_at WHERE name = :name"),
        {"name": name, "free_at": free_at},
    )
