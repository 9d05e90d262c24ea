"""Raising and closing automatic findings through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import ActivitiesSettings, IntegritySettings, load_settings
from bot.i18n import get_translator
from bot.sandbox import photos
from bot.sandbox.factories import (
    make_content,
    make_informant,
    make_person,
    make_region_tree,
    make_share,
    make_station,
)
from bot.services import activities as service
from bot.services import content_use, detection, findings_auto
from bot.services.activities import ActivityInput
from bot.services.finding_text import closed_why, why
from storage.activities import PhotoRef
from storage.models import Activity, ActivityPhoto, IntegrityFlag, RoleGrant, StationEvidence

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)
RULES = ActivitiesSettings()
INTEGRITY = IntegritySettings()
ZH = get_translator("zh_CN")


def data(**over: object) -> ActivityInput:
    values: dict[str, object] = dict(
        type="lecture",
        title="防范电信诈骗",
        held_on=TODAY,
        participants=45,
        photos=(PhotoRef("F1", "U1"),),
    )
    values.update(over)
    return ActivityInput(**values)  # type: ignore[arg-type]


async def setup(session: AsyncSession) -> tuple[int, list[RoleGrant], int]:
    await make_region_tree(session)
    station = await make_station(session)
    person = await make_person(session, telegram_id=1001)
    assert station.id and person.id
    grants = [
        RoleGrant(
            person_id=person.id,
            role="station_admin",
            station_id=station.id,
            scope_key=f"s{station.id}",
        )
    ]
    return station.id, grants, person.id


async def register(session: AsyncSession, sid: int, grants: list[RoleGrant], **over: object):
    return await service.register_activity(
        session=session,
        station_id=sid,
        grants=grants,
        actor_id=None,
        data=data(**over),
        now=NOW,
        today=TODAY,
        rules=RULES,
        integrity=INTEGRITY,
    )


async def update(session: AsyncSession, aid: int, grants: list[RoleGrant], **over: object):
    return await service.update_activity(
        session=session,
        activity_id=aid,
        grants=grants,
        actor_id=None,
        data=data(**over),
        now=NOW,
        today=TODAY,
        rules=RULES,
        integrity=INTEGRITY,
    )


async def findings(session: AsyncSession, kind: str) -> list[IntegrityFlag]:
    rows = await session.execute(
        select(IntegrityFlag).where(IntegrityFlag.kind == kind).order_by(IntegrityFlag.id)
    )
    return list(rows.scalars())


async def test_correcting_participants_closes_the_finding(session: AsyncSession) -> None:
    sid, grants, _ = await setup(session)
    saved = await register(session, sid, grants, participants=600)
    assert saved.new_flags == ("participants_high",)
    [flag] = await findings(session, "participants_high")
    assert "600" in why(ZH, flag) and "500" in why(ZH, flag)
    act = await session.get(Activity, saved.activity_id)
    assert act is not None and act.flagged
    fixed = await update(session, saved.activity_id, grants, participants=60)
    assert fixed.closed_flags == 1
    await session.refresh(flag)
    await session.refresh(act)
    assert (flag.status, flag.decided_by) == ("closed", None)
    assert flag.resolved_at is not None and flag.decision_reason
    assert closed_why(ZH, flag) == "已消除（复核后不再成立）：参与人数已更正为60人。"
    assert not act.flagged
    # Raising it again is a new finding, the closed one stays as it was.
    await update(session, saved.activity_id, grants, participants=700)
    assert [f.status for f in await findings(session, "participants_high")] == ["closed", "open"]


async def test_decided_findings_are_not_touched(session: AsyncSession) -> None:
    sid, grants, _ = await setup(session)
    saved = await register(session, sid, grants, participants=600)
    [flag] = await findings(session, "participants_high")
    flag.status = "confirmed"
    await session.flush()
    await update(session, saved.activity_id, grants, participants=60)
    await session.refresh(flag)
    assert flag.status == "confirmed"


async def test_duplicate_activity_raised_and_closed_by_deleting_the_copy(
    session: AsyncSession,
) -> None:
    sid, grants, _ = await setup(session)
    first = await register(session, sid, grants)
    copy = await register(
        session, sid, grants, title="防范 电信诈骗！", photos=(PhotoRef("F2", "U2"),)
    )
    third = await register(session, sid, grants, photos=(PhotoRef("F3", "U3"),))
    # Two honest lectures on one day: another title, or another type, is no copy.
    other = await register(session, sid, grants, title="垃圾分类", photos=(PhotoRef("F4", "U4"),))
    assert "duplicate_activity" in copy.new_flags and "duplicate_activity" in third.new_flags
    assert "duplicate_activity" not in other.new_flags
    dups = await findings(session, "duplicate_activity")
    assert [(f.subject_id, f.detail["other_id"]) for f in dups] == [
        (copy.activity_id, first.activity_id),
        (third.activity_id, first.activity_id),
    ]
    assert f"第{first.activity_id}号活动" in why(ZH, dups[0])
    await service.delete_activity(
        session=session,
        activity_id=copy.activity_id,
        grants=grants,
        actor_id=None,
        now=NOW,
        rules=RULES,
    )
    dups = await findings(session, "duplicate_activity")
    assert [f.status for f in dups] == ["closed", "open"]
    # Retitling the third makes it no copy either.
    await update(
        session,
        third.activity_id,
        grants,
        title="防范电信诈骗（第二场）",
        photos=(PhotoRef("F3", "U3"),),
    )
    assert [f.status for f in await findings(session, "duplicate_activity")] == ["closed"] * 2


async def test_commercial_answer_and_wording(session: AsyncSession) -> None:
    sid, grants, _ = await setup(session)
    sale = await register(session, sid, grants, title="老年人保健品体验讲座")
    assert sale.new_flags == ("commercial",)
    [flag] = await findings(session, "commercial")
    assert "保健品" in why(ZH, flag) and "第十二条" in why(ZH, flag)
    warned = await register(
        session, sid, grants, title="防范保健品诈骗", photos=(PhotoRef("F2", "U2"),)
    )
    assert warned.new_flags == ()
    asked = await register(
        session, sid, grants, title="健康讲座", commercial=True, photos=(PhotoRef("F3", "U3"),)
    )
    assert asked.new_flags == ("commercial",)
    await update(session, sale.activity_id, grants, title="健康生活讲座", commercial=False)
    statuses = [f.status for f in await findings(session, "commercial")]
    assert statuses == ["closed", "open"]


async def test_replacing_a_reused_photo_closes_the_finding(session: AsyncSession) -> None:
    sid, grants, _ = await setup(session)
    session.add(StationEvidence(station_id=sid, have="venue", file_id="E", file_unique_id="EV"))
    await session.flush()
    saved = await register(session, sid, grants, photos=(PhotoRef("F1", "EV"),))
    assert saved.new_flags == ("photo_reuse",)
    await update(session, saved.activity_id, grants, photos=(PhotoRef("F2", "NEW"),))
    [flag] = await findings(session, "photo_reuse")
    assert flag.status == "closed" and flag.detail["closed_why"] == "photo_replaced"


async def test_near_duplicate_photo_by_hash(session: AsyncSession) -> None:
    sid, grants, _ = await setup(session)
    original = photos.jpeg(photos.photo(1))
    first = await register(session, sid, grants, photos=(PhotoRef("F1", "U1"),))
    copy = await register(session, sid, grants, title="垃圾分类", photos=(PhotoRef("F2", "U2"),))
    reshot = await register(session, sid, grants, title="科普展", photos=(PhotoRef("F3", "U3"),))
    rows = {p.activity_id: p.id for p in (await session.execute(select(ActivityPhoto))).scalars()}
    hashes = {
        rows[first.activity_id]: detection.photo_hash(original) or "",
        rows[copy.activity_id]: detection.photo_hash(photos.resized(original)) or "",
        rows[reshot.activity_id]: detection.photo_hash(photos.jpeg(photos.reshot(1, 0))) or "",
    }
    result = await findings_auto.record_photo_hashes(
        session=session, table="activity_photo", hashes=hashes, integrity=INTEGRITY, now=NOW
    )
    assert result.raised == ["photo_reuse"]
    [flag] = await findings(session, "photo_reuse")
    assert (flag.subject_id, flag.detail["other_id"], flag.detail["match"]) == (
        copy.activity_id,
        first.activity_id,
        "phash",
    )
    assert "几乎相同" in why(ZH, flag)
    # Editing keeps the stored hash of a photo that stays (no second finding, still open).
    await update(
        session, copy.activity_id, grants, title="垃圾分类", photos=(PhotoRef("F2", "U2"),)
    )
    assert [f.status for f in await findings(session, "photo_reuse")] == ["open"]


async def test_the_same_file_is_one_finding_on_the_later_copy(session: AsyncSession) -> None:
    # The demo's album: the lecture's photo sent again with an exhibition.  Saving the
    # exhibition raises the finding; hashing both photos later must not raise it again the
    # other way round (on the lecture, about the exhibition).
    sid, grants, _ = await setup(session)
    data = photos.jpeg(photos.photo(2))
    lecture = await register(session, sid, grants, photos=(PhotoRef("F1", "SAME"),))
    exhibition = await register(
        session, sid, grants, title="垃圾分类展", photos=(PhotoRef("F1", "SAME"),)
    )
    assert exhibition.new_flags == ("photo_reuse",)
    rows = [p.id for p in (await session.execute(select(ActivityPhoto))).scalars()]
    await findings_auto.record_photo_hashes(
        session=session,
        table="activity_photo",
        hashes={row: detection.photo_hash(data) or "" for row in rows if row is not None},
        integrity=INTEGRITY,
        now=NOW,
    )
    [flag] = await findings(session, "photo_reuse")
    assert (flag.subject_id, flag.detail["other_id"]) == (
        exhibition.activity_id,
        lecture.activity_id,
    )


async def test_duplicate_content_use(session: AsyncSession) -> None:
    sid, grants, _ = await setup(session)
    item = await make_content(session)
    assert item.id is not None

    async def use(audience: int) -> None:
        await content_use.record_use(
            session=session,
            station_id=sid,
            grants=grants,
            actor_id=None,
            content_id=item.id or 0,
            use_kind="played",
            place=None,
            audience=audience,
            today=TODAY,
            now=NOW,
        )

    await use(30)
    await use(45)  # a second showing with another audience is honest
    assert await findings(session, "duplicate_use") == []
    for _ in range(3):
        await use(30)
    dups = await findings(session, "duplicate_use")
    assert len(dups) == 3 and {f.detail["audience"] for f in dups} == {30}


async def test_sweep_is_idempotent_and_closes(session: AsyncSession) -> None:
    settings = load_settings(None, evaluation={"reported_reach_alert": 100})
    await make_region_tree(session)
    busy = await make_station(session)
    empty = await make_station(session, name="空站", county="330106")
    assert busy.id and empty.id
    item = await make_content(session)
    person = await make_person(session, telegram_id=2001)
    inf = await make_informant(session, station_id=busy.id, person=person)
    await make_share(
        session,
        informant_id=inf.id,
        station_id=busy.id,
        content_id=item.id,
        channel="wechat_group",
        audience=400,
        day=TODAY,
    )
    first = await findings_auto.sweep(session=session, settings=settings, today=TODAY, now=NOW)
    assert first.raised.get("unverified_reach") == 1
    assert first.raised.get("paper_station", 0) >= 1
    again = await findings_auto.sweep(session=session, settings=settings, today=TODAY, now=NOW)
    assert again.raised == {} and again.closed == 0
    [paper] = [f for f in await findings(session, "paper_station") if f.subject_id == empty.id]
    assert "没有信息员" in why(ZH, paper)
    # The empty station gets an informant and an activity: the paper finding closes.
    other = await make_person(session, telegram_id=2002)
    await make_informant(session, station_id=empty.id, person=other)
    session.add(
        Activity(
            station_id=empty.id,
            type="lecture",
            title="讲座",
            held_on=TODAY,
            participants=20,
            created_at=NOW,
        )
    )
    await session.flush()
    later = await findings_auto.sweep(session=session, settings=settings, today=TODAY, now=NOW)
    await session.refresh(paper)
    assert paper.status == "closed" and later.closed >= 1


async def test_replacing_the_evidence_closes_the_finding(session: AsyncSession) -> None:
    sid, grants, _ = await setup(session)
    evidence = StationEvidence(station_id=sid, have="venue", file_id="E", file_unique_id="EV")
    session.add(evidence)
    await session.flush()
    saved = await register(session, sid, grants, photos=(PhotoRef("F1", "EV"),))
    assert saved.new_flags == ("photo_reuse",)
    await session.delete(evidence)
    await session.flush()
    result = await findings_auto.evidence_replaced(session=session, now=NOW)
    [flag] = await findings(session, "photo_reuse")
    assert result.closed == [flag.id] and flag.detail["closed_why"] == "evidence_replaced"
    act = await session.get(Activity, saved.activity_id)
    assert act is not None
    await session.refresh(act)
    assert not act.flagged
