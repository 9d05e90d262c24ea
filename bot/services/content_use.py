"""Offline use of catalogue content by a station: a video played, a poster put up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import DomainError
from bot.core.zh_numbers import Quantity, QuantityError, read_quantity
from bot.services import findings_auto
from bot.services.access import can_admin_station
from bot.services.activities import MAX_PARTICIPANTS, MAX_PLACE_CHARS
from storage import activities as store
from storage import audit
from storage.models import ContentUse, RoleGrant

USE_KINDS: tuple[str, ...] = ("played", "posted", "other")
MAX_SEARCH_WORDS = 5


class ContentUseError(DomainError, area="content_use"):
    """A refusal; ``code`` names it and ``params`` fill its message."""


@dataclass(frozen=True)
class ItemView:
    """A catalogue item as a picker shows it."""

    id: int
    title: str
    title_en: str | None
    kind: str


async def find_items(
    *, session: AsyncSession, now: dt.datetime, query: str = "", limit: int = 8
) -> list[ItemView]:
    """Return recent live items, or those matching every word of ``query``."""
    words = query.split()[:MAX_SEARCH_WORDS]
    items = await store.recent_content(session=session, now=now, words=words, limit=limit)
    return [ItemView(i.id, i.title, i.title_en, i.kind) for i in items if i.id is not None]


async def get_item(*, session: AsyncSession, content_id: int) -> ItemView:
    """Return a live item or refuse."""
    item = await store.get_content(session=session, content_id=content_id)
    if item is None or item.id is None or item.retired_at is not None:
        raise ContentUseError("content_unknown")
    return ItemView(item.id, item.title, item.title_en, item.kind)


def default_kind(item_kind: str) -> str:
    """Suggest the usual use of a kind of content (videos are played, posters posted)."""
    return {"video": "played", "poster": "posted"}.get(item_kind, "other")


def read_audience(text: str) -> Quantity:
    """Read how many people saw it with the one quantity reader (80, 约80人, 两百人左右)."""
    try:
        return read_quantity(text, limit=MAX_PARTICIPANTS)
    except QuantityError as exc:
        code = {"empty": "unreadable"}.get(exc.code, exc.code)
        raise ContentUseError(f"audience_{code}", **exc.params) from None


def parse_audience(text: str) -> int:
    """Return just the number of ``read_audience``."""
    return read_audience(text).value


def needs_size_check(audience: int, *, bound: int) -> bool:
    """Tell whether an audience is above the usual bound, so its sender is asked to confirm it."""
    return audience > bound


def check_place(text: str) -> str:
    """Return a tidy place or refuse."""
    place = " ".join(text.split())
    if not place:
        raise ContentUseError("place_empty")
    if len(place) > MAX_PLACE_CHARS:
        raise ContentUseError("place_too_long", limit=MAX_PLACE_CHARS)
    return place


async def record_use(
    *,
    session: AsyncSession,
    station_id: int,
    grants: Sequence[RoleGrant],
    actor_id: int | None,
    content_id: int,
    use_kind: str,
    place: str | None,
    audience: int,
    today: dt.date,
    now: dt.datetime,
) -> ContentUse:
    """Store one use of an item by a station the person administers."""
    if not can_admin_station(grants, station_id):
        raise ContentUseError("not_station_admin")
    if use_kind not in USE_KINDS:
        raise ContentUseError("kind_unknown")
    await get_item(session=session, content_id=content_id)
    if audience <= 0 or audience > MAX_PARTICIPANTS:
        raise ContentUseError(
            "audience_zero" if audience <= 0 else "audience_too_many", limit=MAX_PARTICIPANTS
        )
    use = ContentUse(
        station_id=station_id,
        content_id=content_id,
        use_kind=use_kind,
        place=check_place(place) if place else None,
        audience=audience,
        used_on=today,
        created_by=actor_id,
        created_at=now,
    )
    await store.add_content_use(session=session, use=use)
    stations = await store.stations_by_id(session=session, station_ids=[station_id])
    if station_id in stations:
        await findings_auto.check_content_use(
            session=session, use=use, station=stations[station_id], now=now
        )
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="content.use",
        now=now,
        subject_type="content_use",
        subject_id=use.id,
        detail={
            "station_id": station_id,
            "content_id": content_id,
            "kind": use_kind,
            "audience": audience,
        },
    )
    return use
