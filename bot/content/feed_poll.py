"""Poll subscribed RSS/Atom feeds: conditional fetches, drafts or auto-publish, duplicates.

One poll reads the active feeds, then for each feed fetches it over HTTP with the stored
``ETag`` / ``Last-Modified`` validators (304 → nothing to do) **outside any transaction**,
parses it, and only then opens one short transaction that records the outcome, stores new
entries and queues the curators' notices in the outbox (sent after the commit).

An entry is new unless a feed carried it before: the same feed (its normalised guid), or
another feed (normalised guid or link, or the same title on the same day) — then this feed
is only recorded as one more carrier of the item. New entries become drafts a curator
publishes or discards from the notice's buttons, or are published at once when the feed
says ``auto_publish``. A failure (timeout, HTTP error, unparseable XML, bozo) is kept on the
feed and told to curators once per failure streak; nothing here raises to the scheduler.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content.catalogue import item_state
from bot.content.feeds import (
    EntryInfo,
    FeedError,
    FeedParse,
    parse_feed,
    video_media_url,
)
from bot.content.packs import GUID_MAX, ContentDraft
from bot.content.taxonomy import Taxonomy
from bot.core.callback_data import CallbackData
from bot.core.text_fit import fit_text
from bot.core.urls import url_problem
from bot.i18n import N_, Translator, get_translator, normalize_locale
from storage import audit
from storage import content as content_store
from storage import feeds as feed_store
from storage import outbox as outbox_store
from storage.models import ContentItem, FeedEntry, FeedSource
from storage.outbox import NewMessage

log = logging.getLogger(__name__)

FETCH_MAX_BYTES = 5 * 1024 * 1024
USER_AGENT = "kepubot feed poller"
NOTICE_BUTTONS_MAX = 5  # drafts with their own Publish / Discard buttons in one notice
NOTICE_LINES_MAX = 10  # items named in one notice (a new feed's archive may bring dozens)


@dataclass(frozen=True)
class FeedDraftAction(CallbackData, prefix="FDS"):
    """A curator's Publish / Discard under a feed notice (handled by bot.handlers.feeds)."""

    action: Literal["pub", "drop"]
    content_id: int


ERROR_TEXTS = {
    "timeout": N_("no answer within {seconds} seconds"),
    "unreachable": N_("the server cannot be reached ({detail})"),
    "http_status": N_("the server answered HTTP {status}"),
    "too_large": N_("the feed is larger than {max} MB"),
    "unparseable": N_("this is not a readable RSS/Atom feed ({detail})"),
    "bozo": N_("the feed's XML is damaged ({detail}); the readable entries were taken"),
    "internal": N_("an internal error ({detail})"),
    "bad_settings": N_("its category or kind “{detail}” is not in the taxonomy"),
}


@dataclass(frozen=True)
class Fetched:
    """What one conditional GET returned."""

    status: int  # 200 or 304
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


class FetchFailed(Exception):
    """A fetch failed; ``code`` is one of ERROR_TEXTS' keys."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


Fetcher = Callable[[str, str | None, str | None], Awaitable[Fetched]]


def conditional_fetcher(timeout: float) -> Fetcher:
    """Return a fetcher sending If-None-Match / If-Modified-Since, 200 and 304 accepted."""

    async def fetch(url: str, etag: str | None, last_modified: str | None) -> Fetched:
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        try:
            async with aiohttp.ClientSession(timeout=client_timeout) as client:
                async with client.get(url, headers=headers) as response:
                    if response.status == 304:
                        return Fetched(304, etag=etag, last_modified=last_modified)
                    if response.status != 200:
                        raise FetchFailed("http_status", status=response.status)
                    declared = response.content_length
                    if declared is not None and declared > FETCH_MAX_BYTES:
                        raise FetchFailed("too_large", max=FETCH_MAX_BYTES // 2**20)
                    data = bytearray()
                    async for chunk in response.content.iter_chunked(64 * 1024):
                        data.extend(chunk)
                        if len(data) > FETCH_MAX_BYTES:
                            raise FetchFailed("too_large", max=FETCH_MAX_BYTES // 2**20)
                    return Fetched(
                        200,
                        bytes(data),
                        etag=response.headers.get("ETag"),
                        last_modified=response.headers.get("Last-Modified"),
                    )
        except TimeoutError as exc:
            raise FetchFailed("timeout", seconds=f"{timeout:g}") from exc
        except (aiohttp.ClientError, OSError) as exc:
            detail = str(exc) or type(exc).__name__
            raise FetchFailed("unreachable", detail=detail[:120]) from exc

    return fetch


@dataclass
class FeedOutcome:
    """What one feed's poll did."""

    feed_id: int
    name: str
    status: str  # ok | not_modified | warning | error | removed (while being fetched)
    drafts: list[int] = field(default_factory=list)
    published: list[int] = field(default_factory=list)
    duplicates: int = 0  # entries another feed (or the catalogue) had: carrier recorded
    seen: int = 0  # entries this feed carried before
    rejected: int = 0
    error: str | None = None
    notified: int = 0


