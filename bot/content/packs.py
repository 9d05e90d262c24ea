"""Parse content packs (``pack.toml`` / ``pack.json`` plus media) into content drafts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content.taxonomy import Taxonomy
from bot.core.errors import DomainError
from bot.core.regions_csv import is_region_code
from bot.core.urls import show_hidden, url_problem

MANIFEST_NAMES: tuple[str, ...] = ("pack.toml", "pack.json")
REQUIRED_FIELDS: tuple[str, ...] = ("guid", "title", "summary", "category", "kind", "url")
MEDIA_SUFFIXES: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4", ".mov", ".webm"}
)
# An original (content originals) may also be a print file or a document.
ORIGINAL_SUFFIXES: frozenset[str] = MEDIA_SUFFIXES | frozenset(
    {".pdf", ".tif", ".tiff", ".docx", ".pptx", ".xlsx"}
)
GUID_MAX = 255
TITLE_MAX = 80
SUMMARY_MAX = 800
_PACK_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TOML_POSITION_RE = re.compile(r"at line (\d+), column (\d+)")
_Reject = Callable[..., None]


@dataclass(frozen=True)
class ContentDraft:
    """A validated content item from a pack or a feed, ready to be stored."""

    guid: str
    title: str
    summary: str
    category: str
    kind: str
    url: str
    source: str
    media: Path | None = None
    media_url: str | None = None
    tags: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    publish_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    campaign: str | None = None
    title_en: str | None = None
    summary_en: str | None = None
    original: Path | None = None  # the file to print or show, sent as it is


@dataclass(frozen=True)
class Rejection:
    """Why one item was not accepted; ``code`` is a machine code, never a sentence."""

    index: int
    guid: str | None
    code: str
    field: str | None = None
    params: dict[str, str | int] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class PackInfo:
    """Pack metadata from the ``[pack]`` table."""

    name: str
    title: str
    title_en: str | None
    version: str
    description: str
    note: str
    root: Path

    @property
    def source(self) -> str:
        """Return the ``source`` value its drafts carry."""
        return f"pack:{self.name}"


@dataclass(frozen=True)
class PackParse:
    """The accepted drafts and the rejections of one pack, in item order."""

    pack: PackInfo
    items: list[ContentDraft]
    rejected: list[Rejection]


class PackError(DomainError, area="pack"):
    """The pack as a whole is unusable (missing, unreadable or malformed manifest)."""


def to_aware_datetime(value: object, tz: dt.tzinfo) -> dt.datetime:
    """Convert an ISO 8601 string or TOML date/datetime to an aware datetime (naive → ``tz``)."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str) and value.strip():
        moment = dt.datetime.fromisoformat(value.strip())
    else:
        raise ValueError("not a date")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def parse_pack(path: Path, taxonomy: Taxonomy, tz: dt.tzinfo) -> PackParse:
    """Parse a pack (naive times are in ``tz``); raise PackError if the pack is unusable."""
    manifest, data = _load_manifest(path)
    root = manifest.parent.resolve()
    info = _pack_info(data.get("pack", {}), root, manifest)
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        raise PackError("bad_manifest", field="items")
    items: list[ContentDraft] = []
    rejected: list[Rejection] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(raw_items):
        draft, problems = _check_item(index, raw, info, taxonomy, first_index, tz)
        if draft is not None:
            items.append(draft)
        rejected.extend(problems)
    return PackParse(pack=info, items=items, rejected=rejected)


def _load_manifest(path: Path) -> tuple[Path, Mapping[str, Any]]:
    """Find, read and decode the manifest; return its path and top-level table."""
    if path.is_dir():
        found = [path / name for name in MANIFEST_NAMES if (path / name).is_file()]
        if not found:
            raise PackError("no_manifest", path=str(path))
        if len(found) > 1:
            raise PackError("ambiguous_manifest", path=str(path))
        manifest = found[0]
    elif path.is_file():
        manifest = path
    else:
        raise PackError("not_found", path=str(path))
    if manifest.suffix.lower() not in (".toml", ".json"):
        raise PackError("unsupported_format", path=str(manifest))
    try:
        text = manifest.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PackError("bad_encoding", path=str(manifest), detail=str(exc)) from exc
    if manifest.suffix.lower() == ".toml":
        try:
            data: object = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            position = _TOML_POSITION_RE.search(str(exc))
            line, column = (int(position[1]), int(position[2])) if position else (None, None)
            raise PackError("bad_toml", line=line, column=column, detail=str(exc)) from exc
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PackError("bad_json", line=exc.lineno, column=exc.colno, detail=exc.msg) from exc
    if not isinstance(data, dict):
        raise PackError("bad_manifest", field="")
    return manifest, data


def _pack_info(raw: object, root: Path, manifest: Path) -> PackInfo:
    """Validate the ``[pack]`` table; the name defaults to the directory or file stem."""
    if not isinstance(raw, dict):
        raise PackError("bad_manifest", field="pack")
    default_name = root.name if manifest.stem == "pack" else manifest.stem
    name = raw.get("name", default_name.lower())
    if not isinstance(name, str) or not _PACK_NAME_RE.match(name):
        raise PackError("bad_pack_name", value=str(name))
    texts = {key: raw.get(key, "") for key in ("title", "version", "description", "note")}
    title_en = raw.get("title_en")
    if not all(isinstance(value, str) for value in texts.values()) or not isinstance(
        title_en, str | None
    ):
        raise PackError("bad_manifest", field="pack")
    return PackInfo(
        name=name,
        title=texts["title"] or name,
        title_en=title_en,
        version=texts["version"],
        description=texts["description"],
        note=texts["note"],
        root=root,
    )


