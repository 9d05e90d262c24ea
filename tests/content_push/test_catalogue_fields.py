"""Catalogue field readers and two-step publishing rules, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.catalogue import (
    CatalogueError,
    Media,
    NewItem,
    check_document,
    create_item,
    decide_review,
    read_interests,
    read_regions,
    read_tags,
    read_time,
    request_review,
    set_fields,
)
from bot.content.taxonomy import default_taxonomy
from bot.core.zh_dates import DateError
from bot.sandbox.factories import make_person, make_region_tree
from bot.services import push as push_service
from storage import content as content_store
from tests.conftest import SHANGHAI, FixedClock

NEW = NewItem(
    title="冬季预防一氧化碳中毒",
    summary="用煤炉取暖要开窗通风。",
    category="emergency",
    url="https://kepu.test/co",
)


def _code(call: object) -> str:
    try:
        call()  # type: ignore[operator]
    except CatalogueError as exc:
        return exc.code
    return "ok"


def test_tags_are_split_and_bounded() -> None:
    assert read_tags("取暖，中毒、#冬季 取暖") == ("取暖", "中毒", "冬季")
    assert read_tags("ａｂｃ；def") == ("abc", "def")  # full width folds
    assert _code(lambda: read_tags("  ，、 ")) == "empty"
    assert _code(lambda: read_tags("一" * 21)) == "tag_too_long"
    assert _code(lambda: read_tags(" ".join(str(i) for i in range(11)))) == "too_many_tags"


def test_interests_read_category_names_and_aliases() -> None:
    taxonomy = default_taxonomy()
    assert read_interests("健康 应急 健康", taxonomy) == ("health", "emergency")
    assert _code(lambda: read_interests("健康 火星", taxonomy)) == "bad_category"


def test_each_kind_accepts_its_files_only() -> None:
    assert _code(lambda: check_document("document", "application/pdf", "a.pdf")) == "ok"
    assert _code(lambda: check_document("document", None, "a.PDF")) == "ok"
    assert _code(lambda: check_document("document", "application/msword", "a.doc")) == "not_pdf"
    assert _code(lambda: check_document("poster", "image/png", "a.png")) == "ok"
    assert _code(lambda: check_document("poster", "application/pdf", "a.pdf")) == "not_image"
    assert _code(lambda: check_document("video", "video/mp4", "a.mp4")) == "ok"
    assert _code(lambda: check_document("video", "image/png", "a.png")) == "not_video"


def test_times_are_natural_and_in_the_future(clock: FixedClock) -> None:
    now = clock()
    when = read_time("明天上午9点", now=now, tz=SHANGHAI)
    assert when == dt.datetime(2026, 11, 24, 9, tzinfo=SHANGHAI) and when.tzinfo == dt.UTC
    assert read_time("下周一", now=now, tz=SHANGHAI).astimezone(SHANGHAI).weekday() == 0
    with pytest.raises(DateError):
        read_time("过几天", now=now, tz=SHANGHAI)


async def test_regions_by_code_or_name(session: AsyncSession) -> None:
    await make_region_tree(session, ("330106", "330203"))
    assert await read_regions(session=session, text="杭州 西湖区，330203") == (
        "330100",
        "330106",
        "330203",
    )
    for text, code in (("月球", "unknown_region_name"), ("33010", "bad_region"), (" ", "empty")):
        with pytest.raises(CatalogueError) as caught:
            await read_regions(session=session, text=text)
        assert caught.value.code == code


async def test_kinds_need_their_files(session: AsyncSession, clock: FixedClock) -> None:
    taxonomy = default_taxonomy()
    for kind, code in (("poster", "poster_needs_image"), ("document", "document_needs_pdf")):
        with pytest.raises(CatalogueError) as caught:
            await create_item(
                session=session,
                new=dataclasses.replace(NEW, kind=kind),
                taxonomy=taxonomy,
                actor_id=None,
                now=clock(),
            )
        assert caught.value.code == code
    pdf = Media(original_file_id="BQAD", original_mime="application/pdf", original_size=9)
    item = await create_item(
        session=session,
        new=dataclasses.replace(NEW, kind="document", media=pdf),
        taxonomy=taxonomy,
        actor_id=None,
        now=clock(),
    )
    assert (item.kind, item.original_file_id, item.original_size) == ("document", "BQAD", 9)
    # Taking its PDF away is refused; the item keeps it.
    assert item.id is not None
    with pytest.raises(CatalogueError) as caught:
        await set_fields(
            session=session,
            content_id=item.id,
            field_name="media",
            values={"original_file_id": None},
            actor_id=None,
            now=clock(),
        )
    assert caught.value.code == "document_needs_pdf"


async def test_review_gate(session: AsyncSession, clock: FixedClock) -> None:
    author = await make_person(session, telegram_id=601, first_name="作者")
    other = await make_person(session, telegram_id=602, first_name="审核人")
    item = await create_item(
        session=session,
        new=dataclasses.replace(NEW, review=True, publish_at=clock()),
        taxonomy=default_taxonomy(),
        actor_id=author.id,
        now=clock(),
    )
    assert item.id is not None and item.review_state == "pending"
    tz = SHANGHAI
    # Hidden and unpushable while it waits, also for the daily push.
    assert (
        await content_store.daily_candidates(
            session=session, now=clock(), since=clock() - dt.timedelta(days=1), limit=5
        )
        == []
    )
    with pytest.raises(push_service.PushError) as refused:
        await push_service.push_item(session=session, content_id=item.id, now=clock(), tz=tz)
    assert refused.value.code == "not_approved"
    with pytest.raises(CatalogueError) as own:
        await decide_review(
            session=session, content_id=item.id, approve=True, actor_id=author.id, now=clock()
        )
    assert own.value.code == "own_item"
    approved = await decide_review(
        session=session, content_id=item.id, approve=True, actor_id=other.id, now=clock()
    )
    assert (approved.review_state, approved.reviewed_by) == ("approved", other.id)
    candidates = await content_store.daily_candidates(
        session=session,
        now=clock(),
        since=clock() - dt.timedelta(days=1),
        limit=5,
        approved_only=True,
    )
    assert [c.id for c in candidates] == [item.id]
    with pytest.raises(CatalogueError) as twice:
        await request_review(session=session, content_id=item.id, actor_id=author.id, now=clock())
    assert twice.value.code == "already_approved"
    # An edit in review mode withdraws the approval; the gate closes again.
    await set_fields(
        session=session,
        content_id=item.id,
        field_name="title",
        values={"title": "新标题"},
        actor_id=author.id,
        now=clock(),
        review=True,
    )
    stored = await content_store.get_item(session=session, content_id=item.id)
    assert stored is not None and stored.review_state is None
    with pytest.raises(push_service.PushError):
        await push_service.push_item(
            session=session, content_id=item.id, now=clock(), tz=tz, require_approval=True
        )
    # Without the setting an item never asked for review pushes as before.
    result = await push_service.push_item(session=session, content_id=item.id, now=clock(), tz=tz)
    assert result.push_id is not None
