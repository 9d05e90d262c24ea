"""Precise push: pick recipients by interest and region, respect quiet hours, fill the outbox.

Every push writes one outbox row per recipient with the dedupe key
``push:<content_id>:<chat_id>``, so an item reaches a chat at most once however often it is
pushed (a second push reaches only informants who joined since), and the daily push is
idempotent: running it twice on one day enqueues nothing new.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import BroadcastSettings, LimitsSettings
from bot.content.catalogue import item_state
from bot.content.targeting import in_regions, quiet_until, wants_category
from bot.core.errors import DomainError
from bot.i18n import normalize_locale
from bot.services import broadcast as broadcast_service
from bot.services import channels as channel_service
from bot.services.access import region_prefix
from storage import audit
from storage import content as content_store
from storage import outbox as outbox_store
from storage.content import Candidate
from storage.models import ContentItem, Push

log = logging.getLogger(__name__)

CONTENT_KIND = "content"
DAILY_MAX_ITEMS = 3  # items per scheduled daily push; the rest wait for the next days
DAILY_LOOKBACK = dt.timedelta(days=7)  # older never-pushed items are not pushed by schedule
RECIPIENT_PAGE = 2000  # candidates read (and rows enqueued) per page of a push


class PushError(DomainError, area="push"):
    """A push is refused; ``code`` says why."""


@dataclass(frozen=True)
class Target:
    """One recipient of a push and when the message may go."""

    candidate: Candidate
    due_at: dt.datetime
    deferred: bool


@dataclass(frozen=True)
class PushResult:
    """What a push enqueued."""

    push_id: int | None
    content_id: int
    targeted: int
    queued: int
    deferred: int
    channel_posts: int = 0  # of ``targeted``: rows to the region's channels (channels_1)
    paid_budget: float | None = None  # opted into paid broadcasts with this budget (Stars)

    @property
    def already(self) -> int:
        """Return how many targets had this item already (skipped)."""
        return self.targeted - self.queued


@dataclass(frozen=True)
class PaidRates:
    """What a paid push is opened with: the configured rates, price and budget."""

    limits: LimitsSettings
    broadcast: BroadcastSettings


@dataclass(frozen=True)
class DailyPushResult:
    """What one scheduled daily push did."""

    day: dt.date
    items: list[PushResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the small result dict a scheduled job logs."""
        return {
            "day": self.day.isoformat(),
            "items": [r.content_id for r in self.items],
            "pushes": [r.push_id for r in self.items if r.push_id is not None],
            "queued": sum(r.queued for r in self.items),
            "deferred": sum(r.deferred for r in self.items),
            "channel_posts": sum(r.channel_posts for r in self.items),
            "paid": [r.push_id for r in self.items if r.paid_budget is not None],
        }


@dataclass(frozen=True)
class PushStatus:
    """Progress of one push."""

    push: Push
    counts: dict[str, int]

    @property
    def pending(self) -> int:
        """Return how many messages are still to be sent."""
        return self.counts.get("pending", 0)

    @property
    def done(self) -> bool:
        """Tell whether every message reached a final state."""
        return self.pending == 0


def select_targets(
    candidates: Sequence[Candidate],
    *,
    categories: Sequence[str],
    regions: Sequence[str],
    send_at: dt.datetime,
    tz: ZoneInfo | dt.tzinfo,
) -> list[Target]:
    """Keep candidates whose interests and station region match; set each one's send time."""
    targets: list[Target] = []
    for candidate in candidates:
        if not wants_category(candidate.interests, categories):
            continue
        if not in_regions(candidate.region_code, regions):
            continue
        quiet_end = quiet_until(send_at, candidate.quiet_start, candidate.quiet_end, tz)
        targets.append(Target(candidate, quiet_end or send_at, quiet_end is not None))
    return targets


def _prefixes(regions: Sequence[str]) -> list[str]:
    """Return SQL prefixes for the regions (None of them → no filter)."""
    return sorted({region_prefix(code) for code in regions})


