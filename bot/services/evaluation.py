"""Annual evaluation: scores, ranks, outstanding informants and proposals (docs/evaluation.md).

A station's score is a weighted sum of three components, each divided by the best value
among the counted stations of the same city (so the best station of every city scores 100
on that component, and a weak city does not pull its stations down against a strong one)::

    score = 100 × (w_volume·V/V_max + w_activities·A/A_max + w_content_use·C/C_max)
                / (w_volume + w_activities + w_content_use)

V is the propagation volume (``bot.core.propagation``), A the activities that carry no
integrity flag, C the content uses, all from ``storage.figures`` over the calendar year,
1 January to 31 December (or ``as_of``, for a preview) — for every station, also one
recognised during the year (its score then says so: ``StationScore.partial``; what it did
before recognition counts, see docs/figures.md).  Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import EvaluationSettings, PropagationSettings
from bot.core.errors import DomainError
from bot.core.propagation import volume_over
from bot.i18n import N_
from bot.services.access import level_of, region_contains, region_prefix
from storage import evaluation as store
from storage import findings as findings_store
from storage import roles
from storage.evaluation import StationFigures
from storage.figures import Window, top_percent
from storage.models import EvaluationProposal, EvaluationRun

KINDS: tuple[str, ...] = EvaluationProposal.KINDS
KIND_NAMES: dict[str, str] = {
    "commend": N_("commend"),
    "rectify": N_("rectify"),
    "eliminate": N_("eliminate"),
    "revoke": N_("revoke"),
}
REASON_NAMES: dict[str, str] = {
    "top_share": N_("among the best {share}% of the city"),
    "inactive": N_("no share, activity or content use in the last {days} days"),
    "bottom_no_improvement": N_("at the bottom of the city again, without improvement"),
    "last_inactive": N_("among the last {count} of the city and inactive for {days} days"),
    "last_no_improvement": N_("among the last {count} of the city, again without improvement"),
    "photo_reuse": N_("{flags} reused evidence photo(s) confirmed by a coordinator"),
}
# Findings a revocation may rest on, once a coordinator has confirmed them (docs/evaluation.md).
REVOKE_KINDS: tuple[str, ...] = ("photo_reuse",)


class EvaluationError(DomainError, area="evaluation"):
    """A refusal; ``code`` names it and ``params`` fill its message."""


@dataclass
class StationScore:
    """A scored station with its ranks and what the rules found."""

    figures: StationFigures
    recognised_on: dt.date  # the local day of recognition (the window start if earlier/unknown)
    counted_from: dt.date = dt.date.min  # the window's first day (score_stations sets it)
    score: float = 0.0
    rank_county: int = 0
    rank_city: int = 0
    rank_province: int = 0
    city_count: int = 0
    position: int = 0  # 1-based place in the city, ties broken by station id
    inactive: bool = False
    new: bool = False  # recognised less than ``inactive_days`` ago: spared inactivity rules

    @property
    def partial(self) -> bool:
        """Tell whether the station was recognised during the window (a partial year)."""
        return self.recognised_on > self.counted_from

    @property
    def station_id(self) -> int:
        """Return the station id."""
        return self.figures.station_id

    @property
    def city(self) -> str:
        """Return the city code the station is compared within."""
        return city_of(self.figures.region_code)


@dataclass(frozen=True)
class Proposal:
    """A proposal before it is stored."""

    station_id: int
    kind: str
    reason_code: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class StationFindings:
    """What a station's integrity findings weigh in its proposal (ids, oldest first)."""

    confirmed: tuple[int, ...] = ()  # confirmed, raised within the window (any kind)
    revoke: tuple[int, ...] = ()  # of those, the kinds a revocation may rest on
    open: tuple[int, ...] = ()  # still awaiting review (raised at any time)


