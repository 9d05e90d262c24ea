"""/invite (QR poster decoded) and /informants (roster, removal), with authorisation."""

from __future__ import annotations

import datetime as dt
import io

import zxingcpp
from PIL import Image
from sqlalchemy import select

from bot.sandbox.factories import make_content, make_share
from bot.sandbox.harness import RunningBot
from storage.models import AuditLog, InviteLink
from tests.informants.helpers import (
    grant_station_admin,
    informant_of,
    join,
    last,
    setup_station,
)


async def test_invite_sends_link_and_a_qr_poster_that_decodes_to_it(bot_env: RunningBot) -> None:
    station_id, _ = await setup_station(bot_env)
    admin = bot_env.sandbox.user("站长", language_code="zh-hans")
    await grant_station_admin(bot_env, admin, station_id)
    await admin.command("invite")
    await bot_env.settle()
    text_msg, poster = admin.messages[-2], admin.messages[-1]
    link = next(w for w in (text_msg.text or "").split() if "?start=" in w)
    assert link.startswith("https://t.me/kepubot_bot?start=j_")
    payload = link.rsplit("=", 1)[1]
    assert len(payload) <= 64 and len(payload) >= 2 + 22
    data = poster.document_bytes()
    assert data and poster.filename and poster.filename.endswith(".png")
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))
    assert [r.text for r in decoded] == [link]
    # The same working link comes back (printed posters stay valid) ...
    await admin.command("invite")
    await bot_env.settle()
    assert link in (admin.messages[-2].text or "")
    # ... until the admin asks for a new one, which revokes the old.
    await admin.press(admin.messages[-2], data=f"INV:new:{station_id}")
    await bot_env.settle()
    new_link = next(w for w in (admin.messages[-2].text or "").split() if "?start=" in w)
    assert new_link != link
    async with bot_env.runtime.sessions() as s:
        old = (
            await s.execute(select(InviteLink).where(InviteLink.payload == payload))
        ).scalar_one()
        assert old.revoked_at is not None
    user = bot_env.sandbox.user("晚来", language_code="zh-hans")
    await user.command("start", payload)
    assert "作废" in ((await last(user, bot_env)).text or "")


async def test_admin_of_two_stations_picks_one(bot_env: RunningBot) -> None:
    first, _ = await setup_station(bot_env, name="甲站")
    second, _ = await setup_station(bot_env, name="乙站", regions=False)
    admin = bot_env.sandbox.user("Two", language_code="en")
    await grant_station_admin(bot_env, admin, first)
    await grant_station_admin(bot_env, admin, second)
    await admin.command("invite")
    pick = await last(admin, bot_env)
    assert [b.text for row in pick.buttons for b in row] == ["甲站", "乙站"]
    await admin.press(pick, "乙站")
    await bot_env.settle()
    assert "乙站" in (admin.messages[-2].text or "")
    assert admin.messages[-1].document


async def test_invite_refused_for_unrecognised_station(bot_env: RunningBot) -> None:
    station_id, _ = await setup_station(bot_env, status="submitted")
    admin = bot_env.sandbox.user("Sub", language_code="en")
    await grant_station_admin(bot_env, admin, station_id)
    await admin.command("invite")
    assert "not a recognised station" in ((await last(admin, bot_env)).text or "")


async def test_informant_cannot_invite_or_see_roster(bot_env: RunningBot) -> None:
    station_id, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user("Inf", language_code="en")
    await join(bot_env, user, payload, name="In Former")
    for name in ("invite", "informants"):
        await user.command(name)
        assert "not allowed" in ((await last(user, bot_env)).text or "")
    # Forged buttons are refused too.
    msg = user.messages[-1]
    for data in (f"INV:new:{station_id}", f"ROS:p:{station_id}:0"):
        answer = await user.press(msg, data=data)
        assert answer is not None and "not allowed" in answer["text"]


async def test_admin_cannot_touch_another_station(bot_env: RunningBot) -> None:
    mine, _ = await setup_station(bot_env, name="我的站")
    other, payload = await setup_station(bot_env, name="别人的站", regions=False)
    member = bot_env.sandbox.user("Member", language_code="en")
    await join(bot_env, member, payload, name="Mem Ber")
    informant = await informant_of(bot_env, member)
    assert informant is not None
    admin = bot_env.sandbox.user("Adm", language_code="en")
    await grant_station_admin(bot_env, admin, mine)
    await admin.command("informants")
    roster = await last(admin, bot_env)
    answer = await admin.press(roster, data=f"ROS:rmy:{other}:{informant.id}:0")
    assert answer is not None and "not allowed" in answer["text"]
    assert (await informant_of(bot_env, member)).removed_at is None  # type: ignore[union-attr]


async def test_roster_pages_counts_shares_and_removes(bot_env: RunningBot) -> None:
    station_id, payload = await setup_station(bot_env)
    people = []
    for i in range(12):
        user = bot_env.sandbox.user(f"U{i}", language_code="en")
        await join(
            bot_env, user, payload, name=f"Person {chr(65 + i)}", phone=f"+86138000001{i:02d}"
        )
        people.append(user)
    first = await informant_of(bot_env, people[0])
    assert first is not None and first.id is not None
    today = bot_env.runtime.today()
    async with bot_env.runtime.sessions() as s, s.begin():
        item = await make_content(
            s, guid="g1", title="t", url="https://example.org", created_at=bot_env.runtime.now()
        )
        assert item.id is not None
        for n, day in enumerate([today, today.replace(day=1), today - dt.timedelta(days=40)]):
            await make_share(
                s,
                informant_id=first.id,
                station_id=station_id,
                content_id=item.id,
                channel="wechat_group",
                day=day,
                dedupe_key=f"k{n}",
                created_at=bot_env.runtime.now(),
            )
    admin = bot_env.sandbox.user("Boss", language_code="en")
    await grant_station_admin(bot_env, admin, station_id)
    await admin.command("informants")
    roster = await last(admin, bot_env)
    text = roster.text or ""
    assert "12 informants" in text
    assert "Person A" in text and "2 shares this month" in text
    assert "Person K" not in text  # page 2
    await admin.press(roster, "Next ▶")
    await bot_env.settle()
    assert "Person K" in (roster.text or "") and "Person A" not in (roster.text or "")
    await admin.press(roster, "◀ Prev")
    await bot_env.settle()
    await admin.press(roster, "Remove Person B")
    await bot_env.settle()
    assert "Remove <b>Person B</b>" in (roster.text or "")
    await admin.press(roster, "Yes, remove")
    await bot_env.settle()
    assert "11 informants" in (roster.text or "")
    removed = await informant_of(bot_env, people[1])
    assert removed is not None and removed.removed_at is not None
    told = await last(people[1], bot_env)
    assert "no longer registered" in (told.text or "")
    async with bot_env.runtime.sessions() as s:
        entry = (
            await s.execute(select(AuditLog).where(AuditLog.action == "informant.remove"))
        ).scalar_one()
        assert entry.subject_id == removed.id
    # A removed informant can join again through the link.
    await join(bot_env, people[1], payload, name="Person B")
    again = await informant_of(bot_env, people[1])
    assert again is not None and again.id == removed.id and again.removed_at is None