@dataclass
class PollResult:
    """What one poll of every active feed did."""

    feeds: list[FeedOutcome] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the small summary a scheduled job records."""
        return {
            "feeds": len(self.feeds),
            "drafts": sum(len(f.drafts) for f in self.feeds),
            "published": sum(len(f.published) for f in self.feeds),
            "duplicates": sum(f.duplicates for f in self.feeds),
            "not_modified": sum(1 for f in self.feeds if f.status == "not_modified"),
            "errors": sum(1 for f in self.feeds if f.status == "error"),
        }


@dataclass(frozen=True)
class _Attempt:
    """A fetch-and-parse done outside the database, ready to be recorded."""

    fetched: Fetched | None
    parsed: FeedParse | None
    error: str | None
    params: dict[str, Any]


async def poll_feeds(
    *,
    sessions: async_sessionmaker[AsyncSession],
    taxonomy: Taxonomy,
    now: Callable[[], dt.datetime],
    fetch: Fetcher,
    default_locale: str = "zh_CN",
    configs: Sequence[feed_store.FeedConfig] = (),
    only: int | None = None,
) -> PollResult:
    """Poll every active feed (or feed ``only``) once; never raises for a feed's failure."""
    async with sessions() as session, session.begin():
        await feed_store.sync_config_feeds(session=session, configs=configs, now=now())
    async with sessions() as session:
        feeds = await feed_store.list_feeds(session=session, active_only=True)
    result = PollResult()
    for feed in feeds:
        if only is not None and feed.id != only:
            continue
        attempt = await _attempt(feed, taxonomy, fetch)  # no transaction is open here
        try:
            async with sessions() as session, session.begin():
                outcome = await _record(session, feed, attempt, now(), default_locale)
        except Exception:  # one feed's bad luck never stops the others or the bot
            log.exception("recording a feed poll failed", extra={"feed_id": feed.id})
            outcome = FeedOutcome(feed.id or 0, feed.name, "error", error="internal")
        result.feeds.append(outcome)
    return result


async def _attempt(feed: FeedSource, taxonomy: Taxonomy, fetch: Fetcher) -> _Attempt:
    """Fetch and parse one feed; every failure becomes an error code, never an exception."""
    try:
        fetched = await fetch(feed.url, feed.etag, feed.last_modified)
    except FetchFailed as exc:
        return _Attempt(None, None, exc.code, exc.params)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # an injected fetcher's surprise is this feed's failure
        log.exception("feed fetch failed", extra={"feed_id": feed.id})
        return _Attempt(None, None, "internal", {"detail": type(exc).__name__})
    if fetched.status == 304:
        return _Attempt(fetched, None, None, {})
    try:
        parsed = parse_feed(
            fetched.body,
            default_category=feed.category,
            taxonomy=taxonomy,
            default_kind=feed.kind,
            name=feed.name,
        )
    except FeedError as exc:
        if exc.code in ("bad_default_category", "bad_default_kind"):  # a configuration slip
            return _Attempt(fetched, None, "bad_settings", {"detail": str(exc.params["value"])})
        detail = str(exc.params.get("detail") or exc.code)
        return _Attempt(fetched, None, "unparseable", {"detail": detail[:120]})
    except Exception as exc:  # feedparser and the HTML stripper are not ours
        log.exception("feed parse failed", extra={"feed_id": feed.id})
        return _Attempt(fetched, None, "unparseable", {"detail": type(exc).__name__})
    if parsed.bozo:
        return _Attempt(fetched, parsed, "bozo", {"detail": parsed.bozo_detail[:120]})
    return _Attempt(fetched, parsed, None, {})