@dataclass
class RunResult:
    """What an evaluation run did."""

    run_id: int
    year: int
    region_code: str
    start: dt.date
    end: dt.date
    scores: list[StationScore]
    proposals: list[Proposal]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # kind → status → n
    outstanding: int = 0

    @property
    def window(self) -> Window:
        """Return the window the run counted (docs/figures.md)."""
        return Window(self.start, self.end, "year")

    def summary(self) -> dict[str, Any]:
        """Return a small JSON-friendly summary."""
        return {
            "year": self.year,
            "region": self.region_code,
            "stations": len(self.scores),
            "end": self.end.isoformat(),
            "proposals": self.counts,
            "outstanding": self.outstanding,
        }


def city_of(code: str) -> str:
    """Return the city code above a county (xx90xx counties sit under xx9000)."""
    return code[:4] + "00"


def province_of(code: str) -> str:
    """Return the province code of a region."""
    return code[:2] + "0000"


def scope_of(region_code: str | None) -> str:
    """Return the region a run covers: a county widens to its city (the comparison group)."""

    if not region_code:
        return ""
    return city_of(region_code) if level_of(region_code) == "county" else region_code


def prefixes_of(scope: str) -> list[str] | None:
    """Return the region prefixes of a run scope (None = everywhere)."""

    return [region_prefix(scope)] if scope else None


