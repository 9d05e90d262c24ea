"""Benchmark: share updates through webhook processes on PostgreSQL, against bare PTB.

    .venv/bin/python benchmarks/reach_webhook.py                 # 5,000 updates, 1 and 3
    .venv/bin/python benchmarks/reach_webhook.py -n 20000 --processes 1,3

N ``chosen_inline_result`` updates (distinct shares, from ``shares_bench.build_payloads``)
are POSTed as Telegram posts them — with the secret header, over up to 40 connections at
once (Telegram's default ``max_connections``), round-robin over the processes' webhook
ports (the reverse proxy's part) — to:

* **bare** — a python-telegram-bot ``Application`` with one ``TypeHandler`` that only
  counts, fed by a minimal aiohttp webhook endpoint doing what PTB's own webhook server
  does (secret check, ``Update.de_json``, ``update_queue.put``; PTB's server needs tornado,
  the ``webhooks`` extra, which the project does not install);
* **kepubot ×P** — P real `kepubot run` processes (``python -m bot run``, webhook mode) on
  one scratch PostgreSQL database: each stores the update (committed) before answering
  200, and the processors take them from the shared inbox into the shares batch handler.

The clock stops when the last update is counted (bare) or marked done in the inbox.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlmodel import col  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import ApplicationBuilder, TypeHandler  # noqa: E402

from benchmarks.reach_rss import PG_URL, _drop_pg, _scratch_pg  # noqa: E402
from benchmarks.shares_bench import build_payloads, seed  # noqa: E402
from bot.app import build_runtime  # noqa: E402
from bot.sandbox import Sandbox  # noqa: E402
from bot.sandbox.harness import process_env, sandbox_settings  # noqa: E402
from storage.db import create_nullpool_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import InboxUpdate  # noqa: E402

SECRET = "bench-secret"
PATH = "/telegram/webhook"
FIRST_PORT = 18_430
CONNECTIONS = 40
LOGS = ""  # --logs: where the kepubot processes' logs go (else nowhere)


def updates(n: int, informants: int, items: int) -> list[bytes]:
    return [
        json.dumps({"update_id": i + 1, "chosen_inline_result": p}, ensure_ascii=False).encode()
        for i, p in enumerate(build_payloads(n, informants, items))
    ]


async def post_all(bodies: list[bytes], urls: list[str]) -> None:
    """POST every update, up to CONNECTIONS at once, round-robin over ``urls``."""
    queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
    for i, body in enumerate(bodies):
        queue.put_nowait((i, body))
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def worker() -> None:
            while not queue.empty():
                i, body = queue.get_nowait()
                while True:  # Telegram retries until it gets a 200
                    async with client.post(urls[i % len(urls)], data=body, headers=headers) as r:
                        if r.status == 200:
                            break
                    await asyncio.sleep(0.05)

        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))


async def run_bare(bodies: list[bytes]) -> float:
    n, seen, done = len(bodies), 0, asyncio.Event()

    async def count(update: Update, context: Any) -> None:
        nonlocal seen
        seen += 1
        if seen >= n:
            done.set()

    async with Sandbox(token="123456:BENCH-TOKEN", bot_username="bench_bot") as sb:
        app = ApplicationBuilder().token(sb.token).base_url(sb.base_url).updater(None).build()
        app.add_handler(TypeHandler(Update, count))
        await app.initialize()
        await app.start()

        async def hook(request: web.Request) -> web.Response:
            # What PTB's own webhook server does (it needs tornado, not installed here):
            # check the secret, decode, queue the Update for the application to dispatch.
            if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != SECRET:
                return web.Response(status=403)
            update = Update.de_json(await request.json(), app.bot)
            await app.update_queue.put(update)
            return web.Response(text="ok")

        server = web.Application()
        server.router.add_post(PATH, hook)
        runner = web.AppRunner(server, access_log=None)
        await runner.setup()
        port = FIRST_PORT + 99
        await web.TCPSite(runner, "127.0.0.1", port).start()
        started = time.perf_counter()
        await post_all(bodies, [f"http://127.0.0.1:{port}{PATH}"])
        await asyncio.wait_for(done.wait(), timeout=600)
        elapsed = time.perf_counter() - started
        await runner.cleanup()
        await app.stop()
        await app.shutdown()
    return n / elapsed


async def _count(runtime: Any, status: str) -> int:
    """Return how many inbox updates are in ``status``."""
    async with runtime.sessions() as session:
        query = (
            select(func.count()).select_from(InboxUpdate).where(col(InboxUpdate.status) == status)
        )
        return int((await session.execute(query)).scalar_one())


async def run_kepubot(
    bodies: list[bytes], processes: int, informants: int, items: int, pg_url: str
) -> float:
    n = len(bodies)
    url = await _scratch_pg(pg_url)
    procs: list[asyncio.subprocess.Process] = []
    try:
        engine = create_nullpool_engine(url)
        await upgrade(engine)
        await engine.dispose()
        async with Sandbox(token="123456:BENCH-TOKEN", bot_username="bench_bot") as sb:
            runtime = build_runtime(sandbox_settings(sb, url))
            await seed(runtime, informants, items)
            # Statistics, as autovacuum keeps them on a live database: without them the
            # planner takes the freshly seeded tables for empty and scans them.
            async with runtime.engine.begin() as conn:
                await conn.exec_driver_sql("ANALYZE")
            ports = [FIRST_PORT + k for k in range(processes)]
            for port in ports:
                env = process_env(
                    sb,
                    url,
                    TELEGRAM__MODE="webhook",
                    TELEGRAM__WEBHOOK_URL=f"http://127.0.0.1:{ports[0]}{PATH}",
                    TELEGRAM__WEBHOOK_SECRET=SECRET,
                    WEB__PORT=str(port),
                )
                procs.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "bot",
                        "run",
                        cwd=ROOT,
                        env=env,
                        stdout=asyncio.subprocess.DEVNULL,
                        stderr=open(Path(LOGS) / f"webhook-{port}.log", "wb")  # noqa: SIM115
                        if LOGS
                        else asyncio.subprocess.DEVNULL,
                    )
                )
            urls = [f"http://127.0.0.1:{p}{PATH}" for p in ports]
            async with aiohttp.ClientSession() as client:
                for port in ports:  # wait until each serves /healthz
                    for _ in range(300):
                        try:
                            async with client.get(f"http://127.0.0.1:{port}/healthz") as r:
                                if r.status == 200:
                                    break
                        except aiohttp.ClientError:
                            pass
                        await asyncio.sleep(0.1)
            started = time.perf_counter()
            await post_all(bodies, urls)
            # Every update is stored once each POST got its 200: poll only from then on (no
            # query of the bench's own competes with the flood), until none is pending.
            while True:  # a database to poll, no event to wait on
                if not await _count(runtime, "pending"):
                    break
                await asyncio.sleep(0.02)
            done = await _count(runtime, "done")
            if done != n:
                raise SystemExit(f"{done} of {n} updates done (parked or lost)")
            elapsed = time.perf_counter() - started
            await runtime.engine.dispose()
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), timeout=30)
            except TimeoutError:
                proc.kill()
        await _drop_pg(pg_url)
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000)
    parser.add_argument("--informants", type=int, default=500)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--processes", default="1,3")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--logs", default="", help="write each process's log to DIR")
    parser.add_argument(
        "--repeat", type=int, default=1, help="pairs of runs (bare, kepubot) per process count"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    global LOGS
    LOGS = args.logs
    bodies = updates(args.n, args.informants, args.items)
    counts = [int(x) for x in args.processes.split(",")]
    runs: dict[int, list[tuple[float, float]]] = {p: [] for p in counts}  # (ratio, rate)
    bares: list[float] = []
    for _ in range(max(args.repeat, 1)):
        # Bare PTB before each kepubot run: the ratio compares runs minutes apart at most.
        for p in counts:
            bare = asyncio.run(run_bare(bodies))
            rate = asyncio.run(run_kepubot(bodies, p, args.informants, args.items, args.pg_url))
            bares.append(bare)
            runs[p].append((rate / bare, rate))
            if args.repeat > 1:
                print(
                    f"  pair: bare {bare:6.0f}/s, kepubot x{p} {rate:6.0f}/s ({rate / bare:.0%})"
                )
    bare = sorted(bares)[len(bares) // 2]
    print(f"bare PTB webhook (counts only): {bare:8.0f} updates/s (median)", flush=True)
    for p in counts:
        ratio, rate = sorted(runs[p])[len(runs[p]) // 2]
        print(
            f"kepubot x{p} webhook, PostgreSQL: {rate:8.0f} updates/s "
            f"({ratio:.0%} of the bare run before it; median of {len(runs[p])})",
            flush=True,
        )
    print(f"run at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
