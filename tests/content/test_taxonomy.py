"""Taxonomy loading, lookups and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.taxonomy import TaxonomyError, default_taxonomy, load_taxonomy

EXPECTED_CATEGORIES = (
    "health",
    "emergency",
    "anti_fraud",
    "agriculture",
    "environment",
    "frontier",
    "daily_life",
    "elderly",
    "children",
)
MINIMAL = """
[[categories]]
code = "health"
zh = "卫生健康"
en = "Health"

[[kinds]]
code = "video"
zh = "视频"
en = "Video"

[[campaigns]]
code = "science_day"
zh = "全国科普日"
en = "National Science Popularization Day"
"""


def test_bundled_taxonomy_has_every_category_in_order() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.codes == EXPECTED_CATEGORIES
    assert taxonomy.kind_codes == ("video", "article", "poster", "document")
    assert {"science_day", "st_week"} <= set(taxonomy.campaign_codes)
    for code in taxonomy.codes:
        term = taxonomy.get(code)
        assert term is not None and term.zh and term.en and term.emoji


def test_names_follow_the_locale() -> None:
    taxonomy = default_taxonomy()
    assert taxonomy.name("anti_fraud", "zh_CN") == "防范诈骗"
    assert taxonomy.name("anti_fraud", "en") == "Fraud Prevention"
    assert taxonomy.name("anti_fraud", "en-US") == "Fraud Prevention"
    assert taxonomy.name("anti_fraud", None) == "防范诈骗"
    assert taxonomy.name("no_such_code", "en") == "no_such_code"
    assert taxonomy.kind_name("poster", "zh_CN") == "挂图海报"
    assert taxonomy.campaign_name("science_day", "zh_CN") == "全国科普日"
    assert taxonomy.campaign_name("st_week", "en") == "National Science and Technology Week"
    health = taxonomy.get("health")
    assert health is not None and health.label("zh_CN") == "🩺 卫生健康"


def test_get_unknown_returns_none() -> None:
    taxonomy = default_taxonomy()
    assert taxonomy.get("astrology") is None
    assert taxonomy.get_kind("podcast") is None
    assert taxonomy.get_campaign("black_friday") is None


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("health", "health"),
        ("卫生健康", "health"),
        ("Fraud Prevention", "anti_fraud"),
        ("  反诈 ", "anti_fraud"),
        ("Anti-Fraud", "anti_fraud"),
        ("DAILY LIFE", "daily_life"),
        ("老年人", "elderly"),
        ("青少年", "children"),
        ("未分类", None),
        ("", None),
    ],
)
def test_match_category(label: str, code: str | None) -> None:
    assert default_taxonomy().match_category(label) == code


def test_load_custom_taxonomy(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    taxonomy = load_taxonomy(path)
    assert taxonomy.codes == ("health",)
    assert taxonomy.match_category("Health") == "health"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("[[categories]\ncode=", "bad_toml"),
        (MINIMAL.replace("[[campaigns]]", "[[other]]"), "missing_section"),
        (MINIMAL.replace('code = "health"', 'code = "Health Care"'), "bad_code"),
        (MINIMAL.replace('en = "Health"', 'en = ""'), "missing_name"),
        (MINIMAL + '\n[[kinds]]\ncode = "video"\nzh = "视频"\nen = "Video"\n', "duplicate_code"),
    ],
)
def test_invalid_taxonomy_files(tmp_path: Path, text: str, code: str) -> None:
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TaxonomyError) as caught:
        load_taxonomy(path)
    assert caught.value.code == code


def test_missing_taxonomy_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError) as caught:
        load_taxonomy(tmp_path / "absent.toml")
    assert caught.value.code == "not_found"
