"""Benchmark: a real `kepubot run` killed with SIGKILL at random instants loses nothing.

    .venv/bin/python benchmarks/crash_bench.py                        # SQLite, 3,000 updates
    .venv/bin/python benchmarks/crash_bench.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/test

The sandbox runs in this process; the bot is a separate `python -m bot run` (polling),
started again after every kill. Registered informants send a mix of updates, fed at a
steady rate whether the bot is up or not (Telegram keeps them meanwhile):

* button presses that toggle a topic (``SET:t:health``) — each user's final topics must
  follow from how many times they pressed (state parity);
* inline shares (``chosen_inline_result``, each a distinct share) — counted exactly once;
* forwards of the content card into a group the bot is in — once per informant a day;
* ``/help`` commands — each must get exactly one answer.

The bot is killed ``--kills`` times at random instants (uniform within each restart's
life), then left to finish. Reported: updates lost (not processed), applied twice (a
share counted twice or a press applied twice), presses lost (by parity), shares doubled,
replies missing and replies doubled. Target: all zero, except replies doubled at most one
per kill (a send in flight at the kill: Telegram took it, the bot never learned).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.sandbox import Sandbox  # noqa: E402
from bot.sandbox.factories import (  # noqa: E402
    make_content,
    make_informant,
    make_region_tree,
    make_station,
)
from bot.sandbox.harness import process_env  # noqa: E402
from bot.sandbox.limits import Limits  # noqa: E402
from bot.services.shares import inline_result_id  # noqa: E402
from storage.db import create_nullpool_engine, session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import InboxUpdate, ShareEvent  # noqa: E402

HELP_REPLY = "我能为您做这些："
TITLE = "防范电信诈骗"
TOPIC = "health"


def _env(sandbox: Sandbox, db_url: str) -> dict[str, str]:
    # Crash safety is measured here, not flood control: no pacing, no throttle.
    return process_env(sandbox, db_url, LIMITS__REPLY_BACKLOG="100000")


async def _start(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--log-level",
        "ERROR",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _fresh_postgres(url: str) -> str:
    """Create (again) a database of the benchmark's own on that server; return its URL."""
    server = make_url(url)
    name = f"{server.database or 'kepubot'}_crash_bench"
    admin = create_nullpool_engine(server.render_as_string(hide_password=False))
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


async def _prepare(db_url: str, user_ids: list[int]) -> int:
    """Migrate a fresh database and register every user as an informant; return the item."""
    engine = create_nullpool_engine(db_url)
    await upgrade(engine)
    async with session_factory(engine)() as session, session.begin():
        await make_region_tree(session)
        station = await make_station(session)
        assert station.id is not None
        for uid in user_ids:
            await make_informant(
                session,
                station_id=station.id,
                telegram_id=uid,
                real_name="信息员",
                interests=("anti_fraud",),
            )
        item = await make_content(session, guid="crash-1", title=TITLE)
        assert item.id is not None
        content_id = item.id
    await engine.dispose()
    return content_id


def _plan(users: list[Any], n: int, seed: int) -> list[tuple[str, Any]]:
    """Return ``n`` actions spread over the users, in a random order."""
    rnd = random.Random(seed)
    kinds = ["press"] * 4 + ["share"] * 2 + ["forward"] + ["help"] * 3
    return [(rnd.choice(kinds), rnd.choice(users)) for _ in range(n)]


async def _feed(
    sb: Sandbox, plan: list[tuple[str, Any]], content_id: int, group: Any, rate: float
) -> None:
    """Push the planned updates at ``rate`` a second, whatever the bot is doing."""
    world = sb.world
    for i, (kind, user) in enumerate(plan):
        if kind == "forward":  # the content card forwarded into the group the bot is in
            await world.push_update(
                "message",
                {
                    "message_id": world.next_id(),
                    "date": int(time.time()),
                    "chat": {"id": group.id, "type": "supergroup", "title": group.title},
                    "from": dict(user.user),
                    "text": f"{TITLE}\n\n防范电信诈骗的三个要点。",
                    "forward_origin": {
                        "type": "user",
                        "sender_user": dict(world.bot_user),
                        "date": int(time.time()) - 60,
                    },
                },
            )
            await asyncio.sleep(1 / rate)
            continue
        if kind == "press":
            message = {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": user.id, "type": "private"},
                "from": dict(world.bot_user),
                "text": "设置",
            }
            query_id = str(4_000_000_000_000 + i)
            world.callback_answers[query_id] = {}  # the sandbox takes one answer for it
            payload = {
                "id": query_id,
                "from": dict(user.user),
                "chat_instance": str(user.id),
                "data": f"SET:t:{TOPIC}",
                "message": message,
            }
            await world.push_update("callback_query", payload)
        elif kind == "share":
            chosen = {
                "result_id": inline_result_id(content_id),
                "from": dict(user.user),
                "query": "",
                "inline_message_id": f"crash{i:08d}",
            }
            await world.push_update("chosen_inline_result", chosen)
        else:
            await user.send("/help")
        await asyncio.sleep(1 / rate)


