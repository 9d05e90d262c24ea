"""Through the real bot and the sandbox: /digest, the weekly jobs, the report CLI."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import col

from bot import jobs
from bot.__main__ import main as cli_main
from bot.runtime.scheduler import run_job
from bot.sandbox.harness import RunningBot
from bot.services import roles as role_service
from storage.models import OutboxMessage, WeeklyStationTally
from tests.conftest import FixedClock
from tests.tally.fixtures import WEEK, World, build_week

MONDAY_AFTER = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai


async def _world(bot_env: RunningBot, clock: FixedClock) -> tuple[World, object, object]:
    sb = bot_env.sandbox
    county = sb.user("西湖区科协", started=True)
    city = sb.user("杭州市科协", started=True)
    async with bot_env.runtime.sessions() as s, s.begin():
        w = await build_week(s)
        for user, region in ((county, "330106"), (city, "330100")):
            await role_service.grant(
                session=s, telegram_id=user.id, role="coordinator", region_code=region, now=clock()
            )
    clock.set(MONDAY_AFTER)
    return w, county, city


async def test_digest_command_sends_text_chart_and_spreadsheet(
    bot_env: RunningBot, clock: FixedClock
) -> None:
    _, county, _ = await _world(bot_env, clock)
    await county.command("digest")
    refusal = await county.wait_for_message()
    assert "尚未统计" in (refusal.text or "")  # not tallied yet: said so, nothing else
    assert (await run_job(bot_env.runtime, jobs.WEEKLY_TALLY, period=WEEK)).status == "done"
    await county.command("digest")
    text = await county.wait_for_message(timeout=30)
    photo = await county.wait_for_message()
    document = await county.wait_for_message()
    assert "科普周报 · 西湖区（县级）" in (text.text or "")
    assert "1. 西湖一站 — 282" in (text.text or "")
    assert "1 个申请等待县级审核" in (text.text or "")
    assert photo.photo and photo.media_bytes().startswith(b"\x89PNG")
    assert document.filename == f"digest-330106-{WEEK}.xlsx"
    book = load_workbook(io.BytesIO(document.document_bytes()))
    assert book["站点明细"].cell(row=5, column=2).value == "西湖一站"  # under title, notes, header


async def test_digest_command_refusals(bot_env: RunningBot, clock: FixedClock) -> None:
    _, county, _ = await _world(bot_env, clock)
    stranger = bot_env.sandbox.user("路人", started=True)
    await stranger.command("digest")
    assert "没有权限" in ((await stranger.wait_for_message()).text or "")
    for args, expected in (
        ("2026-W49", "还没有结束"),  # the current week
        ("2026-W60", "不是有效的周次"),
        ("330100", "不在您负责的范围内"),  # the city is above a county coordinator
        ("hello", "没有看懂"),
    ):
        await county.command("digest", args)
        assert expected in ((await county.wait_for_message()).text or ""), args


async def test_weekly_digest_job_sends_once_per_coordinator(
    bot_env: RunningBot, clock: FixedClock
) -> None:
    _, county, city = await _world(bot_env, clock)
    bot = bot_env.processor.application.bot
    first = await run_job(bot_env.runtime, jobs.WEEKLY_DIGEST, bot=bot, period=WEEK)
    assert first.status == "done"
    assert first.result == {"week": WEEK, "recipients": 2, "queued": 2}
    await bot_env.settle()
    assert [bool(m.text) for m in county.messages][-3:] == [True, False, False]
    assert "杭州市（市级）" in (city.messages[-3].text or "")
    # The digest ran the missing tallies itself (this week and last, for the change).
    async with bot_env.runtime.sessions() as s:
        weeks = set((await s.execute(select(WeeklyStationTally.week))).scalars())
        assert weeks == {"2026-W47", WEEK}
    # Forced again (or re-run after a crash): nobody gets it twice.
    before = len(county.messages) + len(city.messages)
    again = await run_job(bot_env.runtime, jobs.WEEKLY_DIGEST, bot=bot, period=WEEK, force=True)
    assert again.result == {"week": WEEK, "recipients": 2, "skipped": 2}
    await bot_env.settle()
    assert len(county.messages) + len(city.messages) == before
    assert sorted(await _digest_rows(bot_env)) == sorted(
        [
            (f"digest:{WEEK}:330100:{city.id}{part}", "sent")
            for part in ("", ":sendPhoto", ":sendDocument")
        ]
        + [
            (f"digest:{WEEK}:330106:{county.id}{part}", "sent")
            for part in ("", ":sendPhoto", ":sendDocument")
        ]
    )


async def _digest_rows(bot_env: RunningBot) -> list[tuple[str, str]]:
    """Return the digests' outbox rows (three a coordinator) with their states."""
    async with bot_env.runtime.sessions() as s:
        rows = await s.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.state).where(
                col(OutboxMessage.dedupe_key).startswith("digest:")
            )
        )
        return [(key, state) for key, state in rows.all()]