async def _target_pages(
    session: AsyncSession,
    *,
    categories: Sequence[str],
    regions: Sequence[str],
    send_at: dt.datetime,
    tz: ZoneInfo | dt.tzinfo,
    page_size: int,
) -> AsyncIterator[list[Target]]:
    """Yield the push's targets a page of candidates at a time (keyset on the informant).

    Memory stays flat in the network's size: only one page of candidates is held at once.
    """
    after = 0
    prefixes = _prefixes(regions)
    while True:
        page = await content_store.push_candidate_page(
            session=session, region_prefixes=prefixes, after_id=after, limit=page_size
        )
        if not page:
            return
        after = page[-1].informant_id
        yield select_targets(page, categories=categories, regions=regions, send_at=send_at, tz=tz)
        if len(page) < page_size:
            return


async def _no_pages() -> AsyncIterator[list[Target]]:
    """No informant pages (a push to channels only)."""
    empty: tuple[list[Target], ...] = ()
    for page in empty:
        yield page


def _scope(
    item: ContentItem, categories: Sequence[str] | None, regions: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    # The item's category, then the extra interests a curator targeted (content_types_1).
    cats = list(categories) if categories else [item.category, *(item.interests or [])]
    regs = list(regions) if regions is not None else list(item.regions or [])
    return cats, regs


async def _pushable(
    session: AsyncSession, content_id: int, now: dt.datetime, require_approval: bool = False
) -> ContentItem:
    item = await content_store.get_item(session=session, content_id=content_id)
    if item is None:
        raise PushError("not_found", content_id=content_id)
    state = item_state(item, now)
    if state in ("retired", "expired"):
        raise PushError(state, content_id=content_id)
    if state == "review":
        raise PushError("not_approved", content_id=content_id)
    # Two-step publishing ([content] review_before_publish): a second curator approved it.
    if require_approval and item.review_state != "approved":
        raise PushError("not_approved", content_id=content_id)
    return item


async def count_targets(
    *,
    session: AsyncSession,
    content_id: int,
    now: dt.datetime,
    tz: ZoneInfo | dt.tzinfo,
    categories: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    require_approval: bool = False,
    page_size: int | None = None,
) -> int:
    """Return how many informants a push of the item would reach now."""
    page_size = page_size or RECIPIENT_PAGE
    item = await _pushable(session, content_id, now, require_approval)
    cats, regs = _scope(item, categories, regions)
    total = 0
    async for targets in _target_pages(
        session, categories=cats, regions=regs, send_at=now, tz=tz, page_size=page_size
    ):
        total += len(targets)
    return total


async def push_item(
    *,
    session: AsyncSession,
    content_id: int,
    now: dt.datetime,
    tz: ZoneInfo | dt.tzinfo,
    default_locale: str = "zh_CN",
    actor_id: int | None = None,
    trigger: str = "curator",
    categories: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    not_before: dt.datetime | None = None,
    report_chat: int | None = None,
    report_locale: str | None = None,
    require_approval: bool = False,
    page_size: int | None = None,
    informants: bool = True,
    channels: bool = False,
) -> PushResult:
    """Enqueue one message per matching informant; publish the item if it was not yet.

    ``informants`` / ``channels``: who gets it — informants' private messages, one post in
    each channel linked within the push's regions (``bot.services.channels``), or both.
    Recipients are read and enqueued a page at a time (``page_size``, default
    ``RECIPIENT_PAGE``): memory does not grow with the network.
    """
    page_size = page_size or RECIPIENT_PAGE
    item = await _pushable(session, content_id, now, require_approval)
    send_at = max(not_before or now, now)
    # Pushing a scheduled item now: its earlier push's rows still wait for the scheduled
    # time (none can have been claimed yet) and are brought forward below.
    brings_forward = not_before is None and item.publish_at is not None and item.publish_at > now
    if item.publish_at is None or (not_before is None and item.publish_at > now):
        item.publish_at = send_at
        await content_store.update_item(session=session, content_id=content_id, publish_at=send_at)
    cats, regs = _scope(item, categories, regions)
    targeting: dict[str, Any] = {"trigger": trigger, "categories": cats, "regions": regs}
    if channels:
        targeting["to"] = "both" if informants else "channels"
    if not_before is not None:
        targeting["not_before"] = send_at.isoformat()
    if report_chat is not None:
        targeting["report_chat"] = report_chat
        targeting["report_locale"] = report_locale or default_locale
    push = await outbox_store.create_push(
        session=session,
        content_id=content_id,
        kind=CONTENT_KIND,
        created_by=actor_id,
        targeting=targeting,
        now=now,
    )
    assert push.id is not None
    targeted = queued = deferred = 0
    moved: dict[int | None, int] = {}
    pages = _target_pages(
        session, categories=cats, regions=regs, send_at=send_at, tz=tz, page_size=page_size
    )
    async for targets in pages if informants else _no_pages():
        targeted += len(targets)
        deferred += sum(1 for target in targets if target.deferred)
        messages = [
            outbox_store.NewMessage(
                chat_id=target.candidate.telegram_id,
                kind=CONTENT_KIND,
                payload={
                    "content_id": content_id,
                    "locale": normalize_locale(target.candidate.language, default_locale),
                    "informant_id": target.candidate.informant_id,
                    "station_admin": target.candidate.station_admin,
                },
                dedupe_key=f"push:{content_id}:{target.candidate.telegram_id}",
                due_at=target.due_at,
            )
            for target in targets
        ]
        queued += await outbox_store.enqueue(
            session=session, push_id=push.id, messages=messages, now=now
        )
        if brings_forward:
            page_moved = await outbox_store.bring_forward(
                session=session,
                push_id=push.id,
                due={
                    f"push:{content_id}:{target.candidate.telegram_id}": target.due_at
                    for target in targets
                },
            )
            for old_id, n in page_moved.items():
                moved[old_id] = moved.get(old_id, 0) + n
    for old_id, n in moved.items():
        old = await outbox_store.get_push(session=session, push_id=old_id) if old_id else None
        if old is not None and old.id is not None:
            left = max(old.total - n, 0)
            done = {"finished_at": now} if left == 0 and old.finished_at is None else {}
            await outbox_store.update_push(session=session, push_id=old.id, total=left, **done)
    queued += sum(moved.values())
    channel_rows = (
        channel_service.post_messages(
            await channel_service.push_channels(session=session, regions=regs),
            content_id=content_id,
            locale=default_locale,
            due_at=send_at,
        )
        if channels
        else []
    )
    if channel_rows:
        queued += await outbox_store.enqueue(
            session=session, push_id=push.id, messages=channel_rows, now=now
        )
    await outbox_store.update_push(
        session=session,
        push_id=push.id,
        total=queued,
        **({"finished_at": now} if queued == 0 else {}),
    )
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="content.push",
        now=now,
        subject_type="content",
        subject_id=content_id,
        detail={
            "push_id": push.id,
            "trigger": trigger,
            "targeted": targeted,
            "queued": queued,
            "channel_posts": len(channel_rows),
            "categories": cats,
            "regions": regs,
        },
    )
    return PushResult(
        push_id=push.id,
        content_id=content_id,
        targeted=targeted + len(channel_rows),
        queued=queued,
        deferred=min(deferred, queued),
        channel_posts=len(channel_rows),
    )


