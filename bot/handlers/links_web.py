"""Tracked-link routes: ``GET /s/<code>`` → 302 to the item's stored catalogue URL.

The target is only ever the URL stored on the content item; nothing in the request (query
string, extra path, headers) can change it.  GET requests from people count as visits,
once per address per link per day and on at most ``shares.visits_per_address_per_day`` links
per address per day; HEAD requests, link-preview bots and HTTP libraries do not.
Unknown codes get a small localised 404 page.

Speed: codes are resolved through a small in-process cache (a link's target never changes;
an item's URL rarely does, so entries live ``CACHE_TTL``), and visits are buffered and
written in one insert-or-ignore every ``FLUSH_INTERVAL`` — the request path touches the
database only on a cache miss.  A crash loses at most that interval's visits, never a
redirect.

The client address is ``request.remote`` unless that peer is one of ``web.trusted_proxies``;
only then is ``X-Forwarded-For`` read, from the right, skipping further trusted proxies, so
a client can never choose its own address by sending the header (docs/shares.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import ipaddress
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiohttp import web

from bot.i18n import N_, get_translator
from bot.runtime.context import Runtime
from bot.services import links as link_service
from storage import links as link_store

log = logging.getLogger(__name__)

LINK_PATH = "/s/{code}"
CACHE_TTL = 300.0  # seconds a resolved code is trusted
MISS_TTL = 30.0  # seconds an unknown code is remembered as unknown
CACHE_MAX = 50_000
FLUSH_INTERVAL = 0.2  # seconds between visit writes
EXTRAS_KEY = "link_visits"
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse_ip(text: str) -> IPAddress | None:
    """Return the address in ``text`` ("1.2.3.4", "1.2.3.4:80", "[::1]:80"), or None."""
    text = text.strip()
    if text.startswith("["):  # bracketed IPv6, maybe with a port
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; match them as IPv4.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _is_trusted(ip: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(ip in network for network in trusted)


def client_address(
    remote: str | None, forwarded_for: str | None, trusted: Sequence[IPNetwork]
) -> str | None:
    """Return the client's address: the peer, or what trusted proxies say it forwarded."""
    peer = _parse_ip(remote or "")
    if peer is None or not _is_trusted(peer, trusted):
        return remote  # a direct client: whatever it sends in headers is ignored
    # Each proxy appends the address it got the request from, so the entries right of the
    # first untrusted one were written by our proxies; everything left of it, by the client.
    if not forwarded_for or not forwarded_for.strip():
        return remote  # no header: the proxy itself made the request
    found: IPAddress | None = None
    for entry in reversed(forwarded_for.split(",")):
        found = _parse_ip(entry)
        if found is None:
            return remote  # garbage where one of our proxies should have written an address
        if not _is_trusted(found, trusted):
            return str(found)
    # Every hop is a trusted proxy: the request began inside our own networks.
    return str(found) if found is not None else remote


class LinkServer:
    """Resolve codes (cached) and buffer visits for one runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._cache: dict[str, tuple[float, tuple[int, str] | None]] = {}
        self._pending: dict[tuple[int, Any, str], dict[str, Any]] = {}
        self._flush_lock = asyncio.Lock()

    async def resolve(self, code: str) -> tuple[int, str] | None:
        """Return (link id, URL) of a code, from the cache when fresh."""
        now = time.monotonic()
        hit = self._cache.get(code)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self.runtime.sessions() as session:
            found = await link_service.resolve(session=session, code=code)
        if len(self._cache) >= CACHE_MAX:
            self._cache.clear()
        self._cache[code] = (now + (CACHE_TTL if found else MISS_TTL), found)
        return found

    def add_visit(self, link_id: int, visitor: str) -> None:
        """Queue a visit; repeats within the buffer collapse, the database drops the rest."""
        day = self.runtime.today()
        self._pending.setdefault(
            (link_id, day, visitor),
            {
                "link_id": link_id,
                "day": day,
                "visitor_hash": visitor,
                "created_at": self.runtime.now(),
            },
        )

    async def flush(self) -> int:
        """Write buffered visits; return how many were new."""
        async with self._flush_lock:
            if not self._pending:
                return 0
            rows, self._pending = list(self._pending.values()), {}
            try:
                cap = self.runtime.settings.shares.visits_per_address_per_day
                async with self.runtime.sessions() as session, session.begin():
                    return await link_store.record_visits(
                        session=session, rows=rows, daily_cap=cap
                    )
            except Exception:
                log.exception("could not store link visits", extra={"rows": len(rows)})
                for row in rows:  # keep them for the next try
                    self._pending.setdefault(
                        (row["link_id"], row["day"], row["visitor_hash"]), row
                    )
                return 0

    async def run_flusher(self, stop: asyncio.Event) -> None:
        """Flush every ``FLUSH_INTERVAL`` until stopped, then once more."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FLUSH_INTERVAL)
            await self.flush()


