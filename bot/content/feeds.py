"""Parse RSS 2.0 / Atom feeds into the same content drafts that packs produce."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser

from bot.content.packs import (
    GUID_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    ContentDraft,
    Rejection,
)
from bot.content.taxonomy import Taxonomy
from bot.core.errors import DomainError
from bot.core.urls import is_http_url, show_hidden, url_problem

Fetch = Callable[[str], bytes]
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".gif", ".webp")
_XML_ENCODING_RE = re.compile(r"""^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""")
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 "
    "h6 header hr li ol p pre section table td th tr ul".split()
)
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title"})


class FeedError(DomainError, area="feed"):
    """The feed as a whole is unusable; ``code`` is a machine code."""


@dataclass(frozen=True)
class Enclosure:
    """A media file an entry carries (RSS ``<enclosure>``, Atom ``rel="enclosure"``)."""

    url: str
    type: str
    length: int | None


@dataclass(frozen=True)
class EntryInfo:
    """What recognises an accepted entry in any feed, and the enclosure it carries."""

    key: str  # normalised guid (or link)
    global_guid: bool  # the guid is meaningful across feeds (see is_global_guid)
    link_key: str  # normalised link
    fingerprint: str  # title + day, for the same story under other ids
    enclosure: Enclosure | None


@dataclass(frozen=True)
class FeedParse:
    """The accepted drafts and rejected entries of one feed, in entry order."""

    title: str
    source: str
    items: list[ContentDraft]
    rejected: list[Rejection]
    bozo: bool
    # One per item, in the same order: keys to recognise duplicates, the enclosure.
    entries: list[EntryInfo] = field(default_factory=list)
    bozo_detail: str = ""


class _TextExtractor(HTMLParser):
    """Collect the visible text of an HTML fragment, one line per block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Return the visible text of an HTML fragment: entities decoded, blocks on new lines."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).splitlines())
    return "\n".join(line for line in lines if line)


def parse_feed(
    source: str | bytes | Path,
    *,
    default_category: str,
    taxonomy: Taxonomy,
    fetch: Fetch | None = None,
    default_kind: str = "article",
    name: str | None = None,
) -> FeedParse:
    """Parse a feed given as a URL (via ``fetch``), a file path, bytes or XML text."""
    if taxonomy.get(default_category) is None:
        raise FeedError("bad_default_category", value=default_category)
    if taxonomy.get_kind(default_kind) is None:
        raise FeedError("bad_default_kind", value=default_kind)
    data, url = _read_source(source, fetch)
    parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=True)
    entries: list[Any] = list(parsed.get("entries", []))
    bozo = bool(parsed.get("bozo"))
    if not entries and bozo:
        raise FeedError("malformed_feed", detail=str(parsed.get("bozo_exception", ""))[:200])
    if not entries and not parsed.get("version"):
        raise FeedError("not_a_feed")
    feed: Mapping[str, Any] = parsed.get("feed", {})
    label = name or url or feed.get("link") or feed.get("title") or "feed"
    context = _Context(
        source=f"feed:{label}",
        taxonomy=taxonomy,
        default_category=default_category,
        default_kind=default_kind,
    )
    items: list[ContentDraft] = []
    infos: list[EntryInfo] = []
    rejected: list[Rejection] = []
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries):
        draft, problem = _entry_draft(index, entry, context, first_index)
        if draft is not None:
            items.append(draft)
            infos.append(entry_info(draft, enclosure_of(entry)))
        if problem is not None:
            rejected.append(problem)
    title = html_to_text(str(feed.get("title", "")))
    return FeedParse(
        title=title,
        source=context.source,
        items=items,
        rejected=rejected,
        bozo=bozo,
        entries=infos,
        bozo_detail=str(parsed.get("bozo_exception", ""))[:200] if bozo else "",
    )


@dataclass(frozen=True)
class _Context:
    source: str
    taxonomy: Taxonomy
    default_category: str
    default_kind: str