async def run_daily_push(
    *,
    session: AsyncSession,
    now: dt.datetime,
    tz: ZoneInfo | dt.tzinfo,
    default_locale: str = "zh_CN",
    max_items: int = DAILY_MAX_ITEMS,
    lookback: dt.timedelta = DAILY_LOOKBACK,
    require_approval: bool = False,
    informants: bool = True,
    channels: bool = False,
    paid: PaidRates | None = None,
) -> DailyPushResult:
    """Push today's items: published, unexpired, never pushed, newest first (idempotent).

    ``informants`` / ``channels``: who gets them (``[content] daily_push_to``); ``paid``:
    each item's push opts into paid broadcasts with the configured budget
    (``[broadcast] daily_push_paid``).
    """
    day = now.astimezone(tz).date()
    items = await content_store.daily_candidates(
        session=session,
        now=now,
        since=now - lookback,
        limit=max_items,
        approved_only=require_approval,
    )
    results: list[PushResult] = []
    for item in items:
        assert item.id is not None
        result = await push_item(
            session=session,
            content_id=item.id,
            now=now,
            tz=tz,
            default_locale=default_locale,
            trigger="daily",
            informants=informants,
            channels=channels,
        )
        results.append(await open_paid(session=session, result=result, paid=paid, now=now))
    return DailyPushResult(day=day, items=results)