async def _record(
    session: AsyncSession,
    feed: FeedSource,
    attempt: _Attempt,
    now: dt.datetime,
    default_locale: str,
) -> FeedOutcome:
    """Store the attempt's entries and outcome; queue curators' notices (one transaction)."""
    assert feed.id is not None
    fresh = await feed_store.get_feed(session=session, feed_id=feed.id)
    if fresh is None or not fresh.active:  # removed while we were fetching
        return FeedOutcome(feed.id, feed.name, "removed")
    feed = fresh
    assert feed.id is not None
    status = "error" if attempt.parsed is None and attempt.error else "ok"
    if attempt.fetched is not None and attempt.fetched.status == 304:
        status = "not_modified"
    elif attempt.error == "bozo":
        status = "warning"
    outcome = FeedOutcome(feed.id, feed.name, status, error=attempt.error)
    if attempt.parsed is not None:
        await _store_entries(session, feed, attempt.parsed, now, outcome)
    values: dict[str, Any] = {"last_polled_at": now, "status": status}
    # Validators only of a document that was read: a broken one must be fetched again.
    if attempt.fetched is not None and attempt.fetched.status == 200 and attempt.parsed:
        values["etag"] = (attempt.fetched.etag or "")[:512] or None
        values["last_modified"] = (attempt.fetched.last_modified or "")[:128] or None
    if attempt.error is None:
        values.update(last_ok_at=now, error=None, error_detail=None, failing_since=None)
        values["error_reported"] = False
        if feed.error_reported:
            outcome.notified += await _notify(session, feed, now, default_locale, recovered=True)
    else:
        values.update(error=attempt.error, error_detail=_detail(attempt)[:500])
        if attempt.error != feed.error or feed.failing_since is None:
            values["failing_since"] = now
        if not feed.error_reported:  # once per failure streak
            values["error_reported"] = True
            outcome.notified += await _notify(session, feed, now, default_locale, failure=attempt)
    await feed_store.update_feed(session=session, feed_id=feed.id, **values)
    if outcome.drafts or outcome.published:
        outcome.notified += await _notify(session, feed, now, default_locale, outcome=outcome)
    if outcome.drafts or outcome.published or outcome.duplicates:
        await audit.record(
            session=session,
            actor_id=None,
            action="content.feed_poll",
            now=now,
            subject_type="feed",
            subject_id=feed.id,
            reason=feed.url[:1000],
            detail={
                "drafts": outcome.drafts,
                "published": outcome.published,
                "duplicates": outcome.duplicates,
                "rejected": outcome.rejected,
            },
        )
    return outcome


def _detail(attempt: _Attempt) -> str:
    """Return the one value the failure's sentence needs (detail, status, seconds, size)."""
    params = attempt.params
    for name in ("detail", "status", "seconds", "max"):
        if params.get(name) not in (None, ""):
            return str(params[name])
    return str(attempt.error or "")


async def _store_entries(
    session: AsyncSession,
    feed: FeedSource,
    parsed: FeedParse,
    now: dt.datetime,
    outcome: FeedOutcome,
) -> None:
    """Store the entries this feed did not carry before; recognise other feeds' ones."""
    assert feed.id is not None
    outcome.rejected = len(parsed.rejected)
    known = await feed_store.known_keys(
        session=session, feed_id=feed.id, keys=[info.key for info in parsed.entries]
    )
    for draft, info in zip(parsed.items, parsed.entries, strict=True):
        if info.key in known:
            outcome.seen += 1
            continue
        known.add(info.key)
        # A feed-local guid (``1``, ``post-42``) says nothing about other feeds' entries.
        guid = draft.guid if info.global_guid else f"{feed.url}#{draft.guid}"[:GUID_MAX]
        keys = [info.key, info.link_key] if info.global_guid else [info.link_key]
        content_id = await feed_store.carried_item(
            session=session, keys=keys, fingerprint=info.fingerprint
        )
        if content_id is None:
            content_id = await feed_store.catalogue_item(session=session, guid=guid, url=draft.url)
        if content_id is not None:
            outcome.duplicates += 1
        else:
            content_id = await _new_item(session, feed, draft, guid, info, now)
            (outcome.published if feed.auto_publish else outcome.drafts).append(content_id)
        enclosure = info.enclosure
        await feed_store.add_entry(
            session=session,
            entry=FeedEntry(
                feed_id=feed.id,
                content_id=content_id,
                entry_key=info.key,
                link_key=info.link_key,
                fingerprint=info.fingerprint,
                enclosure_url=enclosure.url if enclosure else None,
                enclosure_type=enclosure.type[:128] if enclosure else None,
                enclosure_length=enclosure.length if enclosure else None,
                seen_at=now,
            ),
        )


