"""The audit log: who, when, what, why — also for refused attempts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import AuditLog


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
