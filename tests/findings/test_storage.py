"""storage.findings on SQLite and PostgreSQL: paging by region, close for the re-checks,
and Activity.flagged following the findings' status."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import make_activity, make_flag, make_region, make_station
from storage import findings as store
from storage.models import Activity, AuditLog

NOW = dt.datetime(2026, 11, 30, 2, tzinfo=dt.UTC)


async def _world(session: AsyncSession) -> tuple[int, int, int, int]:
    await make_region(session, code="330000", name="浙江省", level="province")
    await make_region(session, code="330100", name="杭州市", level="city", parent_code="330000")
    await make_region(session, code="330106", name="西湖区", parent_code="330100")
    await make_region(session, code="330200", name="宁波市", level="city", parent_code="330000")
    await make_region(session, code="330203", name="海曙区", parent_code="330200")
    xihu = await make_station(session, name="西湖站", county="330106")
    haishu = await make_station(session, name="海曙站", county="330203")
    assert xihu.id is not None and haishu.id is not None
    activity = await make_activity(session, station_id=xihu.id, flagged=True)
    assert activity.id is not None
    two = []
    for kind in ("photo_reuse", "participants_high"):
        flag = await make_flag(
            session,
            kind=kind,
            station_id=xihu.id,
            region_code="330106",
            subject_type="activity",
            subject_id=activity.id,
        )
        assert flag.id is not None
        two.append(flag.id)
    await make_flag(session, kind="photo_reuse", station_id=haishu.id, region_code="330203")
    return xihu.id, activity.id, two[0], two[1]


async def test_pages_and_counts_by_region(session: AsyncSession) -> None:
    xihu, _activity, first, second = await _world(session)
    rows, total = await store.open_findings(session=session, prefixes=["3301"], limit=1)
    assert total == 2 and [f.id for f, _s in rows] == [first]
    rows, _ = await store.open_findings(session=session, prefixes=["3301"], offset=1, limit=1)
    assert [f.id for f, s in rows] == [second] and rows[0][1] is not None
    assert await store.count_open(session=session, prefixes=None) == 3
    assert await store.count_open(session=session, prefixes=[]) == 0
    found = await store.findings_of_stations(session=session, station_ids=[xihu])
    assert [f.id for f in found[xihu]] == [first, second]


async def test_activity_counts_again_once_no_finding_holds(session: AsyncSession) -> None:
    _xihu, activity_id, first, second = await _world(session)
    got = await store.get_finding(session=session, finding_id=first)
    assert got is not None
    await store.decide(
        session=session,
        finding=got[0],
        status="dismissed",
        decided_by=None,
        reason="同一块展板重拍",
        now=NOW,
    )
    activity = await session.get(Activity, activity_id)
    assert activity is not None
    await session.refresh(activity)
    assert activity.flagged  # the participants finding still holds it
    closed = await store.close(
        session=session, flag_ids=[first, second], reason="人数已更正", now=NOW
    )
    assert closed == [second]  # the dismissed one keeps its decision
    await session.refresh(activity)
    assert not activity.flagged
    assert await store.close(session=session, flag_ids=[second], reason="again", now=NOW) == []
    audits = (
        (await session.execute(select(AuditLog).where(AuditLog.action == "finding.close")))
        .scalars()
        .all()
    )
    assert [(a.subject_id, a.reason, a.actor_id) for a in audits] == [(second, "人数已更正", None)]
    flag = await store.get_finding(session=session, finding_id=second)
    assert flag is not None and flag[0].status == "closed" and flag[0].resolved_at is not None
