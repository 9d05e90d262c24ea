"""The audit log: who, when, what, why — also for refused attempts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, cast, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.db import rowcount
from storage.models import AuditLog, table_of


async def record(
    *,
    session: AsyncSession,
    actor_id: int | None,
    action: str,
    now: dt.datetime,
    allowed: bool = True,
    subject_type: str | None = None,
    subject_id: int | None = None,
    region_code: str | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one audit entry."""
    entry = AuditLog(
        at=now,
        actor_id=actor_id,
        action=action,
        allowed=allowed,
        subject_type=subject_type,
        subject_id=subject_id,
        region_code=region_code,
        reason=reason,
        detail=detail or {},
    )
    session.add(entry)
    await session.flush()
    return entry


async def entries(
    *,
    session: AsyncSession,
    subject_type: str | None = None,
    subject_id: int | None = None,
    region_prefix: str | None = None,
    action: str | None = None,
    limit: int = 200,
) -> Sequence[AuditLog]:
    """Return recent entries, newest first, filtered as asked."""
    stmt = select(AuditLog)
    if subject_type is not None:
        stmt = stmt.where(col(AuditLog.subject_type) == subject_type)
    if subject_id is not None:
        stmt = stmt.where(col(AuditLog.subject_id) == subject_id)
    if region_prefix:
        stmt = stmt.where(col(AuditLog.region_code).startswith(region_prefix))
    if action is not None:
        stmt = stmt.where(col(AuditLog.action) == action)
    result = await session.execute(stmt.order_by(col(AuditLog.id).desc()).limit(limit))
    return result.scalars().all()


# Entries a person makes about their own registration: once they are erased, these would tie
# them to the anonymous informant row.
SELF_ACTIONS = ("informant.join", "informant.transfer")


def _without(value: Any, secret: int) -> Any:
    """Return ``value`` with every occurrence of ``secret`` (and its key) left out."""
    if isinstance(value, dict):
        return {k: _without(v, secret) for k, v in value.items() if v != secret}
    if isinstance(value, list):
        return [_without(v, secret) for v in value if v != secret]
    return value


async def unlink_person(
    *, session: AsyncSession, person_id: int, informant_ids: Sequence[int], telegram_id: int
) -> int:
    """Cut every tie between an erased person and their informant rows; return entries changed.

    The person's own registration and privacy entries lose their actor (and privacy entries
    their subject), so none names both the person and an informant; the Telegram id is taken
    out of every entry's detail. Entries of duties the person did (reviews, grants, content)
    keep their actor: the anonymous person row.
    """
    c = table_of(AuditLog).c
    own = or_(
        col(AuditLog.action).in_(SELF_ACTIONS),
        col(AuditLog.action).startswith("privacy."),
    )
    if informant_ids:
        own = or_(
            own,
            (c.subject_type == "informant") & c.subject_id.in_(list(informant_ids)),
        )
    changed = (
        rowcount(
            await session.execute(
                update(AuditLog)
                .where(col(AuditLog.actor_id) == person_id, own)
                .values(actor_id=None)
            )
        )
        or 0
    )
    changed += (
        rowcount(
            await session.execute(
                update(AuditLog)
                .where(
                    col(AuditLog.subject_type) == "person",
                    col(AuditLog.subject_id) == person_id,
                    col(AuditLog.action).startswith("privacy."),
                )
                .values(subject_id=None)
            )
        )
        or 0
    )
    found = await session.execute(
        select(col(AuditLog.id), col(AuditLog.detail)).where(
            cast(col(AuditLog.detail), String).contains(str(telegram_id), autoescape=True)
        )
    )
    for entry_id, detail in found.all():
        clean = _without(detail, telegram_id)
        if clean != detail:
            await session.execute(
                update(AuditLog).where(col(AuditLog.id) == entry_id).values(detail=clean)
            )
            changed += 1
    return changed
