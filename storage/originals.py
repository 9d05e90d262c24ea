"""Content originals: the Telegram file id of an item's original, and the week's posters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import ContentItem


async def set_original_file_id(
    *, session: AsyncSession, content_id: int, file_id: str, stale: str | None = None
) -> None:
    """Keep Telegram's file id of an item's uploaded original (the first upload wins).

    ``stale`` is an id Telegram refused: it is replaced, whatever else is still there.
    """
    kept = col(ContentItem.original_file_id)
    await session.execute(
        update(ContentItem)
        .where(
            col(ContentItem.id) == content_id,
            or_(kept.is_(None), kept == stale) if stale else kept.is_(None),
        )
        .values(original_file_id=file_id)
    )


async def posters_published(
    *, session: AsyncSession, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> list[ContentItem]:
    """Return posters published in ``[start, end)`` that are still shown at ``now``, oldest
    first."""
    result = await session.execute(
        select(ContentItem)
        .where(
            col(ContentItem.kind) == "poster",
            col(ContentItem.publish_at) >= start,
            col(ContentItem.publish_at) < end,
            col(ContentItem.publish_at) <= now,
            col(ContentItem.retired_at).is_(None),
            or_(col(ContentItem.expires_at).is_(None), col(ContentItem.expires_at) > now),
        )
        .order_by(col(ContentItem.publish_at), col(ContentItem.id))
    )
    return list(result.scalars())
