"""Shares: record one with dedupe, rate limit and audience cap; find what a message shares.

Anti-inflation rules (docs/shares.md):
* one share per (informant, item, channel, target) per local day — ``dedupe_key`` is
  unique, so repeats and redelivered updates are an insert that does nothing;
* at most ``shares.max_shares_per_hour`` shares per informant per rolling hour;
* a reported audience above ``shares.max_reported_audience`` is capped to it, the claim is
  kept in ``audience_reported`` and an ``audience_capped`` integrity flag is raised.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.core.errors import DomainError
from bot.core.zh_numbers import Quantity, QuantityError, read_quantity
from bot.services import links as link_service
from storage import content as content_store
from storage import groups as group_store
from storage import links as link_store
from storage import shares as share_store
from storage.models import ContentItem, ShareEvent

INLINE = "telegram_inline"
FORWARD = "telegram_forward"
PLATFORMS: tuple[str, ...] = (
    "wechat_group",
    "wechat_moments",
    "qq_group",
    "public_account",
    "other",
)
AUDIENCE_CHOICES: tuple[int, ...] = (50, 100, 200, 500)
MAX_AUDIENCE_INPUT = 1_000_000  # beyond this a typed number is a typo, not a big group
INLINE_RESULT_PREFIX = "c"
_INLINE_ID_RE = re.compile(r"^\s*c(\d{1,12})(?:\.([a-z]))?\s*$")
# The inline query's chat_type travels in the result id (c<id>.<letter>): chosen_inline_result
# names the result but not the chat, and the id comes back exactly as the bot gave it.
CHAT_TYPE_CODES: dict[str, str] = {
    "sender": "s",
    "private": "p",
    "group": "g",
    "supergroup": "u",
    "channel": "h",
}
_CHAT_TYPE_OF_CODE = {code: name for name, code in CHAT_TYPE_CODES.items()}
GROUP_CHAT_TYPES = frozenset({"group", "supergroup"})
_CODE_IN_TEXT = re.compile(r"/s/([A-Za-z0-9]{6,16})\b")
_TAG_RE = re.compile(r"<[^>]+>")


class ShareError(DomainError, area="share"):
    """A refused share; ``code`` picks the localised message, ``params`` fill it."""


@dataclass(frozen=True)
class InformantRef:
    """The informant behind a share."""

    informant_id: int
    station_id: int
    region_code: str | None
    station_status: str | None = None


@dataclass(frozen=True)
class ShareOutcome:
    """What recording a share did."""

    share_id: int | None
    audience: int
    capped: bool

    @property
    def recorded(self) -> bool:
        """Tell whether a new share was stored (False: already counted)."""
        return self.share_id is not None


async def informant_for(*, session: AsyncSession, person_id: int | None) -> InformantRef | None:
    """Return the active informant of a person, if any."""
    if person_id is None:
        return None
    row = await share_store.informant_ref(session=session, person_id=person_id)
    return InformantRef(*row) if row is not None else None


def dedupe_key(informant_id: int, content_id: int, channel: str, target: str, day: dt.date) -> str:
    """Return the key that makes a repeated share of the same day a no-op."""
    if len(target) > 64:
        target = "h" + hashlib.sha256(target.encode()).hexdigest()[:40]
    return f"{informant_id}:{content_id}:{channel}:{target}:{day.isoformat()}"


def parse_audience(text: str) -> int:
    """Read a typed audience and return its value."""
    return read_audience(text).value


def read_audience(text: str) -> Quantity:
    """Read a typed audience with the one quantity reader (约80人, 5000人, 200人左右, 五十)."""
    try:
        return read_quantity(text, limit=MAX_AUDIENCE_INPUT)
    except QuantityError as exc:
        if exc.code == "negative":
            raise ShareError("audience_negative") from None
        if exc.code == "zero":
            raise ShareError("audience_zero") from None
        raise ShareError("bad_audience", max=MAX_AUDIENCE_INPUT) from None


def _channel_ok(channel: str) -> bool:
    return channel in ShareEvent.CHANNELS


async def record_share(
    *,
    session: AsyncSession,
    settings: Settings,
    informant: InformantRef,
    content_id: int,
    channel: str,
    target: str = "",
    audience: int = 0,
    chat_type: str | None = None,
    now: dt.datetime,
    today: dt.date,
) -> ShareOutcome:
    """Record a share unless it repeats one of today; refuse above the hourly limit."""
    if not _channel_ok(channel):
        raise ShareError("bad_channel", channel=channel)
    if audience < 0:
        raise ShareError("bad_audience", max=MAX_AUDIENCE_INPUT)
    if not await share_store.content_exists(session=session, content_id=content_id):
        raise ShareError("no_content")
    limit = settings.shares.max_shares_per_hour
    recent = await share_store.count_since(
        session=session,
        informant_id=informant.informant_id,
        since=now - dt.timedelta(hours=1),
    )
    if recent >= limit:
        raise ShareError("rate_limited", limit=limit)
    reported = channel in PLATFORMS
    cap = settings.shares.max_reported_audience
    capped = reported and audience > cap
    stored_audience = min(audience, cap) if reported else audience
    share_id = await share_store.insert_share(
        session=session,
        values={
            "informant_id": informant.informant_id,
            "station_id": informant.station_id,
            "content_id": content_id,
            "channel": channel,
            "target": target[:128],
            "audience": stored_audience,
            "audience_reported": audience if reported else None,
            "chat_type": chat_type if channel == INLINE else None,
            "flagged": capped,
            "day": today,
            "dedupe_key": dedupe_key(informant.informant_id, content_id, channel, target, today),
            "created_at": now,
        },
    )
    if share_id is not None and capped:
        await share_store.add_flag(
            session=session,
            kind="audience_capped",
            station_id=informant.station_id,
            region_code=informant.region_code,
            subject_type="share_event",
            subject_id=share_id,
            now=now,
            detail={
                "informant_id": informant.informant_id,
                "content_id": content_id,
                "channel": channel,
                "reported": audience,
                "cap": cap,
            },
        )
    return ShareOutcome(share_id=share_id, audience=stored_audience, capped=capped)


async def tracked_url(
    *,
    session: AsyncSession,
    settings: Settings,
    informant_id: int,
    content_id: int,
    channel: str,
    now: dt.datetime,
) -> str:
    """Return the informant's short link for an item and channel (created on first use)."""
    link = await link_store.get_or_create_link(
        session=session,
        informant_id=informant_id,
        content_id=content_id,
        channel=channel,
        new_code=link_service.new_code,
        now=now,
    )
    return link_service.link_url(settings, link.code)


