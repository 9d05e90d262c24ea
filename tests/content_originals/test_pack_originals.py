"""Content packs carry originals: the ``original`` field, its checks, and what import stores."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.importer import import_source
from bot.content.originals import file_name_for, pick_original, size_text
from bot.content.packs import parse_pack
from bot.content.taxonomy import default_taxonomy
from storage.models import ContentItem
from tests.conftest import FIXED_NOW

STARTER = Path(__file__).resolve().parents[2] / "bot/content/packs/starter"
TZ = dt.timezone(dt.timedelta(hours=8))

ITEM = """
[[items]]
guid = "{guid}"
title = "标题{guid}"
summary = "摘要"
category = "health"
kind = "{kind}"
url = "https://kepu.test/{guid}"
{extra}
"""


def write_pack(root: Path, items: list[tuple[str, str, str]]) -> Path:
    (root / "media").mkdir(parents=True)
    Image.new("RGB", (60, 80), "blue").save(root / "media/p.png")
    (root / "media/print.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    (root / "media/tool.exe").write_bytes(b"MZ")
    body = "".join(ITEM.format(guid=g, kind=k, extra=e) for g, k, e in items)
    (root / "pack.toml").write_text('[pack]\nname = "t"\n' + body, encoding="utf-8")
    return root


def test_original_is_checked_like_media(tmp_path: Path) -> None:
    pack = write_pack(
        tmp_path / "t",
        [
            ("a", "poster", 'media = "media/p.png"\noriginal = "media/print.pdf"'),
            ("b", "poster", 'original = "media/nowhere.pdf"'),
            ("c", "poster", 'original = "../outside.pdf"'),
            ("d", "poster", 'original = "media/tool.exe"'),
        ],
    )
    parsed = parse_pack(pack, default_taxonomy(), TZ)
    assert [d.guid for d in parsed.items] == ["a"]
    assert parsed.items[0].original == (pack / "media/print.pdf").resolve()
    problems = {(r.guid, r.code, r.field) for r in parsed.rejected}
    assert problems == {
        ("b", "media_missing", "original"),
        ("c", "media_outside_pack", "original"),
        ("d", "bad_media_type", "original"),
    }


def test_which_file_is_the_original() -> None:
    png, mp4, pdf = Path("p.png"), Path("v.mp4"), Path("x.pdf")
    assert pick_original("poster", png, None) == png  # a poster's picture is its original
    assert pick_original("poster", png, pdf) == pdf
    assert pick_original("video", png, None) is None  # a video's picture is a preview
    assert pick_original("video", mp4, None) == mp4
    assert pick_original("article", None, None) is None
    assert file_name_for('a/b:c*?"<>|', ".PNG") == "a b c.png"
    assert size_text(14063) == "14 KB" and size_text(60 * 1024 * 1024) == "60.0 MB"


async def test_starter_import_stores_the_originals(session: AsyncSession) -> None:
    async with session.begin():
        await import_source(
            session=session,
            source=str(STARTER),
            taxonomy=default_taxonomy(),
            now=FIXED_NOW,
            tz=TZ,
        )
    items = list((await session.execute(select(ContentItem))).scalars())
    with_original = [i for i in items if i.original_path]
    assert len(with_original) == 10  # nine print posters and the one real video
    for item in with_original:
        path = Path(item.original_path or "")
        assert item.original_size == path.stat().st_size
        assert item.original_file_name == file_name_for(item.title, path.suffix)
        assert item.original_file_id is None  # known once first sent
        if item.kind == "video":
            assert item.original_mime == "video/mp4"
            continue
        assert item.original_mime == "image/png"
        with Image.open(path) as picture:
            assert picture.size == (2480, 3508)  # A4 at 300 dpi
        with Image.open(item.media_path or "") as preview:
            assert preview.size == (600, 800)
