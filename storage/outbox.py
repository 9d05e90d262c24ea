"""The durable outbox: pushes and one message row per recipient (pending → sent|failed|blocked).

Rows are claimed with a lease: one statement moves the due rows' ``next_attempt_at`` into
the future, so no other sender picks them while this one works through them (on PostgreSQL
the inner SELECT also uses ``FOR UPDATE SKIP LOCKED``, so concurrent claims never collide).
A sender that dies leaves its unsent rows to be claimed again when the lease runs out.

The lease is also the fencing token: a claimed row's ``next_attempt_at`` is the lease end
its sender holds (``ClaimedMessage.lease_until``). A live sender working through a long
batch renews it (``renew``) before it runs out; a renewal or a give-back (``release`` with
``held_until``) only touches rows whose ``next_attempt_at`` is still that value, so a
sender that stalled past its lease learns that another process took its rows over and
sends none of them (docs/reach-scale.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import String, delete, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.db import rowcount
from storage.models import OutboxMessage, Push, table_of
from storage.upsert import insert_ignoring

_T = table_of(OutboxMessage)

# Set in ``session.info`` when a transaction adds rows to send, or ends rows a push waits on
# (read by an after-commit hook that wakes the sender).
ENQUEUED = "outbox_enqueued"
# Dedupe-key prefix of rows deleted once sent (replies to /forget): erasure leaves them be.
ERASE_PREFIX = "x:"


@dataclass(frozen=True)
class ClaimedMessage:
    """A row claimed for sending, detached from any session."""

    id: int
    push_id: int | None
    chat_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    due_at: dt.datetime | None
    lease_until: dt.datetime | None = None  # the lease this sender holds (its fence)


@dataclass(frozen=True)
class NewMessage:
    """A message to enqueue."""

    chat_id: int
    kind: str
    payload: dict[str, Any]
    dedupe_key: str
    due_at: dt.datetime


async def create_push(
    *,
    session: AsyncSession,
    content_id: int | None,
    kind: str,
    created_by: int | None,
    targeting: dict[str, Any],
    now: dt.datetime,
) -> Push:
    """Create a push row and return it with its id."""
    push = Push(
        content_id=content_id,
        kind=kind,
        created_by=created_by,
        targeting=targeting,
        total=0,
        created_at=now,
    )
    session.add(push)
    await session.flush()
    return push


async def get_push(*, session: AsyncSession, push_id: int) -> Push | None:
    """Return a push by id."""
    result = await session.execute(
        select(Push).where(col(Push.id) == push_id).execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def recent_pushes(*, session: AsyncSession, limit: int = 10) -> list[Push]:
    """Return the newest pushes."""
    result = await session.execute(select(Push).order_by(col(Push.id).desc()).limit(limit))
    return list(result.scalars())


async def update_push(*, session: AsyncSession, push_id: int, **values: Any) -> None:
    """Change fields of a push."""
    await session.execute(update(Push).where(col(Push.id) == push_id).values(**values))


async def delete_push(*, session: AsyncSession, push_id: int) -> None:
    """Remove a push that got no rows."""
    await session.execute(delete(Push).where(col(Push.id) == push_id))


async def enqueue(
    *,
    session: AsyncSession,
    push_id: int | None,
    messages: Sequence[NewMessage],
    now: dt.datetime,
    chunk: int = 1000,
) -> int:
    """Insert message rows, skipping any whose dedupe key exists; return how many were new."""
    added = 0
    for start in range(0, len(messages), chunk):
        rows = [
            {
                "push_id": push_id,
                "chat_id": m.chat_id,
                "kind": m.kind,
                "payload": m.payload,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": m.due_at,
                "dedupe_key": m.dedupe_key,
                "created_at": now,
            }
            for m in messages[start : start + chunk]
        ]
        stmt = insert_ignoring(session, _T, ["dedupe_key"]).returning(_T.c.id)
        result = await session.execute(stmt, rows)
        added += len(result.all())
    if added:
        session.info[ENQUEUED] = True
    return added


async def enqueue_one(
    *, session: AsyncSession, message: NewMessage, now: dt.datetime
) -> int | None:
    """Insert one message row; return its id (None when its dedupe key already exists)."""
    stmt = (
        insert_ignoring(session, _T, ["dedupe_key"])
        .values(
            push_id=None,
            chat_id=message.chat_id,
            kind=message.kind,
            payload=message.payload,
            state="pending",
            attempts=0,
            next_attempt_at=message.due_at,
            dedupe_key=message.dedupe_key,
            created_at=now,
        )
        .returning(_T.c.id)
    )
    row_id = (await session.execute(stmt)).scalar_one_or_none()
    if row_id is not None:
        session.info[ENQUEUED] = True
    return row_id


# Conversation rows (replies and notices) of one chat go out in order; pushes need not.
ORDERED_KINDS = ("api", "message")


async def pending_count(*, session: AsyncSession, chat_id: int) -> int:
    """Return how many conversation rows to ``chat_id`` are still unsent."""
    count = await session.scalar(
        select(func.count())
        .select_from(_T)
        .where(_T.c.chat_id == chat_id, _T.c.state == "pending", _T.c.kind.in_(ORDERED_KINDS))
    )
    return int(count or 0)


async def purge_conversation(*, session: AsyncSession, before: dt.datetime) -> int:
    """Delete replies and notices that ended (sent, failed, blocked) before ``before``."""
    result = await session.execute(
        delete(_T).where(
            _T.c.kind.in_(ORDERED_KINDS),
            _T.c.state != "pending",
            func.coalesce(_T.c.sent_at, _T.c.created_at) < before,
        )
    )
    return rowcount(result) or 0


async def keys_taken(*, session: AsyncSession, prefix: str) -> set[str]:
    """Return the dedupe keys starting with ``prefix`` of rows sent or still to send."""
    result = await session.execute(
        select(_T.c.dedupe_key).where(
            _T.c.dedupe_key.startswith(prefix), _T.c.state.in_(("sent", "pending"))
        )
    )
    return set(result.scalars())


async def forget_ended(*, session: AsyncSession, keys: Sequence[str]) -> None:
    """Delete rows with these keys that ended unsent (blocked, failed), to queue them anew."""
    if keys:
        await session.execute(
            delete(_T).where(
                _T.c.dedupe_key.in_(list(keys)), _T.c.state.in_(("blocked", "failed"))
            )
        )


async def sent_message_id(*, session: AsyncSession, row_id: int) -> int | None:
    """Return the Telegram message id a sent row got (None if it was not sent)."""
    value = await session.scalar(
        select(_T.c.telegram_message_id).where(_T.c.id == row_id, _T.c.state == "sent")
    )
    return int(value) if value is not None else None


async def bring_forward(
    *, session: AsyncSession, push_id: int, due: dict[str, dt.datetime]
) -> dict[int | None, int]:
    """Move pending rows with these dedupe keys into ``push_id``, due at the given times.

    Only rows due later than their new time move. Return how many rows left each push.
    Callers must only pass rows no sender can have claimed (e.g. not yet due).
    """
    by_time: dict[dt.datetime, list[str]] = {}
    for key, at in due.items():
        by_time.setdefault(at, []).append(key)
    moved: dict[int | None, int] = {}
    for at, keys in by_time.items():
        for start in range(0, len(keys), 500):
            where = (
                _T.c.dedupe_key.in_(keys[start : start + 500]),
                _T.c.state == "pending",
                _T.c.next_attempt_at > at,
                _T.c.push_id.is_distinct_from(push_id),
            )
            counts = await session.execute(
                select(_T.c.push_id, func.count()).where(*where).group_by(_T.c.push_id)
            )
            for old, n in counts.all():
                moved[old] = moved.get(old, 0) + int(n)
            await session.execute(
                update(_T).where(*where).values(push_id=push_id, next_attempt_at=at)
            )
    if moved:
        session.info[ENQUEUED] = True
    return moved


async def claim_due(
    *, session: AsyncSession, now: dt.datetime, lease_until: dt.datetime, limit: int
) -> list[ClaimedMessage]:
    """Lease up to ``limit`` due pending rows to the caller, oldest due first.

    A conversation row is not due while an earlier one of its chat waits (leased to a
    sender, or put off): replies and edits reach a chat in the order they were written.
    """
    earlier = _T.alias("earlier")
    waiting_before = (
        select(earlier.c.id)
        .where(
            earlier.c.chat_id == _T.c.chat_id,
            earlier.c.kind.in_(ORDERED_KINDS),
            earlier.c.state == "pending",
            earlier.c.id < _T.c.id,
        )
        .exists()
    )
    due = (
        select(_T.c.id)
        .where(
            _T.c.state == "pending",
            _T.c.next_attempt_at <= now,
            or_(_T.c.kind.not_in(ORDERED_KINDS), ~waiting_before),
        )
        .order_by(_T.c.next_attempt_at, _T.c.id)
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    stmt = (
        update(_T)
        .where(_T.c.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=lease_until)
        .returning(
            _T.c.id,
            _T.c.push_id,
            _T.c.chat_id,
            _T.c.kind,
            _T.c.payload,
            _T.c.attempts,
            _T.c.next_attempt_at,
        )
    )
    # The old due time is not returned by RETURNING; order by id, which follows it closely.
    rows = (await session.execute(stmt)).all()
    claimed = [
        ClaimedMessage(
            id=r[0],
            push_id=r[1],
            chat_id=int(r[2]),
            kind=r[3],
            payload=r[4],
            attempts=r[5],
            due_at=None,
            lease_until=lease_until,
        )
        for r in rows
    ]
    return sorted(claimed, key=lambda m: m.id)


async def any_due(*, session: AsyncSession, now: dt.datetime) -> bool:
    """Tell whether a pending row is due (a cheap read before taking any write lock)."""
    result = await session.execute(
        select(_T.c.id).where(_T.c.state == "pending", _T.c.next_attempt_at <= now).limit(1)
    )
    return result.first() is not None


async def release(
    *,
    session: AsyncSession,
    ids: Iterable[int],
    due_at: dt.datetime,
    held_until: dt.datetime | None = None,
) -> None:
    """Give claimed rows back, due at ``due_at`` (a stop, a flood wait).

    With ``held_until`` only rows still under that lease move (not ones taken over).
    """
    id_list = list(ids)
    for start in range(0, len(id_list), 1000):
        where = [_T.c.id.in_(id_list[start : start + 1000]), _T.c.state == "pending"]
        if held_until is not None:
            where.append(_T.c.next_attempt_at == held_until)
        await session.execute(update(_T).where(*where).values(next_attempt_at=due_at))


async def renew(
    *,
    session: AsyncSession,
    ids: Iterable[int],
    held_until: dt.datetime,
    lease_until: dt.datetime,
) -> set[int]:
    """Extend the lease of claimed rows to ``lease_until``; return the ids still held.

    A row is held while it is pending with ``next_attempt_at == held_until``; a row another
    sender took over (after this lease ran out) or that was cancelled is not, and its id is
    missing from the result: the caller must not send it.
    """
    id_list = list(ids)
    held: set[int] = set()
    for start in range(0, len(id_list), 1000):
        result = await session.execute(
            update(_T)
            .where(
                _T.c.id.in_(id_list[start : start + 1000]),
                _T.c.state == "pending",
                _T.c.next_attempt_at == held_until,
            )
            .values(next_attempt_at=lease_until)
            .returning(_T.c.id)
        )
        held.update(int(i) for i in result.scalars())
    return held


async def touch(*, session: AsyncSession, message_id: int) -> None:
    """Write to a row without changing it (takes the write lock first on SQLite)."""
    await session.execute(update(_T).where(_T.c.id == message_id).values(attempts=_T.c.attempts))


async def mark_sent(
    *,
    session: AsyncSession,
    message_id: int,
    now: dt.datetime,
    telegram_message_id: int | None,
    attempts: int,
) -> None:
    """Record a successful send."""
    await session.execute(
        update(_T)
        .where(_T.c.id == message_id)
        .values(
            state="sent",
            sent_at=now,
            telegram_message_id=telegram_message_id,
            attempts=attempts,
            error=None,
            next_attempt_at=None,
        )
    )


async def delete_row(*, session: AsyncSession, message_id: int) -> None:
    """Delete a row that was sent and must leave no copy (a reply to /forget)."""
    await session.execute(delete(_T).where(_T.c.id == message_id))


async def mark_final(
    *, session: AsyncSession, message_id: int, state: str, error: str, attempts: int
) -> None:
    """Record a final failure: ``failed`` or ``blocked``."""
    await session.execute(
        update(_T)
        .where(_T.c.id == message_id)
        .values(
            state=state,
            error=error[:1000],
            attempts=attempts,
            next_attempt_at=None,
        )
    )


async def mark_retry(
    *, session: AsyncSession, message_id: int, due_at: dt.datetime, error: str, attempts: int
) -> None:
    """Keep a row pending for another try at ``due_at`` (unless it was cancelled meanwhile)."""
    # A retry is no outcome: it must not overwrite a cancellation (``fail_pending_content``).
    await session.execute(
        update(_T)
        .where(_T.c.id == message_id, _T.c.state == "pending")
        .values(
            error=error[:1000],
            attempts=attempts,
            next_attempt_at=due_at,
        )
    )


async def fail_pending_content(
    *, session: AsyncSession, content_id: int, error: str = "content_retired"
) -> int:
    """Mark every pending message of an item ``failed`` with ``error``; return how many.

    Messages are found through their pushes (``push.content_id``): every ``content`` row
    belongs to a push of its item, also after ``bring_forward`` moved it, so no JSON
    lookup is needed and the statement is the same on SQLite and PostgreSQL.

    Rows a sender has claimed are still ``pending`` (the lease only moves
    ``next_attempt_at``) and cannot be told apart from deferred ones, so they are failed
    too. That never duplicates a message: a failed row is never claimed again, so a row
    that was claimed is sent at most once, by the sender holding it. Its outcome then
    wins, because it is what Telegram did: ``mark_sent`` and ``mark_final`` do not require
    ``pending`` (a message that went out is recorded ``sent``, not ``content_retired``),
    while ``mark_retry`` and ``release`` do, so a cancelled row never becomes pending
    again. The returned count may thus include the few rows a sender was sending at that
    instant (it re-reads the item about once a second while sending).
    """
    pushes = select(col(Push.id)).where(col(Push.content_id) == content_id)
    result = await session.execute(
        update(_T)
        .where(
            _T.c.push_id.in_(pushes),
            _T.c.kind == "content",
            _T.c.state == "pending",
        )
        .values(state="failed", error=error[:1000], next_attempt_at=None)
    )
    cancelled = int(rowcount(result) or 0)
    if cancelled:  # the sender finishes and reports pushes left with nothing pending
        session.info[ENQUEUED] = True
    return cancelled


async def settled_pushes(*, session: AsyncSession, limit: int = 50) -> list[int]:
    """Return ids of pushes not marked finished that have no pending row left."""
    pending = select(_T.c.id).where(_T.c.push_id == Push.id, _T.c.state == "pending").exists()
    result = await session.execute(
        select(col(Push.id))
        .where(col(Push.finished_at).is_(None), ~pending)
        .order_by(col(Push.id))
        .limit(limit)
    )
    return [int(cast(int, push_id)) for push_id in result.scalars()]


async def counts(*, session: AsyncSession, push_id: int | None = None) -> dict[str, int]:
    """Return the number of rows in each state (for one push, or all)."""
    stmt = select(_T.c.state, func.count()).group_by(_T.c.state)
    if push_id is not None:
        stmt = stmt.where(_T.c.push_id == push_id)
    result = await session.execute(stmt)
    found = {state: int(n) for state, n in result.all()}
    return {state: found.get(state, 0) for state in OutboxMessage.STATES}


async def count_kind(*, session: AsyncSession, push_id: int, kind: str) -> int:
    """Return how many rows of ``push_id`` are of ``kind`` (a retry's channel posts)."""
    result = await session.execute(
        select(func.count()).select_from(_T).where(_T.c.push_id == push_id, _T.c.kind == kind)
    )
    return int(result.scalar_one())


async def count_due(*, session: AsyncSession, now: dt.datetime) -> int:
    """Return how many pending rows are due now."""
    result = await session.execute(
        select(func.count())
        .select_from(_T)
        .where(_T.c.state == "pending", _T.c.next_attempt_at <= now)
    )
    return int(result.scalar_one())


async def next_due_at(*, session: AsyncSession) -> dt.datetime | None:
    """Return when the earliest pending row becomes due."""
    result = await session.execute(
        select(func.min(_T.c.next_attempt_at)).where(_T.c.state == "pending")
    )
    value: dt.datetime | None = result.scalar_one_or_none()
    if value is not None and value.tzinfo is None:  # min() bypasses the column type
        value = value.replace(tzinfo=dt.UTC)
    return value


async def unfinished_pushes(*, session: AsyncSession, push_ids: Iterable[int]) -> list[Push]:
    """Return the pushes among ``push_ids`` not marked finished yet."""
    ids = list(set(push_ids))
    if not ids:
        return []
    result = await session.execute(
        select(Push)
        .where(col(Push.id).in_(ids), col(Push.finished_at).is_(None))
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())


async def finish_push(*, session: AsyncSession, push_id: int, now: dt.datetime) -> bool:
    """Mark a push finished; return False if another process already did."""
    result = await session.execute(
        update(Push)
        .where(col(Push.id) == push_id, col(Push.finished_at).is_(None))
        .values(finished_at=now)
    )
    return bool(rowcount(result))


async def messages_of(
    *,
    session: AsyncSession,
    push_id: int | None = None,
    chat_id: int | None = None,
    kind: str | None = None,
) -> list[OutboxMessage]:
    """Return rows of a push, a chat or a kind (tests, status)."""
    stmt = select(OutboxMessage).order_by(col(OutboxMessage.id))
    if kind is not None:
        stmt = stmt.where(col(OutboxMessage.kind) == kind)
    if push_id is not None:
        stmt = stmt.where(col(OutboxMessage.push_id) == push_id)
    if chat_id is not None:
        stmt = stmt.where(col(OutboxMessage.chat_id) == chat_id)
    result = await session.execute(stmt.execution_options(populate_existing=True))
    return list(result.scalars())


# --- personal data -------------------------------------------------------------------------


async def messages_to_chat(*, session: AsyncSession, chat_id: int) -> list[dict[str, Any]]:
    """Return every message row to a chat, oldest first, as plain rows (/mydata)."""
    result = await session.execute(select(_T).where(_T.c.chat_id == chat_id).order_by(_T.c.id))
    return [dict(row._mapping) for row in result.all()]


async def erase_chat(*, session: AsyncSession, chat_id: int) -> int:
    """Make the rows to a chat anonymous; return how many (push counts keep their rows).

    The chat id, the payload (text, names) and the dedupe key (which holds the chat id) go;
    the kind, state and times stay. Rows not sent yet are failed, so nothing goes out.
    """
    c = _T.c
    # The erasure's own replies (deleted once sent) go out.
    mine = c.dedupe_key.like(ERASE_PREFIX + "%")
    await session.execute(
        update(_T)
        .where(c.chat_id == chat_id, c.state == "pending", ~mine)
        .values(state="failed", error="erased", next_attempt_at=None)
    )
    result = await session.execute(
        update(_T)
        .where(c.chat_id == chat_id, ~mine)
        .values(
            chat_id=0,
            payload={},
            dedupe_key=literal("erased:") + c.id.cast(String),
            telegram_message_id=None,
        )
    )
    return rowcount(result) or 0


# --- push reports: why messages failed, and retrying them ----------------------------------


async def ended_unsent(
    *, session: AsyncSession, push_id: int
) -> list[tuple[str, str | None, str, int]]:
    """Return (state, error, kind, count) of a push's rows that ended unsent (failed,
    blocked)."""
    result = await session.execute(
        select(_T.c.state, _T.c.error, _T.c.kind, func.count())
        .where(_T.c.push_id == push_id, _T.c.state.in_(("failed", "blocked")))
        .group_by(_T.c.state, _T.c.error, _T.c.kind)
        .order_by(_T.c.state, _T.c.error, _T.c.kind)
    )
    return [(str(state), error, str(kind), int(n)) for state, error, kind, n in result.all()]


async def failed_rows(*, session: AsyncSession, push_id: int) -> list[tuple[int, str, str | None]]:
    """Return (id, state, error) of a push's rows that ended unsent, by id."""
    result = await session.execute(
        select(_T.c.id, _T.c.state, _T.c.error)
        .where(_T.c.push_id == push_id, _T.c.state.in_(("failed", "blocked")))
        .order_by(_T.c.id)
    )
    return [(int(i), str(state), error) for i, state, error in result.all()]


async def requeue(
    *, session: AsyncSession, ids: Sequence[int], push_id: int, due_at: dt.datetime
) -> int:
    """Move ended rows into ``push_id`` as pending again, due at ``due_at``; return how many."""
    moved = 0
    for start in range(0, len(ids), 500):
        result = await session.execute(
            update(_T)
            .where(_T.c.id.in_(list(ids[start : start + 500])), _T.c.state == "failed")
            .values(push_id=push_id, state="pending", attempts=0, next_attempt_at=due_at)
        )
        moved += int(rowcount(result) or 0)
    if moved:
        session.info[ENQUEUED] = True
    return moved
