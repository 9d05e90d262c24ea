"""The content catalogue: items, lookups for import, browsing, search and push targeting."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from storage.db import rowcount
from storage.models import ContentItem, Informant, Person, Push, RoleGrant, Station


@dataclass(frozen=True)
class Candidate:
    """An informant who may receive pushes, with what targeting needs to know."""

    informant_id: int
    telegram_id: int
    language: str | None
    interests: tuple[str, ...]
    quiet_start: dt.time | None
    quiet_end: dt.time | None
    region_code: str | None
    station_admin: bool


# Review states that keep an item from informants: waiting for approval, or sent back.
UNAPPROVED = ("pending", "returned")


def _visible(now: dt.datetime) -> list[ColumnElement[bool]]:
    """Conditions for an item informants may see: published, not retired, not expired,
    not waiting for (or refused) a second curator's approval."""
    return [
        col(ContentItem.publish_at).is_not(None),
        col(ContentItem.publish_at) <= now,
        col(ContentItem.retired_at).is_(None),
        or_(col(ContentItem.expires_at).is_(None), col(ContentItem.expires_at) > now),
        or_(
            col(ContentItem.review_state).is_(None),
            col(ContentItem.review_state).not_in(UNAPPROVED),
        ),
    ]


async def get_item(*, session: AsyncSession, content_id: int) -> ContentItem | None:
    """Return one item by id."""
    result = await session.execute(
        select(ContentItem)
        .where(col(ContentItem.id) == content_id)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def get_items(
    *, session: AsyncSession, content_ids: Iterable[int]
) -> dict[int, ContentItem]:
    """Return items by id."""
    ids = list(set(content_ids))
    if not ids:
        return {}
    result = await session.execute(
        select(ContentItem)
        .where(col(ContentItem.id).in_(ids))
        .execution_options(populate_existing=True)
    )
    return {item.id: item for item in result.scalars() if item.id is not None}


async def existing_keys(
    *, session: AsyncSession, guids: Sequence[str], urls: Sequence[str]
) -> tuple[set[str], set[str]]:
    """Return which of ``guids`` and ``urls`` are already in the catalogue."""
    found_guids: set[str] = set()
    found_urls: set[str] = set()
    for start in range(0, max(len(guids), len(urls)), 500):
        chunk_g, chunk_u = guids[start : start + 500], urls[start : start + 500]
        if chunk_g:
            rows = await session.execute(
                select(col(ContentItem.guid)).where(col(ContentItem.guid).in_(chunk_g))
            )
            found_guids.update(rows.scalars())
        if chunk_u:
            rows = await session.execute(
                select(col(ContentItem.url)).where(col(ContentItem.url).in_(chunk_u))
            )
            found_urls.update(rows.scalars())
    return found_guids, found_urls


async def add_item(*, session: AsyncSession, item: ContentItem) -> ContentItem:
    """Store a new item and return it with its id."""
    session.add(item)
    await session.flush()
    return item


async def list_items(
    *, session: AsyncSession, offset: int = 0, limit: int = 10
) -> tuple[list[ContentItem], int]:
    """Return a page of the whole catalogue (newest first) and the total count."""
    total = (await session.execute(select(func.count()).select_from(ContentItem))).scalar_one()
    result = await session.execute(
        select(ContentItem).order_by(col(ContentItem.id).desc()).offset(offset).limit(limit)
    )
    return list(result.scalars()), int(total)


async def browse(
    *,
    session: AsyncSession,
    now: dt.datetime,
    category: str | None = None,
    offset: int = 0,
    limit: int = 5,
) -> tuple[list[ContentItem], int]:
    """Return a page of visible items (newest first), optionally of one category."""
    conditions = _visible(now)
    if category:
        conditions.append(col(ContentItem.category) == category)
    total = (
        await session.execute(select(func.count()).select_from(ContentItem).where(*conditions))
    ).scalar_one()
    result = await session.execute(
        select(ContentItem)
        .where(*conditions)
        .order_by(col(ContentItem.publish_at).desc(), col(ContentItem.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return list(result.scalars()), int(total)


def _json_fragment(word: str) -> str:
    """Return ``word`` as it appears inside the stored JSON text (non-ASCII escaped)."""
    return json.dumps(word)[1:-1]


async def search(
    *,
    session: AsyncSession,
    now: dt.datetime,
    words: Sequence[str],
    limit: int = 10,
) -> tuple[list[ContentItem], int]:
    """Return visible items whose title, summary or tags contain every word (substring)."""
    conditions = _visible(now)
    for word in words:
        conditions.append(
            or_(
                col(ContentItem.title).icontains(word, autoescape=True),
                col(ContentItem.summary).icontains(word, autoescape=True),
                col(ContentItem.title_en).icontains(word, autoescape=True),
                col(ContentItem.summary_en).icontains(word, autoescape=True),
                cast(col(ContentItem.tags), String).icontains(
                    _json_fragment(word), autoescape=True
                ),
            )
        )
    total = (
        await session.execute(select(func.count()).select_from(ContentItem).where(*conditions))
    ).scalar_one()
    result = await session.execute(
        select(ContentItem)
        .where(*conditions)
        .order_by(col(ContentItem.publish_at).desc(), col(ContentItem.id).desc())
        .limit(limit)
    )
    return list(result.scalars()), int(total)


async def update_item(*, session: AsyncSession, content_id: int, **values: Any) -> bool:
    """Change fields of an item; return whether it exists."""
    result = await session.execute(
        update(ContentItem).where(col(ContentItem.id) == content_id).values(**values)
    )
    return bool(rowcount(result))


async def set_media_file_id(*, session: AsyncSession, content_id: int, file_id: str) -> None:
    """Cache the Telegram file id of an item's uploaded media (first upload wins)."""
    await session.execute(
        update(ContentItem)
        .where(col(ContentItem.id) == content_id, col(ContentItem.media_file_id).is_(None))
        .values(media_file_id=file_id)
    )


async def pushed_content_ids(*, session: AsyncSession, content_ids: Iterable[int]) -> set[int]:
    """Return which of ``content_ids`` already have a push."""
    ids = list(content_ids)
    if not ids:
        return set()
    result = await session.execute(
        select(col(Push.content_id)).where(col(Push.content_id).in_(ids)).distinct()
    )
    return {cid for cid in result.scalars() if cid is not None}


async def daily_candidates(
    *,
    session: AsyncSession,
    now: dt.datetime,
    since: dt.datetime,
    limit: int,
    approved_only: bool = False,
) -> list[ContentItem]:
    """Return visible items published in [since, now] that were never pushed, newest first
    (only approved ones with ``approved_only``: two-step publishing)."""
    pushed = select(col(Push.content_id)).where(col(Push.content_id).is_not(None))
    approved = [col(ContentItem.review_state) == "approved"] if approved_only else []
    result = await session.execute(
        select(ContentItem)
        .where(
            *_visible(now),
            *approved,
            col(ContentItem.publish_at) >= since,
            col(ContentItem.id).not_in(pushed),
        )
        .order_by(col(ContentItem.publish_at).desc(), col(ContentItem.id).desc())
        .limit(limit)
    )
    return list(result.scalars())


async def push_candidate_page(
    *,
    session: AsyncSession,
    region_prefixes: Sequence[str] = (),
    after_id: int = 0,
    limit: int = 2000,
) -> list[Candidate]:
    """Return the next ``limit`` push candidates with an informant id above ``after_id``.

    Active, reachable informants, a page at a time (keyset pagination on the informant
    id): a push to half a million informants never holds them all in memory.
    """
    is_admin = (
        select(col(RoleGrant.id))
        .where(col(RoleGrant.person_id) == Person.id, col(RoleGrant.role) == "station_admin")
        .exists()
    )
    stmt = (
        select(
            col(Informant.id),
            col(Person.telegram_id),
            col(Person.language),
            col(Informant.interests),
            col(Informant.quiet_start),
            col(Informant.quiet_end),
            col(Station.region_code),
            is_admin,
        )
        .join(Person, col(Person.id) == Informant.person_id)
        .join(Station, col(Station.id) == Informant.station_id)
        .where(
            col(Informant.id) > after_id,
            col(Informant.paused).is_(False),
            col(Informant.removed_at).is_(None),
            col(Informant.forgotten_at).is_(None),
            col(Person.unreachable).is_(False),
        )
        .order_by(col(Informant.id))
        .limit(limit)
    )
    if region_prefixes:
        stmt = stmt.where(or_(*(col(Station.region_code).startswith(p) for p in region_prefixes)))
    rows = (await session.execute(stmt)).all()
    return [
        Candidate(
            informant_id=row[0],
            telegram_id=int(row[1]),
            language=row[2],
            interests=tuple(row[3] or ()),
            quiet_start=row[4],
            quiet_end=row[5],
            region_code=row[6],
            station_admin=bool(row[7]),
        )
        for row in rows
    ]


async def informant_of(*, session: AsyncSession, person_id: int) -> int | None:
    """Return the id of the person's active informant record, if any."""
    result = await session.execute(
        select(col(Informant.id)).where(
            col(Informant.person_id) == person_id,
            col(Informant.removed_at).is_(None),
        )
    )
    return result.scalar_one_or_none()
