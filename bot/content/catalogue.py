"""Catalogue rules: create, edit, retire and review items (audited) and describe their state.

Every field a curator types is read here, so /newcontent and /catalog refuse the same
input with the same answer: ``read_tags``, ``read_regions`` (codes or names),
``read_interests``, ``read_campaign``, ``read_time`` (publish / expiry), ``read_length``
(a video's duration), ``check_document`` (what each kind accepts as its file).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.packs import SUMMARY_MAX, TITLE_MAX
from bot.content.taxonomy import Taxonomy
from bot.core.errors import DomainError
from bot.core.regions_csv import is_region_code
from bot.core.urls import url_problem
from bot.core.zh_dates import read_upcoming
from bot.core.zh_durations import read_duration
from bot.core.zh_numbers import fold_width
from storage import audit
from storage import content as content_store
from storage import outbox as outbox_store
from storage import regions as region_store
from storage.models import ContentItem

EDITABLE = ("title", "summary", "url")
# Every column a curator can set from /catalog (content_types_1), by field name.
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "summary": ("summary",),
    "url": ("url",),
    "category": ("category",),
    "kind": (
        "kind",
        "media_file_id",
        "original_file_id",
        "original_file_name",
        "original_mime",
        "original_size",
        "duration_seconds",
        "cover_file_id",
    ),
    "media": (
        "media_file_id",
        "original_file_id",
        "original_file_name",
        "original_mime",
        "original_size",
    ),
    "duration": ("duration_seconds",),
    "cover": ("cover_file_id",),
    "tags": ("tags",),
    "campaign": ("campaign",),
    "regions": ("regions",),
    "interests": ("interests",),
    "publish": ("publish_at",),
    "expires": ("expires_at",),
}
TAGS_MAX = 10
TAG_MAX_CHARS = 20
PDF_MIME = "application/pdf"
_SPLIT_RE = re.compile(r"[\s,，、;；#＃/]+")


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
    media: Media | None = None
    campaign: str | None = None
    interests: tuple[str, ...] = ()
    expires_at: dt.datetime | None = None
    review: bool = False  # two-step publishing: the item waits for a second curator


@dataclass(frozen=True)
class Media:
    """What a kind carries besides text: the card picture, the original file, a video's
    duration and cover. ``media_file_id`` is a photo, or the video itself for a video."""

    media_file_id: str | None = None
    original_file_id: str | None = None
    original_file_name: str | None = None
    original_mime: str | None = None
    original_size: int | None = None
    duration_seconds: int | None = None
    cover_file_id: str | None = None

    def columns(self) -> dict[str, Any]:
        """Return the columns this media sets on an item."""
        return {
            "media_file_id": self.media_file_id,
            "original_file_id": self.original_file_id,
            "original_file_name": self.original_file_name,
            "original_mime": self.original_mime,
            "original_size": self.original_size,
            "duration_seconds": self.duration_seconds,
            "cover_file_id": self.cover_file_id,
        }


def item_state(item: ContentItem, now: dt.datetime) -> str:
    """Return draft | scheduled | published | expired | retired | review.

    ``review``: waiting for a second curator's approval, or sent back (two-step publishing).
    """
    if item.retired_at is not None:
        return "retired"
    if item.review_state in content_store.UNAPPROVED:
        return "review"
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


def read_tags(text: str) -> tuple[str, ...]:
    """Split typed tags (spaces, commas, 、, #); at most TAGS_MAX of TAG_MAX_CHARS each."""
    tags: list[str] = []
    for part in _SPLIT_RE.split(fold_width(text)):
        tag = part.strip()
        if not tag or tag in tags:
            continue
        if len(tag) > TAG_MAX_CHARS:
            raise CatalogueError("tag_too_long", value=tag[:30], max=TAG_MAX_CHARS)
        tags.append(tag)
    if not tags:
        raise CatalogueError("empty", field="tags")
    if len(tags) > TAGS_MAX:
        raise CatalogueError("too_many_tags", max=TAGS_MAX, count=len(tags))
    return tuple(tags)


async def read_regions(*, session: AsyncSession, text: str) -> tuple[str, ...]:
    """Read region codes or names (杭州市, 杭州, 西湖区, Hangzhou) separated by spaces/commas.

    A name must name one region of the loaded list; one that names several (two 西湖区
    in different cities) is refused with their codes, so the curator types the code.
    """
    codes: list[str] = []
    for part in _SPLIT_RE.split(fold_width(text)):
        part = part.strip()
        if not part:
            continue
        if part.isdigit():
            if not is_region_code(part):
                raise CatalogueError("bad_region", value=part)
            code = part
        else:
            code = await _region_named(session, part)
        if code not in codes:
            codes.append(code)
    if not codes:
        raise CatalogueError("empty", field="regions")
    return tuple(codes)


# Suffixes a region's name may be typed without: 杭州 = 杭州市, 西湖 = 西湖区.
_NAME_SUFFIXES = ("市", "区", "县", "省", "自治州", "自治县", "地区")


async def _region_named(session: AsyncSession, name: str) -> str:
    found = list(await region_store.named(session=session, names=[name, name.lower()]))
    if not found and not name.endswith(_NAME_SUFFIXES):
        found = list(
            await region_store.named(session=session, names=[name + s for s in _NAME_SUFFIXES])
        )
    if not found:
        raise CatalogueError("unknown_region_name", value=name[:30])
    if len(found) > 1:
        raise CatalogueError(
            "ambiguous_region", value=name[:30], codes="、".join(r.code for r in found[:5])
        )
    return found[0].code


def read_interests(text: str, taxonomy: Taxonomy) -> tuple[str, ...]:
    """Read category names, codes or aliases (健康 科普 应急…) as interest codes."""
    codes: list[str] = []
    for part in _SPLIT_RE.split(fold_width(text)):
        if not part.strip():
            continue
        code = taxonomy.match_category(part)
        if code is None:
            raise CatalogueError("bad_category", value=part[:30])
        if code not in codes:
            codes.append(code)
    if not codes:
        raise CatalogueError("empty", field="interests")
    return tuple(codes)


def read_campaign(code: str, taxonomy: Taxonomy) -> str:
    """Return a campaign code the taxonomy knows, or refuse it."""
    if taxonomy.get_campaign(code) is None:
        raise CatalogueError("bad_campaign", value=code[:32])
    return code


def read_kind(code: str, taxonomy: Taxonomy) -> str:
    """Return a kind code the taxonomy and the table both know, or refuse it."""
    if taxonomy.get_kind(code) is None or code not in ContentItem.KINDS:
        raise CatalogueError("bad_kind", value=code[:32])
    return code


def read_time(text: str, *, now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """Read a publish or expiry time (明天上午9点, 12月5日, 下周一 10:00, 2026-12-01 09:30)
    in ``tz``; it must lie in the future. Returns UTC. Raises DateError."""
    when = read_upcoming(text, now=now.astimezone(tz))
    if when <= now:
        raise CatalogueError("past_time")
    return when.astimezone(dt.UTC)


def check_expiry(expires_at: dt.datetime, publish_at: dt.datetime | None) -> None:
    """Refuse an expiry that is not after the publish time."""
    if publish_at is not None and expires_at <= publish_at:
        raise CatalogueError("expires_before_publish")


def read_length(text: str) -> int:
    """Read a video's duration in seconds (3分20秒, 3:20 …). Raises DurationError."""
    return read_duration(text)


def check_document(kind: str, mime: str | None, file_name: str | None) -> None:
    """Refuse a file sent as a document that the kind cannot carry (a clear code each)."""
    mime = (mime or "").lower()
    name = (file_name or "").lower()
    if kind == "document" and not (mime == PDF_MIME or (not mime and name.endswith(".pdf"))):
        raise CatalogueError("not_pdf", name=file_name or "", mime=mime or "?")
    if kind == "poster" and not mime.startswith("image/"):
        raise CatalogueError("not_image", name=file_name or "", mime=mime or "?")
    if kind == "video" and not mime.startswith("video/"):
        raise CatalogueError("not_video", name=file_name or "", mime=mime or "?")
    if kind == "article" and not mime.startswith("image/"):
        raise CatalogueError("not_image", name=file_name or "", mime=mime or "?")


def check_media(kind: str, media: Media | None) -> None:
    """Refuse an item whose kind lacks what it needs: a poster its image, a document its
    PDF, a video its file or (for a video link) its duration."""
    if kind == "poster" and not (media and (media.media_file_id or media.original_file_id)):
        raise CatalogueError("poster_needs_image")
    if kind == "document" and not (media and media.original_file_id):
        raise CatalogueError("document_needs_pdf")


async def create_item(
    *,
    session: AsyncSession,
    new: NewItem,
    taxonomy: Taxonomy,
    actor_id: int | None,
    now: dt.datetime,
) -> ContentItem:
    """Store a curator's new item, audited (``review``: it waits for a second curator)."""
    if taxonomy.get(new.category) is None:
        raise CatalogueError("bad_category", value=new.category)
    read_kind(new.kind, taxonomy)
    if new.campaign is not None:
        read_campaign(new.campaign, taxonomy)
    media = new.media or Media(media_file_id=new.media_file_id)
    check_media(new.kind, media)
    if new.expires_at is not None:
        check_expiry(new.expires_at, new.publish_at or now)
    item = ContentItem(
        guid=f"bot:{uuid.uuid4().hex}",
        title=check_text("title", new.title),
        summary=check_text("summary", new.summary),
        category=new.category,
        kind=new.kind,
        url=check_text("url", new.url),
        tags=list(new.tags),
        regions=list(new.regions),
        interests=[c for c in new.interests if c != new.category],
        campaign=new.campaign,
        publish_at=new.publish_at,
        expires_at=new.expires_at,
        review_state="pending" if new.review else None,
        source="bot",
        created_by=actor_id,
        created_at=now,
        **media.columns(),
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
            "kind": item.kind,
            "regions": item.regions,
            "publish_at": item.publish_at.isoformat() if item.publish_at else None,
            **({"review": "pending"} if new.review else {}),
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


def _plain(value: Any) -> Any:
    """Return a value as the audit stores it (JSON)."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


async def set_fields(
    *,
    session: AsyncSession,
    content_id: int,
    field_name: str,
    values: Mapping[str, Any],
    actor_id: int | None,
    now: dt.datetime,
    review: bool = False,
) -> ContentItem:
    """Change the columns of one field (already read by its reader), audited old → new.

    Checks that need the item: a publish time only before the item's first push, an expiry
    after its publish time, a kind with what it needs. With ``review`` (two-step
    publishing) a change to an approved item withdraws the approval: it is asked again.
    """
    columns = FIELD_COLUMNS.get(field_name)
    if columns is None or not set(values) <= set(columns):
        raise CatalogueError("not_editable", field=field_name)
    item = await content_store.get_item(session=session, content_id=content_id)
    if item is None:
        raise CatalogueError("not_found", content_id=content_id)
    if item.retired_at is not None:
        raise CatalogueError("already_retired", content_id=content_id)
    changes = dict(values)
    if field_name == "publish":
        if await content_store.pushed_content_ids(session=session, content_ids=[content_id]):
            raise CatalogueError("already_pushed", content_id=content_id)
        new_publish = changes.get("publish_at")
        if new_publish is not None and item.expires_at is not None:
            check_expiry(item.expires_at, new_publish)
    if field_name == "expires" and changes.get("expires_at") is not None:
        check_expiry(changes["expires_at"], item.publish_at or now)
    if field_name == "interests":
        changes["interests"] = [c for c in changes["interests"] if c != item.category]
    if field_name in ("kind", "media"):
        kind = changes.get("kind", item.kind)
        merged = {c: getattr(item, c) for c in FIELD_COLUMNS["kind"][1:]} | changes
        merged.pop("kind", None)
        check_media(kind, Media(**merged))
    # One column: its old and new values as they are; several (a kind and its file): by name.
    old: Any = {name: _plain(getattr(item, name)) for name in changes}
    new: Any = {name: _plain(value) for name, value in changes.items()}
    if len(changes) == 1:
        (old,), (new,) = old.values(), new.values()
    detail: dict[str, Any] = {"field": field_name, "old": old, "new": new}
    if review and item.review_state == "approved":
        changes["review_state"] = None
        detail["approval"] = "withdrawn"
    await content_store.update_item(session=session, content_id=content_id, **changes)
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="content.edit",
        now=now,
        subject_type="content",
        subject_id=content_id,
        detail=detail,
    )
    for name, value in changes.items():
        setattr(item, name, value)
    return item


# --- two-step publishing ---------------------------------------------------------------------
async def authors_of(*, session: AsyncSession, item: ContentItem) -> set[int]:
    """Return who may not approve an item: its creator and whoever asked for its review
    (an imported item has no creator: the curator who asks is its author)."""
    assert item.id is not None
    requests = await audit.entries(
        session=session,
        subject_type="content",
        subject_id=item.id,
        action="content.review_request",
    )
    people = {entry.actor_id for entry in requests if entry.actor_id is not None}
    if item.created_by is not None:
        people.add(item.created_by)
    return people


async def request_review(
    *, session: AsyncSession, content_id: int, actor_id: int | None, now: dt.datetime
) -> ContentItem:
    """Ask the other curators to approve an item (it is hidden and unpushable meanwhile)."""
    item = await content_store.get_item(session=session, content_id=content_id)
    if item is None:
        raise CatalogueError("not_found", content_id=content_id)
    if item.retired_at is not None:
        raise CatalogueError("already_retired", content_id=content_id)
    if item.review_state == "pending":
        raise CatalogueError("review_pending", content_id=content_id)
    if item.review_state == "approved":
        raise CatalogueError("already_approved", content_id=content_id)
    await content_store.update_item(session=session, content_id=content_id, review_state="pending")
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="content.review_request",
        now=now,
        subject_type="content",
        subject_id=content_id,
        detail={"title": item.title, "old": item.review_state},
    )
    item.review_state = "pending"
    return item


async def decide_review(
    *,
    session: AsyncSession,
    content_id: int,
    approve: bool,
    actor_id: int | None,
    now: dt.datetime,
) -> ContentItem:
    """Approve an item or send it back to its author, audited; the author cannot decide.

    The handler audits a refusal (``own_item``) before answering.
    """
    item = await content_store.get_item(session=session, content_id=content_id)
    if item is None:
        raise CatalogueError("not_found", content_id=content_id)
    if item.retired_at is not None:
        raise CatalogueError("already_retired", content_id=content_id)
    if item.review_state != "pending":
        raise CatalogueError("not_pending", content_id=content_id)
    if actor_id is None or actor_id in await authors_of(session=session, item=item):
        raise CatalogueError("own_item", content_id=content_id)
    state = "approved" if approve else "returned"
    await content_store.update_item(
        session=session,
        content_id=content_id,
        review_state=state,
        reviewed_by=actor_id,
        reviewed_at=now,
    )
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="content.approve" if approve else "content.send_back",
        now=now,
        subject_type="content",
        subject_id=content_id,
        detail={"title": item.title, "author": item.created_by},
    )
    item.review_state, item.reviewed_by, item.reviewed_at = state, actor_id, now
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
