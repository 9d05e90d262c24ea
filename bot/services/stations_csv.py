"""`kepubot stations import`: stations already recognised elsewhere, from a CSV file.

Columns (header required, any order, case-insensitive; extra columns ignored)::

    name,region_code,venue_type,address,external_ref,admin_telegram_id,recognised_on

``name``, ``region_code`` (a county-level code already imported) and ``venue_type`` (a
code such as ``school`` or its Chinese name such as 学校) are required.  A station is
matched by ``external_ref`` when given, else by name within its county, so importing the
same file twice changes nothing.  Any error aborts the whole import.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.regions_csv import decode_regions_csv
from bot.services import roles as role_service
from bot.services.stations import (
    StationError,
    check_venue,
    clean_address,
    clean_name,
    county_region,
    create_recognised,
    venue_from_text,
)
from storage import stations as store

REQUIRED = ("name", "region_code", "venue_type")
OPTIONAL = ("address", "external_ref", "admin_telegram_id", "recognised_on")


@dataclass(frozen=True)
class StationRow:
    """One valid line of the file."""

    line: int
    name: str
    region_code: str
    venue_type: str
    address: str | None
    external_ref: str | None
    admin_telegram_id: int | None
    recognised_on: dt.date | None


@dataclass(frozen=True)
class LineError:
    """One problem: line number, column and an error code with params."""

    line: int
    column: str | None
    code: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class StationsImport:
    """What an import did (nothing when ``errors`` is not empty)."""

    created: int
    updated: int
    unchanged: int
    errors: list[LineError]


def parse_stations_csv(text: str) -> tuple[list[StationRow], list[LineError]]:
    """Parse the file without the database: rows and errors with line numbers."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    rows: list[StationRow] = []
    errors: list[LineError] = []
    header: list[str] | None = None
    previous = 0
    seen: dict[tuple[str, str], int] = {}
    try:
        for record in reader:
            line, previous = previous + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in record]
                missing = [c for c in REQUIRED if c not in header]
                errors += [LineError(line, c, "missing_column") for c in missing]
                if missing:
                    return [], errors
                continue
            row = _row(line, dict(zip(header, (c.strip() for c in record), strict=False)), errors)
            if row is None:
                continue
            key = (row.external_ref or row.name, row.region_code if not row.external_ref else "")
            if key in seen:
                errors.append(LineError(line, "name", "duplicate_row", {"first_line": seen[key]}))
                continue
            seen[key] = line
            rows.append(row)
    except csv.Error as exc:
        errors.append(LineError(previous + 1, None, "bad_csv", {"detail": str(exc)}))
    if header is None:
        errors.append(LineError(1, None, "empty_file"))
    return rows, errors


def _row(line: int, cells: dict[str, str], errors: list[LineError]) -> StationRow | None:
    found: list[LineError] = []
    name = venue = address = None
    try:
        name = clean_name(cells.get("name", ""))
    except StationError as exc:
        found.append(LineError(line, "name", exc.code, dict(exc.params)))
    code = cells.get("region_code", "")
    if not (len(code) == 6 and code.isdigit()):
        found.append(LineError(line, "region_code", "bad_region_code", {"value": code}))
    try:
        venue = check_venue(venue_from_text(cells.get("venue_type", "")))
    except StationError as exc:
        found.append(LineError(line, "venue_type", exc.code, dict(exc.params)))
    if cells.get("address"):
        try:
            address = clean_address(cells["address"])
        except StationError as exc:
            found.append(LineError(line, "address", exc.code, dict(exc.params)))
    admin: int | None = None
    if cells.get("admin_telegram_id"):
        raw = cells["admin_telegram_id"]
        if raw.isdigit() and 0 < int(raw) < 2**52:
            admin = int(raw)
        else:
            found.append(LineError(line, "admin_telegram_id", "bad_telegram_id", {"value": raw}))
    recognised_on: dt.date | None = None
    if cells.get("recognised_on"):
        try:
            recognised_on = dt.date.fromisoformat(cells["recognised_on"])
        except ValueError:
            found.append(
                LineError(line, "recognised_on", "bad_date", {"value": cells["recognised_on"]})
            )
    errors.extend(found)
    if found or name is None or venue is None:
        return None
    ref = cells.get("external_ref") or None
    return StationRow(
        line, name, code, venue, address, ref[:64] if ref else None, admin, recognised_on
    )


async def import_stations(
    *, session: AsyncSession, data: bytes, now: dt.datetime, actor_id: int | None = None
) -> StationsImport:
    """Validate the file against the database and import it all, or nothing."""
    rows, errors = parse_stations_csv(decode_regions_csv(data))
    for row in rows:
        try:
            await county_region(session, row.region_code)
        except StationError as exc:
            errors.append(LineError(row.line, "region_code", exc.code, dict(exc.params)))
    if errors:
        return StationsImport(0, 0, 0, sorted(errors, key=lambda e: e.line))
    created = updated = unchanged = 0
    for row in rows:
        station = await store.find_station(
            session=session,
            external_ref=row.external_ref,
            name=row.name,
            region_code=row.region_code,
        )
        if station is None:
            recognised_at = (
                dt.datetime.combine(row.recognised_on, dt.time(), tzinfo=dt.UTC)
                if row.recognised_on
                else None
            )
            station = await create_recognised(
                session=session,
                name=row.name,
                region_code=row.region_code,
                venue_type=row.venue_type,
                address=row.address,
                external_ref=row.external_ref,
                recognised_at=recognised_at,
                actor_id=actor_id,
                source="import",
                now=now,
            )
            created += 1
        else:
            values = {
                "name": row.name,
                "venue_type": row.venue_type,
                "address": row.address or station.address,
                "external_ref": row.external_ref or station.external_ref,
            }
            if all(getattr(station, k) == v for k, v in values.items()):
                unchanged += 1
            else:
                for key, value in values.items():
                    setattr(station, key, value)
                station.updated_at = now
                updated += 1
        if row.admin_telegram_id is not None:
            await role_service.grant(
                session=session,
                telegram_id=row.admin_telegram_id,
                role="station_admin",
                station_id=station.id,
                actor_id=actor_id,
                now=now,
            )
    await session.flush()
    return StationsImport(created, updated, unchanged, [])
