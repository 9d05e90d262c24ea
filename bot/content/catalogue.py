"""Catalogue rules: create, edit, retire items (audited) and describe their state."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.packs import SUMMARY_MAX, TITLE_MAX
from bot.content.taxonomy import Taxonomy
from bot.core.errors import DomainError
from bot.core.regions_csv import is_region_code
from bot.core.urls import url_problem
from bot.core.zh_numbers import fold_width
from storage import audit
from storage import content as content_store
from storage import outbox as outbox_store
from storage.models import ContentItem

EDITABLE = ("title", "summary", "url")


class CatalogueError(DomainError, area="catalogue"):
    """A catalogue change is refused; ``code`` says why, ``params`` fill the message."""


@dataclass(frozen=True)
class NewItem:
    """What a curator entered for a new item."""

    title: str
    summary: str
    category: str
    url: str
    kind: str = "article"
    media_file_id: str | None = None
    regions: tuple[str, ...] = ()
    publish_at: dt.datetime | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


def item_state(item: ContentItem, now: dt.datetime) -> str:
    """Return draft | scheduled | published | expired | retired."""
    if item.retired_at is not None:
        return "retired"
    if item.publish_at is None:
        return "draft"
    if item.publish_at > now:
        return "scheduled"
    if item.expires_at is not None and item.expires_at <= now:
        return "expired"
    return "published"


def check_text(name: str, value: str) -> str:
    """Validate a title, summary or link; return it trimmed or raise CatalogueError."""
    value = value.strip()
    if not value:
        raise CatalogueError("empty", field=name)
    limit = {"title": TITLE_MAX, "summary": SUMMARY_MAX}.get(name)
    if limit is not None and len(value) > limit:
        raise CatalogueError("too_long", field=name, max=limit, length=len(value))
    if name == "url" and (problem := url_problem(value)) is not None:
        raise CatalogueError(problem)
    return value


def parse_regions(text: str) -> tuple[str, ...]:
    """Parse region codes separated by spaces or commas; raise on a bad code."""
    codes: list[str] = []
    # Full-width digits and commas (a Chinese IME) fold to ASCII first.
    for part in fold_width(text).replace(",", " ").split():
        if not is_region_code(part):
            raise CatalogueError("bad_region", value=part)
        if part not in codes:
            codes.append(part)
    if not codes:
        raise CatalogueError("empty", field="regions")
    return tuple(codes)


async def create_item(
    *,
    session: AsyncSession,
    new: NewItem,
    taxonomy: Taxonomy,
    actor_id: int | None,
    now: dt.datetime,
) -> ContentItem:
    """Store a curator's new item, audited."""
    if taxonomy.get(new.category) is None:
        raise CatalogueError("bad_category", value=new.category)
    item = ContentItem(
        guid=f"bot:{uuid.uuid4().hex}",
        title=check_text("title", new.title),
        summary=check_text("summary", new.summary),
        category=new.category,
        kind=new.kind,
        url=check_text("url", new.url),
        media_file_id=new.media_file_id,
        tags=list(new.tags),
        regions=list(new.regions),
        publish_at=new.publish_at,
        source="bot",
        created_by=actor_id,
        created_at=now,
    )
    await content_store.add_item(session=session, item=item)
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="content.create",
        now=now,
        subject_type="content",
        subject_id=item.id,
        detail={
            "title": item.title,
            "category": item.category,
            "regions": item.regions,
            "publish_at": item.publish_at.isoformat() if item.publish_at else None,
        },
    )
    return item


async def edit_item(
    *,
    session: AsyncSession,
    content_id: int,
    field_name: str,
    value: str,
    actor_id: int | None,
    now: dt.datetime,
) -> ContentItem:
    """Change an item's title, summary or link, audited with the old value."""
    if field_name not in EDITABLE:
        raise CatalogueError("not_editable", field=field_name)
    item = await content_store.get_item(session=session, content_id=content_id)
    if item is None:
        raise CatalogueError("not_found", content_id=content_id)
    value = check_text(field_name, value)
    old = getattr(item, field_name)
    await content_store.update_item(session=session, content_id=content_id, **{field_name: value})
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="content.edit",
        now=now,
        subject_type="content",
        subject_id=content_id,
        detail={"field": field_name, "old": old, "new": value},
    )
    setattr(item, field_name, value)
    return item


@dataclass(frozen=True)
class Retirement:
    """A retired item and how many of its queued messages were cancelled."""

    item: ContentItem
    cancelled: int


async def retire_item(
    *, session: AsyncSession, content_id: int, actor_id: int | None, now: dt.datetime
) -> Retirement:
    """Retire an item and fail its queued messages in the same transaction; audited.

    The messages end ``failed`` (``content_retired``) at once, not when they fall due, so
    a push waiting for quiet hours to end is settled now; the sender then finishes and
    reports it (it looks for pushes with nothing pending left).
    """
    item = await content_store.get_item(session=session, content_id=content_id)
    if item is None:
        raise CatalogueError("not_found", content_id=content_id)
    if item.retired_at is not None:
        raise CatalogueError("already_retired", content_id=content_id)
    await content_store.update_item(session=session, content_id=content_id, retired_at=now)
    cancelled = await outbox_store.fail_pending_content(
        session=session, content_id=content_id, error="content_retired"
    )
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="content.retire",
        now=now,
        subject_type="content",
        subject_id=content_id,
        detail={"title": item.title},
    )
    item.retired_at = now
    return Retirement(item=item, cancelled=cancelled)
