"""Invite and informant services and storage against SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import (
    NOW,
    make_content,
    make_person,
    make_region_tree,
    make_share,
    make_station,
)
from bot.services import informants as service
from bot.services import invites as invite_service
from bot.services import roles as role_service
from bot.services.informants import InformantError
from bot.services.invites import InviteError
from storage import outbox as outbox_store
from storage.models import AuditLog, Informant, InviteLink, Person, ShareEvent


async def _station(session: AsyncSession, **kw: object) -> int:
    await make_region_tree(session)
    station = await make_station(session, **kw)  # type: ignore[arg-type]
    assert station.id is not None
    return station.id


async def _register(
    session: AsyncSession, person_id: int, payload: str, **kw: object
) -> Informant:
    values: dict[str, object] = dict(
        real_name="张三", phone="+8613800000000", interests=["health"], consent_at=NOW, now=NOW
    )
    values.update(kw)
    return await service.register(session=session, person_id=person_id, payload=payload, **values)  # type: ignore[arg-type]


def test_payloads_are_unguessable_and_fit_deep_links() -> None:
    payloads = {invite_service.new_payload() for _ in range(200)}
    assert len(payloads) == 200
    for payload in payloads:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)
        assert invite_service.PAYLOAD_RE.match(payload)  # 22 chars after the prefix: 128 bits


@pytest.mark.parametrize(
    "name", ["张三", "欧阳娜娜", "阿卜杜·热合曼", "Ann Smith", "José Li", "  李   四  "]
)
def test_valid_names(name: str) -> None:
    assert service.clean_name(name) == " ".join(name.split())


@pytest.mark.parametrize(
    "name", ["", "张", "A", "张三3", "Bob!", "<b>x</b>", "·张三", "x" * 31, "😀😀", "张三·"]
)
def test_invalid_names(name: str) -> None:
    with pytest.raises(InformantError):
        service.clean_name(name)


def test_quiet_hours_span_midnight() -> None:
    informant = Informant(station_id=1, quiet_start=dt.time(22), quiet_end=dt.time(7))
    shanghai = dt.timezone(dt.timedelta(hours=8))
    at = dt.datetime(2026, 1, 1, 23, tzinfo=shanghai)
    assert service.in_quiet_hours(informant, at, shanghai)
    assert service.in_quiet_hours(
        informant, dt.datetime(2026, 1, 1, 6, 59, tzinfo=shanghai), shanghai
    )
    assert not service.in_quiet_hours(
        informant, dt.datetime(2026, 1, 1, 7, tzinfo=shanghai), shanghai
    )
    # 23:00 in Shanghai is 15:00 UTC: outside the quiet hours read on a UTC clock
    assert not service.in_quiet_hours(informant, at, dt.UTC)


async def test_invite_limits_and_expiry(session: AsyncSession) -> None:
    station_id = await _station(session)
    info = await invite_service.create_invite(
        session=session,
        station_id=station_id,
        bot_username="b",
        actor_id=None,
        now=NOW,
        expires_days=2,
        max_uses=1,
    )
    assert info.link == f"https://t.me/b?start={info.payload}"
    first = await make_person(session, telegram_id=1)
    second = await make_person(session, telegram_id=2)
    assert first.id and second.id
    await _register(session, first.id, info.payload)
    with pytest.raises(InviteError) as exc:
        await _register(session, second.id, info.payload)
    assert exc.value.code == "used_up"
    assert (await session.execute(select(func.count()).select_from(Informant))).scalar_one() == 1
    later = await invite_service.create_invite(
        session=session,
        station_id=station_id,
        bot_username="b",
        actor_id=None,
        now=NOW,
        expires_days=1,
    )
    with pytest.raises(InviteError) as exc:
        await invite_service.resolve(
            session=session, payload=later.payload, now=NOW + dt.timedelta(days=1)
        )
    assert exc.value.code == "expired"


async def test_only_open_stations_invite_and_accept(session: AsyncSession) -> None:
    station_id = await _station(session, status="submitted")
    with pytest.raises(InviteError) as exc:
        await invite_service.create_invite(
            session=session, station_id=station_id, bot_username="b", actor_id=None, now=NOW
        )
    assert exc.value.code == "station_not_open"
    other = await make_station(session, name="乙", status="rectifying")
    assert other.id
    info = await invite_service.create_invite(
        session=session, station_id=other.id, bot_username="b", actor_id=None, now=NOW
    )
    other.status = "revoked"
    await session.flush()
    with pytest.raises(InviteError) as exc:
        await invite_service.resolve(session=session, payload=info.payload, now=NOW)
    assert exc.value.code == "station_closed"


async def test_current_invite_reuses_then_renews(session: AsyncSession) -> None:
    station_id = await _station(session)
    one = await invite_service.current_invite(
        session=session, station_id=station_id, bot_username="b", actor_id=None, now=NOW
    )
    again = await invite_service.current_invite(
        session=session, station_id=station_id, bot_username="b", actor_id=None, now=NOW
    )
    assert one.payload == again.payload
    new = await invite_service.current_invite(
        session=session,
        station_id=station_id,
        bot_username="b",
        actor_id=None,
        now=NOW,
        renew=True,
    )
    assert new.payload != one.payload
    links = await invite_service.list_invites(
        session=session, station_id=station_id, bot_username="b"
    )
    assert [i.status(NOW) for i in links] == ["active", "revoked"]


async def test_register_transfer_remove_forget_roster(session: AsyncSession) -> None:
    station_id = await _station(session)
    other = await make_station(session, name="乙站")
    assert other.id
    a = await invite_service.create_invite(
        session=session, station_id=station_id, bot_username="b", actor_id=None, now=NOW
    )
    b = await invite_service.create_invite(
        session=session, station_id=other.id, bot_username="b", actor_id=None, now=NOW
    )
    person = await make_person(session, telegram_id=10)
    assert person.id
    informant = await _register(session, person.id, a.payload, interests=["elderly", "health"])
    assert informant.interests == ["health", "elderly"]  # taxonomy order
    with pytest.raises(InformantError):
        await _register(session, person.id, a.payload)
    plan = await service.plan_join(
        session=session, person_id=person.id, payload=b.payload, now=NOW
    )
    assert plan.kind == "transfer" and plan.current_station_name == "西湖区文化站"
    moved, old = await service.transfer(
        session=session, person_id=person.id, payload=b.payload, now=NOW
    )
    assert old == station_id and moved.station_id == other.id

    item = await make_content(session, guid="g", title="t", kind="video", url="u")
    assert moved.id is not None and other.id is not None and item.id is not None
    day = dt.date(2026, 11, 23)
    for n, d in enumerate([day, dt.date(2026, 11, 1), dt.date(2026, 10, 31)]):
        await make_share(
            session,
            informant_id=moved.id,
            station_id=other.id,
            content_id=item.id,
            channel="other",
            day=d,
            dedupe_key=f"d{n}",
        )
    page = await service.roster_page(session=session, station_id=other.id, page=5, today=day)
    assert page.page == 0 and page.total == 1
    assert page.entries[0].shares_this_month == 2 and page.entries[0].name == "张三"

    exported = await service.export_data(session=session, person_id=person.id, now=NOW)
    assert len(exported["tables"]["share_event"]) == 3
    assert {e["action"] for e in exported["tables"]["audit_log"]} >= {
        "informant.join",
        "informant.transfer",
    }

    removal = await service.remove(
        session=session, station_id=other.id, informant_id=moved.id, actor_id=None, now=NOW
    )  # type: ignore[arg-type]
    assert removal.telegram_id == 10
    assert (
        await service.roster_page(session=session, station_id=other.id, page=0, today=day)
    ).total == 0
    erasure = await service.forget(session=session, person=person, now=NOW)
    assert erasure.informant_id == moved.id
    row = await session.get(Informant, moved.id, populate_existing=True)
    assert row is not None and row.person_id is None and row.real_name is None
    # The share rows stay for totals, pointing at the anonymous row.
    shares = (await session.execute(select(func.count()).select_from(ShareEvent))).scalar_one()
    assert shares == 3
    forget_entry = (
        await session.execute(select(AuditLog).where(AuditLog.action == "privacy.forget"))
    ).scalar_one()
    assert forget_entry.subject_id is None and forget_entry.detail == erasure.detail()
    # No entry ties the erased person to the informant row any more.
    entries = (await session.execute(select(AuditLog))).scalars().all()
    assert not [e for e in entries if e.actor_id == person.id and e.subject_id == moved.id]
    uses = (await session.execute(select(InviteLink.uses).order_by(InviteLink.id))).scalars()
    assert list(uses) == [1, 1]


async def test_forget_a_station_admin_on_each_backend(session: AsyncSession) -> None:
    station_id = await _station(session)
    admin = await make_person(session, telegram_id=77, first_name="管理员")
    assert admin.id
    await role_service.grant(
        session=session, telegram_id=77, role="station_admin", station_id=station_id, now=NOW
    )
    await invite_service.create_invite(
        session=session, station_id=station_id, bot_username="b", actor_id=admin.id, now=NOW
    )
    await outbox_store.enqueue(
        session=session,
        push_id=None,
        messages=[
            outbox_store.NewMessage(77, "message", {"text": "您好 管理员"}, "m:77:1", NOW),
            outbox_store.NewMessage(78, "message", {"text": "someone else"}, "m:78:1", NOW),
        ],
        now=NOW,
    )
    erasure = await service.forget(session=session, person=admin, now=NOW)
    # Erased: the message to them and the desk menu button update their grant queued.
    assert (erasure.roles_revoked, erasure.outbox_erased, erasure.person_deleted) == (1, 2, False)
    kept = await session.get(Person, admin.id, populate_existing=True)
    assert kept is not None and kept.telegram_id == -admin.id and kept.first_name is None
    erased_rows = await outbox_store.messages_to_chat(session=session, chat_id=0)
    assert len(erased_rows) == 2
    for erased in erased_rows:
        assert erased["state"] == "failed" and erased["payload"] == {}
        assert erased["dedupe_key"] == f"erased:{erased['id']}"
    assert len(await outbox_store.messages_to_chat(session=session, chat_id=78)) == 1
    grant = await session.execute(select(AuditLog).where(AuditLog.action == "role.grant"))
    assert "telegram_id" not in grant.scalar_one().detail