async def open_paid(
    *,
    session: AsyncSession,
    result: PushResult,
    paid: PaidRates | None,
    now: dt.datetime,
    actor_id: int | None = None,
    budget: float | None = None,
) -> PushResult:
    """Opt a queued push into paid broadcasts (``paid`` None, or nothing for informants:
    unchanged); return the result with its budget. ``budget``: instead of the configured."""
    informants = result.queued - result.channel_posts  # a channel post is one message
    if paid is None or not paid.broadcast.enabled or result.push_id is None or informants <= 0:
        return result
    row = await broadcast_service.open_paid_push(
        session=session,
        push_id=result.push_id,
        recipients=informants,
        limits=paid.limits,
        broadcast=paid.broadcast,
        now=now,
        actor_id=actor_id,
        budget=budget,
    )
    return replace(result, paid_budget=row.budget_stars if row is not None else None)


async def push_status(*, session: AsyncSession, push_id: int) -> PushStatus | None:
    """Return a push and its message counts per state."""
    push = await outbox_store.get_push(session=session, push_id=push_id)
    if push is None:
        return None
    counts = await outbox_store.counts(session=session, push_id=push_id)
    return PushStatus(push=push, counts=counts)


async def attach_progress_message(*, session: AsyncSession, push_id: int, message_id: int) -> None:
    """Remember the curator's progress message so the sender can edit it."""
    push = await outbox_store.get_push(session=session, push_id=push_id)
    if push is not None:
        targeting = {**(push.targeting or {}), "progress_message_id": message_id}
        await outbox_store.update_push(session=session, push_id=push_id, targeting=targeting)


# --- why messages failed, and retrying the retryable ones --------------------------------
# The groups a push report shows, in order. ``blocked``: the user blocked the bot or never
# started it (403) — never retried; ``chat_not_found``: Telegram does not know the chat
# (the user never opened the bot, or deleted the account); ``too_many_requests``: 429
# flood control; ``other``: network errors after every attempt, bad requests, media.
REASONS: tuple[str, ...] = ("blocked", "chat_not_found", "too_many_requests", "other")
# Errors no retry can cure: the item itself cannot be sent any more, or the row was erased.
_FINAL_ERRORS = ("content_retired", "content_expired", "content_missing", "erased")


def failure_reason(state: str, error: str | None) -> str:
    """Return the group of a row that ended unsent (one of ``REASONS``)."""
    text = (error or "").lower()
    if state == "blocked" or text.startswith("forbidden"):
        return "blocked"
    if "chat not found" in text or "user not found" in text:
        return "chat_not_found"
    if "too many requests" in text or text.startswith("retryafter") or "flood" in text:
        return "too_many_requests"
    return "other"


def is_retryable(state: str, error: str | None) -> bool:
    """Tell whether a retry may deliver a row: not blocked, and its item still sendable."""
    if failure_reason(state, error) == "blocked":
        return False
    return not (error or "").startswith(_FINAL_ERRORS)


