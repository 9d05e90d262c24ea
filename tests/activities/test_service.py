"""Services and storage of activities and content use, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import ActivitiesSettings
from bot.sandbox.factories import make_content, make_person, make_region_tree, make_station
from bot.services import activities as service
from bot.services import content_use
from bot.services.activities import ActivityError, ActivityInput
from bot.services.content_use import ContentUseError
from storage import activities as store
from storage import audit
from storage.activities import PhotoRef
from storage.models import RoleGrant, StationEvidence

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)
RULES = ActivitiesSettings()


def grant(station_id: int, person_id: int = 1) -> RoleGrant:
    return RoleGrant(
        person_id=person_id,
        role="station_admin",
        station_id=station_id,
        scope_key=f"s{station_id}",
    )


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


async def setup(session: AsyncSession) -> tuple[int, int, int]:
    await make_region_tree(session)
    a = await make_station(session)
    b = await make_station(session, name="海曙科普站", county="330203")
    person = await make_person(session, telegram_id=1001)
    assert a.id and b.id and person.id
    return a.id, b.id, person.id


async def test_register_and_flags(session: AsyncSession) -> None:
    a, b, person = await setup(session)
    saved = await service.register_activity(
        session=session,
        station_id=a,
        grants=[grant(a)],
        actor_id=person,
        data=data(),
        now=NOW,
        today=TODAY,
        rules=RULES,
    )
    assert saved.new_flags == ()
    big = await service.register_activity(
        session=session,
        station_id=b,
        grants=[grant(b)],
        actor_id=person,
        data=data(participants=501, photos=(PhotoRef("F2", "U1"), PhotoRef("F3", "U3"))),
        now=NOW,
        today=TODAY,
        rules=RULES,
    )
    assert set(big.new_flags) == {"participants_high", "photo_reuse"}
    reuse = await store.flags_of(
        session=session, subject_type="activity", subject_id=big.activity_id, kind="photo_reuse"
    )
    assert [f.detail["other_id"] for f in reuse] == [saved.activity_id]
    assert reuse[0].region_code == "330203" and reuse[0].station_id == b
    # Station evidence counts too.
    session.add(StationEvidence(station_id=a, have="venue", file_id="E", file_unique_id="U9"))
    await session.flush()
    third = await service.register_activity(
        session=session,
        station_id=a,
        grants=[grant(a)],
        actor_id=person,
        data=data(title="垃圾分类", photos=(PhotoRef("F9", "U9"),)),
        now=NOW,
        today=TODAY,
        rules=RULES,
    )
    [flag] = await store.flags_of(
        session=session, subject_type="activity", subject_id=third.activity_id
    )
    assert flag.detail["other_type"] == "station_evidence"


async def test_refusals(session: AsyncSession) -> None:
    a, b, person = await setup(session)
    kwargs = dict(
        session=session, station_id=a, actor_id=person, now=NOW, today=TODAY, rules=RULES
    )
    with pytest.raises(ActivityError) as exc:
        await service.register_activity(grants=[grant(b)], data=data(), **kwargs)  # type: ignore[arg-type]
    assert exc.value.code == "not_station_admin"
    cases = [
        (data(held_on=TODAY + dt.timedelta(days=1)), "date_in_future"),
        (data(held_on=TODAY - dt.timedelta(days=31)), "date_too_old"),
        (data(participants=0), "participants_zero"),
        (data(photos=()), "photos_missing"),
        (data(type="party"), "type_unknown"),
        (data(title="  "), "title_empty"),
    ]
    for bad, code in cases:
        with pytest.raises(ActivityError) as exc:
            await service.register_activity(grants=[grant(a)], data=bad, **kwargs)  # type: ignore[arg-type]
        assert exc.value.code == code
    # Exactly 30 days back is still fine; a custom bound is honoured.
    await service.register_activity(
        grants=[grant(a)], data=data(held_on=TODAY - dt.timedelta(days=30)), **kwargs
    )  # type: ignore[arg-type]
    saved = await service.register_activity(
        grants=[grant(a)],
        data=data(participants=101, photos=(PhotoRef("F7", "U7"),)),
        **{**kwargs, "rules": ActivitiesSettings(participants_flag_above=100)},
    )  # type: ignore[arg-type]
    assert saved.new_flags == ("participants_high",)


async def test_edit_window_and_audit(session: AsyncSession) -> None:
    a, _b, person = await setup(session)
    saved = await service.register_activity(
        session=session,
        station_id=a,
        grants=[grant(a)],
        actor_id=person,
        data=data(),
        now=NOW,
        today=TODAY,
        rules=RULES,
    )
    later = NOW + dt.timedelta(days=6)
    await service.update_activity(
        session=session,
        activity_id=saved.activity_id,
        grants=[grant(a)],
        actor_id=person,
        data=data(title="新标题", participants=46),
        now=later,
        today=TODAY + dt.timedelta(days=6),
        rules=RULES,
    )
    [entry] = await audit.entries(session=session, action="activity.edit")
    assert entry.detail["changes"]["title"] == ["防范电信诈骗", "新标题"]
    with pytest.raises(ActivityError) as exc:
        await service.delete_activity(
            session=session,
            activity_id=saved.activity_id,
            grants=[grant(a)],
            actor_id=person,
            now=NOW + dt.timedelta(days=7, seconds=1),
            rules=RULES,
        )
    assert exc.value.code == "edit_window_over"
    await service.delete_activity(
        session=session,
        activity_id=saved.activity_id,
        grants=[grant(a)],
        actor_id=person,
        now=later,
        rules=RULES,
    )
    page = await service.station_page(session=session, station_id=a, page=0)
    assert page.total == 0 and page.pages == 1


async def test_draft_from_text_and_field_parsers() -> None:
    draft = service.draft_from_text(
        "#活动 3月12日 讲座 防范电信诈骗 45人", today=TODAY, rules=RULES
    )
    assert draft.problems[0].code == "date_too_old"  # 2026-03-12 is long ago
    assert draft.ask == ["when", "photos"]
    draft = service.draft_from_text(
        "#活动 今天 讲座 防范电信诈骗 四十五人", today=TODAY, rules=RULES
    )
    assert draft.fields == {
        "type": "lecture",
        "title": "防范电信诈骗",
        "held_on": "2026-11-23",
        "participants": 45,
        "participants_approx": False,
    }
    assert draft.ask == ["photos"] and not draft.problems
    assert service.parse_participants("一百二十人") == 120
    assert service.parse_when("11/12 下午3点", today=TODAY, rules=RULES) == (
        dt.date(2026, 11, 12),
        dt.time(15, 0),
    )
    for bad in ("很多", ""):
        with pytest.raises(ActivityError):
            service.parse_participants(bad)
    with pytest.raises(ActivityError):
        service.parse_when("下周", today=TODAY, rules=RULES)
    with pytest.raises(ActivityError) as caught:
        service.parse_when("2月30日", today=TODAY, rules=RULES)
    assert caught.value.code == "date_impossible" and caught.value.params["written"] == "2月30日"
    with pytest.raises(ActivityError) as caught:
        service.parse_participants("-45人")
    assert caught.value.code == "participants_negative"
    for wordless in ("👍", "……", "🎉🎉 ！"):
        with pytest.raises(ActivityError) as caught:
            service.check_title(wordless)
        assert caught.value.code == "title_no_words"


async def test_content_use(session: AsyncSession) -> None:
    a, b, person = await setup(session)
    item = await make_content(
        session, guid="g", title="科学健身 100%_攻略", kind="video", url="https://example.org"
    )
    assert item.id is not None
    found = await content_use.find_items(session=session, now=NOW, query="100%_")
    assert [i.id for i in found] == [item.id]
    assert await content_use.find_items(session=session, now=NOW, query="100%x") == []
    use = await content_use.record_use(
        session=session,
        station_id=a,
        grants=[grant(a)],
        actor_id=person,
        content_id=item.id,
        use_kind="played",
        place="大厅",
        audience=80,
        today=TODAY,
        now=NOW,
    )
    assert use.id is not None
    assert [u.id for u in await store.content_uses(session=session, station_id=a)] == [use.id]
    with pytest.raises(ContentUseError):
        await content_use.record_use(
            session=session,
            station_id=b,
            grants=[grant(a)],
            actor_id=person,
            content_id=item.id,
            use_kind="played",
            place=None,
            audience=1,
            today=TODAY,
            now=NOW,
        )
    assert content_use.parse_audience("约八十人") == 80


async def test_export_rows(session: AsyncSession) -> None:
    a, b, person = await setup(session)
    pending = await make_station(session, name="未认定站", status="submitted")
    for station in (a, b, pending.id):
        assert station is not None
        await service.register_activity(
            session=session,
            station_id=station,
            grants=[grant(station)],
            actor_id=person,
            data=data(participants=900, photos=(PhotoRef(f"F{station}", f"U{station}"),)),
            now=NOW,
            today=TODAY,
            rules=RULES,
        )
    rows = await store.export_rows(
        session=session, region_prefix="3301", date_from=TODAY, date_to=TODAY
    )
    assert [(r.station_name, r.county_name, r.photo_count, r.flag_kinds) for r in rows] == [
        ("西湖区文化站", "西湖区", 1, ("participants_high",))
    ]
    assert (
        len(
            await store.export_rows(
                session=session, region_prefix="33", date_from=TODAY, date_to=TODAY
            )
        )
        == 2
    )
    assert (
        await store.export_rows(
            session=session,
            region_prefix="33",
            date_from=TODAY - dt.timedelta(days=9),
            date_to=TODAY - dt.timedelta(days=1),
        )
        == []
    )
