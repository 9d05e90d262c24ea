"""Annual evaluation: runs, scores, proposals, and the integrity report's queries.

The figures come from ``storage.figures`` (the one definition, straight from the event
tables), so an evaluation never depends on the weekly tally having run and shows the same
numbers as the tally, /me, /top and the integrity report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage import figures
from storage.db import rowcount
from storage.figures import COUNTED_STATES, StationFigures, VolumeSql, Window, region_filter
from storage.models import (
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

TELEGRAM_CHANNELS = figures.TELEGRAM_CHANNELS
CHUNK = 500  # ids per IN (...) list: far below SQLite's and asyncpg's parameter limits


@dataclass(frozen=True)
class InformantRank:
    """One informant's propagation volume and rank within a region group."""

    informant_id: int
    group: str
    volume: float
    rank: int


# Kept for callers of the old name: the figures themselves live in storage.figures.
InformantFigures = InformantRank


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


_region_filter = region_filter


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
    return await figures.station_figures(
        session=session,
        window=Window(start, end),
        volume=volume,
        prefixes=prefixes,
        station_ids=station_ids,
    )


async def top_informants(
    *,
    session: AsyncSession,
    start: dt.date,
    end: dt.date,
    volume: VolumeSql,
    prefixes: Sequence[str] | None,
    group_len: int,
    top: int,
) -> list[InformantRank]:
    """Return the top informants by volume per region group (code prefix of ``group_len``).

    Each informant's figure is their figure at their station (``storage.figures``);
    forgotten and removed informants are left out; only counted stations' informants count.
    """
    ibase = figures.informant_query(
        window=Window(start, end),
        volume=volume,
        states=COUNTED_STATES,
        prefixes=prefixes,
        current_only=True,
    ).subquery("fig")
    grp = func.substr(ibase.c.region_code, 1, group_len)
    ranked = (
        select(
            ibase.c.informant_id,
            grp.label("grp"),
            ibase.c.volume,
            func.rank().over(partition_by=grp, order_by=ibase.c.volume.desc()).label("rnk"),
        )
        .where(ibase.c.volume > 0)
        .subquery("ranked")
    )
    rows = await session.execute(
        select(ranked)
        .where(ranked.c.rnk <= top)
        .order_by(ranked.c.grp, ranked.c.rnk, ranked.c.informant_id)
    )
    return [
        InformantRank(r.informant_id, r.grp, round(float(r.volume), 1), int(r.rnk)) for r in rows
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
    # A finding's region is its own, else its station's (as storage.findings decides it).
    where = func.coalesce(col(IntegrityFlag.region_code), col(Station.region_code))
    region = _region_filter(where, prefixes)
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
