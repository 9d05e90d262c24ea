"""Content pack parsing: valid packs, every rejection code, malformed manifests."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.content.packs import (
    ContentDraft,
    PackError,
    Rejection,
    parse_pack,
    to_aware_datetime,
)
from bot.content.taxonomy import Taxonomy, default_taxonomy
from bot.core.urls import is_http_url

PACKS = Path(__file__).resolve().parents[1] / "fixtures" / "packs"
CST = dt.timezone(dt.timedelta(hours=8))
VALID_ITEM = {
    "guid": "t-1",
    "title": "标题",
    "summary": "摘要内容",
    "category": "health",
    "kind": "article",
    "url": "https://www.kepuchina.cn/t/1",
}


@pytest.fixture
def taxonomy() -> Taxonomy:
    return default_taxonomy()


def write_json_pack(root: Path, items: Sequence[object]) -> Path:
    """Write a ``pack.json`` with ``items`` into ``root`` and return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pack.json").write_text(json.dumps({"items": items}), encoding="utf-8")
    return root


def test_good_pack(taxonomy: Taxonomy) -> None:
    result = parse_pack(PACKS / "good", taxonomy, CST)
    assert result.rejected == []
    assert result.pack.name == "county-demo"
    assert result.pack.title == "示范县科协内容包"
    assert result.pack.version == "2024.09"
    assert [item.guid for item in result.items] == ["demo-001", "demo-002", "demo-003"]
    first = result.items[0]
    assert first == ContentDraft(
        guid="demo-001",
        title="全国科普日：走进科技馆",
        summary="九月是全国科普日，各地科技馆开放日活动丰富，带上孩子一起去看看吧。",
        category="children",
        kind="poster",
        url="https://www.kepuchina.cn/demo/science-day",
        source="pack:county-demo",
        media=(PACKS / "good" / "media" / "poster.png").resolve(),
        tags=("科普日", "科技馆"),
        regions=("330106", "330110"),
        publish_at=dt.datetime(2024, 9, 14, 9, 0, tzinfo=CST),
        expires_at=dt.datetime(2024, 9, 30, 23, 59, 59, tzinfo=CST),
        campaign="science_day",
        title_en="Science Day: visit a science museum",
        summary_en="September brings National Science Popularization Day with open days at "
        "science museums.",
    )
    assert first.media is not None and first.media.is_absolute() and first.media.is_file()


def test_naive_and_date_only_times_are_shanghai(taxonomy: Taxonomy) -> None:
    items = {item.guid: item for item in parse_pack(PACKS / "good", taxonomy, CST).items}
    publish = items["demo-002"].publish_at
    expires = items["demo-002"].expires_at
    date_only = items["demo-003"].publish_at
    assert publish is not None and expires is not None and date_only is not None
    assert publish.utcoffset() == dt.timedelta(hours=8)
    assert publish == dt.datetime(2024, 10, 1, 0, 0, tzinfo=dt.UTC)
    assert expires == dt.datetime(2024, 12, 31, 23, 59, 59, tzinfo=CST)
    assert date_only == dt.datetime(2024, 10, 8, 0, 0, tzinfo=CST)
    assert items["demo-002"].media is None and items["demo-002"].regions == ()


def test_manifest_file_path_is_accepted(taxonomy: Taxonomy) -> None:
    by_dir = parse_pack(PACKS / "good", taxonomy, CST)
    by_file = parse_pack(PACKS / "good" / "pack.toml", taxonomy, CST)
    assert by_file.items == by_dir.items


def test_every_rejection_code(taxonomy: Taxonomy) -> None:
    result = parse_pack(PACKS / "rejections", taxonomy, CST)
    assert [item.guid for item in result.items] == ["r-000"]
    got = [(r.index, r.code, r.field) for r in result.rejected]
    assert got == [
        (1, "missing_field", "guid"),
        (2, "missing_field", "title"),
        (3, "bad_category", "category"),
        (4, "bad_kind", "kind"),
        (5, "bad_url", "url"),
        (6, "media_missing", "media"),
        (7, "media_outside_pack", "media"),
        (8, "media_outside_pack", "media"),
        (9, "bad_date", "publish_at"),
        (10, "expires_before_publish", "expires_at"),
        (11, "duplicate_guid", "guid"),
        (12, "bad_campaign", "campaign"),
        (13, "bad_region", "regions"),
        (14, "bad_media_type", "media"),
        (15, "too_long", "title"),
        (16, "bad_field", "tags"),
    ]
    by_index = {r.index: r for r in result.rejected}
    assert by_index[11] == Rejection(11, "r-000", "duplicate_guid", "guid", {"first_index": 0})
    assert by_index[1].guid is None
    assert by_index[13].params == {"value": "33010"}
    assert by_index[15].params == {"max": 80, "length": 140}


