"""Feed import: RSS 2.0 and Atom fixtures, HTML stripping, errors, injected fetching."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.content.feeds import FeedError, html_to_text, parse_feed
from bot.content.taxonomy import Taxonomy, default_taxonomy

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
CST = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def taxonomy() -> Taxonomy:
    return default_taxonomy()


def test_rss_feed_maps_entries(taxonomy: Taxonomy) -> None:
    result = parse_feed(FEEDS / "rss_kepu.xml", default_category="daily_life", taxonomy=taxonomy)
    assert result.title == "科普中国 · 每日推荐"
    assert result.source == "feed:https://www.kepuchina.cn/"
    assert not result.bozo
    assert [item.guid for item in result.items] == [
        "kepu-rss-0001",
        "kepu-rss-0002",
        "https://www.kepuchina.cn/video/2024/mars",
    ]
    flu, scam, mars = result.items
    assert flu.title == "秋冬季节如何预防流感"
    assert flu.url == "https://www.kepuchina.cn/article/2024/flu-prevention"
    assert flu.category == "health"  # tag 健康 is an alias of health
    assert flu.kind == "article"
    assert flu.media_url == "https://img.kepuchina.cn/2024/flu.jpg"
    assert flu.media is None
    assert flu.publish_at == dt.datetime(2024, 10, 21, 8, 30, tzinfo=CST)
    assert flu.source == result.source
    assert scam.category == "anti_fraud"  # first tag 社会 is unknown, second 反诈 matches
    assert scam.tags == ("社会", "反诈")
    assert scam.publish_at == dt.datetime(2024, 10, 22, 2, 0, tzinfo=dt.UTC)
    assert mars.category == "daily_life"  # no tag matches: the default
    assert mars.kind == "video"  # video enclosure
    assert mars.media_url == "https://img.kepuchina.cn/2024/mars-thumb.png"


def test_html_in_summaries_is_stripped(taxonomy: Taxonomy) -> None:
    result = parse_feed(FEEDS / "rss_kepu.xml", default_category="daily_life", taxonomy=taxonomy)
    scam = result.items[1]
    lines = scam.summary.split("\n")
    assert lines == [
        "所有刷单都是诈骗！",
        "先给小额返利，再诱导大额转账。 遇到可疑情况请拨打 96110。",
    ]
    assert "<" not in scam.summary and "alert" not in scam.summary


def test_rss_rejections(taxonomy: Taxonomy) -> None:
    result = parse_feed(FEEDS / "rss_kepu.xml", default_category="daily_life", taxonomy=taxonomy)
    assert [(r.index, r.guid, r.code, r.field) for r in result.rejected] == [
        (3, "kepu-rss-0004", "missing_field", "url"),
        (4, "kepu-rss-0005", "bad_url", "url"),
    ]


def test_atom_feed_maps_entries(taxonomy: Taxonomy) -> None:
    result = parse_feed(FEEDS / "atom_kepu.xml", default_category="health", taxonomy=taxonomy)
    assert result.title == "科普中国 · 前沿速递"
    assert result.rejected == []
    beidou, battery, plain = result.items
    assert beidou.guid == "tag:kepuchina.cn,2024:frontier/beidou"
    assert beidou.title == "北斗系统全球组网的意义"
    assert beidou.summary == "北斗三号全球卫星导航系统于2020年正式开通。\n定位\n授时"
    assert beidou.category == "frontier"
    assert beidou.media_url == "https://img.kepuchina.cn/beidou.png"
    assert beidou.publish_at == dt.datetime(2024, 11, 1, 8, 0, tzinfo=CST)  # published wins
    assert battery.category == "environment"  # "Ecology" is an alias, case-insensitive
    assert battery.summary == "充电电池、纽扣电池属于有害垃圾。"  # from <content>
    assert battery.publish_at == dt.datetime(2024, 11, 2, 9, 30, tzinfo=dt.UTC)  # updated
    assert plain.category == "health"
    assert plain.title == "文本摘要 <不是标签>"  # type="text": angle brackets are text
    assert plain.summary == "1 < 2 是对的。"


def test_duplicate_guids_are_rejected(taxonomy: Taxonomy) -> None:
    result = parse_feed(
        FEEDS / "rss_duplicates.xml", default_category="emergency", taxonomy=taxonomy
    )
    assert [item.guid for item in result.items] == [
        "notice-1",
        "https://kx.example.gov.cn/notice/2",
    ]
    assert [(r.index, r.code, r.params) for r in result.rejected] == [
        (1, "duplicate_guid", {"first_index": 0}),
        (3, "duplicate_guid", {"first_index": 2}),
    ]


def test_malformed_feed_is_one_error(taxonomy: Taxonomy) -> None:
    with pytest.raises(FeedError) as caught:
        parse_feed(FEEDS / "malformed.xml", default_category="health", taxonomy=taxonomy)
    assert caught.value.code == "malformed_feed"


def test_html_page_is_not_a_feed(taxonomy: Taxonomy) -> None:
    page = b"<!DOCTYPE html><html><head><title>x</title></head><body><p>hi</p></body></html>"
    with pytest.raises(FeedError) as caught:
        parse_feed(page, default_category="health", taxonomy=taxonomy)
    assert caught.value.code in {"malformed_feed", "not_a_feed"}


def test_declared_gb2312_bytes_are_decoded(taxonomy: Taxonomy) -> None:
    data = (FEEDS / "rss_gb2312.xml").read_bytes()
    result = parse_feed(data, default_category="emergency", taxonomy=taxonomy)
    assert result.title == "县科协通知"
    assert result.items[0].title == "冬季防火"


def test_xml_text_with_stale_encoding_declaration(taxonomy: Taxonomy) -> None:
    text = (FEEDS / "rss_gb2312.xml").read_bytes().decode("gb2312")
    result = parse_feed(text, default_category="emergency", taxonomy=taxonomy)
    assert result.items[0].summary == "出门前关闭电源和燃气。"


def test_url_is_fetched_only_through_the_injected_fetch(taxonomy: Taxonomy) -> None:
    calls: list[str] = []
    body = (FEEDS / "atom_kepu.xml").read_bytes()

    def fetch(url: str) -> bytes:
        calls.append(url)
        return body

    url = "https://feeds.example.org/kepu.atom"
    result = parse_feed(url, default_category="health", taxonomy=taxonomy, fetch=fetch)
    assert calls == [url]
    assert result.source == f"feed:{url}"
    assert len(result.items) == 3


def test_url_without_fetch_is_refused(taxonomy: Taxonomy) -> None:
    with pytest.raises(FeedError) as caught:
        parse_feed("https://feeds.example.org/x.rss", default_category="health", taxonomy=taxonomy)
    assert caught.value.code == "fetch_required"


def test_fetch_failure_is_wrapped(taxonomy: Taxonomy) -> None:
    def fetch(url: str) -> bytes:
        raise TimeoutError("slow server")

    with pytest.raises(FeedError) as caught:
        parse_feed(
            "http://feeds.example.org/x.rss",
            default_category="health",
            taxonomy=taxonomy,
            fetch=fetch,
        )
    assert caught.value.code == "fetch_failed"
    assert "slow server" in caught.value.params["detail"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"default_category": "astrology"}, "bad_default_category"),
        ({"default_category": "health", "default_kind": "podcast"}, "bad_default_kind"),
    ],
)
def test_bad_defaults(taxonomy: Taxonomy, kwargs: dict[str, str], code: str) -> None:
    with pytest.raises(FeedError) as caught:
        parse_feed(FEEDS / "rss_kepu.xml", taxonomy=taxonomy, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == code


def test_missing_file_and_empty_source(taxonomy: Taxonomy, tmp_path: Path) -> None:
    with pytest.raises(FeedError) as missing:
        parse_feed(tmp_path / "absent.xml", default_category="health", taxonomy=taxonomy)
    with pytest.raises(FeedError) as empty:
        parse_feed(b"  \n", default_category="health", taxonomy=taxonomy)
    assert (missing.value.code, empty.value.code) == ("not_found", "empty_source")


def test_explicit_name_sets_the_source(taxonomy: Taxonomy) -> None:
    result = parse_feed(
        FEEDS / "rss_duplicates.xml",
        default_category="health",
        taxonomy=taxonomy,
        name="county-notices",
    )
    assert {item.source for item in result.items} == {"feed:county-notices"}


def test_long_summary_is_truncated(taxonomy: Taxonomy) -> None:
    body = "字" * 2000
    rss = (
        '<rss version="2.0"><channel><title>t</title><item><title>长文</title>'
        f"<link>https://a.example.org/1</link><description>{body}</description>"
        "</item></channel></rss>"
    )
    item = parse_feed(rss, default_category="health", taxonomy=taxonomy).items[0]
    assert len(item.summary) == 800
    assert item.summary.endswith("…")


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>一</p><p>二</p>", "一\n二"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ("&lt;b&gt; &amp; &#20013;", "<b> & 中"),
        ("<style>p{}</style><script>x()</script>正文", "正文"),
        ("  多个   空格\t和换行\n\n", "多个 空格 和换行"),
        ("<p>未闭合 <b>标签", "未闭合 标签"),
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_feed_links_with_control_characters_are_refused(taxonomy: Taxonomy) -> None:
    rss = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>t</title><link>https://www.kepuchina.cn/</link>
<item><guid>ok</guid><title>好</title><link>https://www.kepuchina.cn/ok</link></item>
<item><guid>del</guid><title>坏</title><link>https://www.kepuchina.cn/a&#x7f;b</link></item>
<item><guid>bidi</guid><title>坏</title><link>https://www.kepuchina.cn/&#x202e;fdp</link></item>
<item><guid>ftp</guid><title>坏</title><link>ftp://www.kepuchina.cn/x</link></item>
</channel></rss>"""
    result = parse_feed(rss.encode(), default_category="daily_life", taxonomy=taxonomy)
    assert [item.guid for item in result.items] == ["ok"]
    assert [(r.guid, r.code) for r in result.rejected] == [
        ("del", "url_control"),
        ("bidi", "url_control"),
        ("ftp", "bad_url"),
    ]
    assert result.rejected[0].params == {"value": "https://www.kepuchina.cn/a\\x7fb"}
