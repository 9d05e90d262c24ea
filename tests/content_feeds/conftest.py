"""A feed server on loopback (aiohttp) that honours ETag / Last-Modified, and helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Route:
    """What the server answers on one path."""

    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    status: int = 200
    hang: bool = False


@dataclass
class FeedServer:
    """Serve feeds; remember every request's conditional headers."""

    base: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def serve(self, path: str, fixture: str | bytes, **kwargs: object) -> str:
        body = fixture if isinstance(fixture, bytes) else (FIXTURES / fixture).read_bytes()
        self.routes[path] = Route(body=body, **kwargs)  # type: ignore[arg-type]
        return self.url(path)

    def seen(self, path: str) -> list[tuple[str | None, str | None]]:
        """Return (If-None-Match, If-Modified-Since) of each request to ``path``."""
        return [(inm, ims) for p, inm, ims in self.requests if p == path]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        inm = request.headers.get("If-None-Match")
        ims = request.headers.get("If-Modified-Since")
        self.requests.append((request.path, inm, ims))
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="not found")
        if route.hang:
            await self.released.wait()  # never answers before the client gives up
        if route.status != 200:
            return web.Response(status=route.status, text="error")
        headers = {}
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        if (route.etag and inm == route.etag) or (
            route.last_modified and ims == route.last_modified and not route.etag
        ):
            return web.Response(status=304, headers=headers)
        return web.Response(body=route.body, headers=headers, content_type="application/rss+xml")


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    app = web.Application()
    app.router.add_get("/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sockets = site._server.sockets if site._server is not None else ()  # type: ignore[union-attr]
    port = sockets[0].getsockname()[1]
    server.base = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        server.released.set()
        await runner.cleanup()
