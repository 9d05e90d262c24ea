"""Import content packs and RSS/Atom feeds into the catalogue, with a localised report.

Parsing is done by ``bot.content.packs`` and ``bot.content.feeds``; this module stores the
drafts (skipping any whose GUID or URL is already known), fetches feed URLs with aiohttp
(timeout and size cap), and turns every outcome into sentences.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.feeds import FeedError, parse_feed
from bot.content.originals import describe_original, pick_original
from bot.content.packs import ContentDraft, PackError, Rejection, parse_pack
from bot.content.taxonomy import Taxonomy
from bot.core.error_text import code_text
from bot.core.errors import DomainError
from bot.i18n import Translator
from storage import audit
from storage import content as content_store
from storage.models import ContentItem

AsyncFetch = Callable[[str], Awaitable[bytes]]
FETCH_TIMEOUT = 20.0  # seconds for the whole request
FETCH_MAX_BYTES = 5 * 1024 * 1024
PACK_SUFFIXES = (".toml", ".json")


class ImportFailed(DomainError, area="import"):
    """The source as a whole cannot be imported; ``code`` and ``params`` say why."""


@dataclass(frozen=True)
class Added:
    """An item stored by an import."""

    content_id: int
    guid: str
    title: str


@dataclass(frozen=True)
class Duplicate:
    """An item skipped because the catalogue (or the same import) already has it."""

    guid: str
    title: str
    reason: str  # guid | url


@dataclass
class ImportReport:
    """What one import did."""

    source: str
    kind: str  # pack | feed
    title: str = ""
    added: list[Added] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def content_ids(self) -> list[int]:
        """Return the ids of the added items."""
        return [a.content_id for a in self.added]


async def fetch_url(
    url: str, *, timeout: float = FETCH_TIMEOUT, max_bytes: int = FETCH_MAX_BYTES
) -> bytes:
    """Download a feed: HTTP 200 only, within ``timeout`` seconds and ``max_bytes``."""
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    headers = {"User-Agent": "kepubot feed importer"}
    async with aiohttp.ClientSession(timeout=client_timeout, headers=headers) as client:
        async with client.get(url) as response:
            if response.status != 200:
                raise ImportFailed("fetch_status", url=url, status=response.status)
            declared = response.content_length
            if declared is not None and declared > max_bytes:
                raise ImportFailed("fetch_too_large", url=url, max=max_bytes)
            data = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise ImportFailed("fetch_too_large", url=url, max=max_bytes)
            return bytes(data)


def _is_url(source: str) -> bool:
    return urlsplit(source.strip()).scheme.lower() in ("http", "https")


def _is_pack(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() in PACK_SUFFIXES


async def import_source(
    *,
    session: AsyncSession,
    source: str,
    taxonomy: Taxonomy,
    now: dt.datetime,
    tz: dt.tzinfo,
    category: str | None = None,
    fetch: AsyncFetch | None = None,
    actor_id: int | None = None,
) -> ImportReport:
    """Import a pack (directory, pack.toml/.json) or a feed (file or URL); raise ImportFailed."""
    if category is not None and taxonomy.get(category) is None:
        raise ImportFailed("bad_category", value=category, codes=", ".join(taxonomy.codes))
    if _is_url(source):
        data = await (fetch or fetch_url)(source.strip())
        report = await _import_feed(
            session, data, source.strip(), taxonomy, now, category, actor_id
        )
    else:
        path = Path(source).expanduser()  # noqa: ASYNC240 (a local path check, microseconds)
        if not path.exists():
            raise ImportFailed("not_found", path=str(path))
        if _is_pack(path):
            try:
                parsed = parse_pack(path, taxonomy, tz)
            except PackError as exc:
                raise ImportFailed(f"pack_{exc.code}", **exc.params) from exc
            report = ImportReport(
                source=parsed.pack.source,
                kind="pack",
                title=parsed.pack.title,
                rejected=list(parsed.rejected),
            )
            await _store(session, report, parsed.items, now, actor_id)
        else:
            report = await _import_feed(
                session, path.read_bytes(), path.name, taxonomy, now, category, actor_id
            )
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="content.import",
        now=now,
        subject_type="content_source",
        reason=report.source[:1000],
        detail={
            "added": len(report.added),
            "duplicates": len(report.duplicates),
            "rejected": len(report.rejected),
        },
    )
    return report


async def _import_feed(
    session: AsyncSession,
    data: bytes,
    name: str,
    taxonomy: Taxonomy,
    now: dt.datetime,
    category: str | None,
    actor_id: int | None,
) -> ImportReport:
    if category is None:
        raise ImportFailed("category_required", codes=", ".join(taxonomy.codes))
    try:
        parsed = parse_feed(data, default_category=category, taxonomy=taxonomy, name=name)
    except FeedError as exc:
        raise ImportFailed(f"feed_{exc.code}", **exc.params) from exc
    report = ImportReport(
        source=parsed.source, kind="feed", title=parsed.title, rejected=list(parsed.rejected)
    )
    await _store(session, report, parsed.items, now, actor_id)
    return report


async def _store(
    session: AsyncSession,
    report: ImportReport,
    drafts: Sequence[ContentDraft],
    now: dt.datetime,
    actor_id: int | None,
) -> None:
    """Store drafts not yet known by GUID or URL; record the rest as duplicates."""
    guids, urls = await content_store.existing_keys(
        session=session, guids=[d.guid for d in drafts], urls=[d.url for d in drafts]
    )
    for draft in drafts:
        if draft.guid in guids:
            report.duplicates.append(Duplicate(draft.guid, draft.title, "guid"))
            continue
        if draft.url in urls:
            report.duplicates.append(Duplicate(draft.guid, draft.title, "url"))
            continue
        guids.add(draft.guid)
        urls.add(draft.url)
        media = str(draft.media) if draft.media is not None else draft.media_url
        item = ContentItem(
            guid=draft.guid,
            title=draft.title,
            summary=draft.summary,
            title_en=draft.title_en,
            summary_en=draft.summary_en,
            category=draft.category,
            kind=draft.kind,
            url=draft.url,
            media_path=media,
            tags=list(draft.tags),
            regions=list(draft.regions),
            campaign=draft.campaign,
            source=draft.source[:128],
            publish_at=draft.publish_at or now,
            expires_at=draft.expires_at,
            created_by=actor_id,
            created_at=now,
        )
        _set_original(item, draft)
        await content_store.add_item(session=session, item=item)
        assert item.id is not None
        report.added.append(Added(item.id, item.guid, item.title))


def _set_original(item: ContentItem, draft: ContentDraft) -> None:
    """Record the draft's original file on the item (content originals)."""
    path = pick_original(draft.kind, draft.media, draft.original)
    if path is None:
        return
    original = describe_original(draft.title, path)
    item.original_path = str(original.path)
    item.original_file_name = original.name
    item.original_mime = original.mime
    item.original_size = original.size


