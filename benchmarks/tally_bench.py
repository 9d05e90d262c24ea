"""Benchmark the weekly tally: one week of 1,000,000 share events, 200,000 visits and 50,000
activities over 5,000 stations, on SQLite and PostgreSQL.

Reports the tally's time (DELETE + INSERT … SELECT of the station rows + the roll-up, in one
committed transaction), its ratio to one hand-written GROUP BY over the same share rows
(and to the four plain GROUP BYs of every source), and how the time grows from 100,000 to
1,000,000 events (visits and activities grow in proportion). Generation is bulk (sqlite3
executemany, PostgreSQL COPY) and is not what is measured.

    .venv/bin/python benchmarks/tally_bench.py                 # both backends, full size
    .venv/bin/python benchmarks/tally_bench.py --small         # 10x smaller, quick check
    .venv/bin/python benchmarks/tally_bench.py --backend sqlite

PostgreSQL: ``--pg-url`` (default postgresql+asyncpg://postgres@127.0.0.1:5432/test); all
data goes into a scratch schema ``tally_bench`` that is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.services.tally import tally_week  # noqa: E402
from storage.db import session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import ShareEvent  # noqa: E402

WEEK = "2026-W48"
MONDAY = dt.date(2026, 11, 23)
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SCHEMA = "tally_bench"
CHANNELS = ShareEvent.CHANNELS
NOW = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)
INFORMANTS_PER_STATION = 10
REPEATS = 3

BASELINE = """
SELECT station_id, COUNT(*),
  {channels},
  COUNT(DISTINCT informant_id),
  SUM(CASE WHEN channel IN ('telegram_inline', 'telegram_forward') THEN audience ELSE 0 END),
  SUM(CASE WHEN channel IN ('telegram_inline', 'telegram_forward') THEN 0 ELSE audience END)
FROM share_event WHERE day >= :start AND day <= :end GROUP BY station_id
""".format(
    channels=", ".join(f"SUM(CASE WHEN channel = '{c}' THEN 1 ELSE 0 END)" for c in CHANNELS)
)
ALL_SOURCES = [
    BASELINE,
    """SELECT i.station_id, COUNT(*) FROM link_visit v JOIN tracked_link l ON l.id = v.link_id
       JOIN informant i ON i.id = l.informant_id
       WHERE v.day >= :start AND v.day <= :end GROUP BY i.station_id""",
    """SELECT station_id, COUNT(*), SUM(participants) FROM activity
       WHERE held_on >= :start AND held_on <= :end AND deleted_at IS NULL GROUP BY station_id""",
    """SELECT station_id, COUNT(*), SUM(audience) FROM content_use
       WHERE used_on >= :start AND used_on <= :end GROUP BY station_id""",
]


# --- generation -------------------------------------------------------------------------


class Generator:
    """Deterministic rows for one week over ``stations`` stations."""

    def __init__(self, stations: int) -> None:
        self.stations = stations
        self.informants = stations * INFORMANTS_PER_STATION
        self.rng = random.Random(2026)
        self.shares = self.visits = self.activities = 0

    def base(self) -> dict[str, list[tuple[Any, ...]]]:
        ts = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
        regions = [("330000", "浙江省", "province", None)]
        counties: list[str] = []
        for c in range(1, 11):
            city = f"33{c:02d}00"
            regions.append((city, f"市{c}", "city", "330000"))
            for k in range(1, 11):
                code = f"33{c:02d}{k:02d}"
                regions.append((code, f"县{c}-{k}", "county", city))
                counties.append(code)
        stations = [
            (s, f"站点{s}", "school", counties[s % len(counties)], "recognised", ts)
            for s in range(1, self.stations + 1)
        ]
        informants = [
            (i, (i - 1) // INFORMANTS_PER_STATION + 1, ts, ts, False)
            for i in range(1, self.informants + 1)
        ]
        content = [
            (c, f"g{c}", f"内容{c}", "health", "video", "https://e.org", ts) for c in range(1, 101)
        ]
        links = [
            (i, f"c{i}", i, i % 100 + 1, "wechat_group", ts) for i in range(1, self.informants + 1)
        ]
        return {
            "region": regions,
            "station": stations,
            "informant": informants,
            "content_item": content,
            "tracked_link": links,
        }

    def share_rows(self, n: int) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        for _ in range(n):
            self.shares += 1
            informant = rng.randrange(1, self.informants + 1)
            station = (informant - 1) // INFORMANTS_PER_STATION + 1
            channel = CHANNELS[rng.randrange(len(CHANNELS))]
            day = MONDAY + dt.timedelta(days=rng.randrange(7))
            yield (
                self.shares,
                informant,
                station,
                rng.randrange(1, 101),
                channel,
                "",
                rng.randrange(0, 300),
                False,
                day,
                f"k{self.shares}",
                NOW,
            )

    def visit_rows(self, n: int) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        for _ in range(n):
            self.visits += 1
            day = MONDAY + dt.timedelta(days=self.visits % 7)
            yield (self.visits, rng.randrange(1, self.informants + 1), day, f"v{self.visits}", NOW)

    def activity_rows(self, n: int) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        for _ in range(n):
            self.activities += 1
            deleted = NOW if self.activities % 50 == 0 else None
            yield (
                self.activities,
                rng.randrange(1, self.stations + 1),
                "lecture",
                "讲座",
                MONDAY + dt.timedelta(days=rng.randrange(7)),
                rng.randrange(5, 200),
                False,
                NOW,
                deleted,
            )


COLUMNS = {
    "region": "code, name, level, parent_code",
    "station": "id, name, venue_type, region_code, status, created_at",
    "informant": "id, station_id, consent_at, joined_at, paused",
    "content_item": "id, guid, title, category, kind, url, created_at",
    "tracked_link": "id, code, informant_id, content_id, channel, created_at",
    "share_event": "id, informant_id, station_id, content_id, channel, target, audience, "
    "flagged, day, dedupe_key, created_at",
    "link_visit": "id, link_id, day, visitor_hash, created_at",
    "activity": "id, station_id, type, title, held_on, participants, flagged, created_at, "
    "deleted_at",
}
JSON_DEFAULTS = {"informant": ("interests", "[]"), "content_item": ("tags", "[]")}


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class SqliteLoader:
    """Bulk rows through the stdlib driver (one transaction per batch)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA synchronous=OFF")

    async def load(self, table: str, rows: Any) -> None:
        cols = COLUMNS[table]
        extra = JSON_DEFAULTS.get(table)
        names = cols + (f", {extra[0]}" if extra else "")
        if table == "content_item":
            names += ", summary, regions"
        n = len(names.split(","))
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * n)})"

        def shaped() -> Iterator[tuple[Any, ...]]:
            for row in rows:
                values = tuple(_sqlite_value(v) for v in row)
                if extra:
                    values += (extra[1],)
                if table == "content_item":
                    values += ("", "[]")
                yield values

        with self.db:
            self.db.executemany(sql, shaped())

    async def analyze(self) -> None:
        self.db.execute("ANALYZE")
        self.db.commit()

    async def close(self) -> None:
        self.db.close()


