"""Benchmark: chosen_inline_result updates processed end to end, kepubot vs bare PTB.

    .venv/bin/python benchmarks/shares_bench.py              # 5,000 updates, 500 informants
    .venv/bin/python benchmarks/shares_bench.py -n 20000 --informants 2000

Both runs use a fresh Sandbox (no limits, no faults) and the same pre-built updates, pushed
into the sandbox queue as fast as possible (``Sandbox.push_update``); the clock stops when
the last one is processed:

* bare — a python-telegram-bot ``Application`` polling the sandbox with PTB's own
  ``Updater`` and one ``TypeHandler`` that only counts (the floor set by getUpdates, JSON
  and PTB's dispatch);
* kepubot — the real bot (``running_bot``) on SQLite: our poller stores every update in the
  inbox (committed before the next getUpdates acknowledges it), the processor claims a
  batch and hands its ``chosen_inline_result`` updates to the shares batch handler, which
  records a ``share_event`` for each (each update is a distinct share: its own
  ``inline_message_id``), and marks the batch done in the same transaction.

The figure is kepubot's rate and its ratio to the bare rate. A third line measures the
set-based ``record_inline_shares`` alone (what a batch handler in the inbox would run).
``--profile`` runs kepubot under pyinstrument (if installed) and prints where time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import ApplicationBuilder, TypeHandler  # noqa: E402

from benchmarks.seeding import seed_station_with_informants  # noqa: E402
from bot.app import build_runtime  # noqa: E402
from bot.reports.chart import warm_up  # noqa: E402
from bot.sandbox import Sandbox  # noqa: E402
from bot.sandbox.harness import running_bot, sandbox_settings  # noqa: E402
from storage.db import create_nullpool_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import ContentItem, ShareEvent  # noqa: E402

FIRST_USER = 700_000_000
PUBLISHED = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def build_payloads(n: int, informants: int, items: int) -> list[dict[str, Any]]:
    """Return ``n`` chosen_inline_result payloads spread over informants and items."""
    payloads = []
    for i in range(n):
        uid = FIRST_USER + i % informants
        payloads.append(
            {
                "result_id": f"c{1 + i % items}",
                "from": {
                    "id": uid,
                    "is_bot": False,
                    "first_name": f"信息员{uid % 1000}",
                    "language_code": "zh-hans",
                },
                "query": f"c{1 + i % items}",
                "inline_message_id": f"AgAAA{i:010d}",
            }
        )
    return payloads


ARRIVAL = "stream"  # --arrival: "stream" pushes one by one as the bot runs; "backlog" at once


async def push_all(sb: Sandbox, payloads: list[dict[str, Any]]) -> int:
    """Queue every update in the sandbox; return the last one's update_id."""
    if ARRIVAL == "backlog":
        return await sb.push_updates("chosen_inline_result", payloads)
    last = 0
    for payload in payloads:
        last = int((await sb.push_update("chosen_inline_result", payload))["update_id"])
    return last


async def run_bare(payloads: list[dict[str, Any]]) -> float:
    """Return updates/s of a PTB Application that does nothing with them."""
    n = len(payloads)
    seen = 0
    done = asyncio.Event()

    async def count(update: Update, context: Any) -> None:
        nonlocal seen
        seen += 1
        if seen >= n:
            done.set()

    async with Sandbox(token="123456:BENCH-TOKEN", bot_username="bench_bot") as sb:
        app = (
            ApplicationBuilder()
            .token(sb.token)
            .base_url(sb.base_url)
            .base_file_url(sb.base_file_url)
            .build()
        )
        app.add_handler(TypeHandler(Update, count))
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0.0, timeout=1, allowed_updates=Update.ALL_TYPES
        )
        started = time.perf_counter()
        await push_all(sb, payloads)
        await asyncio.wait_for(done.wait(), timeout=600)
        elapsed = time.perf_counter() - started
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    return n / elapsed


async def seed(runtime: Any, informants: int, items: int) -> None:
    """Bulk-insert a region, a station, items and informants."""
    async with runtime.sessions() as session, session.begin():
        await seed_station_with_informants(
            session, [FIRST_USER + k for k in range(informants)], PUBLISHED
        )
        await session.execute(
            insert(ContentItem),
            [
                {
                    "id": i,
                    "guid": f"bench-{i}",
                    "title": f"科普{i}",
                    "summary": "",
                    "tags": [],
                    "regions": [],
                    "category": "health",
                    "kind": "article",
                    "url": f"https://www.kepuchina.cn/{i}",
                    "publish_at": PUBLISHED,
                    "created_at": PUBLISHED,
                }
                for i in range(1, items + 1)
            ],
        )


