"""Visitor address behind reverse proxies: only trusted proxies may speak for a client."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import ConfigError, load_settings
from bot.handlers.links_web import client_address, install_link_routes, link_server
from bot.runtime.context import Runtime
from bot.runtime.web import build_web_app
from storage.db import session_factory
from storage.models import LinkVisit
from tests.conftest import FixedClock, make_settings
from tests.shares.test_links_web import seed_link

BROWSER = (
    "Mozilla/5.0 (Linux; Android 13; V2220A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.43"
)
CODE = "Prx123xyz"
PROXY = "10.0.0.5"
TRUSTED = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))


def test_untrusted_peer_ignores_spoofed_header() -> None:
    assert client_address("203.0.113.9", "198.51.100.1", TRUSTED) == "203.0.113.9"
    assert client_address("203.0.113.9", "10.0.0.1, 198.51.100.1", TRUSTED) == "203.0.113.9"
    # Nothing trusted at all (the default): the peer, whatever the header says.
    assert client_address(PROXY, "198.51.100.1", ()) == PROXY


def test_trusted_peer_gives_rightmost_untrusted_entry() -> None:
    assert client_address(PROXY, "198.51.100.7", TRUSTED) == "198.51.100.7"
    # The client wrote "1.1.1.1" itself; the proxy appended the address it really saw.
    assert client_address(PROXY, "1.1.1.1, 198.51.100.7", TRUSTED) == "198.51.100.7"
    # Several headers are one comma-separated list.
    assert client_address(PROXY, "1.1.1.1,198.51.100.7", TRUSTED) == "198.51.100.7"


def test_chain_of_trusted_proxies_is_skipped() -> None:
    header = "1.1.1.1, 198.51.100.7, 10.1.2.3, 10.9.9.9"
    assert client_address(PROXY, header, TRUSTED) == "198.51.100.7"
    # Every hop trusted: the request began inside our networks, the leftmost is the client.
    assert client_address(PROXY, "10.3.3.3, 10.1.2.3", TRUSTED) == "10.3.3.3"


def test_cidr_and_ipv6() -> None:
    assert client_address("fd00::1", "2001:db8::7, fd12::2", TRUSTED) == "2001:db8::7"
    assert client_address("fd00::1", "[2001:db8::7]:443", TRUSTED) == "2001:db8::7"
    assert client_address("fe80::1", "2001:db8::7", TRUSTED) == "fe80::1"  # outside fd00::/8
    assert client_address("10.200.1.1", "198.51.100.7:5678", TRUSTED) == "198.51.100.7"
    assert client_address("11.0.0.1", "198.51.100.7", TRUSTED) == "11.0.0.1"  # outside /8
    # A dual-stack socket reports the IPv4 proxy as an IPv4-mapped IPv6 address.
    assert client_address("::ffff:10.0.0.5", "198.51.100.7", TRUSTED) == "198.51.100.7"
    single = (ipaddress.ip_network("::1"),)
    assert client_address("::1", "2001:db8::7", single) == "2001:db8::7"
    assert client_address("::2", "2001:db8::7", single) == "::2"


@pytest.mark.parametrize(
    "header",
    [
        "unknown",
        "not an address",
        "198.51.100.7, ",
        "198.51.100.7,,10.1.1.1",
        "[2001:db8::7",
        "300.1.1.1",
        "198.51.100.7; DROP TABLE",
        "\x00\xff" * 50,
        ",".join(["10.1.1.1"] * 500) + ",bad",
    ],
)
def test_garbage_header_falls_back_to_peer(header: str) -> None:
    assert client_address(PROXY, header, TRUSTED) == PROXY


def test_empty_or_missing_header_and_odd_peers() -> None:
    assert client_address(PROXY, "", TRUSTED) == PROXY
    assert client_address(PROXY, "  ", TRUSTED) == PROXY
    assert client_address(PROXY, None, TRUSTED) == PROXY
    assert client_address(None, "198.51.100.7", TRUSTED) is None
    assert client_address("not-an-ip", "198.51.100.7", TRUSTED) == "not-an-ip"


def test_setting_is_validated_and_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    web = load_settings(None, web={"trusted_proxies": ["127.0.0.1", " ::1 ", "10.1.2.3/8"]}).web
    assert web.trusted_proxies == ["127.0.0.1/32", "::1/128", "10.0.0.0/8"]
    assert ipaddress.ip_address("10.200.0.1") in web.trusted_networks[2]
    assert load_settings(None).web.trusted_proxies == []
    for bad in (["nginx"], ["10.0.0.300"], ["10.0.0.0/33"], [""]):
        with pytest.raises(ConfigError, match="config error: web.trusted_proxies:.*not an IP"):
            load_settings(None, web={"trusted_proxies": bad})
    monkeypatch.setenv("KEPUBOT_WEB__TRUSTED_PROXIES", "127.0.0.1, fd00::/8")
    assert load_settings(None).web.trusted_proxies == ["127.0.0.1/32", "fd00::/8"]
    monkeypatch.setenv("KEPUBOT_WEB__TRUSTED_PROXIES", '["::1"]')
    assert load_settings(None).web.trusted_proxies == ["::1/128"]
    monkeypatch.setenv("KEPUBOT_WEB__TRUSTED_PROXIES", "127.0.0.1, proxy.local")
    with pytest.raises(ConfigError, match="web.trusted_proxies"):
        load_settings(None)


# Through the web app: the test client always connects from 127.0.0.1.


async def _client(
    db_url: str, engine: AsyncEngine, clock: FixedClock, trusted: list[str]
) -> tuple[Runtime, TestClient]:
    runtime = Runtime(
        settings=make_settings(db_url, web={"trusted_proxies": trusted}),
        engine=engine,
        sessions=session_factory(engine),
        clock=clock,
    )
    await seed_link(runtime, CODE)
    app = build_web_app(runtime, installers=[install_link_routes])
    return runtime, TestClient(TestServer(app))


@pytest.fixture
async def behind_proxy(
    db_url: str, engine: AsyncEngine, clock: FixedClock
) -> AsyncIterator[tuple[Runtime, TestClient]]:
    runtime, client = await _client(db_url, engine, clock, ["127.0.0.1", "10.0.0.0/8"])
    async with client:
        yield runtime, client


@pytest.fixture
async def direct(
    db_url: str, engine: AsyncEngine, clock: FixedClock
) -> AsyncIterator[tuple[Runtime, TestClient]]:
    runtime, client = await _client(db_url, engine, clock, ["10.0.0.0/8"])
    async with client:
        yield runtime, client


async def _visit(client: TestClient, forwarded_for: str | None = None) -> None:
    headers = {"User-Agent": BROWSER}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    resp = await client.get(f"/s/{CODE}", headers=headers, allow_redirects=False)
    assert resp.status == 302


async def _visits(runtime: Runtime) -> int:
    await link_server(runtime).flush()
    async with runtime.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(LinkVisit))).scalar_one())


async def test_two_visitors_behind_trusted_proxy_count_twice(
    behind_proxy: tuple[Runtime, TestClient],
) -> None:
    runtime, client = behind_proxy
    await _visit(client, "198.51.100.1")
    await _visit(client, "198.51.100.2")
    assert await _visits(runtime) == 2
    # A visitor prepending made-up addresses is still the address the proxy saw.
    await _visit(client, "1.1.1.1, 198.51.100.1")
    await _visit(client, "2.2.2.2, 198.51.100.2, 10.0.0.7")
    assert await _visits(runtime) == 2
    # Garbage from the proxy: counted as the proxy itself, never an error.
    await _visit(client, "unknown")
    resp = await client.get(
        f"/s/{CODE}",
        headers=[
            ("User-Agent", BROWSER),
            ("X-Forwarded-For", "1.1.1.1"),
            ("X-Forwarded-For", "198.51.100.3"),
        ],
        allow_redirects=False,
    )
    assert resp.status == 302
    assert await _visits(runtime) == 4


async def test_spoofed_header_from_untrusted_peer_adds_no_visits(
    direct: tuple[Runtime, TestClient],
) -> None:
    runtime, client = direct
    for header in (None, "198.51.100.1", "198.51.100.2", "10.0.0.1, 198.51.100.3"):
        await _visit(client, header)
    assert await _visits(runtime) == 1
