"""The desk's people page: roles in one's area, grant and withdraw below one's level."""

from __future__ import annotations

from sqlalchemy import select

from bot.sandbox.factories import make_informant, make_region_tree, make_station
from storage.models import AuditLog, OutboxMessage, Person, RoleGrant
from tests.desk.conftest import DeskClient

CITY, COUNTY, OTHER_CITY, STATION_ADMIN, NEWBIE = 811, 812, 813, 814, 815


async def _world(desk: DeskClient) -> dict[str, int]:
    async with desk.runtime.sessions() as s, s.begin():
        await make_region_tree(s)
        west = await make_station(s, name="西湖区文化站")
        ningbo = await make_station(s, name="海曙科普站", county="330203")
        assert west.id is not None and ningbo.id is not None
        await desk.person(s, CITY, role="coordinator", region_code="330100", first_name="杭州")
        await desk.person(s, COUNTY, role="coordinator", region_code="330106", first_name="西湖")
        await desk.person(s, OTHER_CITY, role="coordinator", region_code="330200")
        await desk.person(s, STATION_ADMIN, role="station_admin", station_id=west.id)
        newbie = await desk.person(s, NEWBIE, first_name="小新")
        await make_informant(
            s, station_id=west.id, person=newbie, real_name="新信息员", phone="+8613800000009"
        )
        return {"west": west.id, "ningbo": ningbo.id, "newbie": newbie.id or 0}


