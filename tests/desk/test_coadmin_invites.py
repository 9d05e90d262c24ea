"""The people page's co-admin invite links (issue #18): create, show, withdraw, refuse."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from bot.sandbox.factories import make_region_tree, make_station
from bot.services import coadmin_invites as invite_service
from bot.services.coadmin_invites import CoadminInviteError
from storage.models import AuditLog, InviteLink, OutboxMessage, Person, RoleGrant
from tests.conftest import FixedClock
from tests.desk.conftest import DeskClient

CITY, OTHER_CITY, STATION_ADMIN, NEWBIE = 821, 822, 823, 824
LINK = re.compile(r"https://t\.me/\w+\?start=(a_[A-Za-z0-9_-]{22})")


async def _world(desk: DeskClient) -> dict[str, int]:
    async with desk.runtime.sessions() as s, s.begin():
        await make_region_tree(s)
        west = await make_station(s, name="西湖区文化站")
        ningbo = await make_station(s, name="海曙科普站", county="330203")
        assert west.id is not None and ningbo.id is not None
        await desk.person(s, CITY, role="coordinator", region_code="330100", first_name="杭州")
        await desk.person(s, OTHER_CITY, role="coordinator", region_code="330200")
        await desk.person(s, STATION_ADMIN, role="station_admin", station_id=west.id)
        return {"west": west.id, "ningbo": ningbo.id}


async def _accept(desk: DeskClient, payload: str, telegram_id: int) -> None:
    async with desk.runtime.sessions() as s, s.begin():
        await invite_service.accept(
            session=s,
            payload=payload,
            telegram_id=telegram_id,
            now=desk.runtime.now(),
            bot_username=desk.runtime.bot_username,
        )


async def test_station_admin_creates_a_link_that_makes_a_co_admin_once(desk: DeskClient) -> None:
    ids = await _world(desk)
    page = await desk.get("people", user=STATION_ADMIN)
    assert (
        page.status == 200
        and "生成邀请链接" in page.text
        and 'action="/desk/p/people/invite"' in page.text
    )
    made = await desk.post("people/invite", {"station": str(ids["west"])}, user=STATION_ADMIN)
    assert made.status == 200
    text = html.unescape(made.text)
    match = LINK.search(text)
    assert match is not None
    assert "2026年11月26日 10:00" in text  # [stations] coadmin_invite_hours = 72
    assert "<svg" in made.text and "只能使用一次" in text
    assert 'action="/desk/p/people/invite/revoke"' in made.text  # listed, with 收回
    await _accept(desk, match.group(1), NEWBIE)
    async with desk.runtime.sessions() as s:
        grants = (
            await s.execute(
                select(RoleGrant.role, RoleGrant.station_id)
                .join(Person, Person.id == RoleGrant.person_id)
                .where(Person.telegram_id == NEWBIE)
            )
        ).all()
        told = (
            (await s.execute(select(OutboxMessage).where(OutboxMessage.chat_id == STATION_ADMIN)))
            .scalars()
            .all()
        )
        created = (
            await s.execute(select(AuditLog).where(AuditLog.action == "coadmin_invite.create"))
        ).scalar_one()
    assert [tuple(g) for g in grants] == [("station_admin", ids["west"])]
    assert any("接受了您的协管邀请" in m.payload["text"] for m in told)
    assert created.detail["via"] == "desk" and created.actor_id is not None
    # Used: no longer listed, and a second use is refused.
    after = await desk.get("people", user=STATION_ADMIN)
    assert 'action="/desk/p/people/invite/revoke"' not in after.text
    try:
        await _accept(desk, match.group(1), NEWBIE + 1)
    except CoadminInviteError as exc:
        assert exc.code == "used_up"
    else:  # pragma: no cover - the assertion explains
        raise AssertionError("a used link worked twice")


async def test_out_of_scope_link_or_withdrawal_is_403_and_audited(desk: DeskClient) -> None:
    ids = await _world(desk)
    outside = await desk.post("people/invite", {"station": str(ids["ningbo"])}, user=STATION_ADMIN)
    assert outside.status == 403 and "t.me/" not in outside.text
    made = await desk.post("people/invite", {"station": str(ids["west"])}, user=CITY)
    assert made.status == 200  # a coordinator of the station's region may
    async with desk.runtime.sessions() as s:
        invite_id = (
            await s.execute(select(InviteLink.id).where(InviteLink.purpose == "coadmin"))
        ).scalar_one()
    foreign = await desk.post("people/invite/revoke", {"invite": str(invite_id)}, user=OTHER_CITY)
    assert foreign.status == 403
    async with desk.runtime.sessions() as s:
        refused = (
            await s.execute(
                select(AuditLog.action, AuditLog.reason).where(AuditLog.allowed.is_(False))
            )
        ).all()
        ningbo_links = (
            await s.execute(select(InviteLink).where(InviteLink.station_id == ids["ningbo"]))
        ).all()
    assert ("coadmin_invite.create", "outside_region") in refused
    assert ("coadmin_invite.revoke", "outside_region") in refused
    assert ningbo_links == []


async def test_withdrawn_and_expired_links_and_bad_input(
    desk: DeskClient, clock: FixedClock
) -> None:
    ids = await _world(desk)
    missing = await desk.post("people/invite", {}, user=STATION_ADMIN)
    assert missing.status == 400 and "请选择站点" in missing.text
    bad = await desk.post("people/invite/revoke", {"invite": "x"}, user=STATION_ADMIN)
    assert bad.status == 400 and "请选择要收回的链接" in bad.text
    made = await desk.post("people/invite", {"station": str(ids["west"])}, user=STATION_ADMIN)
    payload = LINK.search(html.unescape(made.text))
    assert payload is not None
    async with desk.runtime.sessions() as s:
        invite_id = (
            await s.execute(select(InviteLink.id).where(InviteLink.payload == payload.group(1)))
        ).scalar_one()
    done = await desk.post("people/invite/revoke", {"invite": str(invite_id)}, user=STATION_ADMIN)
    assert done.status == 200 and "已收回" in done.text
    again = await desk.post("people/invite/revoke", {"invite": str(invite_id)}, user=STATION_ADMIN)
    assert again.status == 400 and "已经收回过了" in again.text
    for code, link in (("revoked", payload.group(1)),):
        try:
            await _accept(desk, link, NEWBIE)
        except CoadminInviteError as exc:
            assert exc.code == code
        else:  # pragma: no cover
            raise AssertionError(code)
    late = LINK.search(
        html.unescape(
            (await desk.post("people/invite", {"station": str(ids["west"])}, user=CITY)).text
        )
    )
    assert late is not None
    clock.advance(hours=72)
    try:
        await _accept(desk, late.group(1), NEWBIE)
    except CoadminInviteError as exc:
        assert exc.code == "expired"
    else:  # pragma: no cover
        raise AssertionError("an expired link worked")
    # An expired link is no longer listed.
    assert (
        'action="/desk/p/people/invite/revoke"' not in (await desk.get("people", user=CITY)).text
    )


async def test_station_admin_menu_exports_only_its_station(desk: DeskClient) -> None:
    ids = await _world(desk)
    nav = await desk.get("nav", user=STATION_ADMIN)
    assert "/desk/p/exports" in nav.text and "/desk/p/people" in nav.text
    form = await desk.get("exports", user=STATION_ADMIN)
    assert form.status == 200 and "西湖区文化站" in form.text and "海曙科普站" not in form.text
    refused = await desk.post(
        "exports",
        {
            "kind": "roster",
            "date_from": "2026-11-01",
            "date_to": "2026-11-30",
            "status": "counted",
            "format": "csv",
            "deliver": "download",
            "station": str(ids["ningbo"]),
        },
        user=STATION_ADMIN,
    )
    assert refused.status == 403
    async with desk.runtime.sessions() as s:
        audited = (
            await s.execute(
                select(AuditLog.action, AuditLog.subject_type).where(AuditLog.allowed.is_(False))
            )
        ).all()
    assert ("desk:exports", "station") in audited