def window(year: int, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """Return the first and last day counted for ``year`` (the last is ``as_of`` if earlier)."""
    start = dt.date(year, 1, 1)
    if as_of < start:
        raise EvaluationError("year_not_started", year=year)
    return start, min(dt.date(year, 12, 31), as_of)


def competition_ranks(values: Sequence[tuple[int, float]]) -> dict[int, int]:
    """Rank (id, value) pairs by value, highest first; equal values share a rank (1, 2, 2, 4)."""
    ordered = sorted(values, key=lambda pair: (-pair[1], pair[0]))
    ranks: dict[int, int] = {}
    previous: float | None = None
    rank = 0
    for index, (key, value) in enumerate(ordered, start=1):
        if value != previous:
            rank, previous = index, value
        ranks[key] = rank
    return ranks


def score_stations(
    figures: Sequence[StationFigures],
    recognised_on: dict[int, dt.date],
    params: EvaluationSettings,
    end: dt.date,
    start: dt.date | None = None,
) -> list[StationScore]:
    """Score, rank and classify stations (pure: figures in, scores out).

    ``start`` is the window's first day (default: the earliest recognition day given).
    """
    first = start or min(recognised_on.values(), default=end)
    scores = [StationScore(f, recognised_on[f.station_id], first) for f in figures]
    weights = params.w_volume + params.w_activities + params.w_content_use or 1.0
    by_city: dict[str, list[StationScore]] = defaultdict(list)
    for item in scores:
        by_city[item.city].append(item)
    quiet_since = end - dt.timedelta(days=params.inactive_days - 1)
    for items in by_city.values():
        best_v = max(i.figures.volume for i in items)
        best_a = max(i.figures.activities for i in items)
        best_c = max(i.figures.content_uses for i in items)
        for item in items:
            f = item.figures
            part = (
                params.w_volume * (f.volume / best_v if best_v else 0.0)
                + params.w_activities * (f.activities / best_a if best_a else 0.0)
                + params.w_content_use * (f.content_uses / best_c if best_c else 0.0)
            )
            item.score = round(100.0 * part / weights, 2)
            item.new = item.recognised_on > quiet_since
            item.inactive = not item.new and (
                f.last_active_on is None or f.last_active_on < quiet_since
            )
        ranks = competition_ranks([(i.station_id, i.score) for i in items])
        for position, item in enumerate(
            sorted(items, key=lambda i: (-i.score, i.station_id)), start=1
        ):
            item.rank_city, item.position, item.city_count = (
                ranks[item.station_id],
                position,
                len(items),
            )
    for level, key in (
        ("county", lambda i: i.figures.region_code),
        ("province", lambda i: province_of(i.figures.region_code)),
    ):
        groups: dict[str, list[StationScore]] = defaultdict(list)
        for item in scores:
            groups[key(item)].append(item)
        for items in groups.values():
            ranks = competition_ranks([(i.station_id, i.score) for i in items])
            for item in items:
                setattr(item, f"rank_{level}", ranks[item.station_id])
    scores.sort(key=lambda i: (-i.score, i.station_id))
    return scores


def in_bottom(position: int, count: int, share: float) -> bool:
    """Tell whether a place lies in the last ``share`` of ``count`` places."""
    return count > 0 and position > count - math.ceil(count * share)


def propose(
    scores: Sequence[StationScore],
    params: EvaluationSettings,
    *,
    fraud_flags: dict[int, int] | None = None,
    previous: dict[int, Any],
    findings: dict[int, StationFindings] | None = None,
) -> list[Proposal]:
    """Return at most one proposal per station (revoke > eliminate > rectify; or commend).

    ``previous`` maps station ids to last year's scores (objects with ``score``,
    ``rank_city``/``city_count``); ``findings`` says which integrity findings a coordinator
    confirmed and which still wait (``fraud_flags``, if given instead, counts confirmed
    reused-evidence findings).  Only confirmed findings weigh: a revocation rests on at least
    ``revoke_min_flags`` of them; a station with a confirmed finding is not commended; one
    with an open finding is proposed for commendation held (``held_by``) until it is reviewed.
    """
    findings = findings or {}
    out: list[Proposal] = []
    by_city: dict[str, list[StationScore]] = defaultdict(list)
    for item in scores:
        by_city[item.city].append(item)
    for items in by_city.values():
        count = len(items)
        n_commend = math.ceil(count * params.commend_share)
        for item in items:
            f = item.figures
            detail: dict[str, Any] = {
                "score": item.score,
                "rank_city": item.rank_city,
                "city_count": count,
                "last_active_on": f.last_active_on.isoformat() if f.last_active_on else None,
            }
            found = findings.get(item.station_id, StationFindings())
            flags = (
                len(found.revoke) if fraud_flags is None else fraud_flags.get(item.station_id, 0)
            )
            if flags >= params.revoke_min_flags:
                extra = {"flags": flags, "findings": list(found.revoke)}
                out.append(Proposal(item.station_id, "revoke", "photo_reuse", {**detail, **extra}))
                continue
            prev = previous.get(item.station_id)
            stuck = (
                not item.new
                and prev is not None
                and in_bottom(item.position, count, params.bottom_share)
                and in_bottom(prev.rank_city, prev.city_count, params.bottom_share)
                and item.score <= prev.score
            )
            if prev is not None:
                detail["previous_score"] = prev.score
            last = (
                count > params.eliminate_count and item.position > count - params.eliminate_count
            )
            if last and (item.inactive or stuck):
                code = "last_inactive" if item.inactive else "last_no_improvement"
                out.append(Proposal(item.station_id, "eliminate", code, detail))
            elif (item.inactive or stuck) and f.status == "recognised":
                code = "inactive" if item.inactive else "bottom_no_improvement"
                out.append(Proposal(item.station_id, "rectify", code, detail))
            elif (
                item.position <= n_commend
                and item.score > 0
                and not item.inactive
                and f.status == "recognised"
                and not found.confirmed
            ):
                held = {"held_by": list(found.open)} if found.open else {}
                # the claim "among the best N %" must be true of this rank (storage.figures)
                share = top_percent(item.rank_city, count)
                out.append(
                    Proposal(
                        item.station_id,
                        "commend",
                        "top_share",
                        {**detail, **held, "share": share},
                    )
                )
    return out


def local_date(moment: dt.datetime | None, tz: dt.tzinfo) -> dt.date | None:
    """Return the calendar day of a moment in ``tz``."""
    return moment.astimezone(tz).date() if moment is not None else None


async def gather_figures(
    *,
    session: AsyncSession,
    propagation: PropagationSettings,
    tz: dt.tzinfo,
    prefixes: list[str] | None,
    start: dt.date,
    end: dt.date,
) -> tuple[list[StationFigures], dict[int, dt.date]]:
    """Return counted stations' figures over the whole window, and each one's recognition day.

    The window is the calendar one (docs/figures.md): nothing is cut at recognition, so a
    station's year is the sum of its weeks.  A station recognised after the window's end is
    not evaluated in it.  Stations without a recognition time are taken as recognised
    before the window.
    """
    found = await store.station_figures(
        session=session, start=start, end=end, volume=volume_over(propagation), prefixes=prefixes
    )
    kept: list[StationFigures] = []
    recognised_on: dict[int, dt.date] = {}
    for f in found:
        day = local_date(f.recognised_at, tz)
        if day is not None and day > end:
            continue  # recognised after the window: not evaluated this time
        recognised_on[f.station_id] = day if day is not None else start
        kept.append(f)
    return kept, recognised_on


async def station_findings(
    *,
    session: AsyncSession,
    tz: dt.tzinfo,
    station_ids: Sequence[int],
    start: dt.date,
    end: dt.date,
) -> dict[int, StationFindings]:
    """Return what each station's findings weigh: confirmed ones of the window, open ones."""
    since = dt.datetime.combine(start, dt.time(), tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz)
    confirmed = await findings_store.findings_of_stations(
        session=session, station_ids=station_ids, statuses=["confirmed"], since=since, until=until
    )
    waiting = await findings_store.findings_of_stations(
        session=session, station_ids=station_ids, statuses=[findings_store.OPEN]
    )
    out: dict[int, StationFindings] = {}
    for sid in set(confirmed) | set(waiting):
        done = confirmed.get(sid, [])
        out[sid] = StationFindings(
            confirmed=tuple(f.id for f in done if f.id is not None),
            revoke=tuple(f.id for f in done if f.id is not None and f.kind in REVOKE_KINDS),
            open=tuple(f.id for f in waiting.get(sid, []) if f.id is not None),
        )
    return out


async def run_evaluation(
    *,
    session: AsyncSession,
    evaluation: EvaluationSettings,
    propagation: PropagationSettings,
    tz: dt.tzinfo,
    year: int,
    region_code: str | None,
    as_of: dt.date,
    now: dt.datetime,
) -> RunResult:
    """Evaluate ``year`` in a region (None/'' = everywhere) and store scores and proposals.

    Re-running replaces the run's scores and the undecided proposals; decided proposals
    stay as they were.
    """
    params = evaluation
    scope = scope_of(region_code)
    prefixes = prefixes_of(scope)
    start, end = window(year, as_of)
    figures, recognised_on = await gather_figures(
        session=session,
        propagation=propagation,
        tz=tz,
        prefixes=prefixes,
        start=start,
        end=end,
    )
    scores = score_stations(figures, recognised_on, params, end, start)
    ids = [s.station_id for s in scores]
    previous = await store.previous_scores(session=session, year=year - 1, station_ids=ids)
    found = await station_findings(session=session, tz=tz, station_ids=ids, start=start, end=end)
    proposals = propose(scores, params, previous=previous, findings=found)
    run = await store.upsert_run(
        session=session,
        year=year,
        region_code=scope,
        now=now,
        params={**params.model_dump(), "start": start.isoformat(), "end": end.isoformat()},
    )
    assert run.id is not None
    await store.replace_scores(
        session=session,
        run_id=run.id,
        rows=[
            {
                "station_id": s.station_id,
                "region_code": s.figures.region_code,
                "counted_from": s.counted_from,
                "shares": s.figures.shares,
                "telegram_reach": s.figures.telegram_reach,
                "reported_reach": s.figures.reported_reach,
                "visits": s.figures.visits,
                "volume": s.figures.volume,
                "activities": s.figures.activities,
                "content_uses": s.figures.content_uses,
                "last_active_on": s.figures.last_active_on,
                "score": s.score,
                "rank_county": s.rank_county,
                "rank_city": s.rank_city,
                "rank_province": s.rank_province,
                "city_count": s.city_count,
            }
            for s in scores
        ],
    )
    await store.clear_open_proposals(session=session, year=year, station_ids=ids)
    await store.add_proposals(
        session=session,
        rows=[
            {
                "run_id": run.id,
                "year": year,
                "station_id": p.station_id,
                "kind": p.kind,
                "reason_code": p.reason_code,
                # the window the figures were counted over, for the card (docs/figures.md)
                "detail": {
                    **p.detail,
                    "window_start": start.isoformat(),
                    "window_end": end.isoformat(),
                },
                "status": "proposed",
                "created_at": now,
            }
            for p in proposals
        ],
    )
    outstanding = await _outstanding(session, propagation, params, scope, prefixes, start, end)
    await store.replace_outstanding(session=session, run_id=run.id, rows=outstanding)
    result = RunResult(
        run.id, year, scope, start, end, scores, proposals, outstanding=len(outstanding)
    )
    for proposal, _station in await store.proposals_in(
        session=session, year=year, prefixes=prefixes, limit=1_000_000
    ):
        kind = result.counts.setdefault(proposal.kind, {})
        kind[proposal.status] = kind.get(proposal.status, 0) + 1
    run.summary = result.summary()
    await session.flush()
    return result


async def _outstanding(
    session: AsyncSession,
    propagation: PropagationSettings,
    params: EvaluationSettings,
    scope: str,
    prefixes: list[str] | None,
    start: dt.date,
    end: dt.date,
) -> list[dict[str, Any]]:

    levels = [(6, ""), (4, "00")]
    if not scope or level_of(scope) == "province":
        levels.append((2, "0000"))
    rows = []
    for length, pad in levels:
        for item in await store.top_informants(
            session=session,
            start=start,
            end=end,
            volume=volume_over(propagation),
            prefixes=prefixes,
            group_len=length,
            top=params.outstanding_top,
        ):
            rows.append(
                {
                    "informant_id": item.informant_id,
                    "region_code": item.group + pad,
                    "volume": item.volume,
                    "rank": item.rank,
                }
            )
    return rows


def run_window(run: EvaluationRun | None, year: int) -> Window:
    """Return the window a run counted (its stored start and end; else the whole year)."""
    params = (run.params or {}) if run is not None else {}
    start, end = params.get("start"), params.get("end")
    return Window(
        dt.date.fromisoformat(start) if start else dt.date(year, 1, 1),
        dt.date.fromisoformat(end) if end else dt.date(year, 12, 31),
        "year",
    )


def proposal_window(proposal: EvaluationProposal) -> Window:
    """Return the window a proposal's figures were counted over (stored in its detail)."""
    detail = proposal.detail or {}
    start, end = detail.get("window_start"), detail.get("window_end")
    return Window(
        dt.date.fromisoformat(start) if start else dt.date(proposal.year, 1, 1),
        dt.date.fromisoformat(end) if end else dt.date(proposal.year, 12, 31),
        "year",
    )


async def run_for(*, session: AsyncSession, year: int, region_code: str) -> EvaluationRun | None:
    """Return the newest run of ``year`` whose scope covers ``region_code``."""
    for run in await store.runs_of_year(session=session, year=year):
        if not run.region_code or region_code.startswith(region_prefix(run.region_code)):
            return run
    return None


async def coordinator_notices(
    *, session: AsyncSession, year: int
) -> list[tuple[int, str | None, int]]:
    """Return (telegram id, language, open proposals in their area) for each coordinator."""

    open_ = await store.proposals_in(
        session=session, year=year, prefixes=None, statuses=["proposed"], limit=1_000_000
    )
    codes = [st.region_code for _p, st in open_ if st.region_code]
    out: dict[int, tuple[int, str | None, int]] = {}
    for grant, person in await roles.list_grants(session=session, role="coordinator"):
        if grant.region_code is None or person.unreachable:
            continue
        n = sum(1 for code in codes if region_contains(grant.region_code, code))
        if n:
            known = out.get(person.telegram_id)
            out[person.telegram_id] = (
                person.telegram_id,
                person.language,
                max(n, known[2] if known else 0),
            )
    return list(out.values())
