"""Annual evaluation: set-based figures per station and informant, runs, scores, proposals.

The figures come straight from the event tables (ShareEvent, LinkVisit, Activity,
ContentUse) for a date window, so an evaluation never depends on the weekly tally having
run.  Propagation volume is the one formula of ``bot.core.propagation``, passed in as SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, delete, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.db import rowcount
from storage.detection import counted_activity
from storage.models import (
    Activity,
    ContentUse,
    EvaluationProposal,
    EvaluationRun,
    EvaluationScore,
    Informant,
    IntegrityFlag,
    LinkVisit,
    OutstandingInformant,
    Person,
    ShareEvent,
    Station,
    TrackedLink,
    table_of,
)
from storage.upsert import insert_for

TELEGRAM_CHANNELS = ("telegram_inline", "telegram_forward")
COUNTED_STATES = ("recognised", "rectifying")
CHUNK = 500  # ids per IN (...) list: far below SQLite's and asyncpg's parameter limits


@dataclass(frozen=True)
class StationFigures:
    """What one station did in a window."""

    station_id: int
    name: str
    region_code: str
    status: str
    recognised_at: dt.datetime | None
    shares: int
    telegram_reach: int
    reported_reach: int
    visits: int
    volume: float
    activities: int
    flagged_activities: int
    content_uses: int
    last_active_on: dt.date | None


@dataclass(frozen=True)
class InformantFigures:
    """One informant's propagation volume and rank within a region group."""

    informant_id: int
    group: str
    volume: float
    rank: int


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _region_filter(column: Any, prefixes: Sequence[str] | None) -> Any:
    if prefixes is None:
        return None
    if not prefixes:
        return column.is_(None) & column.isnot(None)  # matches nothing
    return or_(*(column.startswith(p) for p in prefixes))


def _share_agg(key: Any, start: dt.date, end: dt.date) -> Any:
    tg = col(ShareEvent.channel).in_(TELEGRAM_CHANNELS)
    return (
        select(
            key.label("k"),
            func.count().label("shares"),
            func.coalesce(func.sum(case((tg, col(ShareEvent.audience)), else_=0)), 0).label(
                "telegram_reach"
            ),
            func.coalesce(func.sum(case((tg, 0), else_=col(ShareEvent.audience))), 0).label(
                "reported_reach"
            ),
            func.max(col(ShareEvent.day)).label("last_day"),
        )
        .where(col(ShareEvent.day) >= start, col(ShareEvent.day) <= end)
        .group_by(key)
        .subquery()
    )


def _visit_agg(key: Any, start: dt.date, end: dt.date) -> Any:
    return (
        select(key.label("k"), func.count(col(LinkVisit.id)).label("visits"))
        .select_from(LinkVisit)
        .join(TrackedLink, col(TrackedLink.id) == LinkVisit.link_id)
        .join(Informant, col(Informant.id) == TrackedLink.informant_id)
        .where(col(LinkVisit.day) >= start, col(LinkVisit.day) <= end)
        .group_by(key)
        .subquery()
    )


# The propagation volume formula as SQL over a subquery alias's columns (shares,
# telegram_reach, reported_reach, visits); the services pass the one configured formula.
VolumeSql = Callable[[str], str]


def _volume(volume: VolumeSql, alias: str) -> Any:
    return literal_column(volume(alias))