def _read_source(source: str | bytes | Path, fetch: Fetch | None) -> tuple[bytes, str | None]:
    """Return the raw document and, for a URL, the URL; never touch the network itself."""
    if isinstance(source, Path):
        try:
            return source.read_bytes(), None
        except OSError as exc:
            raise FeedError("not_found", path=str(source)) from exc
    if isinstance(source, bytes):
        data = source
    elif urlsplit(source.strip()).scheme.lower() in ("http", "https"):
        url = source.strip()
        if fetch is None:
            raise FeedError("fetch_required", url=url)
        try:
            fetched = fetch(url)
        except Exception as exc:  # any failure of the injected fetcher is a fetch failure
            raise FeedError("fetch_failed", url=url, detail=repr(exc)[:200]) from exc
        data = fetched.encode("utf-8") if isinstance(fetched, str) else bytes(fetched)
        return _require_content(data), url
    else:
        # Text is already decoded: drop a stale encoding declaration before re-encoding.
        data = _XML_ENCODING_RE.sub(r"\1", source, count=1).encode("utf-8")
    return _require_content(data), None


def _require_content(data: bytes) -> bytes:
    """Reject an empty document up front."""
    if not data.strip():
        raise FeedError("empty_source")
    return data


def _entry_draft(
    index: int, entry: Mapping[str, Any], context: _Context, first_index: dict[str, int]
) -> tuple[ContentDraft | None, Rejection | None]:
    """Map one entry onto a draft, or explain why it cannot be used."""
    guid = str(entry.get("id") or entry.get("link") or "").strip()
    if not guid:
        return None, Rejection(index, None, "missing_field", "guid")
    if len(guid) > GUID_MAX:
        return None, Rejection(index, guid[:GUID_MAX], "too_long", "guid", {"max": GUID_MAX})
    if guid in first_index:
        params: dict[str, str | int] = {"first_index": first_index[guid]}
        return None, Rejection(index, guid, "duplicate_guid", "guid", params)
    first_index[guid] = index
    title = _truncate(_detail_text(entry, "title"), TITLE_MAX)
    if not title:
        return None, Rejection(index, guid, "missing_field", "title")
    url = str(entry.get("link") or "").strip()
    if not url:
        return None, Rejection(index, guid, "missing_field", "url")
    if (problem := url_problem(url)) is not None:
        return None, Rejection(index, guid, problem, "url", {"value": show_hidden(url)})
    terms = [str(tag.get("term") or tag.get("label") or "") for tag in entry.get("tags", [])]
    category = next(
        (code for term in terms if (code := context.taxonomy.match_category(term))),
        context.default_category,
    )
    enclosures = list(entry.get("enclosures", []))
    is_video = any(str(e.get("type", "")).startswith("video/") for e in enclosures) or any(
        str(m.get("medium", "")) == "video" or str(m.get("type", "")).startswith("video/")
        for m in entry.get("media_content", [])
    )
    draft = ContentDraft(
        guid=guid,
        title=title,
        summary=_truncate(_summary(entry), SUMMARY_MAX),
        category=category,
        kind="video" if is_video else context.default_kind,
        url=url,
        source=context.source,
        media_url=_image_url(entry),
        tags=tuple(dict.fromkeys(term.strip() for term in terms if term.strip())),
        publish_at=_moment(entry.get("published_parsed") or entry.get("updated_parsed")),
    )
    return draft, None


def _detail_text(entry: Mapping[str, Any], key: str) -> str:
    """Return a text construct as plain text, stripping HTML only when it is HTML."""
    value = str(entry.get(key) or "")
    detail = entry.get(f"{key}_detail") or {}
    if str(detail.get("type", "text/html")) == "text/plain":
        return " ".join(value.split())
    return " ".join(html_to_text(value).split()) if key == "title" else html_to_text(value)


def _summary(entry: Mapping[str, Any]) -> str:
    """Return the entry's summary, falling back to its first content block."""
    if entry.get("summary"):
        return _detail_text(entry, "summary")
    for block in entry.get("content", []):
        if block.get("value"):
            return _detail_text({"summary": block["value"], "summary_detail": block}, "summary")
    return ""


