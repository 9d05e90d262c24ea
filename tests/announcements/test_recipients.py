"""Announcement rules on SQLite and PostgreSQL: scope, recipients once each, quiet hours."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handlers.announcements import AnnouncementReport
from bot.runtime.context import Runtime
from bot.sandbox.factories import (
    make_grant,
    make_informant,
    make_person,
    make_region_tree,
    make_station,
)
from bot.services import announcements as service
from storage import content as content_store
from storage import outbox as outbox_store
from storage.models import Announcement, OutboxMessage, Push, RoleGrant, Station
from tests.conftest import FIXED_NOW

TZ = dt.timezone(dt.timedelta(hours=8))


async def seed(session: AsyncSession) -> None:
    await make_region_tree(session, ("330106", "330203"))
    xihu = await make_station(session, name="西湖站", county="330106")
    haishu = await make_station(session, name="海曙站", county="330203")
    assert xihu.id is not None and haishu.id is not None
    # 1: admin of Xihu who is also an informant there (quiet 22:00-07:00); 2: admin of
    # Haishu; 3: an informant of Xihu; 4: an informant of Haishu who blocked the bot.
    admin = await make_person(session, telegram_id=1)
    assert admin.id is not None
    await make_grant(session, person_id=admin.id, role="station_admin", station_id=xihu.id)
    await make_informant(
        session, station_id=xihu.id, person=admin, quiet=(dt.time(22, 0), dt.time(7, 0))
    )
    other = await make_person(session, telegram_id=2)
    assert other.id is not None
    await make_grant(session, person_id=other.id, role="station_admin", station_id=haishu.id)
    await make_informant(session, station_id=xihu.id, telegram_id=3)
    await make_informant(session, station_id=haishu.id, telegram_id=4, unreachable=True)


async def test_recipients_by_audience_and_region(session: AsyncSession) -> None:
    await seed(session)

    async def ids(audience: str, region: str | None) -> list[int]:
        found = await service.recipients(session=session, audience=audience, region_code=region)
        return sorted(r.telegram_id for r in found)

    assert await ids("admins", "330106") == [1]
    assert await ids("admins", "330100") == [1]  # the city contains the county
    assert await ids("admins", None) == [1, 2]
    assert await ids("informants", "330106") == [1, 3]
    assert await ids("informants", None) == [1, 3]  # 4 blocked the bot
    assert await ids("both", "330106") == [1, 3]  # the admin-informant once
    assert await ids("both", "330203") == [2]


def test_scope_follows_the_roles() -> None:
    county = [RoleGrant(person_id=1, role="coordinator", region_code="330106")]
    city = [RoleGrant(person_id=1, role="coordinator", region_code="330100")]
    curator = [RoleGrant(person_id=1, role="curator")]
    admin = [RoleGrant(person_id=1, role="station_admin", station_id=1)]
    assert service.in_scope(county, "330106") and not service.in_scope(county, "330100")
    assert service.in_scope(city, "330106") and not service.in_scope(city, "330203")
    assert not service.in_scope(city, None)  # a coordinator never addresses everyone
    assert service.in_scope(curator, None) and service.in_scope(curator, "330203")
    assert not service.may_announce(admin) and service.may_announce(county)


async def test_send_keeps_quiet_hours_and_writes_one_push(session: AsyncSession) -> None:
    await seed(session)
    at = dt.datetime(2026, 11, 23, 23, 30, tzinfo=TZ)  # 1 is in quiet hours then
    result = await service.send(
        session=session,
        author_id=None,
        sender="西湖区科协",
        region_code="330106",
        audience="both",
        text="全国科普日 <9月20日> 活动通知",
        attachment_kind=None,
        attachment_file_id=None,
        send_at=at,
        now=FIXED_NOW,
        tz=TZ,
        default_locale="zh_CN",
        report_chat=99,
        report_locale="zh_CN",
    )
    assert (result.targeted, result.queued, result.deferred) == (2, 2, 1)
    rows = {
        r.chat_id: r
        for r in (await session.execute(select(OutboxMessage))).scalars()
        if r.kind == "announcement"
    }
    assert rows[1].next_attempt_at == dt.datetime(2026, 11, 24, 7, 0, tzinfo=TZ)
    assert rows[3].next_attempt_at == at
    assert "&lt;9月20日&gt;" in rows[3].payload["text"]  # the author's text is escaped
    push = (await session.execute(select(Push))).scalar_one()
    assert (push.kind, push.content_id, push.total) == ("announcement", None, 2)
    assert push.targeting["announce_report_chat"] == 99
    stored = (await session.execute(select(Announcement))).scalar_one()
    assert stored.push_id == push.id and stored.send_at == at


async def test_an_announcement_reads_its_audience_a_page_at_a_time(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A province's informants never sit in memory at once: with pages of two, eleven
    # informants (one of them an admin) come in six pages, each queued as it is read,
    # everyone once, and the count the confirmation shows is the same.
    await seed(session)
    station = (await session.execute(select(Station).where(Station.name == "西湖站"))).scalar_one()
    for telegram_id in range(10, 19):
        await make_informant(session, station_id=station.id, telegram_id=telegram_id)
    real_page = content_store.push_candidate_page
    pages: list[int] = []

    async def small_pages(**kwargs: Any) -> Any:
        page = await real_page(**{**kwargs, "limit": 2})
        pages.append(len(page))
        return page

    monkeypatch.setattr(content_store, "push_candidate_page", small_pages)
    expected = [1, 3, *range(10, 19)]
    assert await service.count_recipients(
        session=session, audience="both", region_code="330106"
    ) == len(expected)
    pages.clear()
    result = await service.send(
        session=session, author_id=None, sender="西湖区科协", region_code="330106",
        audience="both", text="通知", attachment_kind=None, attachment_file_id=None,
        send_at=FIXED_NOW, now=FIXED_NOW, tz=TZ, default_locale="zh_CN",
        report_chat=None, report_locale="zh_CN",
    )  # fmt: skip
    # Every informant read once (the admin among them, queued once with the admins).
    assert max(pages) == 2 and sum(pages) == len(expected)
    assert (result.targeted, result.queued) == (len(expected), len(expected))
    chats = [
        r.chat_id
        for r in (await session.execute(select(OutboxMessage))).scalars()
        if r.kind == "announcement"
    ]
    assert sorted(chats) == expected


async def test_an_announcement_finished_unseen_is_reported_once(runtime: Runtime) -> None:
    """A sender that died after the last send: the next sender's idle pass reports it."""
    async with runtime.sessions() as session, session.begin():
        await seed(session)
        result = await service.send(
            session=session,
            author_id=None,
            sender="西湖区科协",
            region_code="330106",
            audience="admins",
            text="通知",
            attachment_kind=None,
            attachment_file_id=None,
            send_at=FIXED_NOW,
            now=FIXED_NOW,
            tz=TZ,
            default_locale="zh_CN",
            report_chat=99,
            report_locale="zh_CN",
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.push_id == result.push_id)  # type: ignore[arg-type]
            .values(state="sent", sent_at=FIXED_NOW)
        )

    async def gate() -> None:
        return None

    report = AnnouncementReport(SimpleNamespace(runtime=runtime, gate=gate))  # type: ignore[arg-type]
    await report.when_idle()
    await report.when_idle()
    async with runtime.sessions() as session:
        rows = await outbox_store.messages_to_chat(session=session, chat_id=99)
        push = (await session.execute(select(Push))).scalar_one()
    assert len(rows) == 1 and rows[0]["payload"]["text"].startswith("✅ 通知发送报告 #")
    assert push.finished_at is not None and push.targeting["reported"] is True