def test_all_problems_of_one_item_are_reported(tmp_path: Path, taxonomy: Taxonomy) -> None:
    item = {**VALID_ITEM, "category": "astrology", "url": "javascript:alert(1)"}
    del item["title"]
    result = parse_pack(write_json_pack(tmp_path / "p", [item]), taxonomy, CST)
    assert result.items == []
    assert sorted(r.code for r in result.rejected) == ["bad_category", "bad_url", "missing_field"]
    assert {r.guid for r in result.rejected} == {"t-1"}


def test_json_pack_with_non_table_and_wrong_type(taxonomy: Taxonomy) -> None:
    result = parse_pack(PACKS / "json_pack", taxonomy, CST)
    assert [item.guid for item in result.items] == ["json-001"]
    assert result.items[0].source == "pack:json-demo"
    assert result.items[0].publish_at == dt.datetime(2024, 2, 4, tzinfo=dt.UTC)
    assert [(r.index, r.code, r.field, r.params) for r in result.rejected] == [
        (1, "bad_item", None, {}),
        (2, "bad_field", "summary", {"type": "int"}),
    ]


def test_malformed_toml_is_one_error_with_line() -> None:
    with pytest.raises(PackError) as caught:
        parse_pack(PACKS / "malformed_toml", default_taxonomy(), CST)
    assert (caught.value.code, caught.value.params["line"]) == ("bad_toml", 6)


def test_malformed_json_is_one_error_with_line() -> None:
    with pytest.raises(PackError) as caught:
        parse_pack(PACKS / "malformed_json", default_taxonomy(), CST)
    assert (caught.value.code, caught.value.params["line"]) == ("bad_json", 4)


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (lambda root: None, "not_found"),
        (lambda root: root.mkdir(), "no_manifest"),
        (
            lambda root: (
                root.mkdir(),
                (root / "pack.toml").write_text("items = []"),
                (root / "pack.json").write_text('{"items": []}'),
            ),
            "ambiguous_manifest",
        ),
        (lambda root: (root.mkdir(), (root / "pack.json").write_text("[1, 2]")), "bad_manifest"),
        (
            lambda root: (root.mkdir(), (root / "pack.toml").write_text('items = "x"')),
            "bad_manifest",
        ),
        (
            lambda root: (
                root.mkdir(),
                (root / "pack.toml").write_text("[pack]\nname = 'A B'\nitems = []"),
            ),
            "bad_pack_name",
        ),
        (
            lambda root: (
                root.mkdir(),
                (root / "pack.toml").write_bytes("items = []\n# 中文".encode("gbk")),
            ),
            "bad_encoding",
        ),
    ],
)
def test_unusable_packs_raise_pack_error(tmp_path: Path, setup: object, code: str) -> None:
    root = tmp_path / "pack"
    setup(root)  # type: ignore[operator]
    with pytest.raises(PackError) as caught:
        parse_pack(root, default_taxonomy(), CST)
    assert caught.value.code == code