async def station_figures(
    *,
    session: AsyncSession,
    start: dt.date,
    end: dt.date,
    volume: VolumeSql,
    prefixes: Sequence[str] | None = None,
    station_ids: Sequence[int] | None = None,
) -> list[StationFigures]:
    """Return the figures of every counted station (recognised or rectifying) in a window."""
    if station_ids is not None and not station_ids:
        return []
    shares = _share_agg(col(ShareEvent.station_id), start, end)
    visits = _visit_agg(col(Informant.station_id), start, end)
    live = col(Activity.deleted_at).is_(None)
    acts = (
        select(
            col(Activity.station_id).label("k"),
            # An activity counts unless a finding on it is confirmed (open ones only mark it).
            func.sum(case((counted_activity(), 1), else_=0)).label("activities"),
            func.sum(case((col(Activity.flagged), 1), else_=0)).label("flagged"),
            func.max(col(Activity.held_on)).label("last_day"),
        )
        .where(live, col(Activity.held_on) >= start, col(Activity.held_on) <= end)
        .group_by(col(Activity.station_id))
        .subquery()
    )
    uses = (
        select(
            col(ContentUse.station_id).label("k"),
            func.count().label("uses"),
            func.max(col(ContentUse.used_on)).label("last_day"),
        )
        .where(col(ContentUse.used_on) >= start, col(ContentUse.used_on) <= end)
        .group_by(col(ContentUse.station_id))
        .subquery()
    )
    conditions: list[Any] = [col(Station.status).in_(COUNTED_STATES)]
    region = _region_filter(col(Station.region_code), prefixes)
    if region is not None:
        conditions.append(region)
    if station_ids is not None:
        conditions.append(col(Station.id).in_(station_ids))
    base = (
        select(
            col(Station.id).label("station_id"),
            col(Station.name),
            col(Station.region_code),
            col(Station.status),
            col(Station.recognised_at),
            func.coalesce(shares.c.shares, 0).label("shares"),
            func.coalesce(shares.c.telegram_reach, 0).label("telegram_reach"),
            func.coalesce(shares.c.reported_reach, 0).label("reported_reach"),
            func.coalesce(visits.c.visits, 0).label("visits"),
            func.coalesce(acts.c.activities, 0).label("activities"),
            func.coalesce(acts.c.flagged, 0).label("flagged_activities"),
            func.coalesce(uses.c.uses, 0).label("content_uses"),
            shares.c.last_day.label("last_share"),
            acts.c.last_day.label("last_activity"),
            uses.c.last_day.label("last_use"),
        )
        .outerjoin(shares, shares.c.k == Station.id)
        .outerjoin(visits, visits.c.k == Station.id)
        .outerjoin(acts, acts.c.k == Station.id)
        .outerjoin(uses, uses.c.k == Station.id)
        .where(and_(*conditions))
        .subquery("base")
    )
    query = select(base, _volume(volume, "base").label("volume")).order_by(base.c.station_id)
    out = []
    for row in (await session.execute(query)).mappings():
        days = [d for d in (row["last_share"], row["last_activity"], row["last_use"]) if d]
        out.append(
            StationFigures(
                station_id=row["station_id"],
                name=row["name"],
                region_code=row["region_code"] or "",
                status=row["status"],
                recognised_at=row["recognised_at"],
                shares=int(row["shares"]),
                telegram_reach=int(row["telegram_reach"]),
                reported_reach=int(row["reported_reach"]),
                visits=int(row["visits"]),
                volume=round(float(row["volume"]), 1),
                activities=int(row["activities"]),
                flagged_activities=int(row["flagged_activities"]),
                content_uses=int(row["content_uses"]),
                last_active_on=max(_as_date(d) for d in days) if days else None,
            )
        )
    return out


def _as_date(value: Any) -> dt.date:
    # Aggregates over a Date column come back as text on SQLite inside a subquery.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


async def top_informants(
    *,
    session: AsyncSession,
    start: dt.date,
    end: dt.date,
    volume: VolumeSql,
    prefixes: Sequence[str] | None,
    group_len: int,
    top: int,
) -> list[InformantFigures]:
    """Return the top informants by volume per region group (code prefix of ``group_len``).

    Forgotten and removed informants are left out; only counted stations' informants count.
    """
    shares = _share_agg(col(ShareEvent.informant_id), start, end)
    visits = _visit_agg(col(TrackedLink.informant_id), start, end)
    conditions: list[Any] = [
        col(Informant.forgotten_at).is_(None),
        col(Informant.removed_at).is_(None),
        col(Station.status).in_(COUNTED_STATES),
    ]
    region = _region_filter(col(Station.region_code), prefixes)
    if region is not None:
        conditions.append(region)
    base = (
        select(
            col(Informant.id).label("informant_id"),
            func.substr(col(Station.region_code), 1, group_len).label("grp"),
            func.coalesce(shares.c.shares, 0).label("shares"),
            func.coalesce(shares.c.telegram_reach, 0).label("telegram_reach"),
            func.coalesce(shares.c.reported_reach, 0).label("reported_reach"),
            func.coalesce(visits.c.visits, 0).label("visits"),
        )
        .join(Station, col(Station.id) == Informant.station_id)
        .outerjoin(shares, shares.c.k == Informant.id)
        .outerjoin(visits, visits.c.k == Informant.id)
        .where(and_(*conditions))
        .subquery("ibase")
    )
    volume_col = _volume(volume, "ibase")
    ranked = (
        select(
            base.c.informant_id,
            base.c.grp,
            volume_col.label("volume"),
            func.rank().over(partition_by=base.c.grp, order_by=volume_col.desc()).label("rnk"),
        )
        .where(volume_col > 0)
        .subquery("ranked")
    )
    rows = await session.execute(
        select(ranked)
        .where(ranked.c.rnk <= top)
        .order_by(ranked.c.grp, ranked.c.rnk, ranked.c.informant_id)
    )
    return [
        InformantFigures(r.informant_id, r.grp, round(float(r.volume), 1), int(r.rnk))
        for r in rows
    ]


