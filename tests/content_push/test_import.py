"""Importing packs and feeds into the catalogue: added, duplicates, rejections, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.importer import (
    ImportFailed,
    fetch_url,
    import_source,
    report_lines,
)
from bot.content.taxonomy import default_taxonomy
from bot.core.error_text import error_text
from bot.i18n import get_translator
from storage.models import AuditLog, ContentItem
from tests.conftest import FIXED_NOW, SHANGHAI

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests/fixtures"
STARTER = ROOT / "bot/content/packs/starter"
ZH = get_translator("zh_CN")
EN = get_translator("en")


async def _import(session: AsyncSession, source: Path | str, **kw: object):
    return await import_source(
        session=session,
        source=str(source),
        taxonomy=default_taxonomy(),
        now=FIXED_NOW,
        tz=SHANGHAI,
        **kw,
    )  # type: ignore[arg-type]


async def _count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(ContentItem))).scalar_one())


async def test_starter_pack_imports_then_skips_duplicates(session: AsyncSession) -> None:
    first = await _import(session, STARTER)
    assert len(first.added) >= 24 and not first.rejected and not first.duplicates
    item = await session.get(ContentItem, first.added[0].content_id)
    assert item is not None and item.source == "pack:starter" and item.publish_at is not None
    with_media = (
        (await session.execute(select(ContentItem).where(ContentItem.media_path.is_not(None))))
        .scalars()
        .all()
    )
    assert with_media and all(Path(i.media_path or "").is_file() for i in with_media)
    again = await _import(session, STARTER)
    assert not again.added and len(again.duplicates) == len(first.added)
    assert {d.reason for d in again.duplicates} == {"guid"}
    assert await _count(session) == len(first.added)
    lines = report_lines(again, ZH)
    assert lines[0].startswith("已导入内容包“starter”：新增 0 条") and "guid 相同" in lines[1]
    audit = (
        (await session.execute(select(AuditLog).where(AuditLog.action == "content.import")))
        .scalars()
        .all()
    )
    assert len(audit) == 2


async def test_json_pack_and_rejections_are_reported(session: AsyncSession) -> None:
    report = await _import(session, FIXTURES / "packs/json_pack")
    assert report.kind == "pack" and len(report.added) == 1 and len(report.rejected) == 2
    rejected = await _import(session, FIXTURES / "packs/rejections")
    assert rejected.rejected
    text = "\n".join(report_lines(rejected, EN))
    assert "rejected" in text and "✗ item" in text
    assert any("unknown category" in line for line in report_lines(rejected, EN))


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("malformed_toml", "not valid TOML (line 6)"),
        ("malformed_json", "not valid JSON"),
    ],
)
async def test_malformed_packs_fail_with_clear_errors(
    session: AsyncSession, name: str, needle: str
) -> None:
    with pytest.raises(ImportFailed) as err:
        await _import(session, FIXTURES / "packs" / name)
    assert needle in error_text(err.value, EN)
    assert await _count(session) == 0


async def test_rss_and_atom_feeds(session: AsyncSession) -> None:
    rss = await _import(session, FIXTURES / "feeds/rss_kepu.xml", category="health")
    assert rss.kind == "feed" and len(rss.added) == 3 and len(rss.rejected) == 2
    assert any("javascript:" in line for line in report_lines(rss, EN))
    atom = await _import(session, FIXTURES / "feeds/atom_kepu.xml", category="frontier")
    assert atom.added and atom.source.startswith("feed:")
    items = (await session.execute(select(ContentItem))).scalars().all()
    assert {i.category for i in items} <= set(default_taxonomy().codes)


async def test_feed_duplicates_by_guid_and_link(session: AsyncSession) -> None:
    report = await _import(session, FIXTURES / "feeds/rss_duplicates.xml", category="emergency")
    assert len(report.added) == 2 and report.rejected  # repeated guid inside the feed
    again = await _import(session, FIXTURES / "feeds/rss_duplicates.xml", category="emergency")
    assert not again.added


async def test_same_link_under_a_new_guid_is_a_duplicate(session: AsyncSession) -> None:
    xml = FIXTURES / "feeds/rss_duplicates.xml"
    await _import(session, xml, category="emergency")
    changed = xml.read_text(encoding="utf-8").replace("notice-1<", "notice-1-new<")

    async def fake_fetch(url: str) -> bytes:
        assert url == "https://kx.example.gov.cn/rss"
        return changed.encode("utf-8")

    report = await _import(
        session, "https://kx.example.gov.cn/rss", category="emergency", fetch=fake_fetch
    )
    assert not report.added
    assert [d.reason for d in report.duplicates] == ["url", "url"] or "url" in {
        d.reason for d in report.duplicates
    }


async def test_feed_errors_are_clear(session: AsyncSession) -> None:
    with pytest.raises(ImportFailed) as err:
        await _import(session, FIXTURES / "feeds/rss_kepu.xml")
    assert "--category" in error_text(err.value, EN)
    with pytest.raises(ImportFailed) as err:
        await _import(session, FIXTURES / "feeds/rss_kepu.xml", category="nonsense")
    assert "Unknown category “nonsense”" in error_text(err.value, EN)
    with pytest.raises(ImportFailed) as err:
        await _import(session, FIXTURES / "feeds/malformed.xml", category="health")
    assert error_text(err.value, ZH).startswith(("订阅源格式错误", "这不是"))
    with pytest.raises(ImportFailed) as err:
        await _import(session, FIXTURES / "nope.xml", category="health")
    assert "nope.xml" in error_text(err.value, EN)

    async def broken(url: str) -> bytes:
        return b"   "

    with pytest.raises(ImportFailed) as err:
        await _import(session, "https://example.org/feed", category="health", fetch=broken)
    assert error_text(err.value, EN) == "The feed is empty"


async def test_fetch_url_caps_size_and_checks_status(unused_tcp_port: int) -> None:
    async def big(_: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000)

    async def missing(_: web.Request) -> web.Response:
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/big", big)
    app.router.add_get("/missing", missing)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", unused_tcp_port)
    await site.start()
    base = f"http://127.0.0.1:{unused_tcp_port}"
    try:
        assert len(await fetch_url(f"{base}/big", max_bytes=10_000)) == 5000
        with pytest.raises(ImportFailed) as err:
            await fetch_url(f"{base}/big", max_bytes=1000)
        assert err.value.code == "fetch_too_large"
        with pytest.raises(ImportFailed) as err:
            await fetch_url(f"{base}/missing")
        assert "HTTP" in error_text(err.value, EN) and "404" in error_text(err.value, EN)
    finally:
        await runner.cleanup()
