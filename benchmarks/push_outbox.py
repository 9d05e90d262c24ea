"""Benchmark: push one item to N informants through the sandbox with Telegram's limits on.

    .venv/bin/python benchmarks/push_outbox.py -n 10000 --runs clean   # real caps, ~6 min
    .venv/bin/python benchmarks/push_outbox.py -n 3000 --runs 5xx,429  # ~4 min

The sandbox enforces 30 msg/s overall and 1 msg/s per chat; ``--scale K`` compresses time K
times (the sandbox's windows shrink to 1/K, the bot is configured for K×30 msg/s), so the
cap becomes 30·K msg/s. Runs: a clean one, one with 5 % injected 5xx answers, and one
where the bot paces 5 % above the cap (so ~5 % of sends draw a real 429 with retry_after).
Reports achieved rate / cap, lost and duplicated messages, 429s and peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from benchmarks.seeding import seed_station_with_informants  # noqa: E402
from bot.app import build_runtime  # noqa: E402
from bot.content.importer import import_source  # noqa: E402
from bot.content.taxonomy import default_taxonomy  # noqa: E402
from bot.runtime.outbox import OPTIONS_KEY, OutboxOptions, notify_outbox  # noqa: E402
from bot.sandbox import Faults, Limits, Sandbox  # noqa: E402
from bot.sandbox.harness import running_bot, sandbox_settings  # noqa: E402
from bot.services import push as push_service  # noqa: E402
from storage import outbox as outbox_store  # noqa: E402
from storage.db import create_nullpool_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import ContentItem  # noqa: E402

CAP = 30.0  # Telegram's broadcast cap, messages per second


async def _seed(runtime: Any, user_ids: list[int]) -> int:
    """Bulk-insert one station and an informant per user; return the item to push."""
    now = runtime.now()
    async with runtime.sessions() as session, session.begin():
        await seed_station_with_informants(session, user_ids, now)
        report = await import_source(
            session=session,
            source=str(ROOT / "bot/content/packs/starter"),
            taxonomy=default_taxonomy(),
            now=now,
            tz=runtime.settings.scheduler.tz,
        )
        poster = (
            await session.execute(
                select(ContentItem.id).where(ContentItem.guid == "starter-health-003")
            )
        ).scalar_one()
        assert poster in report.content_ids
        return int(poster)


async def run_once(
    concurrency: int, n: int, scale: float, *, error_rate: float, overpace: float, label: str
) -> dict[str, Any]:
    """Run one push; return its figures."""
    cap = CAP * scale
    limits = Limits(
        global_per_second=30, per_chat_per_second=1, per_group_per_minute=20, scale=1.0 / scale
    )
    faults = Faults(error_rate=error_rate, seed=42) if error_rate else None
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        engine = create_nullpool_engine(url)
        await upgrade(engine)
        await engine.dispose()
        async with Sandbox(
            token="123456:BENCH", bot_username="kepubot_bench_bot", limits=limits, faults=faults
        ) as sandbox:
            users = [sandbox.user(f"U{i}", started=True) for i in range(n)]
            settings = sandbox_settings(
                sandbox,
                url,
                limits={
                    "global_per_second": cap * (1 + overpace),
                    "per_chat_per_second": scale,
                    "per_group_per_minute": 20 * scale,
                    "flood_window_seconds": 1.0 / scale,
                },
            )
            runtime = build_runtime(settings)
            # Retry backoff in the same compressed time; overlap sends (see --concurrency).
            runtime.extras[OPTIONS_KEY] = OutboxOptions(
                backoff_base=2.0 / scale, backoff_max=60.0 / scale, concurrency=concurrency
            )
            async with running_bot(sandbox, settings, runtime=runtime) as bot:
                content_id = await _seed(runtime, [u.id for u in users])
                start = time.monotonic()
                async with runtime.sessions() as session, session.begin():
                    result = await push_service.push_item(
                        session=session,
                        content_id=content_id,
                        now=runtime.now(),
                        tz=settings.scheduler.tz,
                    )
                enqueued = time.monotonic()
                notify_outbox(runtime)
                first_send: float | None = None
                while True:
                    await asyncio.sleep(0.25)
                    if first_send is None and sandbox.stats.sent_messages:
                        first_send = time.monotonic()
                    async with runtime.sessions() as session:
                        counts = await outbox_store.counts(session=session, push_id=result.push_id)
                    if counts["pending"] == 0:
                        break
                done = time.monotonic()
                await bot.settle(timeout=30)
                per_chat = [len(u.messages) for u in users]
                stats = sandbox.stats
    sent_window = done - (first_send or enqueued)
    achieved = counts["sent"] / (done - enqueued)
    return {
        "label": label,
        "informants": n,
        "cap": cap,
        "queued": result.queued,
        "enqueue_s": round(enqueued - start, 2),
        "send_s": round(done - enqueued, 1),
        "sent_window_s": round(sent_window, 1),
        "achieved": round(achieved, 1),
        "share": round(achieved / cap * 100, 1),
        "sent": counts["sent"],
        "failed": counts["failed"],
        "blocked": counts["blocked"],
        "lost": sum(1 for c in per_chat if c == 0),
        "duplicated": sum(c - 1 for c in per_chat if c > 1),
        "http_429": stats.rate_limited,
        "injected_5xx": stats.faults.get("error", 0),
        "photo_uploads": 1 if stats.calls.get("sendPhoto") else 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--informants", type=int, default=10_000)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="time compression (cap = 30 × scale msg/s)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=2,
        help="sends in flight (content.sender_concurrency; default 2 as in production)",
    )
    parser.add_argument(
        "--runs", default="clean,5xx,429", help="comma list of runs: clean, 5xx, 429"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    plans = {
        "clean": {"error_rate": 0.0, "overpace": 0.0},
        "5xx": {"error_rate": 0.05, "overpace": 0.0},
        "429": {"error_rate": 0.0, "overpace": 0.05},
    }
    results = []
    for name in args.runs.split(","):
        started = time.monotonic()
        figures = asyncio.run(
            run_once(args.concurrency, args.informants, args.scale, label=name, **plans[name])
        )
        figures["wall_s"] = round(time.monotonic() - started, 1)
        results.append(figures)
        print(figures, flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(
        "| run | informants | cap msg/s | achieved msg/s | share of cap | sent | failed "
        "| lost | duplicated | 429s | injected 5xx | wall s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['label']} | {r['informants']} | {r['cap']:.0f} | {r['achieved']} | "
            f"{r['share']} % | {r['sent']} | {r['failed']} | {r['lost']} | "
            f"{r['duplicated']} | {r['http_429']} | {r['injected_5xx']} | {r['wall_s']} |"
        )
    print(f"\npeak RSS (bot + sandbox + 10k simulated users, one process): {peak_mb:.0f} MB")
    print(f"run at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