async def _new_item(
    session: AsyncSession,
    feed: FeedSource,
    draft: ContentDraft,
    guid: str,
    info: EntryInfo,
    now: dt.datetime,
) -> int:
    """Store a new catalogue item: a draft, or published now (never back-dated past now)."""
    kind = draft.kind
    if info.enclosure is not None and info.enclosure.type.startswith("video/"):
        kind = "video"
    publish_at = min(draft.publish_at or now, now) if feed.auto_publish else None
    item = ContentItem(
        guid=guid,
        title=draft.title,
        summary=draft.summary,
        category=draft.category,
        kind=kind,
        url=draft.url,
        media_path=draft.media_url or video_media_url(info.enclosure),
        tags=list(draft.tags),
        regions=list(feed.regions or []),
        source=f"feed:{feed.name}"[:128],
        publish_at=publish_at,
        created_by=None,
        created_at=now,
    )
    await content_store.add_item(session=session, item=item)
    assert item.id is not None
    return item.id


# --- curators' notices ---------------------------------------------------------------------
def error_text(t: Translator, code: str | None, detail: str | None) -> str:
    """Return a feed failure in words (``detail`` fills the sentence's one placeholder)."""
    if code is None:
        return ""
    msgid = ERROR_TEXTS.get(code, ERROR_TEXTS["internal"])
    value = detail or code
    return t(msgid, detail=value, status=value, seconds=value, max=value)


async def _notify(
    session: AsyncSession,
    feed: FeedSource,
    now: dt.datetime,
    default_locale: str,
    *,
    outcome: FeedOutcome | None = None,
    failure: _Attempt | None = None,
    recovered: bool = False,
) -> int:
    """Queue one notice per curator; return how many were queued."""
    curators = await feed_store.curator_chats(session=session)
    if not curators:
        return 0
    titles: dict[int, str] = {}
    if outcome is not None:
        items = await content_store.get_items(
            session=session, content_ids=[*outcome.drafts, *outcome.published]
        )
        titles = {cid: item.title for cid, item in items.items()}
    messages: list[NewMessage] = []
    for chat_id, language in curators:
        t = get_translator(normalize_locale(language, default_locale))
        rows: list[list[dict[str, str]]] = []
        if failure is not None:
            text = t(
                "⚠️ Feed “{name}” could not be read: {reason}. You are told once; "
                "/feeds shows its state.",
                name=html.escape(feed.name),
                reason=html.escape(error_text(t, failure.error, _detail(failure))),
            )
            key = f"feed-error:{feed.id}:{int(now.timestamp())}:{chat_id}"
        elif recovered:
            text = t("✅ Feed “{name}” can be read again.", name=html.escape(feed.name))
            key = f"feed-ok:{feed.id}:{int(now.timestamp())}:{chat_id}"
        else:
            assert outcome is not None
            text, rows = _entries_notice(t, feed, outcome, titles)
            first = min([*outcome.drafts, *outcome.published])
            key = f"feed-new:{feed.id}:{first}:{chat_id}"
        payload: dict[str, Any] = {"text": text}
        if rows:
            payload["rows"] = rows
        messages.append(
            NewMessage(
                chat_id=chat_id, kind="message", payload=payload, dedupe_key=key, due_at=now
            )
        )
    return await outbox_store.enqueue(session=session, push_id=None, messages=messages, now=now)


def _entries_notice(
    t: Translator, feed: FeedSource, outcome: FeedOutcome, titles: dict[int, str]
) -> tuple[str, list[list[dict[str, str]]]]:
    """Return the notice of new entries and its Publish / Discard buttons."""
    lines: list[str] = []
    rows: list[list[dict[str, str]]] = []
    name = html.escape(feed.name)
    if outcome.drafts:
        lines.append(
            t(
                "📰 Feed “{name}”: {n} new entries wait as drafts.",
                name=name,
                n=len(outcome.drafts),
            )
        )
        lines += _item_lines(t, outcome.drafts, titles)
        for content_id in outcome.drafts[:NOTICE_BUTTONS_MAX]:
            rows.append(
                [
                    {
                        "text": t("Publish #{id}", id=content_id),
                        "callback_data": FeedDraftAction("pub", content_id).encode(),
                    },
                    {
                        "text": t("Discard #{id}", id=content_id),
                        "callback_data": FeedDraftAction("drop", content_id).encode(),
                    },
                ]
            )
        if len(outcome.drafts) > NOTICE_BUTTONS_MAX:
            lines.append(t("The others are in /catalog (drafts)."))
    if outcome.published:
        lines.append(
            t(
                "📰 Feed “{name}”: {n} new entries were published automatically; the daily "
                "push sends them.",
                name=name,
                n=len(outcome.published),
            )
        )
        lines += _item_lines(t, outcome.published, titles)
    return fit_text("\n".join(lines)), rows