# --- sentences --------------------------------------------------------------------------
def rejection_text(rejection: Rejection, t: Translator) -> str:
    """Return one line explaining why an item was rejected."""
    params: dict[str, object] = {"field": rejection.field or "", **rejection.params}
    if "first_index" in params:
        params["first"] = int(str(params["first_index"])) + 1
    reason = code_text(f"rejection.{rejection.code}", params, t)
    return t(
        "item {n} ({guid}): {reason}",
        n=rejection.index + 1,
        guid=rejection.guid or "—",
        reason=reason,
    )


def source_text(t: Translator, source: str) -> str:
    """Return ``pack:starter`` / ``feed:LABEL`` in words (内容包“starter”), else as it is."""
    kind, _, name = source.partition(":")
    if kind == "pack" and name:
        return t("content pack “{name}”", name=name)
    if kind == "feed" and name:
        return t("feed “{name}”", name=name)
    return source


def report_lines(report: ImportReport, t: Translator) -> list[str]:
    """Return the import report: a summary line, then added, skipped and rejected items."""
    lines = [
        t(
            "Imported {source}: {added} added, {dup} skipped (duplicates), {rej} rejected.",
            source=source_text(t, report.source),
            added=len(report.added),
            dup=len(report.duplicates),
            rej=len(report.rejected),
        )
    ]
    for added in report.added:
        lines.append(t("  + #{id} {title}", id=added.content_id, title=added.title))
    for dup in report.duplicates:
        reason = t("same guid") if dup.reason == "guid" else t("same link")
        lines.append(t("  = skipped {guid}: {reason}", guid=dup.guid, reason=reason))
    for rejection in report.rejected:
        lines.append("  ✗ " + rejection_text(rejection, t))
    return lines
