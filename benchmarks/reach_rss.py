"""Benchmark: the bot's memory while pushing one item to 10,000 and to 500,000 informants.

    .venv/bin/python benchmarks/reach_rss.py                       # PostgreSQL, 10k and 500k
    .venv/bin/python benchmarks/reach_rss.py --backend sqlite
    .venv/bin/python benchmarks/reach_rss.py --sizes 10000,100000 --whole-list

Each size runs in a fresh child process (so one run's peak cannot hide in the next): it
migrates a scratch database, seeds the informants inside the database (``INSERT … SELECT``
over ``generate_series`` on PostgreSQL, a recursive CTE on SQLite: no Python list of
500,000 rows), then runs the real ``bot.services.push.push_item`` in one transaction, as a
curator's push does. The child samples its resident set (``VmRSS``) every 10 ms during the
push and reports the peak, next to its RSS just before the push. ``--whole-list`` also runs
each size with one page holding every recipient (``page_size`` = N, what the push did before
it streamed), for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bot.sandbox.factories import make_region_tree, make_station  # noqa: E402
from bot.services import push as push_service  # noqa: E402
from storage import outbox as outbox_store  # noqa: E402
from storage.db import create_engine, create_nullpool_engine, session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import ContentItem  # noqa: E402

NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
FIRST_USER = 800_000_000
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SCRATCH = "reach_rss_bench"


def rss_mb() -> float:
    """Return this process's resident set in MB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakSampler:
    """Sample VmRSS every 10 ms on a thread; ``peak`` is the highest seen."""

    def __init__(self) -> None:
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.01)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


SEED_PG = """
INSERT INTO person (telegram_id, first_name, unreachable, created_at)
SELECT :first + g, '信息员' || g, false, :now FROM generate_series(1, :n) AS g;
INSERT INTO informant (person_id, station_id, real_name, interests, paused, joined_at)
SELECT id, :station, first_name, '[]', false, :now FROM person ORDER BY id;
"""

SEED_SQLITE = """
WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :n)
INSERT INTO person (telegram_id, first_name, unreachable, created_at)
SELECT :first + x, '信息员' || x, 0, :now FROM g;
INSERT INTO informant (person_id, station_id, real_name, interests, paused, joined_at)
SELECT id, :station, first_name, '[]', 0, :now FROM person ORDER BY id;
"""


async def _scratch_pg(base_url: str) -> str:
    base = make_url(base_url)
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{SCRATCH}"'))
    finally:
        await admin.dispose()
    return base.set(database=SCRATCH).render_as_string(hide_password=False)


async def _drop_pg(base_url: str) -> None:
    admin = create_async_engine(
        make_url(base_url), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def child(n: int, backend: str, pg_url: str, page_size: int | None) -> dict[str, Any]:
    """Seed ``n`` informants in a scratch database and push one item to them."""
    tmp = tempfile.TemporaryDirectory()
    if backend == "postgres":
        url = await _scratch_pg(pg_url)
    else:
        url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'rss.db'}"
    migrator = create_nullpool_engine(url)
    await upgrade(migrator)
    await migrator.dispose()
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        seed_started = time.perf_counter()
        async with sessions() as session, session.begin():
            await make_region_tree(session, ("330106",))
            station = await make_station(session, created_at=NOW)
            params = {"first": FIRST_USER, "n": n, "now": NOW, "station": station.id}
            for statement in (SEED_PG if backend == "postgres" else SEED_SQLITE).split(";"):
                if statement.strip():
                    await session.execute(text(statement), params)
            await session.execute(
                insert(ContentItem).values(
                    id=1,
                    guid="rss-1",
                    title="防范电信诈骗",
                    summary="",
                    tags=[],
                    regions=[],
                    category="anti_fraud",
                    kind="article",
                    url="https://www.kepuchina.cn/rss",
                    publish_at=NOW - dt.timedelta(hours=1),
                    created_at=NOW,
                )
            )
        if backend == "postgres":
            async with engine.begin() as conn:
                await conn.execute(text("ANALYZE"))
        seed_s = time.perf_counter() - seed_started
        before = rss_mb()
        started = time.perf_counter()
        with PeakSampler() as sampler:
            async with sessions() as session, session.begin():
                result = await push_service.push_item(
                    session=session,
                    content_id=1,
                    now=NOW,
                    tz=dt.UTC,
                    page_size=page_size,
                )
        push_s = time.perf_counter() - started
        async with sessions() as session:
            counts = await outbox_store.counts(session=session, push_id=result.push_id)
        return {
            "n": n,
            "page_size": page_size or push_service.RECIPIENT_PAGE,
            "queued": result.queued,
            "pending_rows": counts["pending"],
            "rss_before_mb": round(before, 1),
            "rss_peak_mb": round(sampler.peak, 1),
            "seed_s": round(seed_s, 1),
            "push_s": round(push_s, 1),
        }
    finally:
        await engine.dispose()
        if backend == "postgres":
            await _drop_pg(pg_url)
        tmp.cleanup()


def run_child(n: int, args: argparse.Namespace, page_size: int | None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(n), "--backend", args.backend]
    cmd += ["--pg-url", args.pg_url]
    if page_size:
        cmd += ["--page-size", str(page_size)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--sizes", default="10000,500000")
    parser.add_argument("--whole-list", action="store_true", help="also one page of N")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--page-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = asyncio.run(child(args.child, args.backend, args.pg_url, args.page_size))
        print(json.dumps(result))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    runs = [(n, None) for n in sizes]
    if args.whole_list:
        runs += [(n, n) for n in sizes]
    results = []
    for n, page in runs:
        result = run_child(n, args, page)
        results.append(result)
        print(
            f"{args.backend}: {result['n']:>7} informants, page {result['page_size']:>7}: "
            f"queued {result['queued']:>7}, RSS before {result['rss_before_mb']:6.1f} MB, "
            f"peak {result['rss_peak_mb']:6.1f} MB, push {result['push_s']:6.1f} s "
            f"(seeding {result['seed_s']:.1f} s)",
            flush=True,
        )
    streamed = [r for r in results if r["page_size"] != r["n"]]
    if len(streamed) >= 2:
        small, big = streamed[0], streamed[-1]
        ratio = big["rss_peak_mb"] / small["rss_peak_mb"]
        print(f"peak RSS {big['n']} / {small['n']}: {ratio:.2f}x (target <= 1.20x)", flush=True)


if __name__ == "__main__":
    main()
