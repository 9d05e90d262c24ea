"""Campaigns curators define in the bot, and the content of a campaign (browse, newest).

Config campaigns (``[[campaigns]]``) are not stored; ``bot.services.campaigns`` merges
both. Figures of a campaign come from ``storage.figures`` (its ``campaign`` filter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Campaign, ContentItem, Person, RoleGrant


async def list_campaigns(*, session: AsyncSession) -> list[Campaign]:
    """Return every stored campaign, by start date then key."""
    result = await session.execute(
        select(Campaign).order_by(col(Campaign.starts_on), col(Campaign.key))
    )
    return list(result.scalars())


async def get_campaign(*, session: AsyncSession, key: str) -> Campaign | None:
    """Return the stored campaign with ``key``, or None."""
    result = await session.execute(
        select(Campaign).where(col(Campaign.key) == key).execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def add_campaign(
    *,
    session: AsyncSession,
    key: str,
    name_zh: str,
    name_en: str,
    starts_on: dt.date,
    ends_on: dt.date,
    regions: Sequence[str],
    created_by: int | None,
    now: dt.datetime,
) -> Campaign:
    """Store a new campaign and return it with its id."""
    campaign = Campaign(
        key=key,
        name_zh=name_zh,
        name_en=name_en,
        starts_on=starts_on,
        ends_on=ends_on,
        regions=list(regions),
        created_by=created_by,
        created_at=now,
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def update_campaign(
    *, session: AsyncSession, key: str, now: dt.datetime, **values: Any
) -> None:
    """Change dates or regions of a stored campaign."""
    await session.execute(
        update(Campaign).where(col(Campaign.key) == key).values(updated_at=now, **values)
    )


async def keys_like(*, session: AsyncSession, prefix: str) -> set[str]:
    """Return the stored keys starting with ``prefix`` (to make a new key unique)."""
    result = await session.execute(
        select(col(Campaign.key)).where(col(Campaign.key).startswith(prefix))
    )
    return set(result.scalars())


def _visible(now: dt.datetime) -> list[Any]:
    """The catalogue's rule for an item informants may see (as ``storage.content``)."""
    return [
        col(ContentItem.publish_at).is_not(None),
        col(ContentItem.publish_at) <= now,
        col(ContentItem.retired_at).is_(None),
        or_(col(ContentItem.expires_at).is_(None), col(ContentItem.expires_at) > now),
    ]


async def browse_campaign(
    *, session: AsyncSession, now: dt.datetime, campaign: str, offset: int = 0, limit: int = 5
) -> tuple[list[ContentItem], int]:
    """Return a page of a campaign's visible items (newest first) and how many there are."""
    conditions = [*_visible(now), col(ContentItem.campaign) == campaign]
    total = await session.scalar(select(func.count()).select_from(ContentItem).where(*conditions))
    result = await session.execute(
        select(ContentItem)
        .where(*conditions)
        .order_by(col(ContentItem.publish_at).desc(), col(ContentItem.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return list(result.scalars()), int(total or 0)


async def item_counts(*, session: AsyncSession, now: dt.datetime) -> dict[str, int]:
    """Return how many visible items each campaign code has."""
    result = await session.execute(
        select(col(ContentItem.campaign), func.count())
        .where(*_visible(now), col(ContentItem.campaign).is_not(None))
        .group_by(col(ContentItem.campaign))
    )
    return {str(code): int(n) for code, n in result.all()}


@dataclass(frozen=True)
class ReportRecipient:
    """Someone who receives a campaign's report: a coordinator (with region) or a curator."""

    chat_id: int
    language: str | None
    role: str
    region_code: str | None


async def report_recipients(*, session: AsyncSession) -> list[ReportRecipient]:
    """Return coordinators (one row per region) and curators, by role, region and chat."""
    result = await session.execute(
        select(
            col(Person.telegram_id),
            col(Person.language),
            col(RoleGrant.role),
            col(RoleGrant.region_code),
        )
        .join(RoleGrant, col(RoleGrant.person_id) == Person.id)
        .where(col(RoleGrant.role).in_(("coordinator", "curator")))
        .order_by(col(RoleGrant.role), col(RoleGrant.region_code), col(Person.telegram_id))
    )
    return [
        ReportRecipient(chat_id=int(chat), language=lang, role=role, region_code=region)
        for chat, lang, role, region in result.all()
    ]