class PostgresLoader:
    """Bulk rows with COPY through asyncpg."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.conn: Any = None

    async def open(self) -> None:
        import asyncpg

        self.conn = await asyncpg.connect(self.dsn, server_settings={"search_path": SCHEMA})

    async def load(self, table: str, rows: Any) -> None:
        cols = [c.strip() for c in COLUMNS[table].split(",")]
        extra = JSON_DEFAULTS.get(table)
        records: Any = rows
        if extra or table == "content_item":

            def shaped() -> Iterator[tuple[Any, ...]]:
                for row in rows:
                    values = tuple(row)
                    if extra:
                        values += (extra[1],)
                    if table == "content_item":
                        values += ("", "[]")
                    yield values

            records = shaped()
            cols += [extra[0]] if extra else []
            cols += ["summary", "regions"] if table == "content_item" else []
        batch: list[tuple[Any, ...]] = []
        for record in records:
            batch.append(record)
            if len(batch) >= 50_000:
                await self.conn.copy_records_to_table(table, records=batch, columns=cols)
                batch = []
        if batch:
            await self.conn.copy_records_to_table(table, records=batch, columns=cols)

    async def analyze(self) -> None:
        await self.conn.execute("ANALYZE")

    async def close(self) -> None:
        await self.conn.close()


# --- measuring --------------------------------------------------------------------------


async def _timed_tally(engine: AsyncEngine) -> float:
    settings = load_settings(None, database={"url": str(engine.url)})
    sessions = session_factory(engine)
    started = time.perf_counter()
    async with sessions() as session, session.begin():
        result = await tally_week(session=session, week=WEEK, settings=settings, now=NOW)
    elapsed = time.perf_counter() - started
    assert result.stations > 0
    return elapsed


async def _timed_queries(engine: AsyncEngine, queries: list[str]) -> float:
    params = {"start": MONDAY.isoformat(), "end": (MONDAY + dt.timedelta(days=6)).isoformat()}
    if engine.dialect.name == "postgresql":
        params = {"start": MONDAY, "end": MONDAY + dt.timedelta(days=6)}  # type: ignore[dict-item]
    started = time.perf_counter()
    async with engine.connect() as conn:
        for sql in queries:
            (await conn.execute(text(sql), params)).fetchall()
    return time.perf_counter() - started


async def measure(engine: AsyncEngine) -> dict[str, float]:
    """Return the median tally time and baselines over REPEATS runs (after one warm-up)."""
    await _timed_queries(engine, [BASELINE])  # warm the cache for everyone
    tally = [await _timed_tally(engine) for _ in range(REPEATS)]
    base = [await _timed_queries(engine, [BASELINE]) for _ in range(REPEATS)]
    every = [await _timed_queries(engine, ALL_SOURCES) for _ in range(REPEATS)]
    return {
        "tally": statistics.median(tally),
        "baseline": statistics.median(base),
        "all_sources": statistics.median(every),
    }


async def run_backend(
    name: str, engine: AsyncEngine, loader: Any, sizes: list[int], stations: int
) -> list[dict[str, Any]]:
    """Grow the week to each size, measuring at every step."""
    gen = Generator(stations)
    t0 = time.perf_counter()
    for table, rows in gen.base().items():
        await loader.load(table, rows)
    results = []
    for size in sizes:
        add = size - gen.shares
        await loader.load("share_event", gen.share_rows(add))
        await loader.load("link_visit", gen.visit_rows(size // 5 - gen.visits))
        await loader.load("activity", gen.activity_rows(size // 20 - gen.activities))
        await loader.analyze()
        generated = time.perf_counter() - t0
        figures = await measure(engine)
        row = {
            "backend": name,
            "events": size,
            "visits": gen.visits,
            "activities": gen.activities,
            "generation_s": generated,
            **figures,
        }
        results.append(row)
        print(
            f"  {name:10} {size:>9,} events  tally {figures['tally']:.2f} s  "
            f"GROUP BY {figures['baseline']:.2f} s "
            f"(x{figures['tally'] / figures['baseline']:.2f})"
            f"  all sources {figures['all_sources']:.2f} s "
            f"(x{figures['tally'] / figures['all_sources']:.2f})",
            flush=True,
        )
        t0 = time.perf_counter()
    return results


async def plans(engine: AsyncEngine) -> None:
    """Print the plan of the baseline scan (is the day index used?)."""
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    params: dict[str, Any] = {"start": MONDAY, "end": MONDAY + dt.timedelta(days=6)}
    if engine.dialect.name == "sqlite":
        params = {k: v.isoformat() for k, v in params.items()}
    async with engine.connect() as conn:
        rows = (await conn.execute(text(explain + BASELINE), params)).fetchall()
    for row in rows:
        print("    plan:", " ".join(str(v) for v in row))


async def sqlite_run(sizes: list[int], stations: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}", poolclass=NullPool)
        await upgrade(engine)
        loader = SqliteLoader(path)
        try:
            results = await run_backend("sqlite", engine, loader, sizes, stations)
            await plans(engine)
        finally:
            await loader.close()
            await engine.dispose()
    return results


async def postgres_run(url: str, sizes: list[int], stations: int) -> list[dict[str, Any]]:
    admin = create_async_engine(url, poolclass=NullPool)
    async with admin.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine = create_async_engine(
        url, poolclass=NullPool, connect_args={"server_settings": {"search_path": SCHEMA}}
    )
    loader = PostgresLoader(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await upgrade(engine)
        await loader.open()
        results = await run_backend("postgresql", engine, loader, sizes, stations)
        await plans(engine)
    finally:
        if loader.conn is not None:
            await loader.close()
        await engine.dispose()
        async with admin.begin() as conn:  # never leave the test database dirty
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await admin.dispose()
    return results


def growth(results: list[dict[str, Any]]) -> str:
    """Describe time per 100k events from the smallest to the largest size."""
    first, last = results[0], results[-1]
    per_first = first["tally"] / first["events"] * 1e5
    per_last = last["tally"] / last["events"] * 1e5
    scale = last["events"] / first["events"]
    return (
        f"{first['events']:,} → {last['events']:,} events ({scale:.0f}x):"
        f" time x{last['tally'] / first['tally']:.1f}; {per_first:.3f} → {per_last:.3f} s "
        "per 100k events"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="10x smaller (quick check)")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args()
    scale = 10 if args.small else 1
    sizes = [n // scale for n in (100_000, 250_000, 500_000, 1_000_000)]
    stations = 5_000 // scale
    print(
        f"tally benchmark: {stations:,} stations, sizes {', '.join(f'{s:,}' for s in sizes)}"
        " share events (visits = events/5, activities = events/20), one ISO week"
    )
    summaries = []
    if args.backend in ("sqlite", "both"):
        summaries.append(("sqlite", await sqlite_run(sizes, stations)))
    if args.backend in ("postgres", "both"):
        summaries.append(("postgresql", await postgres_run(args.pg_url, sizes, stations)))
    print()
    for name, results in summaries:
        top = results[-1]
        print(
            f"{name}: tally of {top['events']:,} events {top['tally']:.2f} s; "
            f"ratio to one GROUP BY {top['tally'] / top['baseline']:.2f}x, to all four "
            f"GROUP BYs {top['tally'] / top['all_sources']:.2f}x; growth {growth(results)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
