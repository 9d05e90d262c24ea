"""Weekly tally: set-based INSERT … SELECT … GROUP BY over the event tables, and reads.

One week is recomputed by deleting its rows and inserting them again in the caller's
transaction, so running it twice leaves exactly the same rows. No Python loop touches an
event row: SQLite and PostgreSQL do the aggregation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Date, bindparam, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause
from sqlmodel import col

from storage.db import rowcount
from storage.models import (
    IntegrityFlag,
    JobRun,
    Person,
    Region,
    RoleGrant,
    ShareEvent,
    Station,
    WeeklyRegionTally,
    WeeklyStationTally,
)
from storage.types import UTCDateTime

TELEGRAM_CHANNELS = ("telegram_inline", "telegram_forward")
# Per-channel share columns, in ShareEvent.CHANNELS order.
CHANNEL_COLUMNS = tuple(f"shares_{channel}" for channel in ShareEvent.CHANNELS)
# Every summed figure, shared by station and region rows (volume is summed separately).
FIGURES = (
    "shares_total",
    *CHANNEL_COLUMNS,
    "sharing_informants",
    "active_informants",
    "informants",
    "reach_telegram",
    "reach_reported",
    "visits",
    "activities",
    "participants",
    "content_uses",
    "content_use_audience",
)
# Region roll-up levels and the station tally column holding each level's code.
LEVEL_COLUMNS = {"county": "county_code", "city": "city_code", "province": "province_code"}


@dataclass(frozen=True)
class WeekBounds:
    """An ISO week: its key, local Monday..Sunday, and those days' UTC instants."""

    week: str
    start: dt.date
    end: dt.date
    start_ts: dt.datetime  # local Monday 00:00, in UTC
    end_ts: dt.datetime  # local next Monday 00:00, in UTC


def _quoted(values: Sequence[str]) -> str:
    # Constants from the code (channel and state names), never user input.
    return ", ".join(f"'{value}'" for value in values)


def _station_sql(volume_expr: str, counted_states: Sequence[str]) -> TextClause:
    """Return the INSERT of every counted station's figures for one week."""
    channel_sums = ",\n".join(
        f"    SUM(CASE WHEN channel = '{ch}' THEN 1 ELSE 0 END) AS c_{ch}"
        for ch in ShareEvent.CHANNELS
    )
    tg = _quoted(TELEGRAM_CHANNELS)
    zero_channels = ", ".join(f"0 AS c_{ch}" for ch in ShareEvent.CHANNELS)
    channel_cols = ", ".join(f"c_{ch}" for ch in ShareEvent.CHANNELS)
    channel_station_sums = ", ".join(f"SUM(c_{ch}) AS c_{ch}" for ch in ShareEvent.CHANNELS)
    channel_final = ", ".join(
        f"COALESCE(p.c_{ch}, 0) AS shares_{ch}" for ch in ShareEvent.CHANNELS
    )
    columns = ", ".join(
        [
            "station_id",
            "week",
            "week_start",
            "county_code",
            "city_code",
            "province_code",
            *FIGURES,
            "volume",
            "silent",
            "computed_at",
        ]
    )
    sql = f"""
INSERT INTO weekly_station_tally ({columns})
WITH se AS (
  -- one row per (station, informant) who shared: a single pass over the week's shares
  SELECT station_id, informant_id, COUNT(*) AS n,
{channel_sums},
    SUM(CASE WHEN channel IN ({tg}) THEN audience ELSE 0 END) AS rt,
    SUM(CASE WHEN channel IN ({tg}) THEN 0 ELSE audience END) AS rr
  FROM share_event
  WHERE day >= :start AND day <= :end
  GROUP BY station_id, informant_id
),
vi AS (
  -- visits belong to the station of the informant whose tracked link was visited
  SELECT i.station_id AS station_id, l.informant_id AS informant_id, COUNT(*) AS v
  FROM link_visit AS lv
  JOIN tracked_link AS l ON l.id = lv.link_id
  JOIN informant AS i ON i.id = l.informant_id
  WHERE lv.day >= :start AND lv.day <= :end
  GROUP BY i.station_id, l.informant_id
),
people AS (
  SELECT station_id, informant_id, n, {channel_cols}, rt, rr, 0 AS v FROM se
  UNION ALL
  SELECT station_id, informant_id, 0, {zero_channels}, 0, 0, v FROM vi
),
per_station AS (
  SELECT station_id, SUM(n) AS n, {channel_station_sums},
    SUM(CASE WHEN n > 0 THEN 1 ELSE 0 END) AS sharing,
    COUNT(DISTINCT informant_id) AS active,
    SUM(rt) AS rt, SUM(rr) AS rr, SUM(v) AS v
  FROM people
  GROUP BY station_id
),
ac AS (
  SELECT station_id, COUNT(*) AS n, SUM(participants) AS p
  FROM activity
  WHERE held_on >= :start AND held_on <= :end AND deleted_at IS NULL
  GROUP BY station_id
),
cu AS (
  SELECT station_id, COUNT(*) AS n, SUM(audience) AS a
  FROM content_use
  WHERE used_on >= :start AND used_on <= :end
  GROUP BY station_id
),
reg AS (
  SELECT station_id, COUNT(*) AS n
  FROM informant
  WHERE consent_at IS NOT NULL AND joined_at < :end_ts
    AND (removed_at IS NULL OR removed_at >= :start_ts)
  GROUP BY station_id
),
fig AS (
  SELECT s.id AS station_id,
    CASE WHEN substr(s.region_code, 5, 2) <> '00' THEN s.region_code END AS county_code,
    CASE WHEN substr(s.region_code, 3, 4) <> '0000'
         THEN substr(s.region_code, 1, 4) || '00' END AS city_code,
    CASE WHEN s.region_code IS NOT NULL
         THEN substr(s.region_code, 1, 2) || '0000' END AS province_code,
    COALESCE(p.n, 0) AS shares_total, {channel_final},
    COALESCE(p.sharing, 0) AS sharing_informants, COALESCE(p.active, 0) AS active_informants,
    COALESCE(reg.n, 0) AS informants,
    COALESCE(p.rt, 0) AS reach_telegram, COALESCE(p.rr, 0) AS reach_reported,
    COALESCE(p.v, 0) AS visits,
    COALESCE(ac.n, 0) AS activities, COALESCE(ac.p, 0) AS participants,
    COALESCE(cu.n, 0) AS content_uses, COALESCE(cu.a, 0) AS content_use_audience
  FROM station AS s
  LEFT JOIN per_station AS p ON p.station_id = s.id
  LEFT JOIN ac ON ac.station_id = s.id
  LEFT JOIN cu ON cu.station_id = s.id
  LEFT JOIN reg ON reg.station_id = s.id
  WHERE s.status IN ({_quoted(counted_states)})
)
SELECT station_id, :week, :start, county_code, city_code, province_code,
  {", ".join(FIGURES)},
  ROUND(CAST({volume_expr} AS NUMERIC), 1),
  (shares_total = 0 AND activities = 0 AND content_uses = 0),
  :now
FROM fig
"""
    return _typed(sql)


