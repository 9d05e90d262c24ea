"""`kepubot run` as a real process: SIGTERM stops it cleanly, kill -9 loses no update."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.sandbox import Sandbox
from bot.sandbox.harness import process_env
from storage.db import create_nullpool_engine
from storage.models import InboxUpdate

ROOT = Path(__file__).resolve().parents[2]


def bot_env_vars(sandbox: Sandbox, db_url: str) -> dict[str, str]:
    return process_env(sandbox, db_url)


async def start_bot(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def inbox_counts(db_url: str) -> dict[str, int]:
    engine = create_nullpool_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(InboxUpdate.status, func.count()).group_by(InboxUpdate.status)
            )
            return {status: count for status, count in rows.all()}
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_sigterm_stops_gracefully_with_json_logs(sandbox: Sandbox, sqlite_url: str) -> None:
    proc = await start_bot(bot_env_vars(sandbox, sqlite_url))
    try:
        user = sandbox.user("张三")
        await user.command("start")
        await user.wait_for_message(timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0
    events = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    names = [e["event"] for e in events]
    assert "kepubot running" in names and names[-1] == "kepubot stopped"


@pytest.mark.slow
async def test_kill_9_loses_no_update_and_applies_none_twice(
    sandbox: Sandbox, sqlite_url: str
) -> None:
    env = bot_env_vars(sandbox, sqlite_url)
    users = [sandbox.user(f"用户{i}") for i in range(40)]
    proc = await start_bot(env)
    await users[0].command("start")
    await users[0].wait_for_message(timeout=30)
    for user in users[1:]:
        await user.command("start")
    await asyncio.sleep(0.05)  # let it be busy somewhere in the middle: any instant will do
    proc.kill()  # SIGKILL: no cleanup at all
    await proc.wait()
    proc = await start_bot(env)
    try:
        for user in users:
            if not user.messages:  # answered before the kill, or now by the new process
                await user.wait_for_message(timeout=30)
        await sandbox.wait_idle()
        for _ in range(200):
            counts = await inbox_counts(sqlite_url)
            if counts == {"done": len(users)}:
                break
            await asyncio.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), timeout=30)
    assert counts == {"done": len(users)}
    # Every update was delivered to the bot at least once and processed exactly once.
    assert sandbox.stats.updates_created == len(users)