def _page(runtime: Runtime, title: str, body: str, status: int) -> web.Response:
    t = get_translator(runtime.settings.i18n.default_locale)
    lang = "zh-CN" if t.locale == "zh_CN" else "en"
    title, body = html.escape(t(title)), html.escape(t(body))
    page = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title}</title></head><body><h1>{title}</h1><p>{body}</p></body></html>"
    )
    return web.Response(
        status=status, text=page, content_type="text/html", charset="utf-8", headers=_HEADERS
    )


def _not_found(runtime: Runtime) -> web.Response:
    return _page(
        runtime,
        N_("Link not found"),
        N_(
            "This link is unknown or no longer valid. Please ask whoever shared it for the "
            "content again."
        ),
        404,
    )


def _broken_target(runtime: Runtime) -> web.Response:
    return _page(
        runtime,
        N_("Link cannot be opened"),
        N_(
            "The address this link leads to is damaged, so it cannot be opened. Please ask "
            "whoever shared it for the content again."
        ),
        404,
    )


def link_server(runtime: Runtime) -> LinkServer:
    """Return the runtime's link server (one per runtime, shared by its web apps)."""
    server = runtime.extras.get(EXTRAS_KEY)
    if not isinstance(server, LinkServer):
        server = runtime.extras[EXTRAS_KEY] = LinkServer(runtime)
    return server


def install_link_routes(app: web.Application, runtime: Runtime) -> None:
    """Add the tracked-link route (GET and HEAD) and the visit flusher to the web server."""
    server = link_server(runtime)
    trusted = runtime.settings.web.trusted_networks

    async def follow_link(request: web.Request) -> web.StreamResponse:
        code = request.match_info.get("code", "")
        try:
            found = await server.resolve(code)
        except Exception:
            log.exception("tracked link lookup failed")
            return web.Response(status=503, text="try again", headers=_HEADERS)
        if found is None:
            return _not_found(runtime)
        link_id, url = found
        if not link_service.safe_target(url):
            # Stored before import refused such URLs: a Location header could not carry it.
            log.warning("tracked link to an unsafe URL", extra={"link_id": link_id})
            return _broken_target(runtime)
        if request.method == "GET":
            visitor = link_service.countable_visitor(
                runtime.settings,
                ip=client_address(
                    request.remote,
                    ",".join(request.headers.getall("X-Forwarded-For", [])),
                    trusted,
                ),
                user_agent=request.headers.get("User-Agent"),
                now=runtime.now(),
            )
            if visitor is not None:
                server.add_visit(link_id, visitor)
        return web.Response(status=302, headers={**_HEADERS, "Location": url})

    async def not_found(request: web.Request) -> web.StreamResponse:
        return _not_found(runtime)

    async def flusher(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(server.run_flusher(stop))
        yield
        stop.set()
        await task

    app.router.add_get(LINK_PATH, follow_link)
    # Anything after the code is not part of any link: never a way to pick a target.
    app.router.add_get(LINK_PATH + "/{tail:.*}", not_found)
    app.cleanup_ctx.append(flusher)
