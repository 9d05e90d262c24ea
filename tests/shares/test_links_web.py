"""Tracked links: redirect safety, unknown codes, preview bots, HEAD, daily uniqueness."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update

from bot.handlers.links_web import install_link_routes, link_server
from bot.runtime.context import Runtime
from bot.runtime.web import build_web_app
from bot.sandbox.factories import make_region_tree, make_station
from bot.services import links as link_service
from storage import links as link_store
from storage.models import ContentItem, Informant, LinkVisit
from tests.conftest import FixedClock
from tests.shares.helpers import add_informant, add_items

BROWSER = (
    "Mozilla/5.0 (Linux; Android 13; V2220A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.43"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 QQ/9.0.0"
)
PREVIEWS = [
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.20.0 A",
    "facebookexternalhit/1.1",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0)",
    "curl/8.5.0",
    "",
    "Python/3.12 aiohttp/3.9",
]
CODE = "Abc123xyz"


async def seed_link(runtime: Runtime, code: str = CODE, items_offset: int = 0) -> None:
    """One informant's tracked link ``code`` to one item (the n-th call: another item)."""
    async with runtime.sessions() as s, s.begin():
        if items_offset:
            extra = f"https://www.kepuchina.cn/extra/{items_offset}"
            items = await add_items(s, 1, guid=f"extra-{items_offset}", url=extra)
            informant = (await s.execute(select(Informant.id))).scalars().first()
        else:
            await make_region_tree(s)
            station = await make_station(s)
            assert station.id is not None
            items = await add_items(s, 1)
            informant = await add_informant(s, station.id, 1001)
        assert informant is not None
        await link_store.get_or_create_link(
            session=s,
            informant_id=informant,
            content_id=items[0],
            channel="wechat_group",
            new_code=lambda: code,
            now=runtime.now(),
        )


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[TestClient]:
    await seed_link(runtime)
    app = build_web_app(runtime, installers=[install_link_routes])
    async with TestClient(TestServer(app)) as c:
        yield c


async def _visits(runtime: Runtime) -> int:
    await link_server(runtime).flush()
    async with runtime.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(LinkVisit))).scalar_one())


async def test_redirects_only_to_stored_url(client: TestClient, runtime: Runtime) -> None:
    ua = {"User-Agent": BROWSER}
    for path in (
        f"/s/{CODE}",
        f"/s/{CODE}?next=https://evil.example",
        f"/s/{CODE}?url=//evil.example&Location=https://evil.example",
    ):
        resp = await client.get(path, headers=ua, allow_redirects=False)
        assert resp.status == 302
        assert resp.headers["Location"] == "https://www.kepuchina.cn/item/1"
        assert resp.headers["Cache-Control"] == "no-store"
    for path in (
        f"/s/{CODE}/https://evil.example",
        f"/s/{CODE}//evil.example",
        "/s/https:%2F%2Fevil.example",
        "/s/..%2F..%2Fetc",
        "/s/nope",
    ):
        resp = await client.get(path, headers=ua, allow_redirects=False)
        assert resp.status == 404, path
        assert "Location" not in resp.headers


async def test_unknown_code_gets_localised_404_page(client: TestClient) -> None:
    resp = await client.get("/s/ZZZZZZZZZ", headers={"User-Agent": BROWSER})
    assert resp.status == 404
    assert resp.content_type == "text/html"
    body = await resp.text()
    assert 'lang="zh-CN"' in body and "链接" in body


async def test_visits_once_per_address_per_day(
    client: TestClient, runtime: Runtime, clock: FixedClock
) -> None:
    for _ in range(3):
        await client.get(f"/s/{CODE}", headers={"User-Agent": BROWSER}, allow_redirects=False)
    assert await _visits(runtime) == 1
    # One address rotating its User-Agent is still one visitor.
    for i in range(300):
        agent = f"{BROWSER} rotating/{i}"
        await client.get(f"/s/{CODE}", headers={"User-Agent": agent}, allow_redirects=False)
    await client.get(f"/s/{CODE}", headers={"User-Agent": IPHONE}, allow_redirects=False)
    assert await _visits(runtime) == 1
    clock.advance(days=1)
    await client.get(f"/s/{CODE}", headers={"User-Agent": BROWSER}, allow_redirects=False)
    assert await _visits(runtime) == 2
    async with runtime.sessions() as s:
        hashes = (await s.execute(select(LinkVisit.visitor_hash))).scalars().all()
    # Only hashes are stored: no address or agent text, and a new salt each day.
    assert all(len(h) == 64 and "127.0.0.1" not in h for h in hashes)
    assert len(set(hashes)) == 2