def _image_url(entry: Mapping[str, Any]) -> str | None:
    """Return the first image enclosure, Media RSS content or thumbnail URL."""
    candidates: list[tuple[str, str]] = []
    for enclosure in entry.get("enclosures", []):
        candidates.append((str(enclosure.get("href", "")), str(enclosure.get("type", ""))))
    for media in entry.get("media_content", []):
        kind = str(media.get("type") or ("image/" if media.get("medium") == "image" else ""))
        candidates.append((str(media.get("url", "")), kind))
    for thumbnail in entry.get("media_thumbnail", []):
        candidates.append((str(thumbnail.get("url", "")), "image/"))
    for href, kind in candidates:
        looks_like_image = kind.startswith("image/") or (
            not kind and urlsplit(href).path.lower().endswith(IMAGE_SUFFIXES)
        )
        if looks_like_image and is_http_url(href):
            return href
    return None


def _moment(value: time.struct_time | None) -> dt.datetime | None:
    """Convert feedparser's UTC struct_time to an aware UTC datetime."""
    if value is None:
        return None
    return dt.datetime(*value[:6], tzinfo=dt.UTC)


def _truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- recognising one story in several feeds; enclosures ------------------------------------
_TRACKING_PARAMS = ("utm_", "spm", "from", "share_", "fbclid", "gclid")
VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".mov", ".webm")
MEDIA_URL_MAX_BYTES = 20 * 1024 * 1024  # Telegram fetches files by URL up to 20 MB


def normalise_key(value: str) -> str:
    """Return a guid or link in one form: http≡https, no www., fragment, tracking or slash.

    Two feeds quoting one article seldom agree on these details; a guid that is not a
    URL is kept as it is (trimmed).
    """
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return value[:GUID_MAX]
    host = parts.netloc.lower().removeprefix("www.")
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING_PARAMS)
    ]
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("https", host, path, urlencode(sorted(query)), ""))[:GUID_MAX]


def is_global_guid(guid: str) -> bool:
    """Tell whether a guid means the same thing in any feed (a URL, a URN, a long id).

    Short or numeric guids (``1``, ``post-42``) are only unique inside their own feed.
    """
    guid = guid.strip()
    if urlsplit(guid).scheme.lower() in ("http", "https", "urn", "tag"):
        return True
    return len(guid) >= 16 and not guid.isdigit()


def fingerprint(title: str, published: dt.datetime | None) -> str:
    """Return a digest of the title (spacing and case folded) and the UTC day, or ""."""
    if published is None:
        return ""
    folded = "".join(title.split()).casefold()
    day = published.astimezone(dt.UTC).date().isoformat()
    return hashlib.sha256(f"{folded}|{day}".encode()).hexdigest()[:40]


def entry_info(draft: ContentDraft, enclosure: Enclosure | None) -> EntryInfo:
    """Return the keys that recognise ``draft`` in any feed, with its enclosure."""
    return EntryInfo(
        key=normalise_key(draft.guid),
        global_guid=is_global_guid(draft.guid),
        link_key=normalise_key(draft.url),
        fingerprint=fingerprint(draft.title, draft.publish_at),
        enclosure=enclosure,
    )


def enclosure_of(entry: Mapping[str, Any]) -> Enclosure | None:
    """Return the entry's first video enclosure, else its first image enclosure."""
    found: list[Enclosure] = []
    for raw in entry.get("enclosures", []):
        href = str(raw.get("href", "")).strip()
        kind = str(raw.get("type", "")).strip().lower()
        if not is_http_url(href) or not kind.startswith(("video/", "image/")):
            continue
        length = str(raw.get("length", "")).strip()
        found.append(Enclosure(href, kind, int(length) if length.isdigit() else None))
    videos = [e for e in found if e.type.startswith("video/")]
    chosen = videos or found
    return chosen[0] if chosen else None


def video_media_url(enclosure: Enclosure | None) -> str | None:
    """Return a video enclosure's URL when a card can carry it (suffix, ≤ 20 MB)."""
    if enclosure is None or not enclosure.type.startswith("video/"):
        return None
    if not urlsplit(enclosure.url).path.lower().endswith(VIDEO_SUFFIXES):
        return None
    if enclosure.length is not None and enclosure.length > MEDIA_URL_MAX_BYTES:
        return None
    return enclosure.url
