"""Weekly tally: set-based INSERT … SELECT … GROUP BY over the event tables, and reads.

One week is recomputed by deleting its rows and inserting them again in the caller's
transaction, so running it twice leaves exactly the same rows. No Python loop touches an
event row: SQLite and PostgreSQL do the aggregation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Date,
    String,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import TextClause
from sqlmodel import col

from storage.db import rowcount
from storage.figures import VolumeSql, Window, station_query
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
    table_of,
)
from storage.types import UTCDateTime

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


def _station_insert(
    bounds: WeekBounds, volume: VolumeSql, counted_states: Sequence[str], now: dt.datetime
) -> Insert:
    """Return the INSERT of every counted station's figures for one week.

    The figures are the SELECT of ``storage.figures.station_query`` (the one definition),
    plus the week's key and the station's county, city and province codes.
    """
    window = Window(bounds.start, bounds.end, "week")
    fig = station_query(
        window=window,
        volume=volume,
        states=counted_states,
        registered_between=(bounds.start_ts, bounds.end_ts),
    ).subquery("fig")
    code = fig.c.region_code
    county = case((func.substr(code, 5, 2) != "00", code))
    head4 = func.substr(code, 1, 4, type_=String())
    head2 = func.substr(code, 1, 2, type_=String())
    city = case((func.substr(code, 3, 4) != "0000", head4 + "00"))
    province = case((code.is_not(None), head2 + "0000"))
    values = {
        "station_id": fig.c.station_id,
        "week": literal(bounds.week),
        "week_start": literal(bounds.start, Date()),
        "county_code": county,
        "city_code": city,
        "province_code": province,
        "shares_total": fig.c.shares,
        **{f"shares_{ch}": fig.c[f"c_{ch}"] for ch in ShareEvent.CHANNELS},
        "sharing_informants": fig.c.sharing_informants,
        "active_informants": fig.c.active_informants,
        "informants": fig.c.informants,
        "reach_telegram": fig.c.telegram_reach,
        "reach_reported": fig.c.reported_reach,
        "visits": fig.c.visits,
        "activities": fig.c.activities,
        "participants": fig.c.participants,
        "content_uses": fig.c.content_uses,
        "content_use_audience": fig.c.content_use_audience,
        "volume": fig.c.volume,
        # silent: nothing reported at all (a flagged activity was still reported)
        "silent": and_(
            fig.c.shares == 0,
            fig.c.activities + fig.c.flagged_activities == 0,
            fig.c.content_uses == 0,
        ),
        "computed_at": literal(now, UTCDateTime()),
    }
    table = table_of(WeeklyStationTally)
    return insert(table).from_select(list(values), select(*values.values()))


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
    volume: VolumeSql,
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
    stations = await session.execute(_station_insert(bounds, volume, counted_states, now))
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
