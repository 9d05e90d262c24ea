"""Catalogue rules (bot/content/catalogue.py) on SQLite and PostgreSQL: create, edit, retire."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.catalogue import (
    CatalogueError,
    NewItem,
    check_text,
    create_item,
    edit_item,
    item_state,
    parse_regions,
    retire_item,
)
from bot.content.taxonomy import default_taxonomy
from bot.core.regions_csv import is_region_code
from bot.sandbox.factories import make_person
from bot.services import push as push_service
from storage import audit
from storage import content as content_store
from storage import outbox as outbox_store
from storage.models import AuditLog, ContentItem
from tests.conftest import SHANGHAI, FixedClock
from tests.content_push.conftest import add_readers

NEW = NewItem(
    title="  冬季预防一氧化碳中毒 ",
    summary="\n用煤炉取暖要开窗通风，睡前熄火。 ",
    category="emergency",
    url=" https://kepu.test/co ",
    kind="poster",
    media_file_id="AgACphoto",
    regions=("330100", "330203"),
    tags=("取暖", "中毒"),
)


async def _create(session: AsyncSession, clock: FixedClock, **changes: object) -> ContentItem:
    new = dataclasses.replace(NEW, **changes)  # type: ignore[arg-type]
    return await create_item(
        session=session, new=new, taxonomy=default_taxonomy(), actor_id=None, now=clock()
    )


async def _count(session: AsyncSession, table: type) -> int:
    return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def _entries(session: AsyncSession, action: str) -> list[AuditLog]:
    return list(reversed(await audit.entries(session=session, action=action)))


# --- create -------------------------------------------------------------------------------
async def test_create_stores_trimmed_values_and_audits(
    session: AsyncSession, clock: FixedClock
) -> None:
    curator = await make_person(session, telegram_id=501, first_name="策展人")
    publish_at = clock() + dt.timedelta(days=2)
    item = await create_item(
        session=session,
        new=dataclasses.replace(NEW, publish_at=publish_at),
        taxonomy=default_taxonomy(),
        actor_id=curator.id,
        now=clock(),
    )
    assert item.id is not None
    session.expunge_all()
    stored = await content_store.get_item(session=session, content_id=item.id)
    assert stored is not None
    assert stored.title == "冬季预防一氧化碳中毒"
    assert stored.summary == "用煤炉取暖要开窗通风，睡前熄火。"
    assert stored.url == "https://kepu.test/co"
    assert (stored.category, stored.kind, stored.media_file_id) == (
        "emergency",
        "poster",
        "AgACphoto",
    )
    assert stored.regions == ["330100", "330203"] and stored.tags == ["取暖", "中毒"]
    assert stored.publish_at == publish_at and stored.created_at == clock()
    assert stored.source == "bot" and stored.created_by == curator.id
    assert stored.guid.startswith("bot:") and stored.retired_at is None
    assert item_state(stored, clock()) == "scheduled"

    (entry,) = await _entries(session, "content.create")
    assert (entry.actor_id, entry.subject_type, entry.subject_id) == (
        curator.id,
        "content",
        item.id,
    )
    assert entry.at == clock()
    assert entry.detail == {
        "title": "冬季预防一氧化碳中毒",
        "category": "emergency",
        "kind": "poster",
        "regions": ["330100", "330203"],
        "publish_at": publish_at.isoformat(),
    }


async def test_each_created_item_gets_its_own_guid(
    session: AsyncSession, clock: FixedClock
) -> None:
    first = await _create(session, clock)
    second = await _create(session, clock)  # the same text twice is allowed
    assert first.guid != second.guid
    assert item_state(first, clock()) == "draft"
    assert await _count(session, ContentItem) == 2


@pytest.mark.parametrize("limit", ["title", "summary"])
async def test_limits_are_inclusive(session: AsyncSession, clock: FixedClock, limit: str) -> None:
    size = {"title": 80, "summary": 800}[limit]
    item = await _create(session, clock, **{limit: "字" * size})
    assert len(getattr(item, limit)) == size
    with pytest.raises(CatalogueError) as caught:
        await _create(session, clock, **{limit: "字" * (size + 1)})
    assert caught.value.code == "too_long"
    assert caught.value.params == {"field": limit, "max": size, "length": size + 1}


BAD_NEW = [
    ({"category": "astrology"}, "bad_category"),
    ({"category": "卫生健康"}, "bad_category"),  # a name, not a code
    ({"title": "   "}, "empty"),
    ({"summary": ""}, "empty"),
    ({"url": ""}, "empty"),
    ({"url": "ftp://kepu.test/a"}, "bad_url"),
    ({"url": "javascript:alert(1)"}, "bad_url"),
    ({"url": "kepu.test/a"}, "bad_url"),
    ({"url": "https://"}, "bad_url"),
    ({"url": "https://kepu.test/a b"}, "bad_url"),
    ({"url": "https://kepu.test/" + "a" * 2100}, "bad_url"),
    ({"url": "https://kepu.test/a\x00b"}, "url_control"),
    ({"url": "https://kepu.test/a\x7fb"}, "url_control"),
    ({"url": "https://kepu.test/a\x0bb"}, "url_control"),
    ({"url": "https://kepu.test/\u200bx"}, "url_control"),
]


async def test_create_refuses_bad_input_and_writes_nothing(
    session: AsyncSession, clock: FixedClock
) -> None:
    for changes, code in BAD_NEW:
        with pytest.raises(CatalogueError) as caught:
            await _create(session, clock, **changes)
        assert caught.value.code == code, changes
    assert await _count(session, ContentItem) == 0
    assert await _count(session, AuditLog) == 0


async def test_http_and_https_links_are_accepted(session: AsyncSession, clock: FixedClock) -> None:
    for url in ("http://kepu.test/a", "HTTPS://KEPU.test/a?b=1#c", "https://科普.中国/页面"):
        item = await _create(session, clock, url=url)
        assert item.url == url


# --- edit ---------------------------------------------------------------------------------
async def test_edit_changes_each_field_and_audits_old_and_new(
    session: AsyncSession, clock: FixedClock
) -> None:
    curator = await make_person(session, telegram_id=502, first_name="策展人")
    item = await _create(session, clock)
    assert item.id is not None
    clock.advance(hours=1)
    changes = {"title": " 新标题 ", "summary": "新的摘要。", "url": "http://kepu.test/new"}
    olds = {"title": item.title, "summary": item.summary, "url": item.url}
    for name, value in changes.items():
        edited = await edit_item(
            session=session,
            content_id=item.id,
            field_name=name,
            value=value,
            actor_id=curator.id,
            now=clock(),
        )
        assert getattr(edited, name) == value.strip()

    session.expunge_all()
    stored = await content_store.get_item(session=session, content_id=item.id)
    assert stored is not None
    assert (stored.title, stored.summary, stored.url) == (
        "新标题",
        "新的摘要。",
        "http://kepu.test/new",
    )
    assert stored.category == "emergency" and stored.regions == ["330100", "330203"]
    entries = await _entries(session, "content.edit")
    assert [e.detail for e in entries] == [
        {"field": name, "old": olds[name], "new": value.strip()} for name, value in changes.items()
    ]
    assert {(e.actor_id, e.subject_id, e.at) for e in entries} == {(curator.id, item.id, clock())}


async def test_edit_refusals_leave_the_item_unchanged(
    session: AsyncSession, clock: FixedClock
) -> None:
    item = await _create(session, clock)
    assert item.id is not None
    refused = [
        ("category", "health", "not_editable"),
        ("guid", "x", "not_editable"),
        ("publish_at", "2026-12-01", "not_editable"),
        ("title", "  ", "empty"),
        ("title", "标" * 81, "too_long"),
        ("summary", "摘" * 801, "too_long"),
        ("url", "www.kepu.test", "bad_url"),
        ("url", "file:///etc/passwd", "bad_url"),
        ("url", "https://kepu.test/a\x1bb", "url_control"),
    ]
    for name, value, code in refused:
        with pytest.raises(CatalogueError) as caught:
            await edit_item(
                session=session,
                content_id=item.id,
                field_name=name,
                value=value,
                actor_id=None,
                now=clock(),
            )
        assert caught.value.code == code, (name, value)
    with pytest.raises(CatalogueError) as caught:
        await edit_item(
            session=session,
            content_id=item.id + 1000,
            field_name="title",
            value="新标题",
            actor_id=None,
            now=clock(),
        )
    assert caught.value.code == "not_found"

    session.expunge_all()
    stored = await content_store.get_item(session=session, content_id=item.id)
    assert stored is not None
    assert (stored.title, stored.summary, stored.url, stored.category) == (
        "冬季预防一氧化碳中毒",
        "用煤炉取暖要开窗通风，睡前熄火。",
        "https://kepu.test/co",
        "emergency",
    )
    assert await _entries(session, "content.edit") == []


# --- retire -------------------------------------------------------------------------------
async def test_retire_once_audited_then_refused(session: AsyncSession, clock: FixedClock) -> None:
    curator = await make_person(session, telegram_id=503, first_name="策展人")
    item = await _create(session, clock, publish_at=clock())
    assert item.id is not None and item_state(item, clock()) == "published"
    clock.advance(minutes=30)
    retired = await retire_item(
        session=session, content_id=item.id, actor_id=curator.id, now=clock()
    )
    assert retired.item.retired_at == clock() and retired.cancelled == 0
    session.expunge_all()
    stored = await content_store.get_item(session=session, content_id=item.id)
    assert stored is not None and stored.retired_at == clock()
    assert item_state(stored, clock()) == "retired"
    (entry,) = await _entries(session, "content.retire")
    assert (entry.actor_id, entry.subject_id, entry.detail) == (
        curator.id,
        item.id,
        {"title": "冬季预防一氧化碳中毒"},
    )

    clock.advance(minutes=30)
    with pytest.raises(CatalogueError) as caught:
        await retire_item(session=session, content_id=item.id, actor_id=None, now=clock())
    assert caught.value.code == "already_retired"
    with pytest.raises(CatalogueError) as caught:
        await retire_item(session=session, content_id=item.id + 1000, actor_id=None, now=clock())
    assert caught.value.code == "not_found"
    session.expunge_all()
    stored = await content_store.get_item(session=session, content_id=item.id)
    assert stored is not None and stored.retired_at == clock() - dt.timedelta(minutes=30)
    assert len(await _entries(session, "content.retire")) == 1


async def test_retired_items_leave_browse_and_search(
    session: AsyncSession, clock: FixedClock
) -> None:
    now = clock()
    kept = await _create(session, clock, publish_at=now)
    gone = await _create(session, clock, title="一氧化碳报警器", publish_at=now)
    await _create(session, clock, title="一氧化碳草稿")  # a draft: never visible
    assert kept.id is not None and gone.id is not None

    async def found(*words: str) -> list[int]:
        items, _ = await content_store.search(session=session, now=now, words=list(words))
        return sorted(i.id for i in items if i.id is not None)

    # Chinese substrings of titles and tags, on both backends; every word must match.
    assert await found("一氧化碳") == sorted([kept.id, gone.id])
    assert await found("中毒") == sorted([kept.id, gone.id])  # title of one, tag of both
    assert await found("报警器", "取暖") == [gone.id]
    assert await found("报警器", "不存在") == []
    assert await found("100%") == []  # LIKE wildcards are escaped

    await retire_item(session=session, content_id=gone.id, actor_id=None, now=now)
    assert await found("一氧化碳") == [kept.id]
    items, total = await content_store.browse(session=session, now=now)
    assert [i.id for i in items] == [kept.id] and total == 1


async def test_pushing_a_scheduled_item_now_brings_its_rows_forward(
    session: AsyncSession, clock: FixedClock
) -> None:
    """Regression: "Push now" on a scheduled item used to enqueue nothing (dedupe) and
    leave every message waiting for the scheduled time."""
    await add_readers(session, first_id=600)
    later = clock() + dt.timedelta(days=3)
    item = await _create(session, clock, publish_at=later)
    assert item.id is not None
    first = await push_service.push_item(
        session=session, content_id=item.id, now=clock(), tz=SHANGHAI, not_before=later
    )
    assert first.queued == 3
    assert {
        r.next_attempt_at for r in await outbox_store.messages_of(session=session, kind="content")
    } == {later}

    clock.advance(hours=1)
    second = await push_service.push_item(
        session=session, content_id=item.id, now=clock(), tz=SHANGHAI
    )
    assert second.queued == 3 and second.push_id != first.push_id
    rows = await outbox_store.messages_of(session=session, kind="content")
    assert len(rows) == 3
    assert {(r.push_id, r.state, r.next_attempt_at) for r in rows} == {
        (second.push_id, "pending", clock())
    }
    assert first.push_id is not None and second.push_id is not None
    old = await outbox_store.get_push(session=session, push_id=first.push_id)
    new = await outbox_store.get_push(session=session, push_id=second.push_id)
    assert old is not None and (old.total, old.finished_at) == (0, clock())
    assert new is not None and (new.total, new.finished_at) == (3, None)
    stored = await content_store.get_item(session=session, content_id=item.id)
    assert stored is not None and stored.publish_at == clock()

    # Published now: a further push brings nothing forward and queues nothing.
    third = await push_service.push_item(
        session=session, content_id=item.id, now=clock(), tz=SHANGHAI
    )
    assert third.queued == 0


# --- pure rules ---------------------------------------------------------------------------
def test_item_state_covers_every_state() -> None:
    now = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
    hour = dt.timedelta(hours=1)

    def state(**values: object) -> str:
        item = ContentItem(guid="g", title="t", category="health", kind="article", url="u")
        for key, value in values.items():
            setattr(item, key, value)
        return item_state(item, now)

    assert state() == "draft"
    assert state(publish_at=now + hour) == "scheduled"
    assert state(publish_at=now) == "published"
    assert state(publish_at=now - hour, expires_at=now + hour) == "published"
    assert state(publish_at=now - hour, expires_at=now) == "expired"
    # Retired wins over everything else.
    assert state(retired_at=now) == "retired"
    assert state(publish_at=now - hour, expires_at=now - hour, retired_at=now) == "retired"


def test_check_text_and_parse_regions() -> None:
    assert check_text("title", "  标题 \n") == "标题"
    assert check_text("url", " https://kepu.test/a ") == "https://kepu.test/a"
    assert check_text("tags", "x" * 5000) == "x" * 5000  # no limit for other fields

    assert parse_regions("330106") == ("330106",)
    assert parse_regions(" 330106, 330100，330106 330203 ") == ("330106", "330100", "330203")
    # Full-width digits (a Chinese IME) are folded; a code is never stored half full-width.
    assert parse_regions("３３０１０６，3３0100") == ("330106", "330100")
    assert not is_region_code("3３0100") and not is_region_code("３３０１０６")
    for bad, value in (("33010", "33010"), ("330106 abcdef", "abcdef"), ("030106", "030106")):
        with pytest.raises(CatalogueError) as caught:
            parse_regions(bad)
        assert (caught.value.code, caught.value.params) == ("bad_region", {"value": value})
    for empty in ("", " ,， "):
        with pytest.raises(CatalogueError) as caught:
            parse_regions(empty)
        assert caught.value.code == "empty"
