"""A push streams its recipients: keyset pages of candidates, rows enqueued page by page."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import (
    make_content,
    make_grant,
    make_informant,
    make_region_tree,
    make_station,
)
from bot.services import push as push_service
from storage import content as content_store
from storage import outbox as outbox_store
from tests.conftest import FIXED_NOW

TZ = ZoneInfo("Asia/Shanghai")


async def _world(session: AsyncSession) -> int:
    """Eleven informants: nine reachable (two in quiet hours, one a station admin)."""
    await make_region_tree(session, ("330106", "330108"))
    xihu = await make_station(session)
    binjiang = await make_station(session, name="滨江区文化站", county="330108")
    assert xihu.id is not None and binjiang.id is not None
    for uid in range(1, 8):
        quiet = (dt.time(0, 0), dt.time(23, 59)) if uid in (2, 5) else None
        await make_informant(session, station_id=xihu.id, telegram_id=1000 + uid, quiet=quiet)
    await make_informant(session, station_id=xihu.id, telegram_id=1100, paused=True)
    await make_informant(session, station_id=xihu.id, telegram_id=1101, unreachable=True)
    admin = await make_informant(session, station_id=binjiang.id, telegram_id=1200)
    await make_grant(
        session, person_id=admin.person_id, role="station_admin", station_id=binjiang.id
    )
    await make_informant(session, station_id=binjiang.id, telegram_id=1201)
    item = await make_content(session, publish_at=FIXED_NOW - dt.timedelta(hours=1))
    assert item.id is not None
    return item.id


async def test_a_push_reads_its_recipients_two_at_a_time(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    content_id = await _world(session)
    pages: list[int] = []
    real_page = content_store.push_candidate_page

    async def page(**kw: Any) -> list[content_store.Candidate]:
        found = await real_page(**kw)
        pages.append(len(found))
        return found

    monkeypatch.setattr(content_store, "push_candidate_page", page)
    counted = await push_service.count_targets(
        session=session, content_id=content_id, now=FIXED_NOW, tz=TZ, page_size=2
    )
    assert counted == 9
    assert pages == [2, 2, 2, 2, 1]
    pages.clear()
    result = await push_service.push_item(
        session=session, content_id=content_id, now=FIXED_NOW, tz=TZ, page_size=2
    )
    assert pages == [2, 2, 2, 2, 1]
    assert (result.targeted, result.queued, result.deferred) == (9, 9, 2)
    rows = await outbox_store.messages_of(session=session, push_id=result.push_id)
    assert sorted(r.chat_id for r in rows) == [*range(1001, 1008), 1200, 1201]
    assert len({r.dedupe_key for r in rows}) == 9
    admins = {r.chat_id for r in rows if r.payload["station_admin"]}
    assert admins == {1200}
    quiet = {r.chat_id for r in rows if r.next_attempt_at and r.next_attempt_at > FIXED_NOW}
    assert quiet == {1002, 1005}
    # A second push of the item reaches no one again, page after page.
    again = await push_service.push_item(
        session=session, content_id=content_id, now=FIXED_NOW, tz=TZ, page_size=2
    )
    assert (again.targeted, again.queued) == (9, 0)


async def test_a_page_a_region_at_a_time_matches_one_big_page(session: AsyncSession) -> None:
    content_id = await _world(session)
    small = await push_service.count_targets(
        session=session,
        content_id=content_id,
        now=FIXED_NOW,
        tz=TZ,
        regions=["330108"],
        page_size=1,
    )
    big = await push_service.count_targets(
        session=session, content_id=content_id, now=FIXED_NOW, tz=TZ, regions=["330108"]
    )
    assert small == big == 2