async def test_one_address_counts_on_a_capped_number_of_links(
    runtime: Runtime, clock: FixedClock
) -> None:
    runtime.settings.shares.visits_per_address_per_day = 3
    runtime.settings.web.trusted_proxies = ["127.0.0.1/32"]  # the test client is the proxy
    codes = [f"Cap{i}code00" for i in range(5)]
    for code in codes:
        await seed_link(runtime, code, items_offset=codes.index(code))
    app = build_web_app(runtime, installers=[install_link_routes])
    async with TestClient(TestServer(app)) as c:

        async def visit(code: str, address: str) -> None:
            headers = {"User-Agent": BROWSER, "X-Forwarded-For": address}
            resp = await c.get(f"/s/{code}", headers=headers, allow_redirects=False)
            assert resp.status == 302  # the visitor is always sent on; only counting stops

        for code in codes[:2]:
            await visit(code, "203.0.113.7")
        await link_server(runtime).flush()  # the cap holds across flushes
        for code in codes:
            await visit(code, "203.0.113.7")
            # Addresses in one IPv6 /64 are one subscriber.
            await visit(code, f"2001:db8:1:2::{codes.index(code) + 1}")
        await visit(codes[4], "198.51.100.9")  # another address still counts
        assert await _visits(runtime) == 3 + 3 + 1
        clock.advance(days=1)
        await visit(codes[4], "203.0.113.7")  # a new day, a new allowance
        assert await _visits(runtime) == 8


async def test_non_utf8_user_agent_is_refused(client: TestClient, runtime: Runtime) -> None:
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        f"GET /s/{CODE} HTTP/1.1\r\nHost: kepu.test\r\n".encode()
        + b"User-Agent: Mozilla/5.0 \xff\xfe\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert status_line.split()[1] == b"400"
    assert await _visits(runtime) == 0


@pytest.mark.parametrize("bad", ["https://kepu.test/a\x00b", "https://kepu.test/\x7f", "data:x"])
async def test_stored_bad_url_gets_a_clear_page(
    client: TestClient, runtime: Runtime, bad: str
) -> None:
    # Stored before imports refused such URLs (PostgreSQL cannot store a NUL at all).
    if "\x00" in bad and runtime.engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL text cannot hold NUL, so no such URL can be stored there")
    async with runtime.sessions() as s, s.begin():
        await s.execute(update(ContentItem).values(url=bad))
    resp = await client.get(f"/s/{CODE}", headers={"User-Agent": BROWSER}, allow_redirects=False)
    assert resp.status == 404
    assert "Location" not in resp.headers
    assert "无法打开" in await resp.text()
    assert await _visits(runtime) == 0


async def test_head_and_preview_bots_not_counted(client: TestClient, runtime: Runtime) -> None:
    resp = await client.head(f"/s/{CODE}", headers={"User-Agent": BROWSER}, allow_redirects=False)
    assert resp.status == 302
    for agent in PREVIEWS:
        resp = await client.get(f"/s/{CODE}", headers={"User-Agent": agent}, allow_redirects=False)
        assert resp.status == 302
    assert await _visits(runtime) == 0


def test_preview_detection_and_salt() -> None:
    assert all(link_service.is_preview_agent(a) for a in PREVIEWS)
    assert not link_service.is_preview_agent(BROWSER)
    assert not link_service.is_preview_agent(IPHONE)
    assert not link_service.is_preview_agent("Mozilla/5.0 (Linux; Android 9; CUBOT P30)")
    day = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 Shanghai
    midnight = dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)  # 00:00 next day Shanghai
    shanghai = ZoneInfo("Asia/Shanghai")
    p = link_service.salt_period(day, 24, shanghai)
    assert link_service.salt_period(midnight - dt.timedelta(seconds=1), 24, shanghai) == p
    assert link_service.salt_period(midnight, 24, shanghai) == p + 1
    # on a UTC clock the period turns at 00:00 UTC, eight hours later
    assert link_service.salt_period(midnight, 24, dt.UTC) == link_service.salt_period(
        day, 24, dt.UTC
    )
    s1, s2 = link_service.visit_salt("tok", p), link_service.visit_salt("tok", p + 1)
    assert s1 != s2 and s1 == link_service.visit_salt("tok", p)
    assert link_service.visit_salt("other", p) != s1
    code = link_service.new_code()
    assert link_service.CODE_RE.match(code) and len(code) == link_service.CODE_LENGTH
    assert not link_service.safe_target("javascript:alert(1)")
    assert not link_service.safe_target("//evil.example")
