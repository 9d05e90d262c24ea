"""Through the real bot: /findings, confirm or dismiss with a required reason, region scope
(refusals audited), proposals that react, the proposal and station cards, the XLSX status,
the digest line and the daily notice."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot import jobs
from bot.i18n import get_translator
from bot.reports.digest import render_text
from bot.runtime.scheduler import run_job
from bot.sandbox.factories import make_flag
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimUser
from bot.services import digest as digest_service
from bot.services import evaluation as ev
from bot.services import findings as finding_service
from bot.services import roles as role_service
from bot.services.findings import FindingError
from bot.services.review import Actor
from storage.models import (
    AuditLog,
    EvaluationProposal,
    IntegrityFlag,
    OutboxMessage,
    Person,
    RoleGrant,
)
from tests.evaluation.world import World, build

RAISED = dt.datetime(2026, 11, 20, 2, tzinfo=dt.UTC)
REASON = "这些分享发在老年人微信群，大家不点链接；已电话核实群规模"


class Env:
    """The world, its coordinators and the finding on the commended station A1."""

    def __init__(self, world: World, users: dict[str, SimUser], finding_id: int) -> None:
        self.world, self.users, self.finding_id = world, users, finding_id


async def _setup(bot_env: RunningBot) -> Env:
    sb, rt = bot_env.sandbox, bot_env.runtime
    users = {
        "xihu": sb.user("西湖区科协", started=True),
        "binjiang": sb.user("滨江区科协", started=True),
        "city": sb.user("杭州市科协", started=True),
        "ningbo": sb.user("宁波市科协", started=True),
    }
    async with rt.sessions() as s, s.begin():
        world = await build(s)
        for key, code in (
            ("xihu", "330106"),
            ("binjiang", "330108"),
            ("city", "330100"),
            ("ningbo", "330200"),
        ):
            await role_service.grant(
                session=s,
                telegram_id=users[key].id,
                role="coordinator",
                region_code=code,
                now=rt.now(),
            )
        flag = await make_flag(
            s,
            kind="unverified_reach",
            station_id=world.stations["A1"],
            region_code="330106",
            subject_type="station",
            subject_id=world.stations["A1"],
            detail={"reported_reach": 6480, "visits": 0},
            created_at=RAISED,
        )
        assert flag.id is not None
    return Env(world, users, flag.id)


async def _evaluate(bot_env: RunningBot) -> dict[str, EvaluationProposal]:
    rt = bot_env.runtime
    async with rt.sessions() as s, s.begin():
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
    async with rt.sessions() as s:
        rows = (
            (await s.execute(select(EvaluationProposal).where(EvaluationProposal.year == 2026)))
            .scalars()
            .all()
        )
        return {str(p.station_id): p for p in rows}


def _labels(msg: object) -> list[str]:
    return [b.text for row in msg.buttons for b in row]  # type: ignore[attr-defined]


async def _finding(bot_env: RunningBot, finding_id: int) -> IntegrityFlag:
    async with bot_env.runtime.sessions() as s:
        flag = await s.get(IntegrityFlag, finding_id)
        assert flag is not None
        return flag


async def _audits(bot_env: RunningBot, action: str) -> list[AuditLog]:
    async with bot_env.runtime.sessions() as s:
        rows = await s.execute(select(AuditLog).where(AuditLog.action == action))
        return list(rows.scalars().all())


async def _commend_card(bot_env: RunningBot, user: SimUser) -> object:
    await user.command("evaluation")
    await bot_env.settle()
    summary = user.messages[-1]
    await user.press(summary, next(x for x in _labels(summary) if x.startswith("🏅")))
    await bot_env.settle()
    return next(m for m in reversed(user.messages) if "西湖一站" in (m.text or ""))


async def test_open_finding_holds_the_commendation_until_dismissed(bot_env: RunningBot) -> None:
    env = await _setup(bot_env)
    a1 = str(env.world.stations["A1"])
    proposals = await _evaluate(bot_env)
    assert proposals[a1].kind == "commend"
    assert proposals[a1].detail["held_by"] == [env.finding_id]
    city = env.users["city"]
    card = await _commend_card(bot_env, city)
    text = card.text or ""  # type: ignore[attr-defined]
    assert "⏳ 待核查" in text and "自报触达合计 6,480 人" in text
    assert "✅ 确认" not in _labels(card) and "✏ 不采纳" in _labels(card)
    summary = next(m for m in reversed(city.messages) if "📎 XLSX 表格" in _labels(m))
    await city.press(summary, "📎 XLSX 表格")
    await bot_env.settle()
    book = load_workbook(io.BytesIO(city.messages[-1].document_bytes()))
    held = [r for r in book["评估建议"].iter_rows(values_only=True) if r[2] == "西湖一站"]
    assert held and f"（待核查疑点 #{env.finding_id}）" in str(held[0][8])
    # a forged confirm is refused (and audited) while the finding is open
    proposal_id = proposals[a1].id
    answer = await city.press(card, data=f"EVA:ok:{proposal_id}")
    assert answer is not None and "暂缓" in answer.get("text", "")
    refused = [a for a in await _audits(bot_env, "evaluation.confirm") if not a.allowed]
    assert [a.reason for a in refused] == ["findings_open"]

    # /findings lists it with the region's name and the plain-Chinese why
    await city.command("findings")
    await bot_env.settle()
    listing = city.messages[-1]
    assert "待核查的疑点：2 条" in (listing.text or "")  # and the burst of the world
    assert "西湖一站（西湖区）" in (listing.text or "")
    assert "没有一次链接访问" in (listing.text or "")
    await city.press(listing, f"❎ 排除 #{env.finding_id}")
    await bot_env.settle()
    prompt = city.messages[-1].text or ""
    assert "为什么排除疑点" in prompt and "发送 /cancel 或其他命令即退出" in prompt
    await city.send_photo(b"\x89PNG\r\n\x1a\n" + b"0" * 64)  # not a reason: asked again
    await bot_env.settle()
    assert "必须说明理由" in (city.messages[-1].text or "")
    assert (await _finding(bot_env, env.finding_id)).status == "open"
    await city.send(REASON)
    await bot_env.settle()
    assert "已排除西湖一站的疑点" in (city.messages[-1].text or "")
    flag = await _finding(bot_env, env.finding_id)
    assert flag.status == "dismissed" and flag.decision_reason == REASON
    assert flag.decided_at is not None and flag.resolved_at is not None
    done = await _audits(bot_env, "finding.dismiss")
    assert [(a.allowed, a.reason, a.subject_id) for a in done] == [(True, REASON, env.finding_id)]
    async with bot_env.runtime.sessions() as s:
        who = await s.get(Person, done[0].actor_id)
        assert who is not None and who.telegram_id == city.id and flag.decided_by == who.id

    # re-running the evaluation releases the commendation, which can now be confirmed
    proposals = await _evaluate(bot_env)
    assert "held_by" not in proposals[a1].detail
    card = await _commend_card(bot_env, city)
    assert "⏳" not in (card.text or "")  # type: ignore[attr-defined]
    await city.press(card, "✅ 确认")
    await bot_env.settle()
    assert "已确认" in (city.messages[-1].text or "")


async def test_wrong_region_is_refused_and_audited(bot_env: RunningBot) -> None:
    env = await _setup(bot_env)
    binjiang, ningbo = env.users["binjiang"], env.users["ningbo"]
    await binjiang.command("findings")
    await bot_env.settle()
    assert "西湖一站" not in (binjiang.messages[-1].text or "")
    answer = await binjiang.press(binjiang.messages[-1], data=f"FND:no:{env.finding_id}")
    assert answer is not None and "不在您的辖区" in answer.get("text", "")
    answer = await ningbo.press(binjiang.messages[-1], data=f"FND:ok:{env.finding_id}")
    assert answer is not None and "不在您的辖区" in answer.get("text", "")
    assert (await _finding(bot_env, env.finding_id)).status == "open"
    refused = await _audits(bot_env, "finding.dismiss") + await _audits(bot_env, "finding.confirm")
    assert sorted((a.action, a.allowed, a.reason) for a in refused) == [
        ("finding.confirm", False, "not_allowed"),
        ("finding.dismiss", False, "not_allowed"),
    ]
    # the county of the finding may decide it
    await env.users["xihu"].command("findings")
    await bot_env.settle()
    assert f"✅ 确认 #{env.finding_id}" in _labels(env.users["xihu"].messages[-1])


async def test_reason_is_required_and_a_decision_is_final(bot_env: RunningBot) -> None:
    env = await _setup(bot_env)
    rt = bot_env.runtime
    async with rt.sessions() as s, s.begin():
        grants = await s.execute(select(RoleGrant).where(RoleGrant.region_code == "330106"))
        actor = Actor(None, list(grants.scalars().all()))
        with pytest.raises(FindingError) as blank:
            await finding_service.decide(
                session=s,
                finding_id=env.finding_id,
                actor=actor,
                status="confirmed",
                reason="   ",
                now=rt.now(),
            )
        assert blank.value.code == "reason_required"
    async with rt.sessions() as s, s.begin():
        await finding_service.decide(
            session=s,
            finding_id=env.finding_id,
            actor=actor,
            status="confirmed",
            reason="核实属实",
            now=rt.now(),
        )
    async with rt.sessions() as s, s.begin():
        with pytest.raises(FindingError) as again:
            await finding_service.decide(
                session=s,
                finding_id=env.finding_id,
                actor=actor,
                status="dismissed",
                reason="改主意了",
                now=rt.now(),
            )
        assert again.value.code == "already_decided"
    refused = [a.reason for a in await _audits(bot_env, "finding.confirm") if not a.allowed]
    assert refused == ["reason_required"]
    assert [a.reason for a in await _audits(bot_env, "finding.dismiss")] == ["already_decided"]
    # a confirmed finding keeps its station from being commended at all
    proposals = await _evaluate(bot_env)
    assert str(env.world.stations["A1"]) not in proposals


async def test_any_command_leaves_the_reason_prompt(bot_env: RunningBot) -> None:
    env = await _setup(bot_env)
    xihu = env.users["xihu"]
    await xihu.command("findings")
    await bot_env.settle()
    await xihu.press(xihu.messages[-1], f"✅ 确认 #{env.finding_id}")
    await bot_env.settle()
    assert "为什么确认疑点" in (xihu.messages[-1].text or "")
    await xihu.command("help")
    await bot_env.settle()
    await xihu.send("这句话不是理由")
    await bot_env.settle()
    assert (await _finding(bot_env, env.finding_id)).status == "open"


async def test_revocation_rests_on_confirmed_findings_only(bot_env: RunningBot) -> None:
    env = await _setup(bot_env)
    b2 = str(env.world.stations["B2"])
    async with bot_env.runtime.sessions() as s, s.begin():
        reuse = (
            await s.execute(
                select(IntegrityFlag).where(
                    IntegrityFlag.station_id == env.world.stations["B2"],
                    IntegrityFlag.kind == "photo_reuse",
                )
            )
        ).scalar_one()
        reuse.status = "open"  # not yet reviewed
        reuse_id = reuse.id
    assert b2 not in await _evaluate(bot_env)  # never proposed from an unreviewed finding
    ningbo = env.users["ningbo"]
    await ningbo.command("findings")
    await bot_env.settle()
    listing = ningbo.messages[-1]
    assert "海曙二站（海曙区）" in (listing.text or "")
    await ningbo.press(listing, f"✅ 确认 #{reuse_id}")
    await bot_env.settle()
    await ningbo.send("照片是从别的站点群里下载的，站长已承认")
    await bot_env.settle()
    assert "已确认海曙二站的疑点" in (ningbo.messages[-1].text or "")
    proposals = await _evaluate(bot_env)
    assert proposals[b2].kind == "revoke" and proposals[b2].detail["findings"] == [reuse_id]
    await ningbo.command("evaluation")
    await bot_env.settle()
    summary = ningbo.messages[-1]
    await ningbo.press(summary, next(x for x in _labels(summary) if x.startswith("✖")))
    await bot_env.settle()
    card = ningbo.messages[-1].text or ""
    assert "依据以下已确认的疑点" in card and f"#{reuse_id} 照片重复使用（已确认）" in card
    assert "站长已承认" in card


async def test_station_card_and_workbook_show_the_decision(bot_env: RunningBot) -> None:
    env = await _setup(bot_env)
    city = env.users["city"]
    a1 = env.world.stations["A1"]
    await city.command(f"station {a1}")
    await bot_env.settle()
    assert "疑点：共 1 条（待核查 1 条" in (city.messages[-1].text or "")
    async with bot_env.runtime.sessions() as s, s.begin():
        grants = await s.execute(select(RoleGrant).where(RoleGrant.region_code == "330100"))
        await finding_service.decide(
            session=s,
            finding_id=env.finding_id,
            actor=Actor(None, list(grants.scalars().all())),
            status="dismissed",
            reason=REASON,
            now=bot_env.runtime.now(),
        )
    await city.command(f"station {a1}")
    await bot_env.settle()
    card = city.messages[-1].text or ""
    assert "（已排除）" in card and REASON in card and "待核查 0 条" in card
    await _evaluate(bot_env)
    await city.command("evaluation")
    await bot_env.settle()
    await city.press(city.messages[-1], "📎 XLSX 表格")
    await bot_env.settle()
    book = load_workbook(io.BytesIO(city.messages[-1].document_bytes()))
    sheet = book["诚信报告"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert any("疑点状态" in row for row in rows)


async def test_digest_line_and_daily_notice(bot_env: RunningBot) -> None:
    env = await _setup(bot_env)
    rt = bot_env.runtime
    async with rt.sessions() as s:
        data = await digest_service.build_digest(
            session=s, region_code="330100", week="2026-W47", settings=rt.settings
        )
    assert data.open_findings == 2  # A1's and the world's burst in Binjiang
    assert "有 2 条疑点待您核查：/findings" in render_text(get_translator("zh_CN"), data)
    # two findings raised on 11月29日 (Shanghai) in Xihu: one notice to each coordinator above
    async with rt.sessions() as s, s.begin():
        for n in range(2):
            await make_flag(
                s,
                kind="participants_high",
                station_id=env.world.stations["A2"],
                region_code="330106",
                detail={"participants": 900 + n, "bound": 500},
                created_at=dt.datetime(2026, 11, 29, 3, n, tzinfo=dt.UTC),
            )
    fired = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
    outcome = await run_job(rt, jobs.FINDINGS_NOTICE, now=fired)
    assert outcome.period == "2026-11-30" and outcome.result["enqueued"] == 2
    async with rt.sessions() as s:
        rows = (
            (
                await s.execute(
                    select(OutboxMessage).where(OutboxMessage.dedupe_key.like("findings:new:%"))
                )
            )
            .scalars()
            .all()
        )
    chats = {r.chat_id for r in rows}
    assert chats == {env.users["xihu"].id, env.users["city"].id}
    texts = {r.chat_id: r.payload["text"] for r in rows}
    assert "2026年11月29日您的辖区新发现 2 条疑点" in texts[env.users["xihu"].id]
    assert "共有 3 条待您核查" in texts[env.users["xihu"].id]  # A1's and the two new ones
    assert "共有 4 条待您核查" in texts[env.users["city"].id]  # and Binjiang's burst
    again = await run_job(rt, jobs.FINDINGS_NOTICE, now=fired, force=True)
    assert again.result["enqueued"] == 0  # one notice per coordinator and day