async def run_kepubot(
    payloads: list[dict[str, Any]], informants: int, items: int, profile: bool
) -> tuple[float, int]:
    """Return (updates/s, share rows) of the real bot processing ``payloads``."""
    n = len(payloads)
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        url = f"sqlite+aiosqlite:///{db_path}"
        engine = create_nullpool_engine(url)
        await upgrade(engine)
        await engine.dispose()
        async with Sandbox(token="123456:BENCH-TOKEN", bot_username="bench_bot") as sb:
            settings = sandbox_settings(sb, url)
            runtime = build_runtime(settings)
            await seed(runtime, informants, items)
            profiler = None
            async with running_bot(sb, settings, runtime=runtime) as bot:
                # The desk imports matplotlib in a thread at start; let that finish first:
                # it is start-up work, and it holds the GIL while it imports.
                await asyncio.to_thread(warm_up)
                await bot.settle()
                if profile:
                    try:
                        from pyinstrument import Profiler
                    except ImportError:
                        print("pyinstrument is not installed; running without --profile")
                    else:
                        profiler = Profiler(async_mode="disabled")
                        profiler.start()
                started = time.perf_counter()
                last_id = await push_all(sb, payloads)
                # Watch progress with a plain read-only connection: WAL readers never wait.
                # Two index lookups (the last update stored, none pending), not a count of
                # a growing table: the watcher must not slow the bot it watches.
                watcher = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
                while True:
                    stored, pending = watcher.execute(
                        "SELECT (SELECT max(update_id) FROM inbox_update), "
                        "(SELECT 1 FROM inbox_update WHERE status = 'pending' LIMIT 1)"
                    ).fetchone()
                    if stored == last_id and pending is None:
                        break
                    await asyncio.sleep(0.05)
                watcher.close()
                elapsed = time.perf_counter() - started
                if profiler is not None:
                    profiler.stop()
                async with runtime.sessions() as s:
                    shares = (
                        await s.execute(select(func.count()).select_from(ShareEvent))
                    ).scalar_one()
                await bot.settle(timeout=60)
            if profiler is not None:
                print(profiler.output_text(unicode=True, color=False, show_all=False))
    return n / elapsed, int(shares)


async def run_set_based(
    payloads: list[dict[str, Any]], informants: int, items: int, batch: int = 100
) -> tuple[float, int]:
    """Return (updates/s, shares) of the set-based service alone, one transaction a batch."""
    from bot.config import load_settings
    from bot.services.shares import InlineChoice, record_inline_shares

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bulk.db'}"
        engine = create_nullpool_engine(url)
        await upgrade(engine)
        await engine.dispose()
        settings = load_settings(None, database={"url": url})
        runtime = build_runtime(settings)
        await seed(runtime, informants, items)
        now = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
        started = time.perf_counter()
        recorded = 0
        for start in range(0, len(payloads), batch):
            choices = [
                InlineChoice(p["from"]["id"], p["result_id"], p.get("inline_message_id"))
                for p in payloads[start : start + batch]
            ]
            async with runtime.sessions() as session, session.begin():
                recorded += await record_inline_shares(
                    session=session,
                    settings=settings,
                    choices=choices,
                    now=now,
                    today=now.date(),
                )
        elapsed = time.perf_counter() - started
        await runtime.engine.dispose()
    return len(payloads) / elapsed, recorded


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="updates (default 5000)")
    parser.add_argument("--informants", type=int, default=500)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--arrival",
        choices=("stream", "backlog"),
        default="stream",
        help="stream: updates pushed one by one while the bot runs (the load generator "
        "shares the process); backlog: all queued at once, as after downtime",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run bare and kepubot alternately this many times; report the median ratio",
    )
    args = parser.parse_args()
    global ARRIVAL
    ARRIVAL = args.arrival
    logging.basicConfig(level=logging.ERROR)
    payloads = build_payloads(args.n, args.informants, args.items)
    ratios: list[tuple[float, float, float]] = []  # (ratio, bare, kepubot) per pair of runs
    for _ in range(max(args.repeat, 1)):
        bare = await run_bare(payloads)
        rate, shares = await run_kepubot(payloads, args.informants, args.items, args.profile)
        ratios.append((rate / bare, bare, rate))
        if args.repeat > 1:
            print(f"  pair: bare {bare:8.0f}/s, kepubot {rate:8.0f}/s ({rate / bare:.0%})")
    _, bare, rate = sorted(ratios)[len(ratios) // 2]  # the median pair
    bulk, bulk_shares = await run_set_based(payloads, args.informants, args.items)
    print(f"updates: {args.n} chosen_inline_result from {args.informants} informants")
    print(f"bare PTB Application (counts only): {bare:8.0f} updates/s")
    print(
        f"kepubot end to end (SQLite):        {rate:8.0f} updates/s  "
        f"({rate / bare:.0%} of bare), shares recorded: {shares}"
    )
    print(
        f"set-based share service alone:      {bulk:8.0f} updates/s  "
        f"(batches of 100, one transaction each), shares recorded: {bulk_shares}"
    )
    print("target: >= 1,000 updates/s end to end")


if __name__ == "__main__":
    asyncio.run(main())
