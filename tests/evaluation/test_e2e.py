"""Through the real bot: /evaluation, confirm, override with a required reason, scope,
/integrity, the XLSX button, and the January job."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook
from sqlalchemy import select

from bot import jobs
from bot.runtime.scheduler import run_job
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimUser
from bot.services import evaluation as ev
from bot.services import roles as role_service
from storage.models import AuditLog, EvaluationProposal, EvaluationRun, Station
from tests.evaluation.world import World, build


async def _setup(bot_env: RunningBot) -> tuple[World, SimUser, SimUser, SimUser]:
    sb = bot_env.sandbox
    county = sb.user("滨江区科协", started=True)
    city = sb.user("杭州市科协", started=True)
    ningbo = sb.user("宁波市科协", started=True)
    rt = bot_env.runtime
    async with rt.sessions() as s, s.begin():
        world = await build(s)
        for user, code in ((county, "330108"), (city, "330100"), (ningbo, "330200")):
            await role_service.grant(
                session=s, telegram_id=user.id, role="coordinator", region_code=code, now=rt.now()
            )
        await role_service.grant(
            session=s,
            telegram_id=42_000,
            role="station_admin",
            station_id=world.stations["A1"],
            now=rt.now(),
        )
        await ev.run_evaluation(
            session=s,
            evaluation=rt.settings.evaluation,
            propagation=rt.settings.propagation,
            tz=rt.settings.scheduler.tz,
            year=2026,
            region_code="330000",
            as_of=dt.date(2026, 12, 31),
            now=rt.now(),
        )
    return world, county, city, ningbo


def _button(msg: object, prefix: str) -> str:
    return next(
        b.text
        for row in msg.buttons
        for b in row  # type: ignore[attr-defined]
        if b.text.startswith(prefix)
    )


async def _proposal(bot_env: RunningBot, world: World, key: str) -> EvaluationProposal:
    async with bot_env.runtime.sessions() as s:
        rows = await s.execute(
            select(EvaluationProposal).where(EvaluationProposal.station_id == world.stations[key])
        )
        return rows.scalar_one()


async def test_county_reviews_confirms_and_overrides(bot_env: RunningBot) -> None:
    world, county, _city, _ningbo = await _setup(bot_env)
    await county.command("evaluation")
    await bot_env.settle()
    summary = county.messages[-1]
    assert "2026年度评估" in (summary.text or "")
    assert "整改：待决定 1 条" in (summary.text or "")
    await county.press(summary, _button(summary, "⚠"))
    await bot_env.settle()
    card = county.messages[-1]
    assert "滨江一站" in (card.text or "") and "最近 90 天没有分享" in (card.text or "")
    assert "统计区间：2026年全年（1月1日—12月31日）" in (card.text or "")  # its window
    await county.press(card, "✅ 确认")
    await bot_env.settle()
    assert "已确认" in (county.messages[-1].text or "")
    async with bot_env.runtime.sessions() as s:
        a3 = await s.get(Station, world.stations["A3"])
        assert a3 is not None and a3.status == "rectifying" and a3.rectify_deadline
    # the elimination of A4 is the city's: the county sees no decision buttons...
    await county.press(summary, _button(summary, "⛔"))
    await bot_env.settle()
    assert county.messages[-1].buttons == []
    # ...and a forged press is refused and audited
    a4 = await _proposal(bot_env, world, "A4")
    answer = await county.press(county.messages[-1], data=f"EVA:ok:{a4.id}")
    assert answer is not None and "市级科协决定" in answer.get("text", "")
    # the rectify list is now empty; Binjiang has no commendation at all
    await county.press(summary, _button(summary, "⚠"))
    await bot_env.settle()
    assert "没有待决定" in (county.messages[-1].text or "")
    assert not any(b.text.startswith("🏅") for row in summary.buttons for b in row)
    async with bot_env.runtime.sessions() as s:
        refused = (
            (
                await s.execute(
                    select(AuditLog).where(
                        AuditLog.action == "evaluation.confirm", AuditLog.allowed.is_(False)
                    )
                )
            )
            .scalars()
            .all()
        )
        assert [r.subject_id for r in refused] == [a4.id]


async def test_city_overrides_with_required_reason(bot_env: RunningBot) -> None:
    world, _county, city, ningbo = await _setup(bot_env)
    a4 = await _proposal(bot_env, world, "A4")
    await ningbo.command("evaluation")  # Ningbo's coordinator: Hangzhou's proposals unseen
    await bot_env.settle()
    assert "淘汰：待决定 0 条" not in (ningbo.messages[-1].text or "")
    answer = await ningbo.press(ningbo.messages[-1], data=f"EVA:ov:{a4.id}")
    assert answer is not None and "辖区" in answer.get("text", "")
    await city.command("evaluation")
    await bot_env.settle()
    summary = city.messages[-1]
    await city.press(summary, _button(summary, "⛔"))
    await bot_env.settle()
    card = city.messages[-1]
    assert "滨江二站" in (card.text or "")
    await city.press(card, "✏ 不采纳")
    await bot_env.settle()
    assert "请发送理由" in (city.messages[-1].text or "")
    await city.send_photo(b"\x89PNG\r\n\x1a\n" + b"0" * 64)  # not a reason
    await bot_env.settle()
    assert "须写明理由" in (city.messages[-1].text or "")
    await city.send("新站长已到岗，给一次整改机会")
    await bot_env.settle()
    assert "已决定不采纳" in (city.messages[-1].text or "")
    async with bot_env.runtime.sessions() as s:
        got = await s.get(EvaluationProposal, a4.id)
        assert got is not None and got.status == "overridden"
        assert got.decision_reason == "新站长已到岗，给一次整改机会"
        station = await s.get(Station, world.stations["A4"])
        assert station is not None and station.status == "recognised"
        entries = (
            (
                await s.execute(
                    select(AuditLog)
                    .where(AuditLog.action == "evaluation.override")
                    .order_by(AuditLog.id)
                )
            )
            .scalars()
            .all()
        )
        assert [(e.allowed, e.reason) for e in entries] == [
            (False, "not_allowed"),
            (True, got.decision_reason),
        ]
    # the commendation of A1: confirmed, the station admin is congratulated
    await city.press(summary, _button(summary, "🏅"))
    await bot_env.settle()
    await city.press(city.messages[-1], "✅ 确认")
    await bot_env.settle()
    assert "表扬" in (city.messages[-1].text or "")  # the glossary word, not 表彰
    async with bot_env.runtime.sessions() as s:
        a1 = await _proposal(bot_env, world, "A1")
        assert a1.status == "confirmed"


async def test_integrity_and_xlsx(bot_env: RunningBot) -> None:
    _world, _county, city, ningbo = await _setup(bot_env)
    await ningbo.command("integrity")
    await bot_env.settle()
    text = ningbo.messages[-1].text or ""
    assert "宁波市诚信报告" in text and "330200" not in text  # the region's name, no code
    # every stored finding with its status, the why from finding_text.why
    assert "照片重复使用：2" in text
    assert "海曙二站（2026年6月1日）：有一张照片" in text and "状态：已确认" in text
    assert "状态：已消除（复核后不再成立）" in text
    await city.command("integrity")
    await bot_env.settle()
    city_text = city.messages[-1].text or ""
    # Counties by name, in natural Chinese: no bare code, no ASCII comma.
    assert "滨江区（2026年6月1日）：本县（区）在短时间内提交了 7 份申报。状态：待核查" in city_text
    assert "330108" not in city_text
    assert "参与人数异常偏高：1" in city_text and "状态：已确认" in city_text
    assert "没有信息员、90 天无任何活动" in city_text
    # the report says its window (docs/figures.md): this year so far
    assert "宁波市诚信报告</b>——2026年（1月1日—11月23日）" in text
    await city.command("evaluation")
    await bot_env.settle()
    await city.press(city.messages[-1], "📎 XLSX 表格")
    await bot_env.settle()
    doc = city.messages[-1]
    book = load_workbook(io.BytesIO(doc.document_bytes()))
    assert book.sheetnames == ["得分与排名", "评估建议", "优秀信息员", "诚信报告"]
    await city.press(city.messages[-2], "🌟 优秀信息员")
    await bot_env.settle()
    assert "赵五" in (city.messages[-1].text or "")
    assert "优秀信息员</b>——2026年" in (city.messages[-1].text or "")


async def test_january_job_runs_last_year_once(bot_env: RunningBot) -> None:
    rt = bot_env.runtime
    async with rt.sessions() as s, s.begin():
        await build(s)
    spec = jobs.ANNUAL_EVALUATION
    fired = dt.datetime(2027, 1, 5, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    outcome = await run_job(rt, spec, now=fired + dt.timedelta(hours=1))
    assert outcome.period == "2026" and outcome.status == "done"
    assert outcome.result["stations"] == 8
    again = await run_job(rt, spec, now=fired + dt.timedelta(hours=2))
    assert again.status == "skipped"
    async with rt.sessions() as s:
        runs = (await s.execute(select(EvaluationRun))).scalars().all()
        assert [(r.year, r.region_code) for r in runs] == [(2026, "")]