def _check_item(
    index: int,
    raw: object,
    info: PackInfo,
    taxonomy: Taxonomy,
    first_index: dict[str, int],
    tz: dt.tzinfo,
) -> tuple[ContentDraft | None, list[Rejection]]:
    """Validate one item; return the draft, or None with every problem found."""
    if not isinstance(raw, dict):
        return None, [Rejection(index, None, "bad_item")]
    problems: list[Rejection] = []
    guid_value = raw.get("guid")
    guid = guid_value.strip() if isinstance(guid_value, str) else None

    def reject(code: str, field: str | None = None, **params: str | int) -> None:
        problems.append(Rejection(index, guid or None, code, field, dict(params)))

    texts: dict[str, str] = {}
    for key in REQUIRED_FIELDS:
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            reject("missing_field", key)
        elif not isinstance(value, str):
            reject("bad_field", key, type=type(value).__name__)
        else:
            texts[key] = value.strip()
    limits = {"guid": GUID_MAX, "title": TITLE_MAX, "summary": SUMMARY_MAX}
    for key, limit in limits.items():
        if len(texts.get(key, "")) > limit:
            reject("too_long", key, max=limit, length=len(texts[key]))
    if guid and "guid" in texts:
        if guid in first_index:
            reject("duplicate_guid", "guid", first_index=first_index[guid])
        else:
            first_index[guid] = index
    if "category" in texts and taxonomy.get(texts["category"]) is None:
        reject("bad_category", "category", value=texts["category"])
    if "kind" in texts and taxonomy.get_kind(texts["kind"]) is None:
        reject("bad_kind", "kind", value=texts["kind"])
    if "url" in texts and (problem := url_problem(texts["url"])) is not None:
        reject(problem, "url", value=show_hidden(texts["url"]))

    optional: dict[str, str | None] = {}
    for key in ("campaign", "title_en", "summary_en"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            reject("bad_field", key, type=type(value).__name__)
        optional[key] = (value.strip() or None) if isinstance(value, str) else None
    campaign = optional["campaign"]
    if campaign is not None and taxonomy.get_campaign(campaign) is None:
        reject("bad_campaign", "campaign", value=campaign)

    media = _check_media(raw.get("media"), info.root, reject)
    original = _check_media(
        raw.get("original"), info.root, reject, field="original", suffixes=ORIGINAL_SUFFIXES
    )
    tags = _check_tags(raw.get("tags", []), reject)
    regions = _check_regions(raw.get("regions", []), reject)
    moments: dict[str, dt.datetime | None] = {}
    for key in ("publish_at", "expires_at"):
        value = raw.get(key)
        moments[key] = None
        if value is not None:
            try:
                moments[key] = to_aware_datetime(value, tz)
            except ValueError:
                reject("bad_date", key, value=str(value)[:64])
    publish_at, expires_at = moments["publish_at"], moments["expires_at"]
    if publish_at and expires_at and expires_at <= publish_at:
        reject("expires_before_publish", "expires_at")

    if problems:
        return None, problems
    draft = ContentDraft(
        guid=texts["guid"],
        title=texts["title"],
        summary=texts["summary"],
        category=texts["category"],
        kind=texts["kind"],
        url=texts["url"],
        source=info.source,
        media=media,
        tags=tags,
        regions=regions,
        publish_at=publish_at,
        expires_at=expires_at,
        campaign=campaign,
        title_en=optional["title_en"],
        summary_en=optional["summary_en"],
        original=original,
    )
    return draft, []


def _check_media(
    value: object,
    root: Path,
    reject: _Reject,
    *,
    field: str = "media",
    suffixes: frozenset[str] = MEDIA_SUFFIXES,
) -> Path | None:
    """Resolve a media path inside the pack; report escapes, absences and bad types."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        reject("bad_field", field, type=type(value).__name__)
        return None
    relative = Path(value.strip())
    if relative.is_absolute() or relative.drive:
        reject("media_outside_pack", field, value=value)
        return None
    # resolve() follows symlinks too, so a link pointing out of the pack is caught here.
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        reject("media_outside_pack", field, value=value)
        return None
    if not target.is_file():
        reject("media_missing", field, value=value)
        return None
    if target.suffix.lower() not in suffixes:
        reject("bad_media_type", field, value=value)
        return None
    return target


def _check_tags(value: object, reject: _Reject) -> tuple[str, ...]:
    """Return the tags, trimmed and de-duplicated, or report a non-list."""
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        reject("bad_field", "tags", type=type(value).__name__)
        return ()
    return tuple(dict.fromkeys(tag.strip() for tag in value if tag.strip()))


def _check_regions(value: object, reject: _Reject) -> tuple[str, ...]:
    """Return the region codes (strings or 6-digit integers), reporting bad ones."""
    if not isinstance(value, list):
        reject("bad_field", "regions", type=type(value).__name__)
        return ()
    codes: list[str] = []
    for entry in value:
        code = str(entry).strip() if isinstance(entry, str | int) else ""
        if isinstance(entry, bool) or not is_region_code(code):
            reject("bad_region", "regions", value=str(entry))
        elif code not in codes:
            codes.append(code)
    return tuple(codes)
