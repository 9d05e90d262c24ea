"""Services on a real database (SQLite and PostgreSQL): transitions, audit, alarm, reminders."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import StationsSettings
from bot.sandbox.factories import make_person, make_station
from bot.services import review
from bot.services.review import Actor, OnsiteCheck
from bot.services.stations import ACTIONS, TRANSITIONS, StationError
from storage import roles as roles_store
from storage.models import AuditLog, IntegrityFlag, RoleGrant, Station, StationReview
from tests.stations.helpers import HANGZHOU, XIHU, complete_application, load_sample

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)
ONSITE = OnsiteCheck(date=TODAY, inspector="李", note="ok", latitude=30.0, longitude=120.0)


async def _admin(session: AsyncSession) -> Actor:
    person = await make_person(session, telegram_id=900, first_name="admin")
    assert person.id is not None
    grant, _ = await roles_store.grant_role(
        session=session, person_id=person.id, role="admin", now=NOW
    )
    return Actor(person.id, [grant])


async def _act(session: AsyncSession, action: str, station: Station, actor: Actor) -> Station:
    """Take ``action`` with valid inputs; return the station."""
    assert station.id is not None
    sid = station.id
    if action == "submit":
        assert station.applicant_id is not None
        return (
            await review.submit(
                session=session,
                station_id=sid,
                applicant_id=station.applicant_id,
                now=NOW,
                stations=StationsSettings(),
            )
        ).station
    if action == "county_approve":
        return (
            await review.county_approve(
                session=session, station_id=sid, actor=actor, onsite=ONSITE, today=TODAY, now=NOW
            )
        ).station
    if action in ("county_reject", "city_send_back"):
        return (
            await review.reject(
                session=session, station_id=sid, actor=actor, action=action, reason="理由", now=NOW
            )
        ).station
    if action == "city_recognise":
        return (
            await review.city_recognise(session=session, station_id=sid, actor=actor, now=NOW)
        ).station
    if action == "rectify":
        return (
            await review.rectify(
                session=session,
                station_id=sid,
                actor=actor,
                reason="理由",
                deadline=TODAY + dt.timedelta(days=30),
                today=TODAY,
                now=NOW,
            )
        ).station
    if action == "lift":
        return (await review.lift(session=session, station_id=sid, actor=actor, now=NOW)).station
    return (
        await review.revoke(session=session, station_id=sid, actor=actor, reason="理由", now=NOW)
    ).station


@pytest.mark.parametrize(("state", "action"), list(itertools.product(Station.STATES, ACTIONS)))
async def test_every_pair_on_the_database(session: AsyncSession, state: str, action: str) -> None:
    await load_sample(session, NOW)
    actor = await _admin(session)
    applicant = await make_person(session, telegram_id=1, first_name="申报人")
    assert applicant.id is not None
    station = await complete_application(session, applicant_id=applicant.id, status=state, now=NOW)
    if (state, action) in TRANSITIONS:
        after = await _act(session, action, station, actor)
        assert after.status == TRANSITIONS[(state, action)]
        entry = (
            await session.execute(select(AuditLog).where(AuditLog.action == f"station.{action}"))
        ).scalar_one()
        assert entry.allowed and entry.detail["from"] == state
    else:
        with pytest.raises(StationError) as caught:
            await _act(session, action, station, actor)
        assert caught.value.code == "illegal_transition"
        assert station.status == state
        entry = (await session.execute(select(AuditLog))).scalars().all()[-1]
        assert entry.allowed is False and entry.reason == "illegal_transition"


async def test_recognise_grants_station_admin_and_records_review(session: AsyncSession) -> None:
    await load_sample(session, NOW)
    actor = await _admin(session)
    applicant = await make_person(session, telegram_id=1)
    assert applicant.id is not None
    station = await complete_application(
        session, applicant_id=applicant.id, status="county_approved", now=NOW
    )
    outcome = await review.city_recognise(
        session=session, station_id=station.id or 0, actor=actor, now=NOW
    )
    assert outcome.station.recognised_at == NOW
    grants = (
        (await session.execute(select(RoleGrant).where(RoleGrant.person_id == applicant.id)))
        .scalars()
        .all()
    )
    assert [(g.role, g.station_id) for g in grants] == [("station_admin", station.id)]
    assert [n.telegram_id for n in outcome.notices] == [1]
    stages = (await session.execute(select(StationReview.stage))).scalars().all()
    assert stages == ["city"]


async def test_reasons_onsite_and_deadlines_are_required(session: AsyncSession) -> None:
    await load_sample(session, NOW)
    actor = await _admin(session)
    applicant = await make_person(session, telegram_id=1)
    assert applicant.id is not None
    station = await complete_application(
        session, applicant_id=applicant.id, status="submitted", now=NOW
    )
    sid = station.id or 0
    with pytest.raises(StationError, match="reason_required"):
        await review.reject(
            session=session,
            station_id=sid,
            actor=actor,
            action="county_reject",
            reason="  ",
            now=NOW,
        )
    for bad, code in [
        (OnsiteCheck(TODAY + dt.timedelta(days=1), "李", "n", "photo"), "onsite_date_future"),
        (OnsiteCheck(TODAY, " ", "n", "photo"), "onsite_inspector_required"),
        (OnsiteCheck(TODAY, "李", "n"), "onsite_proof_required"),
    ]:
        with pytest.raises(StationError) as caught:
            await review.county_approve(
                session=session, station_id=sid, actor=actor, onsite=bad, today=TODAY, now=NOW
            )
        assert caught.value.code == code
    station.status = "recognised"
    with pytest.raises(StationError, match="deadline_not_future"):
        await review.rectify(
            session=session,
            station_id=sid,
            actor=actor,
            reason="r",
            deadline=TODAY,
            today=TODAY,
            now=NOW,
        )
    assert station.status == "recognised"


async def test_incomplete_application_cannot_be_submitted(session: AsyncSession) -> None:
    await load_sample(session, NOW)
    applicant = await make_person(session, telegram_id=1)
    assert applicant.id is not None
    station = await make_station(
        session,
        name="空站",
        venue_type="school",
        county=None,
        status="draft",
        applicant_id=applicant.id,
        created_at=NOW,
    )
    with pytest.raises(StationError) as caught:
        await review.submit(
            session=session,
            station_id=station.id or 0,
            applicant_id=applicant.id,
            now=NOW,
            stations=StationsSettings(),
        )
    assert caught.value.code == "incomplete"
    assert caught.value.params["missing"][:2] == ["address", "region"]
    other = await make_person(session, telegram_id=2)
    with pytest.raises(StationError, match="not_allowed"):
        await review.submit(
            session=session,
            station_id=station.id or 0,
            applicant_id=other.id or 0,
            now=NOW,
            stations=StationsSettings(),
        )


async def test_burst_of_applications_raises_one_flag(session: AsyncSession) -> None:
    await load_sample(session, NOW)
    city = await make_person(session, telegram_id=50, first_name="市科协")
    assert city.id is not None
    await roles_store.grant_role(
        session=session, person_id=city.id, role="coordinator", region_code=HANGZHOU, now=NOW
    )

    stations = StationsSettings(burst_window_hours=24, burst_threshold=2)
    flagged = []
    for i in range(4):
        person = await make_person(session, telegram_id=100 + i)
        assert person.id is not None
        station = await complete_application(
            session, applicant_id=person.id, name=f"站{i}", now=NOW
        )
        outcome = await review.submit(
            session=session,
            station_id=station.id or 0,
            applicant_id=person.id,
            now=NOW + dt.timedelta(hours=i),
            stations=stations,
        )
        flagged.append(outcome.flag is not None)
        if outcome.flag is not None:
            assert any(n.telegram_id == 50 for n in outcome.notices)
            # the alarm names the county for the reader, not its code
            assert {n.params["county"] for n in outcome.notices} == {"西湖区"}
    assert flagged == [False, False, True, False]  # 3 > 2; one alarm per window
    flag = (await session.execute(select(IntegrityFlag))).scalar_one()
    assert flag.kind == "application_burst" and flag.region_code == XIHU
    assert flag.detail["count"] == 3


async def test_due_rectifications(session: AsyncSession) -> None:
    await load_sample(session, NOW)
    for name, days in [("逾期", -1), ("临近", 2), ("尚早", 10)]:
        await make_station(
            session,
            name=name,
            venue_type="school",
            county=XIHU,
            status="rectifying",
            created_at=NOW,
            rectify_deadline=TODAY + dt.timedelta(days=days),
        )
    due = await review.due_rectifications(session, TODAY, within_days=3)
    assert [(d.name, d.days_left, d.overdue) for d in due] == [
        ("逾期", -1, True),
        ("临近", 2, False),
    ]