def test_unsupported_manifest_suffix(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text("items: []", encoding="utf-8")
    with pytest.raises(PackError) as caught:
        parse_pack(path, default_taxonomy(), CST)
    assert caught.value.code == "unsupported_format"


def test_pack_name_defaults_to_directory(tmp_path: Path, taxonomy: Taxonomy) -> None:
    result = parse_pack(write_json_pack(tmp_path / "spring2025", [VALID_ITEM]), taxonomy, CST)
    assert result.pack.name == "spring2025"
    assert result.items[0].source == "pack:spring2025"


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_symlink_escaping_the_pack_is_rejected(tmp_path: Path, taxonomy: Taxonomy) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG")
    root = tmp_path / "p"
    (root / "media").mkdir(parents=True)
    (root / "media" / "link.png").symlink_to(secret)
    (root / "media" / "real.png").write_bytes(b"\x89PNG")
    items = [
        {**VALID_ITEM, "guid": "a", "media": "media/link.png"},
        {**VALID_ITEM, "guid": "b", "media": "media/../media/real.png"},
        {**VALID_ITEM, "guid": "c", "media": "media/../../secret.png"},
    ]
    result = parse_pack(write_json_pack(root, items), taxonomy, CST)
    assert [item.guid for item in result.items] == ["b"]
    assert [(r.guid, r.code) for r in result.rejected] == [
        ("a", "media_outside_pack"),
        ("c", "media_outside_pack"),
    ]


def test_regions_accept_integers_and_drop_duplicates(tmp_path: Path, taxonomy: Taxonomy) -> None:
    items = [
        {**VALID_ITEM, "regions": [330106, "330106", "330100"]},
        {**VALID_ITEM, "guid": "t-2", "regions": [True]},
    ]
    result = parse_pack(write_json_pack(tmp_path / "p", items), taxonomy, CST)
    assert result.items[0].regions == ("330106", "330100")
    assert [(r.guid, r.code) for r in result.rejected] == [("t-2", "bad_region")]


def test_equal_publish_and_expiry_is_rejected(tmp_path: Path, taxonomy: Taxonomy) -> None:
    moment = "2024-09-01T08:00:00+08:00"
    items = [{**VALID_ITEM, "publish_at": moment, "expires_at": "2024-09-01T00:00:00Z"}]
    result = parse_pack(write_json_pack(tmp_path / "p", items), taxonomy, CST)
    assert [r.code for r in result.rejected] == ["expires_before_publish"]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://www.kepuchina.cn/a?b=1", True),
        ("HTTP://example.org", True),
        ("ftp://example.org/x", False),
        ("javascript:alert(1)", False),
        ("https:///nohost", False),
        ("https://exa mple.org", False),
        ("//example.org/x", False),
        ("https://[::1", False),
        ("", False),
        ("https://example.org/a\x00b", False),
        ("https://example.org/a\x7fb", False),
        ("https://example.org/a\x0bb", False),
        ("https://example.org/a\x85b", False),
        ("https://example.org/\u202egnp.exe", False),
        ("https://例子.中国/科普?q=防诈骗", True),
    ],
)
def test_is_http_url(url: str, ok: bool) -> None:
    assert is_http_url(url) is ok


def test_to_aware_datetime() -> None:
    assert to_aware_datetime("2024-09-01T08:00:00Z", CST) == dt.datetime(
        2024, 9, 1, 8, tzinfo=dt.UTC
    )
    assert to_aware_datetime("2024-09-01 08:00", CST) == dt.datetime(2024, 9, 1, 8, tzinfo=CST)
    assert to_aware_datetime(dt.date(2024, 9, 1), CST) == dt.datetime(2024, 9, 1, tzinfo=CST)
    # a naive time is read in the configured zone: 08:00 on a UTC clock is 16:00 in Shanghai
    assert to_aware_datetime("2024-09-01 08:00", dt.UTC) == dt.datetime(2024, 9, 1, 16, tzinfo=CST)
    for bad in ("", "yesterday", 20240901, None, "2024-13-01"):
        with pytest.raises(ValueError):
            to_aware_datetime(bad, CST)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.kepuchina.cn/a\x00b",
        "https://www.kepuchina.cn/a\x7fb",
        "https://www.kepuchina.cn/a\x0bb",
        "https://www.kepuchina.cn/a\x9bb",
        "https://www.kepuchina.cn/\u202egnp.exe",
    ],
)
def test_urls_with_control_characters_are_refused(
    tmp_path: Path, taxonomy: Taxonomy, url: str
) -> None:
    item = {**VALID_ITEM, "url": url}
    result = parse_pack(write_json_pack(tmp_path / "p", [item]), taxonomy, CST)
    assert result.items == []
    [rejection] = result.rejected
    assert (rejection.code, rejection.field) == ("url_control", "url")
    # The report shows where the character is without carrying it along.
    assert rejection.params["value"].startswith("https://www.kepuchina.cn/")
    assert is_http_url(str(rejection.params["value"]).replace("\\", "_"))
