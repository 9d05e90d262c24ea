"""Benchmark: time (and Stars) to reach 430,000 informants with one item, three ways.

    .venv/bin/python benchmarks/reach_time.py                  # ~2 min
    .venv/bin/python benchmarks/reach_time.py --free-n 10000   # free cap on 10,000, ~6 min
    .venv/bin/python benchmarks/reach_time.py --free-n 3000 --free-scale 10  # time x10

Each way is measured on the real bot (``running_bot``, SQLite, one process) against the
sandbox with Telegram's limits on, on a subset, and extrapolated to 430,000 at the rate
achieved (the rate is flat in the push's size: see ``push_outbox.py`` and ``reach_rss.py``):

* **private messages at the free cap** — ``--free-n`` informants with the sandbox and the
  bot's limiter compressed ``--free-scale`` times (cap 30·K msg/s); time at the real cap =
  430,000 / (30 × achieved share of the cap);
* **paid broadcast** — ``--paid-n`` informants at the real caps (30 msg/s free, 1,000 msg/s
  with ``allow_paid_broadcast``, 0.1 Stars per paid message, a budget that does not run
  out), ``--paid-concurrency`` sends in flight; time = 430,000 / achieved rate,
  Stars = 430,000 × the paid share of the sends × 0.1;
* **channels** — one channel with 430,000 subscribers linked to the informants' region,
  the item pushed to channels only: one post. Telegram delivers a post to a channel's
  subscribers itself; the bot's part is the post, timed here from enqueue to sent.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.push_outbox import _seed, run_once  # noqa: E402
from bot.app import build_runtime  # noqa: E402
from bot.runtime.outbox import OPTIONS_KEY, OutboxOptions, notify_outbox  # noqa: E402
from bot.sandbox import Limits, Sandbox  # noqa: E402
from bot.sandbox.harness import running_bot, sandbox_settings  # noqa: E402
from bot.services import broadcast as broadcast_service  # noqa: E402
from bot.services import push as push_service  # noqa: E402
from storage import broadcast as broadcast_store  # noqa: E402
from storage import channels as channel_store  # noqa: E402
from storage import outbox as outbox_store  # noqa: E402
from storage.db import create_nullpool_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

TARGET = 430_000
CAP = 30.0


async def _migrated(tmp: str) -> str:
    url = f"sqlite+aiosqlite:///{tmp}/reach.db"
    engine = create_nullpool_engine(url)
    await upgrade(engine)
    await engine.dispose()
    return url


async def _wait_sent(runtime: Any, push_id: int) -> dict[str, int]:
    while True:
        await asyncio.sleep(0.05)
        async with runtime.sessions() as session:
            counts = await outbox_store.counts(session=session, push_id=push_id)
        if counts["pending"] == 0:
            return counts


async def run_paid(n: int, concurrency: int) -> dict[str, Any]:
    """Push to ``n`` informants as a paid broadcast at the real caps."""
    limits = Limits(global_per_second=30, per_chat_per_second=1, paid_per_second=1000)
    with tempfile.TemporaryDirectory() as tmp:
        url = await _migrated(tmp)
        async with Sandbox(
            token="123456:BENCH", bot_username="kepubot_bench_bot", limits=limits, stars=1e9
        ) as sandbox:
            users = [sandbox.user(f"U{i}", started=True) for i in range(n)]
            settings = sandbox_settings(
                sandbox,
                url,
                limits={"global_per_second": CAP, "per_chat_per_second": 1.0},
                broadcast={"enabled": True, "paid_per_second": 1000.0, "stars_budget": 1e9},
            )
            runtime = build_runtime(settings)
            runtime.extras[OPTIONS_KEY] = OutboxOptions(concurrency=concurrency)
            async with running_bot(sandbox, settings, runtime=runtime) as bot:
                content_id = await _seed(runtime, [u.id for u in users])
                async with runtime.sessions() as session, session.begin():
                    result = await push_service.push_item(
                        session=session, content_id=content_id, now=runtime.now(), tz=dt.UTC
                    )
                    assert result.push_id is not None
                    await broadcast_service.open_paid_push(
                        session=session,
                        push_id=result.push_id,
                        recipients=result.queued,
                        limits=settings.limits,
                        broadcast=settings.broadcast,
                        now=runtime.now(),
                    )
                started = time.monotonic()
                notify_outbox(runtime)
                counts = await _wait_sent(runtime, result.push_id)
                elapsed = time.monotonic() - started
                await bot.settle(timeout=30)
                async with runtime.sessions() as session:
                    row = await broadcast_store.get_broadcast(
                        session=session, push_id=result.push_id
                    )
                assert row is not None
                per_chat = [len(u.messages) for u in users]
                stats = sandbox.stats
    return {
        "n": n,
        "sent": counts["sent"],
        "seconds": elapsed,
        "rate": counts["sent"] / elapsed,
        "paid_messages": row.paid_sent,
        "stars_spent_sandbox": stats.stars_spent_nanos / 1e9,
        "lost": sum(1 for c in per_chat if c == 0),
        "duplicated": sum(c - 1 for c in per_chat if c > 1),
        "http_429": stats.rate_limited,
    }


async def run_channel(subscribers: int) -> dict[str, Any]:
    """Push to one channel of ``subscribers`` (channels only); time the post."""
    limits = Limits(global_per_second=30, per_chat_per_second=1)
    with tempfile.TemporaryDirectory() as tmp:
        url = await _migrated(tmp)
        async with Sandbox(
            token="123456:BENCH", bot_username="kepubot_bench_bot", limits=limits
        ) as sandbox:
            channel = sandbox.channel(
                "杭州科普", username="hzkepu", subscribers=subscribers, bot_admin=True
            )
            reader = sandbox.user("读者", started=True)
            settings = sandbox_settings(sandbox, url)
            runtime = build_runtime(settings)
            async with running_bot(sandbox, settings, runtime=runtime) as bot:
                content_id = await _seed(runtime, [reader.id])
                async with runtime.sessions() as session, session.begin():
                    await channel_store.link_channel(
                        session=session,
                        chat_id=channel.chat.id,
                        region_code="330106",
                        title="杭州科普",
                        username="hzkepu",
                        invite_link=None,
                        linked_by=None,
                        now=runtime.now(),
                    )
                started = time.monotonic()
                async with runtime.sessions() as session, session.begin():
                    result = await push_service.push_item(
                        session=session,
                        content_id=content_id,
                        now=runtime.now(),
                        tz=dt.UTC,
                        informants=False,
                        channels=True,
                    )
                assert result.push_id is not None
                notify_outbox(runtime)
                counts = await _wait_sent(runtime, result.push_id)
                elapsed = time.monotonic() - started
                await bot.settle(timeout=30)
                reach = channel.subscribers
    return {"posts": counts["sent"], "seconds": elapsed, "subscribers": reach}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--free-n", type=int, default=900)
    # Compressed time only helps while the bot keeps up with 30·K msg/s; on a busy 2-core
    # machine it does not, so the default is the real cap (30 s for 900 messages).
    parser.add_argument("--free-scale", type=float, default=1.0)
    parser.add_argument("--paid-n", type=int, default=2000)
    parser.add_argument(
        "--paid-concurrency",
        type=int,
        default=16,
        help="sends in flight for the paid run (content.sender_concurrency; 1,000 msg/s "
        "needs many in flight)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    free = asyncio.run(
        run_once(2, args.free_n, args.free_scale, error_rate=0.0, overpace=0.0, label="free")
    )
    share = free["share"] / 100
    free_s = TARGET / (CAP * share)
    print(
        f"free cap: {args.free_n} at cap {free['cap']:.0f} msg/s (time x{args.free_scale:g}): "
        f"{free['achieved']} msg/s = {free['share']} % of the cap, lost {free['lost']}, "
        f"duplicated {free['duplicated']}, 429s {free['http_429']}",
        flush=True,
    )
    print(f"  -> {TARGET}: {free_s:,.0f} s = {free_s / 3600:.2f} h at 30 msg/s, 0 Stars")
    paid = asyncio.run(run_paid(args.paid_n, args.paid_concurrency))
    paid_share = paid["paid_messages"] / max(paid["sent"], 1)
    paid_s = TARGET / paid["rate"]
    stars = TARGET * paid_share * 0.1
    formula = broadcast_service.estimate(TARGET, True, None)
    print(
        f"paid: {paid['sent']} in {paid['seconds']:.1f} s = {paid['rate']:.0f} msg/s, "
        f"{paid['paid_messages']} paid ({paid_share:.1%}), sandbox took "
        f"{paid['stars_spent_sandbox']:.1f} Stars, lost {paid['lost']}, duplicated "
        f"{paid['duplicated']}, 429s {paid['http_429']}",
        flush=True,
    )
    print(
        f"  -> {TARGET}: {paid_s:,.0f} s = {paid_s / 60:.1f} min, {stars:,.0f} Stars "
        f"(Telegram's own rates would give {formula.seconds:,.0f} s, {formula.stars:,.0f} Stars)"
    )
    channel = asyncio.run(run_channel(TARGET))
    print(
        f"channels: {channel['posts']} post to a channel of {channel['subscribers']:,} "
        f"subscribers in {channel['seconds']:.2f} s, 0 Stars (delivery to subscribers is "
        "Telegram's)",
        flush=True,
    )
    print(f"run at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
