"""One-time co-admin invite links end to end through the sandbox (issue #18).

A station admin makes a link in /grant, someone the bot never met opens it, confirms and is
co-admin (and can use /informants); the link works once, expires, can be withdrawn; the
inviter's own link and an admin's second link are answered; outside one's scope is refused
and audited.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.sandbox.factories import make_region_tree, make_station
from bot.sandbox.harness import RunningBot
from bot.sandbox.models import SimMessage
from bot.sandbox.world import SimUser
from bot.services import coadmin_invites as invite_service
from bot.services import roles as role_service
from bot.services.roles import Actor, RoleError
from storage.models import AuditLog, InviteLink, Person, RoleGrant
from tests.conftest import FixedClock
from tests.informants.helpers import last

LINK = re.compile(r"https://t\.me/\w+\?start=(a_[A-Za-z0-9_-]{22})")


async def _setup(bot_env: RunningBot) -> tuple[int, int]:
    async with bot_env.runtime.sessions() as s, s.begin():
        await make_region_tree(s)
        west = await make_station(s, name="西湖区文化站")
        ningbo = await make_station(s, name="海曙科普站", county="330203")
        assert west.id is not None and ningbo.id is not None
        return west.id, ningbo.id


async def _grant(bot_env: RunningBot, user: SimUser, role: str, **scope: object) -> None:
    async with bot_env.runtime.sessions() as s, s.begin():
        await role_service.grant(
            session=s,
            telegram_id=user.id,
            role=role,
            now=bot_env.runtime.now(),
            **scope,  # type: ignore[arg-type]
        )


async def _station_admins(bot_env: RunningBot, user: SimUser) -> list[int | None]:
    async with bot_env.runtime.sessions() as s:
        rows = await s.execute(
            select(RoleGrant.station_id)
            .join(Person, Person.id == RoleGrant.person_id)
            .where(Person.telegram_id == user.id, RoleGrant.role == "station_admin")
        )
        return list(rows.scalars().all())


async def _invite_in_bot(bot_env: RunningBot, admin: SimUser) -> tuple[str, SimMessage]:
    """Run /grant as a station admin up to the invite link; return the payload and message."""
    await admin.command("grant")
    pick = await last(admin, bot_env)
    await admin.press(pick, "站点管理员（协管）")
    who = await last(admin, bot_env)  # the only station is chosen for them
    assert "🔗 邀请链接" in [b.text for row in who.buttons for b in row]
    await admin.press(who, "🔗 邀请链接")
    await bot_env.settle()
    with_link = next(m for m in reversed(admin.messages) if m.text and "t.me/" in m.text)
    match = LINK.search(with_link.text or "")
    assert match is not None
    return match.group(1), with_link


async def _create(bot_env: RunningBot, admin: SimUser, station_id: int) -> str | RoleError:
    async with bot_env.runtime.sessions() as s, s.begin():
        person = (
            await s.execute(select(Person).where(Person.telegram_id == admin.id))
        ).scalar_one()
        grants = (
            (await s.execute(select(RoleGrant).where(RoleGrant.person_id == person.id)))
            .scalars()
            .all()
        )
        try:
            invite = await invite_service.create(
                session=s,
                actor=Actor(person.id, tuple(grants)),
                station_id=station_id,
                bot_username=bot_env.runtime.bot_username,
                now=bot_env.runtime.now(),
                hours=72,
                via="bot",
            )
        except RoleError as exc:  # committed with the audited refusal, as a handler does
            return exc
        return invite.payload


async def _payload(bot_env: RunningBot, admin: SimUser, station_id: int) -> str:
    made = await _create(bot_env, admin, station_id)
    assert isinstance(made, str)
    return made


async def test_station_admin_invites_a_stranger_who_confirms_and_is_co_admin(
    bot_env: RunningBot,
) -> None:
    west, _ningbo = await _setup(bot_env)
    admin = bot_env.sandbox.user("王站长", language_code="zh-hans")
    await _grant(bot_env, admin, "station_admin", station_id=west)
    payload, with_link = await _invite_in_bot(bot_env, admin)
    assert "西湖区文化站" in (with_link.text or "") and "只能使用一次" in (with_link.text or "")
    assert "有效期至2026年11月26日 10:00" in (with_link.text or "")  # 72 hours on
    qr = admin.messages[-1]
    assert qr.photo is not None and (qr.media_bytes() or b"").startswith(b"\x89PNG")

    stranger = bot_env.sandbox.user("小李", language_code="zh-hans")
    await stranger.command("start", payload)
    offer = await last(stranger, bot_env)
    assert "王站长" in (offer.text or "") and "西湖区文化站" in (offer.text or "")
    assert await _station_admins(bot_env, stranger) == []  # nothing before the press
    await stranger.press(offer, "✅ 成为协管")
    done = await last(stranger, bot_env)
    assert "您现在是" in (done.text or "") and "西湖区文化站" in (done.text or "")
    assert await _station_admins(bot_env, stranger) == [west]
    # The inviter is told through the outbox after the commit.
    told = await last(admin, bot_env)
    assert "小李" in (told.text or "") and "接受了您的协管邀请" in (told.text or "")
    # The new co-admin can use the station admin's commands at once.
    await stranger.command("informants")
    roster = await last(stranger, bot_env)
    assert "👥 <b>西湖区文化站</b>" in (roster.text or "")
    async with bot_env.runtime.sessions() as s:
        actions = {
            (a.action, a.allowed, (a.detail or {}).get("via"))
            for a in (await s.execute(select(AuditLog))).scalars()
        }
    assert ("coadmin_invite.create", True, "bot") in actions
    assert ("role.grant", True, "invite") in actions
    assert ("coadmin_invite.use", True, None) in actions

    # Single use: a second person with the same link is told it was used.
    third = bot_env.sandbox.user("小赵", language_code="zh-hans")
    await third.command("start", payload)
    assert "已经用过了" in ((await last(third, bot_env)).text or "")
    # And a stale confirm button (pressed again) grants nothing more.
    await stranger.press(offer, "✅ 成为协管")
    assert "已经用过了" in ((await last(stranger, bot_env)).text or "")
    assert await _station_admins(bot_env, third) == []


async def test_expired_withdrawn_own_and_already_admin_links_are_answered(
    bot_env: RunningBot, clock: FixedClock
) -> None:
    west, _ningbo = await _setup(bot_env)
    admin = bot_env.sandbox.user("王站长", language_code="zh-hans")
    await _grant(bot_env, admin, "station_admin", station_id=west)
    other = bot_env.sandbox.user("小李", language_code="en")

    # Expiry: 72 hours by default ([stations] coadmin_invite_hours).
    expiring = await _payload(bot_env, admin, west)
    clock.advance(hours=71, minutes=59)
    await other.command("start", expiring)
    assert "Become co-admin" in str((await last(other, bot_env)).buttons)
    clock.advance(minutes=1)
    await other.command("start", expiring)
    assert "has expired" in ((await last(other, bot_env)).text or "")

    # Withdrawn from the bot with the button under the link.
    payload, with_link = await _invite_in_bot(bot_env, admin)
    await admin.press(with_link, "收回这个链接")
    assert "已收回" in ((await last(admin, bot_env)).text or "")
    await other.command("start", payload)
    assert "withdrawn" in ((await last(other, bot_env)).text or "")
    async with bot_env.runtime.sessions() as s:
        row = (await s.execute(select(InviteLink).where(InviteLink.payload == payload))).one()
    assert row[0].revoked_at is not None and row[0].purpose == "coadmin"

    # One's own link, and a link to a station one administers already.
    own = await _payload(bot_env, admin, west)
    await admin.command("start", own)
    assert "您自己创建" in ((await last(admin, bot_env)).text or "")
    await _grant(bot_env, other, "station_admin", station_id=west)
    await other.command("start", own)
    assert "already an admin of 西湖区文化站" in ((await last(other, bot_env)).text or "")
    # An unknown payload of the right shape.
    await other.command("start", "a_" + "x" * 22)
    assert "not valid" in ((await last(other, bot_env)).text or "")
    assert await _station_admins(bot_env, admin) == [west]


async def test_a_coordinator_invites_within_the_region_only_and_refusals_are_audited(
    bot_env: RunningBot,
) -> None:
    west, ningbo = await _setup(bot_env)
    county = bot_env.sandbox.user("西湖区科协", language_code="zh-hans")
    await _grant(bot_env, county, "coordinator", region_code="330106")
    payload = await _payload(bot_env, county, west)  # a county coordinator, its own county
    newcomer = bot_env.sandbox.user("小新", language_code="zh-hans")
    await newcomer.command("start", payload)
    await newcomer.press(await last(newcomer, bot_env), "✅ 成为协管")
    assert await _station_admins(bot_env, newcomer) == [west]

    # A station outside the county: refused and audited, no link made.
    refused = await _create(bot_env, county, ningbo)
    assert isinstance(refused, RoleError) and refused.code == "outside_region"
    # A station admin cannot withdraw another station's link (a forged button).
    stranger_admin = bot_env.sandbox.user("海曙站长", language_code="zh-hans")
    await _grant(bot_env, stranger_admin, "station_admin", station_id=ningbo)
    mine = await _payload(bot_env, county, west)
    async with bot_env.runtime.sessions() as s:
        invite_id = (
            await s.execute(select(InviteLink.id).where(InviteLink.payload == mine))
        ).scalar_one()
    await stranger_admin.send("你好")
    await bot_env.settle()
    await stranger_admin.press(stranger_admin.messages[-1], data=f"CAI:x:{invite_id}")
    assert "范围" in ((await last(stranger_admin, bot_env)).text or "")
    async with bot_env.runtime.sessions() as s:
        refusals = [
            (a.action, a.reason)
            for a in (
                await s.execute(select(AuditLog).where(AuditLog.allowed.is_(False)))
            ).scalars()
        ]
        links = (await s.execute(select(InviteLink).where(InviteLink.station_id == ningbo))).all()
    assert ("coadmin_invite.create", "outside_region") in refusals
    assert ("coadmin_invite.revoke", "outside_region") in refusals
    assert links == []
    # The link still works for its station.
    late = bot_env.sandbox.user("小周", language_code="zh-hans")
    await late.command("start", mine)
    assert "成为协管" in str((await last(late, bot_env)).buttons)


async def test_declining_and_forged_accept_buttons_grant_nothing(bot_env: RunningBot) -> None:
    west, _ningbo = await _setup(bot_env)
    admin = bot_env.sandbox.user("王站长", language_code="zh-hans")
    await _grant(bot_env, admin, "station_admin", station_id=west)
    payload = await _payload(bot_env, admin, west)
    guest = bot_env.sandbox.user("小钱", language_code="zh-hans")
    await guest.command("start", payload)
    offer = await last(guest, bot_env)
    await guest.press(offer, "不用了，谢谢")
    assert "一切照旧" in ((await last(guest, bot_env)).text or "")
    # A forged accept button with a made-up payload: the link is unknown, nothing granted.
    await guest.press(offer, data="CAI:y:a_" + "Z" * 22)
    assert "无效" in ((await last(guest, bot_env)).text or "")
    assert await _station_admins(bot_env, guest) == []
    # The real link still works after a decline.
    await guest.press(offer, "✅ 成为协管")
    assert await _station_admins(bot_env, guest) == [west]