# --- inline mode ---------------------------------------------------------------------------


def inline_result_id(content_id: int, chat_type: str | None = None) -> str:
    """Return the inline result id for an item: ``c<id>``, ``c<id>.g`` with a chat type."""
    code = CHAT_TYPE_CODES.get(chat_type or "")
    return f"{INLINE_RESULT_PREFIX}{content_id}" + (f".{code}" if code else "")


def content_of_result(result_id: str) -> int | None:
    """Return the item id an inline result id (or the card's inline query) encodes."""
    match = _INLINE_ID_RE.match(result_id or "")
    return int(match.group(1)) if match else None


def chat_type_of_result(result_id: str) -> str | None:
    """Return the chat type an inline result id carries (None when Telegram gave none)."""
    match = _INLINE_ID_RE.match(result_id or "")
    return _CHAT_TYPE_OF_CODE.get(match.group(2) or "") if match else None


def visible(item: ContentItem, now: dt.datetime) -> bool:
    """Tell whether informants may see an item now (published, not retired or expired)."""
    return (
        item.publish_at is not None
        and item.publish_at <= now
        and item.retired_at is None
        and (item.expires_at is None or item.expires_at > now)
    )


async def inline_items(
    *, session: AsyncSession, query: str, now: dt.datetime, limit: int = 20
) -> list[ContentItem]:
    """Return the items an inline query asks for: ``c<id>``, words, or the newest."""
    content_id = content_of_result(query)
    if content_id is not None:
        item = await content_store.get_item(session=session, content_id=content_id)
        return [item] if item is not None and visible(item, now) else []
    words = query.split()[:5]
    if words:
        items, _ = await content_store.search(session=session, now=now, words=words, limit=limit)
    else:
        items, _ = await content_store.browse(session=session, now=now, limit=limit)
    return items


