"""The evaluation demo scene plays on its own: a finding holds a commendation, is dismissed
with a reason, and the re-run proposes the commendation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.i18n import get_translator
from bot.sandbox.harness import RunningBot
from bot.sandbox.scenes import evaluation as scene
from bot.sandbox.stage import Demo
from storage.models import AuditLog, EvaluationProposal, IntegrityFlag, Station


@pytest.mark.slow
async def test_scene_dismisses_a_finding_and_the_commendation_follows(
    bot_env: RunningBot,
    tmp_path: Path,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    demo = Demo(
        sandbox=bot_env.sandbox,
        bot=bot_env,
        clock=clock,
        out_dir=tmp_path,
        t=get_translator("zh_CN"),
        lang="zh_CN",
        out=io.StringIO(),
        quiet=True,
    )
    await scene.play(demo)
    text = "\n".join(demo.transcript)
    # raised by the real detection: the daily integrity sweep, not a planted row
    assert "每日诚信检查任务 integrity_sweep 运行" in text
    assert "诚信检查对翠苑社区科普e站提出一条疑点：信息员在" in text
    assert "暂缓（待核查）：翠苑社区科普e站有 1 条疑点待核查" in text
    assert "❎ 已排除翠苑社区科普e站的疑点" in text
    assert "✅ 已确认：翠苑社区科普e站 — 表扬" in text
    async with bot_env.runtime.sessions() as s:
        flag = (
            await s.execute(select(IntegrityFlag).where(IntegrityFlag.kind == "unverified_reach"))
        ).scalar_one()
        assert flag.status == "dismissed" and flag.decision_reason
        assert flag.detail["reported_reach"] >= 1000 and flag.detail["visits"] == 0
        raised = (
            await s.execute(
                select(AuditLog).where(
                    AuditLog.action == "finding.raise.unverified_reach",
                    AuditLog.subject_id == flag.id,
                )
            )
        ).scalar_one()
        assert raised.actor_id is None  # the sweep raised it, nobody by hand
        station = await s.get(Station, flag.station_id)
        assert station is not None and station.name == "翠苑社区科普e站"
        commend = (
            await s.execute(
                select(EvaluationProposal).where(EvaluationProposal.station_id == flag.station_id)
            )
        ).scalar_one()
        assert commend.kind == "commend" and commend.status == "confirmed"
        assert "held_by" not in commend.detail
    assert (tmp_path / "evaluation-330100.xlsx").exists()