def _item_lines(t: Translator, content_ids: Sequence[int], titles: dict[int, str]) -> list[str]:
    """Return one line per item (the first NOTICE_LINES_MAX), then how many more."""
    lines = [
        f"#{cid} {html.escape(titles.get(cid, ''))}" for cid in content_ids[:NOTICE_LINES_MAX]
    ]
    if len(content_ids) > NOTICE_LINES_MAX:
        lines.append(t("… and {n} more", n=len(content_ids) - NOTICE_LINES_MAX))
    return lines


# --- a curator's answer to a notice ---------------------------------------------------------
@dataclass(frozen=True)
class DraftDecision:
    """What Publish / Discard did: ``done``, or the item's state that refused it."""

    outcome: str  # published | discarded | missing | <state: scheduled, published, retired…>
    item: ContentItem | None
    carriers: list[str] = field(default_factory=list)


async def decide_draft(
    *,
    session: AsyncSession,
    content_id: int,
    publish: bool,
    actor_id: int | None,
    now: dt.datetime,
) -> DraftDecision:
    """Publish a feed draft now (the daily push sends it) or retire it; audited."""
    item = await content_store.get_item(session=session, content_id=content_id)
    if item is None:
        return DraftDecision("missing", None)
    state = item_state(item, now)
    carried = (await feed_store.carriers(session=session, content_ids=[content_id])).get(
        content_id, []
    )
    if state != "draft":
        return DraftDecision(state, item, carried)
    if publish:
        await content_store.update_item(session=session, content_id=content_id, publish_at=now)
        item.publish_at = now
    else:
        await content_store.update_item(session=session, content_id=content_id, retired_at=now)
        item.retired_at = now
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="content.feed_publish" if publish else "content.feed_discard",
        now=now,
        subject_type="content",
        subject_id=content_id,
        detail={"title": item.title, "feeds": carried},
    )
    return DraftDecision("published" if publish else "discarded", item, carried)


# --- subscribing and unsubscribing from the bot ---------------------------------------------
@dataclass(frozen=True)
class FeedChange:
    """What adding or removing a feed did: ``added`` / ``removed`` or why not."""

    outcome: str  # added | removed | bad_url | bad_category | exists | missing | configured
    feed: FeedSource | None = None


async def subscribe(
    *,
    session: AsyncSession,
    url: str,
    category: str,
    taxonomy: Taxonomy,
    auto_publish: bool,
    name: str | None,
    actor_id: int | None,
    now: dt.datetime,
) -> FeedChange:
    """Subscribe a feed a curator gave in the bot (polled from the next poll on); audited."""
    url = url.strip()
    if url_problem(url) is not None:
        return FeedChange("bad_url")
    code = taxonomy.match_category(category) if taxonomy.get(category) is None else category
    if code is None:
        return FeedChange("bad_category")
    existing = await feed_store.get_feed_by_url(session=session, url=url)
    if existing is not None and existing.active:
        return FeedChange("exists", existing)
    label = (name or "").strip()[:128] or (urlsplit(url).hostname or url)[:128]
    if existing is not None:
        assert existing.id is not None
        await feed_store.update_feed(
            session=session,
            feed_id=existing.id,
            active=True,
            name=label,
            category=code,
            auto_publish=auto_publish,
            origin="bot",
        )
        feed = await feed_store.get_feed(session=session, feed_id=existing.id)
    else:
        feed = await feed_store.add_feed(
            session=session,
            feed=FeedSource(
                url=url,
                name=label,
                category=code,
                auto_publish=auto_publish,
                origin="bot",
                added_by=actor_id,
                created_at=now,
            ),
        )
    assert feed is not None
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="feeds.add",
        now=now,
        subject_type="feed",
        subject_id=feed.id,
        reason=url[:1000],
        detail={"category": code, "auto_publish": auto_publish, "name": label},
    )
    return FeedChange("added", feed)


async def unsubscribe(
    *, session: AsyncSession, feed_id: int, actor_id: int | None, now: dt.datetime
) -> FeedChange:
    """Stop polling a feed added in the bot (its entries stay); audited."""
    feed = await feed_store.get_feed(session=session, feed_id=feed_id)
    if feed is None or not feed.active:
        return FeedChange("missing", feed)
    if feed.origin == "config":
        return FeedChange("configured", feed)
    await feed_store.update_feed(session=session, feed_id=feed_id, active=False)
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="feeds.remove",
        now=now,
        subject_type="feed",
        subject_id=feed_id,
        reason=feed.url[:1000],
    )
    return FeedChange("removed", feed)
