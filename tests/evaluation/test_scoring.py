"""Scores, ranks, outstanding informants and proposals on a province of known shape."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import EvaluationSettings
from bot.services import evaluation as ev
from storage import evaluation as store
from storage.models import EvaluationProposal, EvaluationScore, OutstandingInformant, Station
from tests.conftest import make_settings
from tests.evaluation.world import EXPECTED_PROPOSALS, EXPECTED_SCORES, YEAR_END, build

NOW = dt.datetime(2027, 1, 5, 1, 0, tzinfo=dt.UTC)


async def _run(
    session: AsyncSession, db_url: str, region: str | None = "330000", **evaluation: object
) -> ev.RunResult:
    settings = make_settings(db_url, evaluation=evaluation)
    return await ev.run_evaluation(
        session=session,
        evaluation=settings.evaluation,
        propagation=settings.propagation,
        tz=settings.scheduler.tz,
        year=2026,
        region_code=region,
        as_of=dt.date(2027, 1, 5),
        now=NOW,
    )


async def test_scores_ranks_and_proposals(session: AsyncSession, db_url: str) -> None:
    world = await build(session)
    result = await _run(session, db_url)
    assert result.end == YEAR_END
    got = {world.key_of(s.station_id): s for s in result.scores}
    assert set(got) == set(EXPECTED_SCORES)  # the revoked B4 is not evaluated
    assert {k: s.score for k, s in got.items()} == EXPECTED_SCORES
    a1 = got["A1"].figures
    assert (
        a1.shares,
        a1.telegram_reach,
        a1.visits,
        a1.volume,
        a1.activities,
        a1.content_uses,
    ) == (10, 1000, 5, 1015.0, 4, 2)
    # the calendar year for every station: A5's October share (before recognition) counts
    assert got["A5"].counted_from == dt.date(2026, 1, 1)
    assert got["A5"].recognised_on == dt.date(2026, 11, 1) and got["A5"].partial
    assert got["A5"].figures.volume == 1022.0 and got["A5"].new
    assert not got["A1"].partial
    assert got["B1"].figures.reported_reach == 600 and got["B1"].figures.volume == 303.0
    assert {k: s.rank_city for k, s in got.items()} == {
        "A1": 1,
        "A2": 2,
        "A5": 3,
        "A3": 4,
        "A4": 5,
        "B1": 1,
        "B3": 2,
        "B2": 3,
    }
    assert {k: s.rank_county for k, s in got.items()} == {
        "A1": 1,
        "A2": 2,
        "A5": 1,
        "A3": 2,
        "A4": 3,
        "B1": 1,
        "B2": 2,
        "B3": 1,
    }
    assert {k: s.rank_province for k, s in got.items()} == {
        "B1": 1,
        "A1": 2,
        "A2": 3,
        "A5": 4,
        "B3": 5,
        "A3": 6,
        "B2": 7,
        "A4": 8,
    }
    assert got["A3"].inactive and got["A4"].inactive and not got["B3"].inactive
    proposals = {world.key_of(p.station_id): (p.kind, p.reason_code) for p in result.proposals}
    assert proposals == EXPECTED_PROPOSALS
    stored = (await session.execute(select(EvaluationScore))).scalars().all()
    assert len(stored) == 8 and {s.city_count for s in stored} == {5, 3}
    assert result.counts == {
        "commend": {"proposed": 2},
        "rectify": {"proposed": 1},
        "eliminate": {"proposed": 1},
        "revoke": {"proposed": 1},
    }


async def test_outstanding_informants(session: AsyncSession, db_url: str) -> None:
    world = await build(session)
    result = await _run(session, db_url)
    rows = await store.outstanding_in(session=session, run_id=result.run_id, region_code="330100")
    names = [(inf.real_name, o.rank, o.volume) for o, inf, _st in rows]
    # i2 is forgotten: never listed although A1's totals keep its shares. Informants are
    # counted over the whole year, so 赵五's share before A5 was recognised counts for them.
    assert names == [
        ("赵五", 1, 1022.0),
        ("张一", 2, 813.0),
        ("李三", 3, 505.0),
        ("王四", 4, 102.0),
    ]
    province = await store.outstanding_in(
        session=session, run_id=result.run_id, region_code="330000"
    )
    assert [inf.id for _o, inf, _s in province][:2] == [
        world.informants["i5"],
        world.informants["i1"],
    ]
    assert all(inf.id != world.informants["i2"] for _o, inf, _s in province)
    assert all(inf.id != world.informants["i9"] for _o, inf, _s in province)  # revoked


async def test_rerun_is_idempotent_and_keeps_decisions(session: AsyncSession, db_url: str) -> None:
    world = await build(session)
    first = await _run(session, db_url)
    a3 = next(
        p
        for p, _s in await store.proposals_in(session=session, year=2026, prefixes=None)
        if p.station_id == world.stations["A3"]
    )
    a3.status, a3.decision_reason = "overridden", "已口头整改"
    await session.flush()
    second = await _run(session, db_url)
    assert second.run_id == first.run_id
    count = await session.execute(select(func.count()).select_from(EvaluationProposal))
    assert count.scalar_one() == 5
    kept = await session.get(EvaluationProposal, a3.id, populate_existing=True)
    assert kept is not None and kept.status == "overridden"
    assert (
        await session.execute(select(func.count()).select_from(EvaluationScore))
    ).scalar_one() == 8
    n_out = (
        await session.execute(select(func.count()).select_from(OutstandingInformant))
    ).scalar_one()
    await _run(session, db_url)
    assert (
        await session.execute(select(func.count()).select_from(OutstandingInformant))
    ).scalar_one() == n_out
    assert second.counts["rectify"] == {"overridden": 1}


async def test_city_run_and_county_widening(session: AsyncSession, db_url: str) -> None:
    world = await build(session)
    result = await _run(session, db_url, region="330108")  # a county widens to its city
    assert result.region_code == "330100"
    assert {world.key_of(s.station_id) for s in result.scores} == {"A1", "A2", "A3", "A4", "A5"}


async def test_recognition_day_follows_the_configured_zone(
    session: AsyncSession, db_url: str
) -> None:
    world = await build(session)
    a5 = await session.get(Station, world.stations["A5"])
    assert a5 is not None
    # 17:30 UTC on 31 October: already 1 November in Shanghai, still 31 October in Urumqi
    a5.recognised_at = dt.datetime(2026, 10, 31, 17, 30, tzinfo=dt.UTC)
    await session.flush()
    recognised_on = {}
    for zone in ("Asia/Shanghai", "Asia/Urumqi", "UTC"):
        settings = make_settings(db_url, scheduler={"timezone": zone})
        result = await ev.run_evaluation(
            session=session,
            evaluation=settings.evaluation,
            propagation=settings.propagation,
            tz=settings.scheduler.tz,
            year=2026,
            region_code="330000",
            as_of=dt.date(2027, 1, 5),
            now=NOW,
        )
        scores = {world.key_of(s.station_id): s for s in result.scores}
        recognised_on[zone] = scores["A5"].recognised_on
        assert scores["A5"].counted_from == dt.date(2026, 1, 1)  # the calendar year anyway
    assert recognised_on == {
        "Asia/Shanghai": dt.date(2026, 11, 1),
        "Asia/Urumqi": dt.date(2026, 10, 31),
        "UTC": dt.date(2026, 10, 31),
    }


async def test_settings_change_the_proposals(session: AsyncSession, db_url: str) -> None:
    world = await build(session)
    result = await _run(session, db_url, eliminate_count=0, commend_share=0.4, inactive_days=400)
    proposals = {world.key_of(p.station_id): p.kind for p in result.proposals}
    # inactive over 400 days: only A4 (recognised before that, never active) is; the rest
    # were recognised within 400 days ("new"); two commended per city
    assert proposals == {
        "A1": "commend",
        "A2": "commend",
        "A4": "rectify",
        "B1": "commend",
        "B3": "commend",
        "B2": "revoke",
    }


def test_bottom_without_improvement() -> None:
    figures = [
        store.StationFigures(
            i,
            f"S{i}",
            "330106",
            "recognised",
            None,
            0,
            0,
            0,
            0,
            float(v),
            0,
            0,
            0,
            dt.date(2026, 12, 1),
        )
        for i, v in enumerate([100, 80, 60, 40, 20], start=1)
    ]
    params = EvaluationSettings(eliminate_count=0)
    scores = ev.score_stations(
        figures, {f.station_id: dt.date(2026, 1, 1) for f in figures}, params, YEAR_END
    )

    class Prev:
        def __init__(self, score: float, rank: int) -> None:
            self.score, self.rank_city, self.city_count = score, rank, 5

    # S5 (20 → 10 % of the best) was last last year with a higher score: stuck
    got = ev.propose(scores, params, fraud_flags={}, previous={5: Prev(30.0, 5), 4: Prev(10.0, 5)})
    kinds = {p.station_id: (p.kind, p.reason_code) for p in got}
    assert kinds[5] == ("rectify", "bottom_no_improvement")
    assert 4 not in kinds  # S4 improved (40 now, 10 before) and is not in the bottom 20 %
    assert kinds[1] == ("commend", "top_share")
    got = ev.propose(
        scores, EvaluationSettings(eliminate_count=1), fraud_flags={}, previous={5: Prev(30.0, 5)}
    )
    assert {p.station_id: p.reason_code for p in got}[5] == "last_no_improvement"


def test_competition_ranks() -> None:
    assert ev.competition_ranks([(1, 5.0), (2, 9.0), (3, 5.0), (4, 1.0)]) == {
        2: 1,
        1: 2,
        3: 2,
        4: 4,
    }


def test_year_not_started() -> None:
    import pytest

    with pytest.raises(ev.EvaluationError) as err:
        ev.window(2027, dt.date(2026, 11, 23))
    assert err.value.code == "year_not_started"
    assert ev.window(2026, dt.date(2026, 11, 23)) == (dt.date(2026, 1, 1), dt.date(2026, 11, 23))