async def _grants(desk: DeskClient, telegram_id: int) -> list[tuple[str, str | None, int | None]]:
    async with desk.runtime.sessions() as s:
        rows = await s.execute(
            select(RoleGrant.role, RoleGrant.region_code, RoleGrant.station_id)
            .join(Person, Person.id == RoleGrant.person_id)
            .where(Person.telegram_id == telegram_id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def test_city_lists_its_area_and_appoints_a_county_coordinator(desk: DeskClient) -> None:
    await _world(desk)
    page = await desk.get("people", user=CITY)
    assert page.status == 200
    assert "西湖" in page.text and "西湖区文化站" in page.text
    assert "330200" not in page.text  # Ningbo's coordinator is outside Hangzhou
    assert "县级科协" in page.text and "市级科协" not in page.text.split("授予角色")[1]
    done = await desk.post(
        "people/grant", {"kind": "county", "region": "330108", "who": str(NEWBIE)}, user=CITY
    )
    assert done.status == 200 and "小新" in done.text
    assert await _grants(desk, NEWBIE) == [("coordinator", "330108", None)]
    async with desk.runtime.sessions() as s:
        # The notice (a grant also queues the desk's menu button, kind desk_menu).
        notice = (
            await s.execute(
                select(OutboxMessage).where(
                    OutboxMessage.chat_id == NEWBIE, OutboxMessage.kind == "message"
                )
            )
        ).scalar_one()
        audit = (
            await s.execute(select(AuditLog).where(AuditLog.action == "role.grant"))
        ).scalar_one()
    assert "县级科协" in notice.payload["text"] and "滨江区" in notice.payload["text"]
    assert audit.detail["via"] == "desk" and audit.allowed


async def test_granting_above_oneself_or_outside_is_403_and_audited(desk: DeskClient) -> None:
    ids = await _world(desk)
    for user, form in (
        (COUNTY, {"kind": "city", "region": "330100", "who": str(NEWBIE)}),  # above
        (COUNTY, {"kind": "county", "region": "330106", "who": str(NEWBIE)}),  # same level
        (CITY, {"kind": "county", "region": "330203", "who": str(NEWBIE)}),  # other city
        (CITY, {"kind": "station", "station": str(ids["ningbo"]), "who": str(NEWBIE)}),
        (STATION_ADMIN, {"kind": "station", "station": str(ids["ningbo"]), "who": "1"}),
    ):
        refused = await desk.post("people/grant", form, user=user)
        assert refused.status == 403, (user, form, refused.text)
    assert await _grants(desk, NEWBIE) == []
    async with desk.runtime.sessions() as s:
        reasons = (
            (
                await s.execute(
                    select(AuditLog.reason).where(
                        AuditLog.action == "role.grant", AuditLog.allowed.is_(False)
                    )
                )
            )
            .scalars()
            .all()
        )
    assert sorted(reasons) == sorted(
        # The city is outside the county (and above it); the county itself is its level.
        ["above_you", "outside_region", "outside_region", "outside_region", "outside_region"]
    )


async def test_station_admin_picks_an_informant_as_co_admin(desk: DeskClient) -> None:
    ids = await _world(desk)
    page = await desk.get("people", user=STATION_ADMIN)
    assert page.status == 200 and "新信息员" in page.text
    done = await desk.post(
        "people/grant",
        {"kind": "station", "station": str(ids["west"]), "person": str(ids["newbie"])},
        user=STATION_ADMIN,
    )
    assert done.status == 200
    assert await _grants(desk, NEWBIE) == [("station_admin", None, ids["west"])]


async def test_withdraw_below_but_not_ones_own_role(desk: DeskClient) -> None:
    await _world(desk)
    async with desk.runtime.sessions() as s:
        county_grant = (
            await s.execute(select(RoleGrant.id).where(RoleGrant.region_code == "330106"))
        ).scalar_one()
        city_grant = (
            await s.execute(select(RoleGrant.id).where(RoleGrant.region_code == "330100"))
        ).scalar_one()
    own = await desk.post("people/revoke", {"grant": str(city_grant)}, user=CITY)
    assert own.status == 403
    upward = await desk.post("people/revoke", {"grant": str(city_grant)}, user=COUNTY)
    assert upward.status == 403
    done = await desk.post("people/revoke", {"grant": str(county_grant)}, user=CITY)
    assert done.status == 200 and "西湖" in done.text
    assert await _grants(desk, COUNTY) == []
    gone = await desk.post("people/revoke", {"grant": str(county_grant)}, user=CITY)
    assert gone.status == 400  # already withdrawn: said so, nothing else
    async with desk.runtime.sessions() as s:
        told = (
            await s.execute(
                select(OutboxMessage).where(
                    OutboxMessage.chat_id == COUNTY, OutboxMessage.kind == "message"
                )
            )
        ).scalar_one()
        refused = (
            (
                await s.execute(
                    select(AuditLog.reason).where(
                        AuditLog.action == "role.revoke", AuditLog.allowed.is_(False)
                    )
                )
            )
            .scalars()
            .all()
        )
    assert "收回" in told.payload["text"]
    assert sorted(refused) == ["outside_region", "own_role", "unknown_grant"]


async def test_bad_input_is_answered_and_forged_initdata_refused(desk: DeskClient) -> None:
    await _world(desk)
    for form, words in (
        ({"kind": "boss", "who": "1"}, "请选择角色"),
        ({"kind": "county", "region": "", "who": "1"}, "请选择地区"),
        ({"kind": "county", "region": "330106", "who": "hello world"}, "只发数字"),
        ({"kind": "county", "region": "330106", "who": "@nobody_here"}, "不认识"),
    ):
        bad = await desk.post("people/grant", form, user=CITY)
        assert bad.status == 400 and words in bad.text, (form, bad.text)
    forged = await desk.post(
        "people/grant",
        {"kind": "county", "region": "330106", "who": "1"},
        init_data=desk.sign(CITY, token="999:OTHER"),
    )
    assert forged.status == 401
    assert await _grants(desk, 1) == []


async def test_pages_in_english_for_an_administrator(desk: DeskClient) -> None:
    await _world(desk)
    async with desk.runtime.sessions() as s, s.begin():
        await desk.person(s, 816, role="admin", language="en")
    people = await desk.get("people", user=816)
    assert people.status == 200
    assert "Give a role" in people.text and "city coordinator" in people.text
    assert "海曙科普站" in people.text  # an administrator sees every station
    exports = await desk.get("exports", user=816, params={"preset": "this_week"})
    assert exports.status == 200 and "Informant roster" in exports.text
    assert 'value="2026-11-23"' in exports.text and 'value="2026-11-29"' in exports.text
