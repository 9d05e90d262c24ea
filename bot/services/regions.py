"""Regions: importing the GB/T 2260 CSV, and picking a county by buttons or by code."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.regions_csv import RowError, decode_regions_csv, parse_regions_csv
from bot.services.stations import StationError
from storage import audit
from storage import regions as store
from storage.models import Region

SAMPLE_CSV = Path(__file__).resolve().parents[1] / "data" / "regions_sample.csv"
_CODE_RE = re.compile(r"^\s*(\d{6})\s*$")


@dataclass(frozen=True)
class RegionsImport:
    """What an import did (nothing when ``errors`` is not empty)."""

    new: int
    changed: int
    unchanged: int
    errors: list[RowError]


async def import_regions(
    *,
    session: AsyncSession,
    data: bytes,
    now: dt.datetime,
    actor_id: int | None = None,
    dry_run: bool = False,
) -> RegionsImport:
    """Validate a regions CSV and store it all, or nothing if any line is wrong."""
    known = await store.known_levels(session=session)
    parsed = parse_regions_csv(decode_regions_csv(data), known=known)
    if parsed.errors:
        return RegionsImport(0, 0, 0, parsed.errors)
    if dry_run:
        new = sum(1 for row in parsed.rows if row.code not in known)
        return RegionsImport(new, 0, len(parsed.rows) - new, [])
    values = [
        store.RegionValues(r.code, r.name, r.name_en or None, r.level, r.parent_code)
        for r in parsed.rows
    ]
    new, changed, same = await store.upsert_regions(session=session, rows=values)
    if new or changed:
        await audit.record(
            session=session,
            actor_id=actor_id,
            action="regions.import",
            now=now,
            subject_type="region",
            detail={"new": new, "changed": changed, "unchanged": same},
        )
    return RegionsImport(new, changed, same, [])


async def import_sample(*, session: AsyncSession, now: dt.datetime) -> RegionsImport:
    """Load the shipped Zhejiang sample (demo and tests)."""
    return await import_regions(session=session, data=SAMPLE_CSV.read_bytes(), now=now)


async def resolve_county(*, session: AsyncSession, text: str) -> Region:
    """Return the county a typed 6-digit code names, or refuse with a code."""
    match = _CODE_RE.match(text)
    if match is None:
        raise StationError("bad_region_code", value=text.strip()[:20])
    code = match.group(1)
    region = await store.get_region(session=session, code=code)
    if region is None:
        raise StationError("unknown_region", code=code)
    if region.level != "county":
        raise StationError("not_county", code=code, name=region.name)
    return region


@dataclass(frozen=True)
class RegionChoice:
    """A region offered as a button."""

    code: str
    name: str
    level: str


async def choices(*, session: AsyncSession, parent_code: str | None) -> list[RegionChoice]:
    """Return the regions under ``parent_code`` (provinces when None) to pick from."""
    rows = await store.children(session=session, parent_code=parent_code)
    return [RegionChoice(r.code, r.name, r.level) for r in rows]


async def full_name(*, session: AsyncSession, code: str | None) -> str:
    """Return "浙江省 杭州市 西湖区" for a code (the code itself if unknown)."""
    if not code:
        return ""
    chain = await store.ancestors(session=session, code=code)
    if not chain:
        return code
    return " ".join(region.name for region in reversed(chain))


async def short_name(*, session: AsyncSession, code: str | None) -> str:
    """Return a region's own name ("西湖区") for a code (the code itself if unknown)."""
    if not code:
        return ""
    region = await store.get_region(session=session, code=code)
    return region.name if region is not None else code


async def parent_of(*, session: AsyncSession, code: str) -> Region | None:
    """Return the region one level above ``code`` (None for a province or an unknown code)."""
    region = await store.get_region(session=session, code=code)
    if region is None or not region.parent_code:
        return None
    return await store.get_region(session=session, code=region.parent_code)


async def named_list(*, session: AsyncSession, codes: Sequence[str], locale: str) -> str:
    """Return regions as a reader names them: "西湖区（330106）、杭州市（330100）"."""
    known = await store.get_regions(session=session, codes=list(codes))
    if locale == "zh_CN":
        parts = [f"{known[c].name}（{c}）" if c in known else c for c in codes]
        return "、".join(parts)
    return ", ".join(f"{known[c].name} ({c})" if c in known else c for c in codes)