def _region_sql() -> TextClause:
    """Return the INSERT rolling the week's station rows up to counties, cities, provinces."""
    sums = ", ".join(f"SUM({name})" for name in FIGURES)
    selects = [
        f"""SELECT {column}, '{level}', :week, :start, {sums},
  ROUND(CAST(SUM(volume) AS NUMERIC), 1), COUNT(*),
  SUM(CASE WHEN silent THEN 1 ELSE 0 END), :now
FROM weekly_station_tally
WHERE week = :week AND {column} IS NOT NULL
GROUP BY {column}"""
        for level, column in LEVEL_COLUMNS.items()
    ]
    columns = ", ".join(
        [
            "region_code",
            "level",
            "week",
            "week_start",
            *FIGURES,
            "volume",
            "stations_counted",
            "stations_silent",
            "computed_at",
        ]
    )
    return _typed(f"INSERT INTO weekly_region_tally ({columns})\n" + "\nUNION ALL\n".join(selects))


def _typed(sql: str) -> TextClause:
    """Bind dates and instants with column types, so SQLite gets its stored formats."""
    clause = text(sql)
    params = {
        name: bindparam(name, type_=Date() if name in ("start", "end") else UTCDateTime())
        for name in ("start", "end", "start_ts", "end_ts", "now")
        if f":{name}" in sql
    }
    return clause.bindparams(*params.values())


async def recompute_week(
    *,
    session: AsyncSession,
    bounds: WeekBounds,
    volume_expr: str,
    counted_states: Sequence[str],
    now: dt.datetime,
) -> tuple[int, int]:
    """Replace the week's station and region rows; return how many of each were written."""
    await session.execute(
        delete(WeeklyRegionTally).where(col(WeeklyRegionTally.week) == bounds.week)
    )
    await session.execute(
        delete(WeeklyStationTally).where(col(WeeklyStationTally.week) == bounds.week)
    )
    params = {
        "week": bounds.week,
        "start": bounds.start,
        "end": bounds.end,
        "start_ts": bounds.start_ts,
        "end_ts": bounds.end_ts,
        "now": now,
    }
    stations = await session.execute(_station_sql(volume_expr, counted_states), params)
    regions = await session.execute(
        _region_sql(), {"week": bounds.week, "start": bounds.start, "now": now}
    )
    return int(rowcount(stations) or 0), int(rowcount(regions) or 0)


# --- reads ------------------------------------------------------------------------------


async def week_computed(*, session: AsyncSession, week: str, job: str) -> bool:
    """Tell whether the week has tally rows or a finished tally run."""
    rows = await session.execute(
        select(col(WeeklyStationTally.id)).where(col(WeeklyStationTally.week) == week).limit(1)
    )
    if rows.first() is not None:
        return True
    run = await session.execute(
        select(col(JobRun.id)).where(
            col(JobRun.job) == job, col(JobRun.period) == week, col(JobRun.status) == "done"
        )
    )
    return run.first() is not None


