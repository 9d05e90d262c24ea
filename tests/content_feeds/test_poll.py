"""Feed polling against a loopback HTTP server: validators, drafts, enclosures, duplicates,
failures told once, the job in the assembly — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.app import FEATURES
from bot.config import FeedSettings
from bot.content import feed_poll
from bot.content.feed_poll import FeedDraftAction, PollResult
from bot.content.feeds import normalise_key
from bot.content.taxonomy import default_taxonomy
from bot.handlers.feature import Assembly
from bot.i18n import get_translator
from bot.jobs import FEEDS_POLL, describe_result, feeds_period, feeds_trigger
from bot.runtime.context import Runtime
from bot.runtime.scheduler import run_job
from bot.services import roles
from storage import feeds as feed_store
from storage import outbox as outbox_store
from storage.feeds import FeedConfig
from storage.models import AuditLog, ContentItem, FeedEntry, FeedSource, OutboxMessage
from tests.conftest import FIXED_NOW, FixedClock, make_settings
from tests.content_feeds.conftest import FeedServer

CURATOR = 4242
LAST_MODIFIED = "Sun, 22 Nov 2026 04:00:00 GMT"


def config(url: str, name: str, *, auto: bool = False, category: str = "daily_life") -> FeedConfig:
    return FeedConfig(url, name, category, "article", auto, ())


async def poll(
    runtime: Runtime, *configs: FeedConfig, timeout: float = 5.0, only: int | None = None
) -> PollResult:
    return await feed_poll.poll_feeds(
        sessions=runtime.sessions,
        taxonomy=default_taxonomy(),
        now=runtime.now,
        fetch=feed_poll.conditional_fetcher(timeout),
        configs=configs,
        only=only,
    )


async def add_curator(runtime: Runtime) -> None:
    async with runtime.sessions() as s, s.begin():
        await roles.grant(session=s, telegram_id=CURATOR, role="curator", now=runtime.now())


async def items(runtime: Runtime) -> list[ContentItem]:
    async with runtime.sessions() as s:
        return list((await s.execute(select(ContentItem).order_by(ContentItem.id))).scalars())


async def notices(runtime: Runtime) -> list[OutboxMessage]:
    async with runtime.sessions() as s:
        rows = await outbox_store.messages_of(session=s, kind="message")
    return [r for r in rows if r.chat_id == CURATOR]


async def feed_named(runtime: Runtime, name: str) -> FeedSource:
    async with runtime.sessions() as s:
        feeds = await feed_store.list_feeds(session=s)
    return next(f for f in feeds if f.name == name)


async def test_validators_are_sent_back_and_304_does_nothing(
    runtime: Runtime, feed_server: FeedServer, clock: FixedClock
) -> None:
    url = feed_server.serve("/a.xml", "kepu_a.xml", etag='"v1"', last_modified=LAST_MODIFIED)
    first = await poll(runtime, config(url, "科普中国"))
    assert first.as_dict()["drafts"] == 2
    feed = await feed_named(runtime, "科普中国")
    assert (feed.etag, feed.last_modified, feed.status) == ('"v1"', LAST_MODIFIED, "ok")
    assert feed.last_polled_at == FIXED_NOW

    clock.advance(minutes=30)
    second = await poll(runtime, config(url, "科普中国"))
    # The first request had nothing to send back; the second sent both validators.
    assert feed_server.seen("/a.xml") == [(None, None), ('"v1"', LAST_MODIFIED)]
    assert second.as_dict() == {
        "feeds": 1,
        "drafts": 0,
        "published": 0,
        "duplicates": 0,
        "not_modified": 1,
        "errors": 0,
    }
    feed = await feed_named(runtime, "科普中国")
    assert feed.status == "not_modified" and feed.last_polled_at == FIXED_NOW + dt.timedelta(
        minutes=30
    )
    assert len(await items(runtime)) == 2

    # A changed feed (new ETag) is read again; entries it carried before are not new.
    feed_server.routes["/a.xml"].etag = '"v2"'
    clock.advance(minutes=30)
    third = await poll(runtime, config(url, "科普中国"))
    assert third.feeds[0].status == "ok" and third.feeds[0].seen == 2
    assert len(await items(runtime)) == 2
    assert (await feed_named(runtime, "科普中国")).etag == '"v2"'


async def test_last_modified_alone_is_sent_back(runtime: Runtime, feed_server: FeedServer) -> None:
    url = feed_server.serve("/lm.xml", "kepu_a.xml", last_modified=LAST_MODIFIED)
    await poll(runtime, config(url, "仅日期"))
    again = await poll(runtime, config(url, "仅日期"))
    assert feed_server.seen("/lm.xml") == [(None, None), (None, LAST_MODIFIED)]
    assert again.feeds[0].status == "not_modified"


async def test_drafts_wait_for_a_curator_and_auto_feeds_publish(
    runtime: Runtime, feed_server: FeedServer
) -> None:
    await add_curator(runtime)
    a = feed_server.serve("/a.xml", "kepu_a.xml")
    b = feed_server.serve("/b.xml", "local_b.xml")
    result = await poll(runtime, config(a, "科普中国"), config(b, "西湖区", auto=True))
    by_name = {f.name: f for f in result.feeds}
    assert len(by_name["科普中国"].drafts) == 2 and by_name["科普中国"].published == []
    # Feed B: two entries are A's stories, one is its own and is published at once.
    assert by_name["西湖区"].duplicates == 2 and len(by_name["西湖区"].published) == 1
    stored = {i.title: i for i in await items(runtime)}
    assert stored["冬季如何预防一氧化碳中毒"].publish_at is None  # a draft
    own = stored["西湖区全国科普日活动回顾"]
    # Published as of the entry's date (never later than now): the daily push looks back
    # a week, so a new feed's old archive is not pushed.
    assert own.publish_at == dt.datetime(2026, 11, 22, 7, 0, tzinfo=dt.UTC)
    assert own.source == "feed:西湖区"

    (draft_notice, auto_notice) = await notices(runtime)
    assert "科普中国" in draft_notice.payload["text"] and "2" in draft_notice.payload["text"]
    datas = [b["callback_data"] for row in draft_notice.payload["rows"] for b in row]
    ids = by_name["科普中国"].drafts
    assert datas == [
        FeedDraftAction("pub", ids[0]).encode(),
        FeedDraftAction("drop", ids[0]).encode(),
        FeedDraftAction("pub", ids[1]).encode(),
        FeedDraftAction("drop", ids[1]).encode(),
    ]
    assert "自动发布" in auto_notice.payload["text"] and "rows" not in auto_notice.payload


async def test_enclosures_are_kept_with_their_kind(
    runtime: Runtime, feed_server: FeedServer
) -> None:
    a = feed_server.serve("/a.xml", "kepu_a.xml")
    b = feed_server.serve("/b.xml", "local_b.xml")
    await poll(runtime, config(a, "科普中国"), config(b, "西湖区"))
    stored = {i.title: i for i in await items(runtime)}
    video = stored["冬季如何预防一氧化碳中毒"]
    assert video.kind == "video"
    assert video.media_path == "https://v.kepuchina.cn/2026/co.mp4"  # 7 MB: the card carries it
    poster = stored["秋冬季节科学洗手挂图"]
    assert poster.media_path == "https://img.kepuchina.cn/2026/handwash.png"
    big = stored["西湖区全国科普日活动回顾"]
    assert big.kind == "video" and big.media_path is None  # 100 MB: too big to send by URL
    async with runtime.sessions() as s:
        entries = list((await s.execute(select(FeedEntry).order_by(FeedEntry.id))).scalars())
    enclosures = {(e.enclosure_url, e.enclosure_type, e.enclosure_length) for e in entries}
    assert ("https://v.kepuchina.cn/2026/co.mp4", "video/mp4", 7340032) in enclosures
    assert ("https://img.kepuchina.cn/2026/handwash.png", "image/png", 524288) in enclosures
    assert ("https://kx.xihu.test/v/5.mp4", "video/mp4", 104857600) in enclosures


async def test_one_story_in_two_feeds_is_one_item_with_both_carriers(
    runtime: Runtime, feed_server: FeedServer
) -> None:
    a = feed_server.serve("/a.xml", "kepu_a.xml")
    b = feed_server.serve("/b.xml", "local_b.xml")
    await poll(runtime, config(a, "科普中国"), config(b, "西湖区"))
    stored = await items(runtime)
    assert len(stored) == 3  # 2 from A, B's own 1; B's two reposts are A's items
    by_title = {i.title: i.id for i in stored}
    async with runtime.sessions() as s:
        carried = await feed_store.carriers(session=s, content_ids=by_title.values())
    # Same title on the same day (other guid and link) and the same link (http, www, /).
    assert carried[by_title["冬季如何预防一氧化碳中毒"]] == ["科普中国", "西湖区"]
    assert carried[by_title["秋冬季节科学洗手挂图"]] == ["科普中国", "西湖区"]
    assert carried[by_title["西湖区全国科普日活动回顾"]] == ["西湖区"]
    # Polling both again adds nothing: each feed knows its own entries.
    feed_server.routes["/a.xml"].etag = None
    again = await poll(runtime, config(a, "科普中国"), config(b, "西湖区"))
    assert again.as_dict()["drafts"] == 0 and again.as_dict()["duplicates"] == 0
    assert len(await items(runtime)) == 3


def test_keys_fold_what_feeds_disagree_on() -> None:
    assert normalise_key("http://www.Kepu.test/a/?utm_source=x&id=3#top") == (
        "https://kepu.test/a?id=3"
    )
    assert normalise_key("  kepu-a-0001 ") == "kepu-a-0001"


async def test_failures_are_told_once_per_streak_and_recovery_once(
    runtime: Runtime, feed_server: FeedServer, clock: FixedClock
) -> None:
    await add_curator(runtime)
    url = feed_server.serve("/a.xml", "kepu_a.xml", status=503)
    feeds = (config(url, "科普中国"),)
    for _ in range(3):
        result = await poll(runtime, *feeds)
        clock.advance(minutes=30)
    assert result.feeds[0].status == "error"
    sent = await notices(runtime)
    assert len(sent) == 1
    assert "“科普中国”" in sent[0].payload["text"] and "HTTP 503" in sent[0].payload["text"]
    feed = await feed_named(runtime, "科普中国")
    assert (feed.status, feed.error, feed.error_detail) == ("error", "http_status", "503")
    assert feed.failing_since == FIXED_NOW and feed.error_reported

    feed_server.routes["/a.xml"].status = 200
    await poll(runtime, *feeds)
    sent = await notices(runtime)
    assert len(sent) == 3  # the recovery, then the new drafts
    assert "可以正常读取" in sent[1].payload["text"]
    feed = await feed_named(runtime, "科普中国")
    assert feed.error is None and not feed.error_reported and feed.failing_since is None


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (b"<html><body>not a feed</body></html>", "unparseable", "不是可读取的"),
        (b"", "unparseable", "不是可读取的"),
    ],
)
async def test_unreadable_documents_are_errors(
    runtime: Runtime, feed_server: FeedServer, body: bytes, code: str, words: str
) -> None:
    await add_curator(runtime)
    url = feed_server.serve("/bad.xml", body)
    result = await poll(runtime, config(url, "坏源"))
    assert result.feeds[0].status == "error" and result.feeds[0].error == code
    assert words in (await notices(runtime))[0].payload["text"]


async def test_bozo_feed_keeps_readable_entries_and_warns_once(
    runtime: Runtime, feed_server: FeedServer
) -> None:
    await add_curator(runtime)
    broken = (
        b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
        b"<item><title>\xe6\xad\xa3\xe5\xb8\xb8</title><link>https://k.test/1</link>"
        b"<guid>g1</guid></item><item><title>bad & broken</title></item></channel></rss>"
    )
    url = feed_server.serve("/bozo.xml", broken)
    result = await poll(runtime, config(url, "半坏"))
    outcome = result.feeds[0]
    assert outcome.status == "warning" and outcome.error == "bozo" and len(outcome.drafts) == 1
    texts = [n.payload["text"] for n in await notices(runtime)]
    assert any("XML 有损坏" in text for text in texts)
    await poll(runtime, config(url, "半坏"))
    assert sum("XML 有损坏" in n.payload["text"] for n in await notices(runtime)) == 1


async def test_timeout_and_refused_connection_never_raise(
    runtime: Runtime, feed_server: FeedServer
) -> None:
    hang = feed_server.serve("/hang.xml", "kepu_a.xml", hang=True)
    refused = "http://127.0.0.1:9/feed.xml"  # the discard port: nothing listens
    result = await poll(runtime, config(hang, "慢源"), config(refused, "无人"), timeout=0.5)
    errors = {f.name: f.error for f in result.feeds}
    assert errors == {"慢源": "timeout", "无人": "unreachable"}
    t = get_translator("zh_CN")
    feed = await feed_named(runtime, "慢源")
    assert "秒内没有回应" in feed_poll.error_text(t, feed.error, feed.error_detail)


async def test_a_feed_dropped_from_the_config_is_no_longer_polled(
    runtime: Runtime, feed_server: FeedServer
) -> None:
    a = feed_server.serve("/a.xml", "kepu_a.xml")
    await poll(runtime, config(a, "科普中国"))
    result = await poll(runtime)
    assert result.feeds == []
    feed = await feed_named(runtime, "科普中国")
    assert not feed.active


async def test_the_poll_job_is_declared_and_described(runtime: Runtime) -> None:
    assert Assembly.of(FEATURES).jobs["feeds_poll"] is FEEDS_POLL
    settings = make_settings("sqlite+aiosqlite://", content={"feed_poll_minutes": 15})
    trigger = feeds_trigger(settings)
    tz = settings.scheduler.tz
    start = dt.datetime(2026, 11, 23, 10, 7, tzinfo=tz)
    fire = trigger.get_next_fire_time(None, start)
    assert fire is not None and (fire.hour, fire.minute) == (10, 15)
    assert feeds_period(fire) == "2026-11-23T10:15"
    assert FEEDS_POLL.validate_period("2026-11-23T10:15")
    assert not FEEDS_POLL.validate_period("2026-11-23")
    hourly = feeds_trigger(
        make_settings("sqlite+aiosqlite://", content={"feed_poll_minutes": 120})
    )
    later = hourly.get_next_fire_time(None, start)
    assert later is not None and (later.hour, later.minute) == (12, 0)
    text = describe_result(
        "feeds_poll",
        {"feeds": 2, "drafts": 3, "published": 1, "duplicates": 2, "not_modified": 0, "errors": 1},
        get_translator("zh_CN"),
    )
    assert "3" in text and "订阅源" in text


async def test_the_job_runs_through_the_scheduler_machinery(
    runtime: Runtime, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/a.xml", "kepu_a.xml")
    runtime.settings.content.feeds.append(
        FeedSettings(url=url, name="科普中国", category="health")
    )
    outcome = await run_job(runtime, FEEDS_POLL, period="2026-11-23T10:00")
    assert outcome.status == "done" and outcome.result["drafts"] == 2
    again = await run_job(runtime, FEEDS_POLL, period="2026-11-23T10:00")
    assert again.status == "skipped"  # one poll per slot, however often fired
    async with runtime.sessions() as s:
        audits = list(
            (
                await s.execute(select(AuditLog).where(AuditLog.action == "content.feed_poll"))
            ).scalars()
        )
    assert [len(a.detail["drafts"]) for a in audits] == [2]


def _rss(guid: str, title: str, link: str) -> bytes:
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
        f"<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>"
        "<pubDate>Sun, 22 Nov 2026 08:30:00 +0800</pubDate></item></channel></rss>"
    ).encode()


async def test_feed_local_guids_do_not_make_duplicates(
    runtime: Runtime, feed_server: FeedServer
) -> None:
    one = feed_server.serve("/one.xml", _rss("1", "垃圾分类指南", "https://one.test/a/1"))
    two = feed_server.serve("/two.xml", _rss("1", "用电安全常识", "https://two.test/p/1"))
    result = await poll(runtime, config(one, "一号"), config(two, "二号"))
    assert [len(f.drafts) for f in result.feeds] == [1, 1]
    assert result.as_dict()["duplicates"] == 0
    guids = sorted(i.guid for i in await items(runtime))
    assert guids == [f"{one}#1", f"{two}#1"]


async def test_a_long_archive_makes_one_short_notice(
    runtime: Runtime, feed_server: FeedServer
) -> None:
    await add_curator(runtime)
    entries = "".join(
        f"<item><title>第{n}篇</title><link>https://arch.test/{n}</link>"
        f"<guid>https://arch.test/{n}</guid></item>"
        for n in range(1, 13)
    )
    body = f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>{entries}"
    url = feed_server.serve("/arch.xml", (body + "</channel></rss>").encode())
    result = await poll(runtime, config(url, "档案"))
    assert len(result.feeds[0].drafts) == 12
    (notice,) = await notices(runtime)
    text = notice.payload["text"]
    assert "#10 第10篇\n……另有2条\n其余草稿请在 /catalog 中查看。" in text
    assert "第11篇" not in text
    assert len(notice.payload["rows"]) == 5  # Publish / Discard for the first five


async def test_a_configured_category_outside_the_taxonomy_is_named(
    runtime: Runtime, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/a.xml", "kepu_a.xml")
    result = await poll(runtime, config(url, "错分类", category="astrology"))
    assert result.feeds[0].error == "bad_settings"
    feed = await feed_named(runtime, "错分类")
    text = feed_poll.error_text(get_translator("zh_CN"), feed.error, feed.error_detail)
    assert text == "分类或类型“astrology”不在分类表中"


async def test_a_broken_document_is_fetched_in_full_again(
    runtime: Runtime, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/x.xml", b"<html>maintenance</html>", etag='"broken"')
    first = await poll(runtime, config(url, "维护中"))
    second = await poll(runtime, config(url, "维护中"))
    # No validator of the unreadable page was kept, so no 304 hides the failure.
    assert feed_server.seen("/x.xml") == [(None, None), (None, None)]
    assert [first.feeds[0].status, second.feeds[0].status] == ["error", "error"]


async def test_no_transaction_is_open_while_fetching(runtime: Runtime) -> None:
    """The fetcher writes the database itself mid-fetch (as a curator's /feeds remove
    would): that only works if the poll holds no transaction across the fetch; the poll
    then sees the feed is gone and records nothing for it."""
    url = "http://feeds.test/a.xml"

    async def fetch(u: str, etag: str | None, last_modified: str | None) -> feed_poll.Fetched:
        async with runtime.sessions() as s, s.begin():
            feed = await feed_store.get_feed_by_url(session=s, url=u)
            assert feed is not None and feed.id is not None
            await feed_store.update_feed(session=s, feed_id=feed.id, active=False)
        return feed_poll.Fetched(200, b"<rss version='2.0'><channel/></rss>", etag='"e"')

    result = await feed_poll.poll_feeds(
        sessions=runtime.sessions,
        taxonomy=default_taxonomy(),
        now=runtime.now,
        fetch=fetch,
        configs=(config(url, "中途删除"),),
    )
    assert [f.status for f in result.feeds] == ["removed"]
    feed = await feed_named(runtime, "中途删除")
    assert not feed.active and feed.last_polled_at is None and feed.etag is None
