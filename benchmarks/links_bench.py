"""Benchmark: requests per second of the tracked-link server (``GET /s/<code>``).

    .venv/bin/python benchmarks/links_bench.py                 # 4,000 requests per case, c=32
    .venv/bin/python benchmarks/links_bench.py -n 10000 -c 64

The server is the bot's own aiohttp app with only the link routes, on a fresh SQLite
database, in a separate process (so the load generator does not share its core); the load
generator is an aiohttp client with ``-c`` concurrent connections on loopback, each case
bounded by ``-n`` requests. Cases:

* new visitors — every request from a different address (``X-Forwarded-For`` from a
  trusted loopback proxy): a lookup, the daily-cap check and an inserted visit;
* repeat visitor — the same address again: a lookup and an insert that does nothing;
* rotating agent — the same address, a new User-Agent each time: still nothing new;
* preview bot — TelegramBot's agent: a lookup, nothing written;
* unknown code — the 404 page.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bot.sandbox.factories import (  # noqa: E402
    make_content,
    make_informant,
    make_link,
    make_station,
)
from storage.db import create_nullpool_engine, session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

BROWSER = (
    "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.{i}"
)
CODE = "BenchCode1"
PUBLISHED = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def serve(url: str, port: int, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    """Run the link server until killed (in a child process)."""

    async def main() -> None:
        from bot.app import build_runtime
        from bot.config import load_settings
        from bot.handlers.links_web import install_link_routes
        from bot.runtime.web import build_web_app, start_site

        settings = load_settings(
            None,
            database={"url": url},
            telegram={"token": "123456:BENCH"},
            web={"host": "127.0.0.1", "port": port, "trusted_proxies": ["127.0.0.1"]},
        )
        runtime = build_runtime(settings)
        app = build_web_app(runtime, installers=[install_link_routes])
        await start_site(app, "127.0.0.1", port)
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


async def seed(url: str) -> None:
    """Create the schema, one informant and one link."""
    engine = create_nullpool_engine(url)
    await upgrade(engine)
    async with session_factory(engine)() as s, s.begin():
        station = await make_station(s, name="站", venue_type="other", county=None)
        assert station.id is not None
        informant = await make_informant(
            s, station_id=station.id, telegram_id=1, first_name="x", real_name=None
        )
        item = await make_content(
            s, guid="g", title="t", url="https://www.kepuchina.cn/1", publish_at=PUBLISHED
        )
        assert informant.id is not None and item.id is not None
        await make_link(
            s,
            code=CODE,
            informant_id=informant.id,
            content_id=item.id,
            channel="wechat_group",
            created_at=PUBLISHED,
        )
    await engine.dispose()


async def load(
    base: str, n: int, conc: int, path: str, agent: str | None, address: str | None
) -> tuple[float, dict]:
    """Send ``n`` GETs with ``conc`` connections; return (requests/s, status counts).

    ``agent`` or ``address`` None: a different one for every request.
    """
    statuses: dict[int, int] = {}
    counter = iter(range(n))
    connector = aiohttp.TCPConnector(limit=conc)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            for i in counter:
                ua = agent if agent is not None else BROWSER.format(i=i)
                ip = address or f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
                headers = {"User-Agent": ua, "X-Forwarded-For": ip}
                async with http.get(base + path, headers=headers, allow_redirects=False) as resp:
                    await resp.read()
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conc)))
        elapsed = time.perf_counter() - started
    return n / elapsed, statuses


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=4000, help="requests per case")
    parser.add_argument("-c", type=int, default=32, help="concurrent connections")
    parser.add_argument("--port", type=int, default=18931)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "links.db"
        url = f"sqlite+aiosqlite:///{db_path}"
        await seed(url)
        ctx = multiprocessing.get_context("spawn")
        ready = ctx.Event()
        server = ctx.Process(target=serve, args=(url, args.port, ready), daemon=True)
        server.start()
        try:
            if not ready.wait(30):
                raise SystemExit("the link server did not start")
            base = f"http://127.0.0.1:{args.port}"
            same = "192.0.2.1"
            cases = [
                ("new visitors (counted)", f"/s/{CODE}", BROWSER.format(i="x"), None),
                ("repeat visitor (deduped)", f"/s/{CODE}", BROWSER.format(i="x"), same),
                ("rotating agent (deduped)", f"/s/{CODE}", None, same),
                ("preview bot (not counted)", f"/s/{CODE}", "TelegramBot (like TwitterBot)", same),
                ("unknown code (404 page)", "/s/NoSuchCode", BROWSER.format(i="x"), same),
            ]
            print(
                f"tracked-link server, SQLite, {args.n} requests per case, "
                f"{args.c} connections, loopback"
            )
            for label, path, agent, address in cases:
                rate, statuses = await load(base, args.n, args.c, path, agent, address)
                print(f"  {label:28s} {rate:7.0f} req/s  {statuses}")
            import sqlite3

            with sqlite3.connect(db_path) as db:
                visits = db.execute("SELECT count(*) FROM link_visit").fetchone()[0]
            print(f"  visits stored: {visits} (expected {args.n + 1})")
        finally:
            server.kill()
            server.join()


if __name__ == "__main__":
    asyncio.run(main())
