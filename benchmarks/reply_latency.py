"""Benchmark: how long a user waits for a reply, alone and while another user floods the bot.

    .venv/bin/python benchmarks/reply_latency.py                 # both runs below
    .venv/bin/python benchmarks/reply_latency.py --only latency -n 100
    .venv/bin/python benchmarks/reply_latency.py --only burst --burst 200 --others 50

The real bot (``running_bot``) on a fresh SQLite file, against the sandbox with Telegram's
real flood limits on both sides (30 messages a second overall, 1 a second per chat):

* latency — ``-n`` users, one after the other, each sends ``/help`` and waits for the
  answer; the time from the update entering the sandbox to the reply arriving is measured
  (each user writes once, so no per-chat wait is involved).
* burst — one user sends ``--burst`` messages as fast as the sandbox takes them while
  ``--others`` users each send one ``/help`` during the burst; reported: whether the bot
  stayed up, the others' median and p95 waits, and what the flooding user got back.

Times are wall-clock seconds on this machine; compare runs on the same machine only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.sandbox import Sandbox  # noqa: E402
from bot.sandbox.harness import RunningBot, running_bot, sandbox_settings  # noqa: E402
from bot.sandbox.limits import Limits  # noqa: E402
from bot.sandbox.world import SimUser  # noqa: E402
from storage.db import create_nullpool_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

REAL_LIMITS = {"global_per_second": 30.0, "per_chat_per_second": 1.0, "per_group_per_minute": 20.0}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


async def _timed_help(user: SimUser, timeout: float = 30.0) -> float:
    """Send /help; return the seconds until the bot's answer arrived."""
    user.mark_seen()
    started = time.perf_counter()
    await user.command("help")
    await user.wait_for_message(timeout=timeout)
    return time.perf_counter() - started


async def run_latency(bot: RunningBot, n: int) -> list[float]:
    """Measure ``n`` users' first reply, one user at a time."""
    waits = []
    for i in range(n):
        user = bot.sandbox.user(f"读者{i:03d}", started=True)
        waits.append(await _timed_help(user))
    return waits


async def run_burst(bot: RunningBot, burst: int, others: int) -> dict[str, object]:
    """One user floods the bot while ``others`` users each send one command."""
    flooder = bot.sandbox.user("刷屏者", started=True)
    users = [bot.sandbox.user(f"旁人{i:02d}", started=True) for i in range(others)]

    async def flood() -> None:
        for i in range(burst):
            await flooder.send(f"/help {i}")

    async def other(user: SimUser, delay: float) -> float:
        await asyncio.sleep(delay)
        return await _timed_help(user)

    bot_id = bot.sandbox.world.bot_user["id"]
    started = time.perf_counter()
    flooding = asyncio.create_task(flood())
    spread = 3.0  # the others write during the first seconds of the flood
    waits = await asyncio.gather(*(other(u, spread * i / others) for i, u in enumerate(users)))
    await flooding
    await bot.settle(timeout=600)
    return {
        "alive": not bot.task.done(),
        "others_median": statistics.median(waits),
        "others_p95": _p95(list(waits)),
        "others_max": max(waits),
        "flooder_replies": len([m for m in flooder.messages if m.from_id == bot_id]),
        "seconds": time.perf_counter() - started,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100, help="users in the latency run")
    parser.add_argument("--burst", type=int, default=200, help="messages the flooder sends")
    parser.add_argument("--others", type=int, default=50, help="users writing meanwhile")
    parser.add_argument("--only", choices=["latency", "burst"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_nullpool_engine(url)
        await upgrade(engine)
        await engine.dispose()
        limits = Limits(global_per_second=30, per_chat_per_second=1, per_group_per_minute=20)
        async with Sandbox(token="123456:BENCH-TOKEN", limits=limits) as sb:
            settings = sandbox_settings(sb, url, limits=REAL_LIMITS)
            async with running_bot(sb, settings) as bot:
                if args.only in (None, "latency"):
                    waits = await run_latency(bot, args.n)
                    median = statistics.median(waits) * 1000
                    print(
                        f"latency: {args.n} users, median {median:.0f} ms,"
                        f" p95 {_p95(waits) * 1000:.0f} ms, max {max(waits) * 1000:.0f} ms"
                    )
                if args.only in (None, "burst"):
                    result = await run_burst(bot, args.burst, args.others)
                    print(
                        f"burst: {args.burst} messages from one user, {args.others} others;"
                        f" bot alive: {result['alive']}; others median"
                        f" {float(result['others_median']) * 1000:.0f} ms, p95"  # type: ignore[arg-type]
                        f" {float(result['others_p95']) * 1000:.0f} ms, max"  # type: ignore[arg-type]
                        f" {float(result['others_max']) * 1000:.0f} ms;"  # type: ignore[arg-type]
                        f" the flooder got {result['flooder_replies']} replies;"
                        f" {float(result['seconds']):.1f} s in all"  # type: ignore[arg-type]
                    )


if __name__ == "__main__":
    asyncio.run(main())