@dataclass(frozen=True)
class Failures:
    """A push's unsent messages grouped by reason, and how many a retry would re-send."""

    reasons: dict[str, int]
    retryable: int
    retryable_messages: int = 0  # of them, private messages (not channel posts): paid may apply

    @property
    def total(self) -> int:
        """Return how many messages ended unsent."""
        return sum(self.reasons.values())


async def failure_summary(*, session: AsyncSession, push_id: int) -> Failures:
    """Group a push's failed and blocked messages by reason (the stored error of each)."""
    reasons = dict.fromkeys(REASONS, 0)
    retryable = messages = 0
    ended = await outbox_store.ended_unsent(session=session, push_id=push_id)
    for state, error, kind, n in ended:
        reasons[failure_reason(state, error)] += n
        if is_retryable(state, error):
            retryable += n
            if kind != channel_service.CHANNEL_POST_KIND:
                messages += n
    return Failures(reasons=reasons, retryable=retryable, retryable_messages=messages)


async def retry_failed(
    *,
    session: AsyncSession,
    push_id: int,
    now: dt.datetime,
    actor_id: int | None = None,
    report_chat: int | None = None,
    report_locale: str | None = None,
    paid: PaidRates | None = None,
) -> PushResult:
    """Send a push's retryable failures again, as a new push (its own report); audited.

    Blocked users are not retried; nor are messages whose item was retired or expired.
    The retry keeps the original's way: its channel rows post to the channel again (they
    are the same outbox rows), and a paid original's retry is paid too (with ``paid``, the
    configured rates) within what is left of the original's budget (docs/reach.md).
    Raise PushError ``no_push`` or ``nothing_to_retry`` (or the item's ``retired``…).
    """
    original = await outbox_store.get_push(session=session, push_id=push_id)
    if original is None:
        raise PushError("no_push", push_id=push_id)
    rows = await outbox_store.failed_rows(session=session, push_id=push_id)
    ids = [row_id for row_id, state, error in rows if is_retryable(state, error)]
    if not ids:
        raise PushError("nothing_to_retry", push_id=push_id)
    if original.content_id is not None:
        await _pushable(session, original.content_id, now)
    targeting: dict[str, Any] = {"trigger": "retry", "retry_of": push_id}
    for key in ("categories", "regions", "to"):
        if key in (original.targeting or {}):
            targeting[key] = original.targeting[key]
    if report_chat is not None:
        targeting["report_chat"] = report_chat
        targeting["report_locale"] = report_locale or "zh_CN"
    push = await outbox_store.create_push(
        session=session,
        content_id=original.content_id,
        kind=original.kind,
        created_by=actor_id,
        targeting=targeting,
        now=now,
    )
    assert push.id is not None
    moved = await outbox_store.requeue(session=session, ids=ids, push_id=push.id, due_at=now)
    await outbox_store.update_push(
        session=session,
        push_id=push.id,
        total=moved,
        **({"finished_at": now} if moved == 0 else {}),
    )
    retried = {**(original.targeting or {})}
    retried["retried"] = [*retried.get("retried", []), {"push_id": push.id, "messages": moved}]
    await outbox_store.update_push(session=session, push_id=push_id, targeting=retried)
    skipped = len(rows) - len(ids)
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="push.retry",
        now=now,
        subject_type="push",
        subject_id=push_id,
        detail={"retry_push_id": push.id, "retried": moved, "not_retried": skipped},
    )
    result = PushResult(
        push_id=push.id,
        content_id=original.content_id or 0,
        targeted=len(ids),
        queued=moved,
        deferred=0,
        channel_posts=await outbox_store.count_kind(
            session=session, push_id=push.id, kind=channel_service.CHANNEL_POST_KIND
        ),
    )
    left = await broadcast_service.retry_budget(session=session, push_id=push_id)
    if left is None:
        return result
    return await open_paid(
        session=session, result=result, paid=paid, now=now, actor_id=actor_id, budget=left
    )