async def test_blocked_coordinator_is_recorded_and_others_still_get_it(
    bot_env: RunningBot, clock: FixedClock
) -> None:
    _, county, city = await _world(bot_env, clock)
    await county.block_bot()
    bot = bot_env.processor.application.bot
    outcome = await run_job(bot_env.runtime, jobs.WEEKLY_DIGEST, bot=bot, period=WEEK)
    assert outcome.result == {"week": WEEK, "recipients": 2, "queued": 2}
    await bot_env.settle()
    states = dict(await _digest_rows(bot_env))
    assert states[f"digest:{WEEK}:330106:{county.id}"] == "blocked"
    assert states[f"digest:{WEEK}:330100:{city.id}"] == "sent"
    await county.unblock_bot()
    await bot_env.settle()
    retry = await run_job(bot_env.runtime, jobs.WEEKLY_DIGEST, bot=bot, period=WEEK, force=True)
    assert retry.result == {"week": WEEK, "recipients": 2, "queued": 1, "skipped": 1}
    await bot_env.settle()
    assert {state for _, state in await _digest_rows(bot_env)} == {"sent"}
    assert len(await _digest_rows(bot_env)) == 6


async def test_report_cli_writes_png_and_xlsx(
    bot_env: RunningBot,
    clock: FixedClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _world(bot_env, clock)
    settings = bot_env.runtime.settings
    monkeypatch.setenv("KEPUBOT_DATABASE__URL", settings.database.url)
    monkeypatch.setattr("bot.runtime.context.system_clock", clock)
    monkeypatch.setattr("bot.cli.Runtime", _clocked(clock))
    out = tmp_path / "out"
    code = await _cli(
        ["report", "weekly", "--region", "330100", "--week", WEEK, "--out", str(out)]
    )
    assert code == 0
    png = out / f"digest-330100-{WEEK}.png"
    xlsx = out / f"digest-330100-{WEEK}.xlsx"
    assert png.read_bytes().startswith(b"\x89PNG")
    book = load_workbook(xlsx)
    assert book["合计"].cell(row=4, column=2).value == 335  # row 4: under title, note, header
    assert str(png) in capsys.readouterr().out
    for args, expected in (
        (["--region", "999999", "--week", WEEK], "未知的地区代码 999999"),
        (["--region", "330100", "--week", "2026-48"], "不是有效的周次"),
        (["--region", "330100", "--week", "2026-W49"], "还没有结束"),
    ):
        code = await _cli(["report", "weekly", *args, "--out", str(out)])
        assert code == 2
        assert expected in capsys.readouterr().err, args


def _clocked(clock: FixedClock) -> object:
    from bot.runtime.context import Runtime

    def make(**kwargs: object) -> Runtime:
        return Runtime(clock=clock, **kwargs)  # type: ignore[arg-type]

    return make


async def _cli(argv: list[str]) -> int:
    import asyncio

    return await asyncio.to_thread(cli_main, argv)
