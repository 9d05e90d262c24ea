"""The bundled starter pack parses cleanly and covers the whole taxonomy."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.content.packs import PackParse, parse_pack
from bot.content.taxonomy import default_taxonomy

STARTER = Path(__file__).resolve().parents[2] / "bot" / "content" / "packs" / "starter"


@pytest.fixture(scope="module")
def starter() -> PackParse:
    return parse_pack(STARTER, default_taxonomy(), ZoneInfo("Asia/Shanghai"))


def test_starter_pack_parses_cleanly(starter: PackParse) -> None:
    assert starter.rejected == []
    assert len(starter.items) >= 24
    assert starter.pack.name == "starter"
    assert "illustrative" in starter.pack.note
    assert {item.source for item in starter.items} == {"pack:starter"}


def test_every_category_and_kind_is_used(starter: PackParse) -> None:
    taxonomy = default_taxonomy()
    categories = Counter(item.category for item in starter.items)
    assert set(categories) == set(taxonomy.codes)
    assert min(categories.values()) >= 2
    # Documents (PDFs) come from curators in /newcontent, not from the starter pack.
    assert {item.kind for item in starter.items} == set(taxonomy.kind_codes) - {"document"}
    assert {item.campaign for item in starter.items} >= {"science_day", "st_week"}


def test_texts_fit_the_card_limits(starter: PackParse) -> None:
    for item in starter.items:
        assert len(item.title) <= 30, item.guid
        assert 40 <= len(item.summary) <= 120, item.guid
        assert item.title_en and item.summary_en, item.guid
        assert item.url.startswith("https://www.kepuchina.cn/"), item.guid
    assert len({item.url for item in starter.items}) == len(starter.items)


def test_media_exist_and_stay_small(starter: PackParse) -> None:
    media = [item.media for item in starter.items if item.media is not None]
    assert len(media) >= 6
    total = 0
    for path in media:
        assert path.is_file() and path.is_relative_to(STARTER.resolve())
        size = path.stat().st_size
        assert size <= 60 * 1024, path
        total += size
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert min(image.size) >= 300
    all_files = sum(p.stat().st_size for p in (STARTER / "media").iterdir())
    assert all_files < 500 * 1024
    assert total <= all_files