# --- forwards ----------------------------------------------------------------------------


def _first_line(text: str) -> str:
    plain = html.unescape(_TAG_RE.sub("", text))
    for line in plain.splitlines():
        if line.strip():
            return line.strip()
    return ""


async def content_of_message(
    *, session: AsyncSession, text: str | None, urls: list[str]
) -> int | None:
    """Return the item a forwarded kepubot message shows: by tracked link, else by title."""
    for candidate in [*urls, text or ""]:
        for code in _CODE_IN_TEXT.findall(candidate):
            content_id = await share_store.content_id_by_code(session=session, code=code)
            if content_id is not None:
                return content_id
    title = _first_line(text or "")
    if not title:
        return None
    return await share_store.content_id_by_title(session=session, title=title)


def forward_audience(member_count: int) -> int:
    """Return who a forward reaches: the group's members other than the bot and the sharer."""
    return max(member_count - 2, 0)


async def learn_member_count(
    *,
    session: AsyncSession,
    chat_id: int,
    member_count: int,
    share_ids: Sequence[int],
    now: dt.datetime,
) -> None:
    """Cache a group's member count and give the forwards that waited for it their reach."""
    await group_store.set_member_count(
        session=session, chat_id=chat_id, count=member_count, now=now
    )
    await share_store.set_audience(
        session=session, share_ids=share_ids, audience=forward_audience(member_count)
    )


MEMBER_COUNT_TTL = dt.timedelta(days=1)


def member_count_stale(count_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Tell whether a cached group member count must be fetched again."""
    return count_at is None or now - count_at >= MEMBER_COUNT_TTL


# --- set-based inline shares (for a batch handler in the inbox processor) -----------------


@dataclass(frozen=True)
class InlineChoice:
    """One chosen_inline_result, reduced to what a share needs."""

    telegram_id: int
    result_id: str
    inline_message_id: str | None


async def record_inline_shares(
    *,
    session: AsyncSession,
    settings: Settings,
    choices: list[InlineChoice],
    now: dt.datetime,
    today: dt.date,
) -> int:
    """Record many inline shares with four statements; same rules as ``record_share``."""
    parsed = [(c, content_of_result(c.result_id)) for c in choices]
    parsed = [(c, cid) for c, cid in parsed if cid is not None]
    informants = await share_store.informants_by_telegram_id(
        session=session,
        telegram_ids=[c.telegram_id for c, _ in parsed],
        shares_since=now - dt.timedelta(hours=1),
    )
    contents = await share_store.existing_content_ids(
        session=session, content_ids=[cid for _, cid in parsed if cid is not None]
    )
    recent = {who[0]: who[4] for who in informants.values()}
    limit = settings.shares.max_shares_per_hour
    rows: dict[str, dict[str, object]] = {}
    for choice, content_id in parsed:
        who = informants.get(choice.telegram_id)
        if who is None or content_id not in contents:
            continue
        informant_id, station_id = who[0], who[1]
        target = choice.inline_message_id or ""
        key = dedupe_key(informant_id, content_id, INLINE, target, today)
        if key in rows or recent.get(informant_id, 0) >= limit:
            continue
        recent[informant_id] = recent.get(informant_id, 0) + 1
        rows[key] = {
            "informant_id": informant_id,
            "station_id": station_id,
            "content_id": content_id,
            "channel": INLINE,
            "target": target[:128],
            "audience": 0,
            "audience_reported": None,
            "chat_type": chat_type_of_result(choice.result_id),
            "flagged": False,
            "day": today,
            "dedupe_key": key,
            "created_at": now,
        }
    return await share_store.insert_shares(session=session, rows=list(rows.values()))
