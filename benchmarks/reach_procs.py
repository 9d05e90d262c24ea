"""Benchmark: three `kepubot run` processes on PostgreSQL push one item; one is killed mid-push.

    .venv/bin/python benchmarks/reach_procs.py                    # 9,000 messages, time x5
    .venv/bin/python benchmarks/reach_procs.py -n 3000 --scale 5  # quicker
    .venv/bin/python benchmarks/reach_procs.py -n 30000 --scale 1 # real time, ~17 min

The sandbox (in this process) enforces Telegram's caps: 30 msg/s overall in a sliding
one-second window, 1 msg/s per chat. ``--scale K`` compresses time K-fold: the sandbox's
windows shrink to 1/K s and the bots are configured for K x 30 msg/s (K per chat), so the
cap becomes 30·K msg/s and a push of N takes N/(30·K) s. The limiter logic is the real one
(``[limits] shared``: token buckets in PostgreSQL shared by the three processes); only the
clock of the caps is compressed. The outbox lease stays 30 s of real time, so the killed
process's claimed rows are taken over 30 s after the kill.

Three real processes (`python -m bot run`, webhook mode so no two poll getUpdates) start on
a scratch PostgreSQL database; the item is pushed to N informants; when a third of the
messages went out, process 1 gets SIGKILL. Reported: the aggregate rate from the first send
to the last row leaving ``pending`` and its share of the cap, the rate while all sends
flowed (to the last send before the takeover wait, if any), 429 answers, informants with no
message (lost), extra messages (duplicated: only sends in flight at the kill may repeat).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.push_outbox import _seed  # noqa: E402
from benchmarks.reach_rss import PG_URL, _drop_pg, _scratch_pg  # noqa: E402
from bot.app import build_runtime  # noqa: E402
from bot.sandbox import Limits, Sandbox  # noqa: E402
from bot.sandbox.harness import process_env, sandbox_settings  # noqa: E402
from bot.services import push as push_service  # noqa: E402
from storage import outbox as outbox_store  # noqa: E402
from storage.db import create_nullpool_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

CAP = 30.0


async def start(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def run(
    n: int,
    scale: float,
    processes: int,
    kill_at: float,
    pg_url: str,
    shared: bool = True,
    concurrency: int = 2,
    headroom: float | None = None,
) -> dict[str, Any]:
    url = await _scratch_pg(pg_url)
    procs: list[asyncio.subprocess.Process] = []
    try:
        engine = create_nullpool_engine(url)
        await upgrade(engine)
        await engine.dispose()
        limits = Limits(global_per_second=30, per_chat_per_second=1, scale=1.0 / scale)
        async with Sandbox(
            token="123456:BENCH", bot_username="kepubot_bench_bot", limits=limits
        ) as sb:
            users = [sb.user(f"U{i}", started=True) for i in range(n)]
            settings = sandbox_settings(sb, url)
            runtime = build_runtime(settings)
            content_id = await _seed(runtime, [u.id for u in users])
            env = process_env(
                sb,
                url,
                TELEGRAM__MODE="webhook",
                TELEGRAM__WEBHOOK_URL="http://127.0.0.1:9/telegram/webhook",
                TELEGRAM__WEBHOOK_SECRET="bench-secret",
                LIMITS__SHARED="true" if shared else "false",
                CONTENT__SENDER_CONCURRENCY=str(concurrency),
                LIMITS__GLOBAL_PER_SECOND=str(CAP * scale),
                LIMITS__PER_CHAT_PER_SECOND=str(scale),
                LIMITS__PER_GROUP_PER_MINUTE=str(20 * scale),
                LIMITS__FLOOD_WINDOW_SECONDS=str(1.0 / scale),
                **({} if headroom is None else {"LIMITS__SHARED_HEADROOM": str(headroom)}),
            )
            procs = [await start(env) for _ in range(processes)]
            await asyncio.sleep(3.0)  # let them start (migrations checked, webhook set)
            async with runtime.sessions() as session, session.begin():
                result = await push_service.push_item(
                    session=session, content_id=content_id, now=runtime.now(), tz=dt.UTC
                )
            enqueued = time.monotonic()
            first: float | None = None
            killed_at: float | None = None
            sent_at_kill = 0
            last_count, last_change = 0, enqueued
            samples: list[tuple[float, int]] = []  # (time, messages sent so far)
            while True:
                await asyncio.sleep(0.1)
                now = time.monotonic()
                sent = sb.stats.sent_messages
                samples.append((now, sent))
                if first is None and sent:
                    first = now
                if sent != last_count:
                    last_count, last_change = sent, now
                if killed_at is None and sent >= n * kill_at:
                    procs[0].send_signal(signal.SIGKILL)
                    killed_at, sent_at_kill = now, sent
                async with runtime.sessions() as session:
                    counts = await outbox_store.counts(session=session, push_id=result.push_id)
                if counts["pending"] == 0:
                    break
                if now - enqueued > 3600:
                    raise TimeoutError(counts)
            done = time.monotonic()
            per_chat = [len(u.messages) for u in users]
            stats = sb.stats
            await runtime.engine.dispose()
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), timeout=30)
            except TimeoutError:
                proc.kill()
        await _drop_pg(pg_url)
    cap = CAP * scale
    start_at = first or enqueued
    # The rate between the 10th and the 90th percent of the messages: the flow without
    # the start (processes claiming their first rows) and the tail.
    t10 = next(t for t, k in samples if k >= n * 0.1)
    t90 = next(t for t, k in samples if k >= n * 0.9)
    steady = (0.8 * n) / (t90 - t10) if t90 > t10 else 0.0
    total_rate = counts["sent"] / (done - start_at)
    return {
        "messages": n,
        "processes": processes,
        "concurrency": concurrency,
        "headroom": headroom,
        "shared_cap": shared,
        "cap_msg_s": cap,
        "sent": counts["sent"],
        "failed": counts["failed"],
        "lost": sum(1 for c in per_chat if c == 0),
        "duplicated": sum(c - 1 for c in per_chat if c > 1),
        "http_429": stats.rate_limited,
        "killed_after_s": round((killed_at or done) - start_at, 1),
        "sent_at_kill": sent_at_kill,
        "push_s": round(done - start_at, 1),
        "rate": round(total_rate, 1),
        "share_of_cap": round(total_rate / cap * 100, 1),
        "steady_rate": round(steady, 1),
        "steady_share_of_cap": round(steady / cap * 100, 1),
        "last_send_s": round(last_change - start_at, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=9000)
    parser.add_argument("--scale", type=float, default=5.0)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--kill-at", type=float, default=1 / 3, help="share sent at the kill")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument(
        "--local-cap", action="store_true", help="each process paces itself (no shared cap)"
    )
    parser.add_argument("--concurrency", type=int, default=2, help="sends in flight per process")
    parser.add_argument(
        "--headroom", type=float, help="[limits] shared_headroom (default: the config's)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    figures = asyncio.run(
        run(
            args.n,
            args.scale,
            args.processes,
            args.kill_at,
            args.pg_url,
            not args.local_cap,
            args.concurrency,
            args.headroom,
        )
    )
    print(figures)
    print(f"run at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