async def _settled(db_url: str, expected: int) -> bool:
    engine = create_nullpool_engine(db_url)
    try:
        async with engine.connect() as conn:
            done = await conn.scalar(
                select(func.count()).select_from(InboxUpdate).where(InboxUpdate.status == "done")
            )
            pending = await conn.scalar(
                text(
                    "SELECT count(*) FROM outbox_message WHERE state = 'pending' "
                    "AND kind IN ('api', 'message')"
                )
            )
        return int(done or 0) >= expected and int(pending or 0) == 0
    finally:
        await engine.dispose()


async def _results(
    db_url: str, sb: Sandbox, plan: list[tuple[str, Any]], kills: int
) -> dict[str, int]:
    engine = create_nullpool_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            statuses = dict(
                (
                    await session.execute(
                        select(InboxUpdate.status, func.count()).group_by(InboxUpdate.status)
                    )
                ).all()
            )
            shares = int(await session.scalar(select(func.count()).select_from(ShareEvent)) or 0)
            topics = {
                person_tg: interests
                for person_tg, interests in (
                    await session.execute(
                        text(
                            "SELECT p.telegram_id, i.interests FROM informant i "
                            "JOIN person p ON p.id = i.person_id"
                        )
                    )
                ).all()
            }
    finally:
        await engine.dispose()
    pushed = sb.world.stats.updates_created
    presses = Counter(u.id for kind, u in plan if kind == "press")
    helps = Counter(u.id for kind, u in plan if kind == "help")
    # An inline share is one share each; forwards count once per informant, item and group
    # a day (a second forward of the same card by the same person is not a new share).
    planned_shares = sum(1 for kind, _ in plan if kind == "share") + len(
        {u.id for kind, u in plan if kind == "forward"}
    )
    presses_lost = 0
    for uid, n in presses.items():
        has = TOPIC in _as_set(topics.get(uid))
        if has != (n % 2 == 1):  # it started without the topic
            presses_lost += 1
    missing = doubled = 0
    for user in {u for _, u in plan}:
        got = sum(1 for m in user.messages if (m.text or "").startswith(HELP_REPLY))
        want = helps.get(user.id, 0)
        missing += max(0, want - got)
        doubled += max(0, got - want)
    return {
        "updates": pushed,
        "kills": kills,
        "updates_lost": pushed - int(statuses.get("done", 0)),
        "parked": int(statuses.get("parked", 0)),
        "shares_doubled": max(0, shares - planned_shares),
        "shares_lost": max(0, planned_shares - shares),
        "presses_lost": presses_lost,
        "replies_missing": missing,
        "replies_doubled": doubled,
    }


def _as_set(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):  # SQLite returns the JSON text
        return set(json.loads(value))
    return set(value)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="updates to replay")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--rate", type=float, default=60.0, help="updates per second fed")
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.database or f"sqlite+aiosqlite:///{Path(tmp) / 'crash.db'}"
        if db_url.startswith("postgresql"):  # never the database given: one of its own
            db_url = await _fresh_postgres(db_url)
        async with Sandbox(token="123456:CRASH-TOKEN", limits=Limits.off()) as sb:
            users = [sb.user(f"信息员{i:03d}", started=True) for i in range(args.users)]
            group = sb.group("幸福小区居民群", members=users, extra_members=100)
            await users[0].add_bot_to(group, as_admin=True)  # an update like the others
            content_id = await _prepare(db_url, [u.id for u in users])
            plan = _plan(users, args.n, args.seed)
            env = _env(sb, db_url)
            started = time.perf_counter()
            feeding = asyncio.create_task(_feed(sb, plan, content_id, group, args.rate))
            span = args.n / args.rate  # the feed's length; the kills fall inside it
            kills = 0
            proc = await _start(env)
            while kills < args.kills:
                await asyncio.sleep(rnd.uniform(0.3, 2 * span / args.kills))
                proc.send_signal(signal.SIGKILL)
                await proc.wait()
                kills += 1
                proc = await _start(env)
            await feeding
            for _ in range(360):  # up to 3 minutes for the last restart to finish the work
                if await _settled(db_url, sb.world.stats.updates_created):
                    break
                await asyncio.sleep(0.5)
            await sb.wait_idle(timeout=30)
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), timeout=60)
            result = await _results(db_url, sb, plan, kills)
            result["seconds"] = round(time.perf_counter() - started)
    print("crash:", ", ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    asyncio.run(main())