# --- runs, scores, proposals ------------------------------------------------------------
async def upsert_run(
    *,
    session: AsyncSession,
    year: int,
    region_code: str,
    params: dict[str, Any],
    now: dt.datetime,
) -> EvaluationRun:
    """Create the run of (year, region) or refresh it; return it."""
    table = table_of(EvaluationRun)
    stmt = insert_for(session, table).values(
        year=year, region_code=region_code, created_at=now, params=params, summary={}
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["year", "region_code"],
        set_={"created_at": now, "params": params},
    )
    await session.execute(stmt)
    run = (
        await session.execute(
            select(EvaluationRun)
            .where(col(EvaluationRun.year) == year, col(EvaluationRun.region_code) == region_code)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    return run


async def replace_scores(
    *, session: AsyncSession, run_id: int, rows: Sequence[dict[str, Any]]
) -> None:
    """Replace the scores of a run."""
    await session.execute(delete(EvaluationScore).where(col(EvaluationScore.run_id) == run_id))
    if rows:
        await session.execute(
            insert_for(session, table_of(EvaluationScore)),
            [dict(r, run_id=run_id) for r in rows],
        )


async def replace_outstanding(
    *, session: AsyncSession, run_id: int, rows: Sequence[dict[str, Any]]
) -> None:
    """Replace the outstanding informants of a run."""
    await session.execute(
        delete(OutstandingInformant).where(col(OutstandingInformant.run_id) == run_id)
    )
    if rows:
        await session.execute(
            insert_for(session, table_of(OutstandingInformant)),
            [dict(r, run_id=run_id) for r in rows],
        )


async def clear_open_proposals(
    *, session: AsyncSession, year: int, station_ids: Sequence[int]
) -> int:
    """Delete the undecided proposals of ``year`` for these stations; return how many."""
    gone = 0
    for chunk in _chunks(list(station_ids)):
        result = await session.execute(
            delete(EvaluationProposal).where(
                col(EvaluationProposal.year) == year,
                col(EvaluationProposal.status) == "proposed",
                col(EvaluationProposal.station_id).in_(chunk),
            )
        )
        gone += rowcount(result) or 0
    return gone


async def add_proposals(*, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert proposals; one already decided for (year, station, kind) is kept as it is."""
    if not rows:
        return
    stmt = insert_for(session, table_of(EvaluationProposal)).on_conflict_do_nothing(
        index_elements=["year", "station_id", "kind"]
    )
    await session.execute(stmt, list(rows))


async def previous_scores(
    *, session: AsyncSession, year: int, station_ids: Sequence[int]
) -> dict[int, EvaluationScore]:
    """Return each station's score in ``year`` (from the newest run that scored it)."""
    out: dict[int, EvaluationScore] = {}
    for chunk in _chunks(list(station_ids)):
        rows = await session.execute(
            select(EvaluationScore)
            .join(EvaluationRun, col(EvaluationRun.id) == EvaluationScore.run_id)
            .where(col(EvaluationRun.year) == year, col(EvaluationScore.station_id).in_(chunk))
            .order_by(col(EvaluationRun.created_at), col(EvaluationRun.id))
        )
        for score in rows.scalars():
            out[score.station_id] = score
    return out


async def runs_of_year(*, session: AsyncSession, year: int) -> list[EvaluationRun]:
    """Return the runs of ``year``, newest first."""
    rows = await session.execute(
        select(EvaluationRun)
        .where(col(EvaluationRun.year) == year)
        .order_by(col(EvaluationRun.created_at).desc(), col(EvaluationRun.id).desc())
    )
    return list(rows.scalars())


async def scores_in(
    *, session: AsyncSession, run_id: int, prefixes: Sequence[str] | None = None
) -> list[tuple[EvaluationScore, Station]]:
    """Return a run's scores (with their stations) in the regions, best first."""
    stmt = (
        select(EvaluationScore, Station)
        .join(Station, col(Station.id) == EvaluationScore.station_id)
        .where(col(EvaluationScore.run_id) == run_id)
    )
    region = _region_filter(col(EvaluationScore.region_code), prefixes)
    if region is not None:
        stmt = stmt.where(region)
    rows = await session.execute(
        stmt.order_by(col(EvaluationScore.score).desc(), col(EvaluationScore.station_id))
    )
    return list(rows.tuples())


async def proposals_in(
    *,
    session: AsyncSession,
    year: int | None,
    prefixes: Sequence[str] | None,
    kinds: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    limit: int = 500,
) -> list[tuple[EvaluationProposal, Station]]:
    """Return proposals (with stations) in the regions, by kind then station."""
    stmt = select(EvaluationProposal, Station).join(
        Station, col(Station.id) == EvaluationProposal.station_id
    )
    if year is not None:
        stmt = stmt.where(col(EvaluationProposal.year) == year)
    region = _region_filter(col(Station.region_code), prefixes)
    if region is not None:
        stmt = stmt.where(region)
    if kinds is not None:
        stmt = stmt.where(col(EvaluationProposal.kind).in_(kinds))
    if statuses is not None:
        stmt = stmt.where(col(EvaluationProposal.status).in_(statuses))
    rows = await session.execute(
        stmt.order_by(col(EvaluationProposal.kind), col(EvaluationProposal.id)).limit(limit)
    )
    return list(rows.tuples())


async def latest_year(*, session: AsyncSession, prefixes: Sequence[str] | None) -> int | None:
    """Return the newest year with proposals or scores in the regions."""
    stmt = (
        select(func.max(col(EvaluationRun.year)))
        .select_from(EvaluationScore)
        .join(EvaluationRun, col(EvaluationRun.id) == EvaluationScore.run_id)
    )
    region = _region_filter(col(EvaluationScore.region_code), prefixes)
    if region is not None:
        stmt = stmt.where(region)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_proposal(
    *, session: AsyncSession, proposal_id: int
) -> tuple[EvaluationProposal, Station] | None:
    """Return a proposal and its station."""
    row = (
        await session.execute(
            select(EvaluationProposal, Station)
            .join(Station, col(Station.id) == EvaluationProposal.station_id)
            .where(col(EvaluationProposal.id) == proposal_id)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def outstanding_in(
    *, session: AsyncSession, run_id: int, region_code: str
) -> list[tuple[OutstandingInformant, Informant, Station]]:
    """Return a run's outstanding informants of one region, best first."""
    rows = await session.execute(
        select(OutstandingInformant, Informant, Station)
        .join(Informant, col(Informant.id) == OutstandingInformant.informant_id)
        .join(Station, col(Station.id) == Informant.station_id)
        .where(
            col(OutstandingInformant.run_id) == run_id,
            col(OutstandingInformant.region_code) == region_code,
        )
        .order_by(col(OutstandingInformant.rank), col(OutstandingInformant.informant_id))
    )
    return list(rows.tuples())


async def informant_people(*, session: AsyncSession, station_id: int) -> Sequence[Person]:
    """Return the people behind a station's current informants (not removed or forgotten)."""
    rows = await session.execute(
        select(Person)
        .join(Informant, col(Informant.person_id) == Person.id)
        .where(
            col(Informant.station_id) == station_id,
            col(Informant.removed_at).is_(None),
            col(Informant.forgotten_at).is_(None),
        )
        .order_by(col(Person.id))
    )
    return rows.scalars().all()


# --- integrity -------------------------------------------------------------------------
async def informant_counts(
    *, session: AsyncSession, prefixes: Sequence[str] | None
) -> dict[int, int]:
    """Return how many current informants each counted station in the regions has."""
    stmt = (
        select(col(Station.id), func.count(col(Informant.id)))
        .outerjoin(
            Informant,
            and_(
                col(Informant.station_id) == Station.id,
                col(Informant.removed_at).is_(None),
                col(Informant.forgotten_at).is_(None),
            ),
        )
        .where(col(Station.status).in_(COUNTED_STATES))
        .group_by(col(Station.id))
    )
    region = _region_filter(col(Station.region_code), prefixes)
    if region is not None:
        stmt = stmt.where(region)
    return {int(sid): int(n) for sid, n in (await session.execute(stmt)).all()}


async def flags_in(
    *,
    session: AsyncSession,
    kinds: Sequence[str],
    prefixes: Sequence[str] | None,
    since: dt.datetime,
    until: dt.datetime,
) -> list[tuple[IntegrityFlag, Station | None]]:
    """Return integrity flags of ``kinds`` raised in the regions within a time window."""
    stmt = (
        select(IntegrityFlag, Station)
        .outerjoin(Station, col(Station.id) == IntegrityFlag.station_id)
        .where(
            col(IntegrityFlag.kind).in_(kinds),
            col(IntegrityFlag.created_at) >= since,
            col(IntegrityFlag.created_at) < until,
        )
    )
    region = _region_filter(col(IntegrityFlag.region_code), prefixes)
    if region is not None:
        stmt = stmt.where(region)
    rows = await session.execute(
        stmt.order_by(col(IntegrityFlag.created_at), col(IntegrityFlag.id))
    )
    return list(rows.tuples())


async def unverified_reach(
    *,
    session: AsyncSession,
    prefixes: Sequence[str] | None,
    start: dt.date,
    end: dt.date,
    threshold: int,
) -> list[tuple[int, str, str, int, int, int]]:
    """Return stations whose self-reported reach ≥ ``threshold`` brought no verified visit.

    Rows: (station id, name, region code, reported shares, reported reach, visits).  Visits
    are those of the tracked links of the same informant, content and channel.
    """
    reported = col(ShareEvent.channel).notin_(TELEGRAM_CHANNELS)
    in_window = and_(col(ShareEvent.day) >= start, col(ShareEvent.day) <= end)
    rep = (
        select(
            col(ShareEvent.station_id).label("k"),
            func.count().label("n"),
            func.sum(col(ShareEvent.audience)).label("reach"),
        )
        .where(reported, in_window)
        .group_by(col(ShareEvent.station_id))
        .subquery()
    )
    vis = (
        select(
            col(ShareEvent.station_id).label("k"),
            func.count(func.distinct(col(LinkVisit.id))).label("visits"),
        )
        .select_from(ShareEvent)
        .join(
            TrackedLink,
            and_(
                col(TrackedLink.informant_id) == ShareEvent.informant_id,
                col(TrackedLink.content_id) == ShareEvent.content_id,
                col(TrackedLink.channel) == ShareEvent.channel,
            ),
        )
        .join(LinkVisit, col(LinkVisit.link_id) == TrackedLink.id)
        .where(reported, in_window, col(LinkVisit.day) >= start)
        .group_by(col(ShareEvent.station_id))
        .subquery()
    )
    stmt = (
        select(
            col(Station.id),
            col(Station.name),
            col(Station.region_code),
            rep.c.n,
            rep.c.reach,
            func.coalesce(vis.c.visits, 0),
        )
        .join(rep, rep.c.k == Station.id)
        .outerjoin(vis, vis.c.k == Station.id)
        .where(rep.c.reach >= threshold, func.coalesce(vis.c.visits, 0) == 0)
    )
    region = _region_filter(col(Station.region_code), prefixes)
    if region is not None:
        stmt = stmt.where(region)
    rows = await session.execute(stmt.order_by(rep.c.reach.desc(), col(Station.id)))
    return [(int(a), b, c or "", int(d), int(e), int(f)) for a, b, c, d, e, f in rows.all()]