async def region_rows(
    *, session: AsyncSession, region_code: str, weeks: Sequence[str]
) -> dict[str, WeeklyRegionTally]:
    """Return the region's tally rows of ``weeks``, by week."""
    result = await session.execute(
        select(WeeklyRegionTally).where(
            col(WeeklyRegionTally.region_code) == region_code,
            col(WeeklyRegionTally.week).in_(list(weeks)),
        )
    )
    return {row.week: row for row in result.scalars()}


async def station_rows(
    *, session: AsyncSession, region_code: str, level: str, week: str
) -> list[tuple[WeeklyStationTally, str, str | None]]:
    """Return the week's station rows in a region with station name and county code."""
    column = getattr(WeeklyStationTally, LEVEL_COLUMNS[level])
    result = await session.execute(
        select(WeeklyStationTally, col(Station.name), col(Station.region_code))
        .join(Station, col(Station.id) == WeeklyStationTally.station_id)
        .where(col(WeeklyStationTally.week) == week, column == region_code)
        .order_by(
            col(WeeklyStationTally.volume).desc(),
            col(WeeklyStationTally.shares_total).desc(),
            col(Station.name),
            col(Station.id),
        )
    )
    return [(row, name, code) for row, name, code in result.all()]


async def child_region_rows(
    *, session: AsyncSession, prefix: str, level: str, week: str
) -> list[WeeklyRegionTally]:
    """Return the week's rows of regions at ``level`` whose code starts with ``prefix``."""
    result = await session.execute(
        select(WeeklyRegionTally)
        .where(
            col(WeeklyRegionTally.week) == week,
            col(WeeklyRegionTally.level) == level,
            col(WeeklyRegionTally.region_code).startswith(prefix),
        )
        .order_by(
            col(WeeklyRegionTally.volume).desc(),
            col(WeeklyRegionTally.region_code),
        )
    )
    return list(result.scalars())


async def region_names(*, session: AsyncSession, codes: Sequence[str]) -> dict[str, str]:
    """Return the names of the regions among ``codes`` that exist."""
    if not codes:
        return {}
    result = await session.execute(
        select(col(Region.code), col(Region.name)).where(col(Region.code).in_(list(codes)))
    )
    return {code: name for code, name in result.all()}


async def pending_reviews(
    *, session: AsyncSession, prefix: str, statuses: Sequence[str]
) -> dict[str, int]:
    """Return how many stations inside the region prefix wait in each of ``statuses``."""
    result = await session.execute(
        select(col(Station.status), func.count())
        .where(
            col(Station.status).in_(list(statuses)),
            col(Station.region_code).startswith(prefix),
        )
        .group_by(col(Station.status))
    )
    found = {status: int(n) for status, n in result.all()}
    return {status: found.get(status, 0) for status in statuses}


async def flags_in(
    *, session: AsyncSession, prefix: str, start_ts: dt.datetime, end_ts: dt.datetime
) -> list[tuple[IntegrityFlag, str | None]]:
    """Return integrity flags raised in [start_ts, end_ts) inside the region prefix."""
    result = await session.execute(
        select(IntegrityFlag, col(Station.name))
        .outerjoin(Station, col(Station.id) == IntegrityFlag.station_id)
        .where(
            col(IntegrityFlag.created_at) >= start_ts,
            col(IntegrityFlag.created_at) < end_ts,
            (col(IntegrityFlag.region_code).startswith(prefix))
            | (col(Station.region_code).startswith(prefix)),
        )
        .order_by(col(IntegrityFlag.created_at), col(IntegrityFlag.id))
    )
    return [(flag, name) for flag, name in result.all()]


# --- digest deliveries ------------------------------------------------------------------
# A digest goes out directly (text, photo, document), not through the outbox sender, but
# each delivery is recorded as an outbox row (kind "digest", state sent/blocked/failed) so
# that "digest:<week>:<region>:<chat>" is unique and a re-run skips what was sent.


@dataclass(frozen=True)
class Recipient:
    """A coordinator grant: who, where, in which language."""

    person_id: int
    chat_id: int
    region_code: str
    language: str | None


async def coordinator_recipients(*, session: AsyncSession) -> list[Recipient]:
    """Return every (coordinator, region) pair, ordered by region then person."""
    result = await session.execute(
        select(
            col(Person.id),
            col(Person.telegram_id),
            col(RoleGrant.region_code),
            col(Person.language),
        )
        .join(RoleGrant, col(RoleGrant.person_id) == Person.id)
        .where(col(RoleGrant.role) == "coordinator", col(RoleGrant.region_code).is_not(None))
        .order_by(col(RoleGrant.region_code), col(Person.id))
    )
    return [
        Recipient(person_id=pid, chat_id=int(chat), region_code=code, language=lang)
        for pid, chat, code, lang in result.all()
    ]
