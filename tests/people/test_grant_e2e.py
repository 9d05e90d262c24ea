"""/grant and /revoke end to end through the sandbox: delegation below one's level only."""

from __future__ import annotations

from sqlalchemy import select

from bot.sandbox.factories import make_region_tree, make_station
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimUser
from bot.services import roles as role_service
from storage.models import AuditLog, OutboxMessage, Person, RoleGrant
from tests.informants.helpers import last


async def _setup(bot_env: RunningBot) -> int:
    async with bot_env.runtime.sessions() as s, s.begin():
        await make_region_tree(s)
        station = await make_station(s, name="西湖区文化站")
        await make_station(s, name="海曙科普站", county="330203")
        assert station.id is not None
        return station.id


async def _grant(bot_env: RunningBot, user: SimUser, role: str, **scope: object) -> None:
    async with bot_env.runtime.sessions() as s, s.begin():
        await role_service.grant(
            session=s,
            telegram_id=user.id,
            role=role,
            now=bot_env.runtime.now(),
            **scope,  # type: ignore[arg-type]
        )


async def _grants_of(
    bot_env: RunningBot, user: SimUser
) -> list[tuple[str, str | None, int | None]]:
    async with bot_env.runtime.sessions() as s:
        rows = await s.execute(
            select(RoleGrant.role, RoleGrant.region_code, RoleGrant.station_id)
            .join(Person, Person.id == RoleGrant.person_id)
            .where(Person.telegram_id == user.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


def _texts(msg: object) -> list[str]:
    return [b.text for row in msg.buttons for b in row]  # type: ignore[attr-defined]


async def test_city_coordinator_appoints_a_county_coordinator_who_is_told(
    bot_env: RunningBot,
) -> None:
    await _setup(bot_env)
    city = bot_env.sandbox.user("杭州市科协", language_code="zh-hans")
    county = bot_env.sandbox.user("小王", language_code="zh-hans")
    await county.send("你好")  # the bot knows them
    await bot_env.settle()
    await _grant(bot_env, city, "coordinator", region_code="330100")

    await city.command("grant")
    pick = await last(city, bot_env)
    # A city coordinator can give county coordinators and station admins, never a city one.
    assert _texts(pick) == ["县级科协", "站点管理员（协管）"]
    await city.press(pick, "县级科协")
    regions = await last(city, bot_env)
    assert _texts(regions) == ["西湖区", "滨江区"]  # only counties of Hangzhou
    await city.press(regions, "西湖区")
    who = await last(city, bot_env)
    assert "Telegram" in (who.text or "")
    await city.send("abc!")  # bad input: re-asked, nothing lost
    assert "只发数字" in ((await last(city, bot_env)).text or "")
    await city.send(str(county.id))
    confirm = await last(city, bot_env)
    assert "小王" in (confirm.text or "") and "西湖区" in (confirm.text or "")
    await city.press(confirm, "✅ 授予")
    done = await last(city, bot_env)
    assert "小王" in (done.text or "") and "县级科协" in (done.text or "")
    assert await _grants_of(bot_env, county) == [("coordinator", "330106", None)]
    # The grantee is told through the outbox after the commit.
    told = await last(county, bot_env)
    assert "县级科协" in (told.text or "") and "西湖区" in (told.text or "")
    async with bot_env.runtime.sessions() as s:
        audit = (
            await s.execute(select(AuditLog).where(AuditLog.action == "role.grant"))
        ).scalars()
        via = [a.detail.get("via") for a in audit]
    assert "bot" in via

    # /revoke lists it; the city withdraws it and the county coordinator is told.
    await city.command("revoke")
    listing = await last(city, bot_env)
    assert any("小王" in text and "西湖区" in text for text in _texts(listing))
    await city.press(listing, index=(0, 0))
    sure = await last(city, bot_env)
    await city.press(sure, "确认收回")
    assert "已收回" in ((await last(city, bot_env)).text or "")
    assert await _grants_of(bot_env, county) == []
    assert "收回" in ((await last(county, bot_env)).text or "")


async def test_granting_above_oneself_or_outside_is_refused_and_audited(
    bot_env: RunningBot,
) -> None:
    await _setup(bot_env)
    county = bot_env.sandbox.user("西湖区科协", language_code="en")
    await _grant(bot_env, county, "coordinator", region_code="330106")
    # A county coordinator has no coordinator level below: only station co-admins.
    await county.command("grant")
    pick = await last(county, bot_env)
    assert _texts(pick) == ["station co-admin"]
    # A forged button for a city coordinator is not accepted.
    await county.press(pick, data="GRT:k:city")
    assert (await last(county, bot_env)).text == pick.text  # nothing new was asked
    async with bot_env.runtime.sessions() as s:
        forged = (
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
    assert forged == ["above_you"]
    async with bot_env.runtime.sessions() as s:
        station_ids = (await s.execute(select(RoleGrant.station_id))).scalars().all()
    assert station_ids == [None]
    # Straight through the service (as a forged desk form would): refused and audited.
    async with bot_env.runtime.sessions() as s, s.begin():
        person = (
            await s.execute(select(Person).where(Person.telegram_id == county.id))
        ).scalar_one()
        grants = tuple((await s.execute(select(RoleGrant))).scalars().all())
        actor = role_service.Actor(person.id, grants)
        for request, reason in (
            (role_service.Delegation("coordinator", "330100"), "outside_region"),
            (role_service.Delegation("coordinator", "330106"), "above_you"),
            (role_service.Delegation("curator"), "not_delegable"),
        ):
            try:
                await role_service.grant_as(
                    session=s,
                    actor=actor,
                    telegram_id=999,
                    request=request,
                    now=bot_env.runtime.now(),
                    via="bot",
                )
            except role_service.RoleError as exc:
                assert exc.code == reason
            else:  # pragma: no cover - the assertion names the failure
                raise AssertionError(f"{request} was granted")
    async with bot_env.runtime.sessions() as s:
        refused = (
            await s.execute(
                select(AuditLog.reason).where(
                    AuditLog.action == "role.grant", AuditLog.allowed.is_(False)
                )
            )
        ).scalars()
        assert set(refused) >= {"outside_region", "above_you", "not_delegable"}


async def test_station_admin_makes_a_co_admin_and_cancel_leaves(bot_env: RunningBot) -> None:
    station_id = await _setup(bot_env)
    admin = bot_env.sandbox.user("站点管理员", language_code="zh-hans")
    helper = bot_env.sandbox.user("小李", username="xiaoli_2026", language_code="zh-hans")
    await helper.send("你好")
    await bot_env.settle()
    await _grant(bot_env, admin, "station_admin", station_id=station_id)

    # /cancel in the middle leaves the flow and grants nothing.
    await admin.command("grant")
    await admin.press(await last(admin, bot_env), "站点管理员（协管）")
    await last(admin, bot_env)
    await admin.command("cancel")
    assert "没有授予" in ((await last(admin, bot_env)).text or "")
    await admin.send("@xiaoli_2026")  # no longer an answer to anything
    await bot_env.settle()
    assert await _grants_of(bot_env, helper) == []

    # Their only station is chosen for them; an unknown @username is re-asked.
    await admin.command("grant")
    await admin.press(await last(admin, bot_env), "站点管理员（协管）")
    await last(admin, bot_env)
    await admin.send("@nobody_here")
    assert "不认识" in ((await last(admin, bot_env)).text or "")
    await admin.send("@xiaoli_2026")
    confirm = await last(admin, bot_env)
    assert "西湖区文化站" in (confirm.text or "")
    await admin.press(confirm, "✅ 授予")
    await bot_env.settle()
    assert await _grants_of(bot_env, helper) == [("station_admin", None, station_id)]
    # A station admin cannot withdraw their own role, only the co-admin's.
    await admin.command("revoke")
    listing = await last(admin, bot_env)
    assert len(_texts(listing)) == 1 and "小李" in _texts(listing)[0]


async def test_people_without_a_role_are_refused(bot_env: RunningBot) -> None:
    await _setup(bot_env)
    user = bot_env.sandbox.user("路人", language_code="en")
    await user.command("grant")
    assert "not allowed" in ((await last(user, bot_env)).text or "")
    await user.command("revoke")
    assert "not allowed" in ((await last(user, bot_env)).text or "")
    async with bot_env.runtime.sessions() as s:
        reasons = (
            await s.execute(
                select(AuditLog.action).where(
                    AuditLog.allowed.is_(False), AuditLog.reason == "missing_role"
                )
            )
        ).scalars()
        assert set(reasons) >= {"command.grant", "command.revoke"}
        notices = (await s.execute(select(OutboxMessage.kind))).scalars().all()
    assert "message" not in notices


async def test_co_admin_by_contact_card(bot_env: RunningBot) -> None:
    station_id = await _setup(bot_env)
    admin = bot_env.sandbox.user("站点管理员", language_code="zh-hans")
    await _grant(bot_env, admin, "station_admin", station_id=station_id)
    await admin.command("grant")
    await admin.press(await last(admin, bot_env), "站点管理员（协管）")
    await last(admin, bot_env)
    await admin.send_contact("+8613900000000", first_name="老张")  # no Telegram account
    assert "Telegram ID" in ((await last(admin, bot_env)).text or "")
    await admin.send_contact("+8613900000001", user_id=777001, first_name="老李")
    confirm = await last(admin, bot_env)
    assert "777001" in (confirm.text or "")
    await admin.press(confirm, "✅ 授予")
    await bot_env.settle()
    async with bot_env.runtime.sessions() as s:
        held = (
            (
                await s.execute(
                    select(RoleGrant.station_id)
                    .join(Person, Person.id == RoleGrant.person_id)
                    .where(Person.telegram_id == 777001)
                )
            )
            .scalars()
            .all()
        )
    assert held == [station_id]
