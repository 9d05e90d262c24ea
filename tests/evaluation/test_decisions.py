"""Deciding proposals: scope by level and region, reasons, state machine, audit, notices."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import get_translator
from bot.reports.evaluation import evaluation_workbook
from bot.sandbox.factories import make_flag
from bot.services import evaluation as ev
from bot.services import evaluation_decisions as decisions
from bot.services import roles as role_service
from bot.services.evaluation import EvaluationError
from bot.services.integrity import integrity_report
from bot.services.review import Actor
from storage import evaluation as store
from storage import roles as role_store
from storage.models import AuditLog, EvaluationProposal, Station
from tests.conftest import make_settings
from tests.evaluation.world import World, build

NOW = dt.datetime(2027, 1, 5, 1, 0, tzinfo=dt.UTC)
TODAY = dt.date(2027, 1, 5)


async def _setup(session: AsyncSession, db_url: str) -> tuple[World, Settings]:
    world = await build(session)
    settings = make_settings(db_url)
    await ev.run_evaluation(
        session=session,
        evaluation=settings.evaluation,
        propagation=settings.propagation,
        tz=settings.scheduler.tz,
        year=2026,
        region_code="330000",
        as_of=TODAY,
        now=NOW,
    )
    return world, settings


async def _actor(session: AsyncSession, telegram_id: int, region: str) -> Actor:
    await role_service.grant(
        session=session, telegram_id=telegram_id, role="coordinator", region_code=region, now=NOW
    )
    grants = [
        g
        for g, p in await role_store.list_grants(session=session, role="coordinator")
        if p.telegram_id == telegram_id
    ]
    return Actor(grants[0].person_id, grants)


async def _proposal(session: AsyncSession, world: World, key: str) -> EvaluationProposal:
    rows = await store.proposals_in(session=session, year=2026, prefixes=None)
    return next(p for p, _s in rows if p.station_id == world.stations[key])


async def _audits(session: AsyncSession, action: str) -> list[AuditLog]:
    rows = await session.execute(
        select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
    )
    return list(rows.scalars())


async def _confirm(
    session: AsyncSession, settings: Settings, proposal: Any, actor: Any, **extra: Any
) -> Any:
    """Confirm ``proposal`` as ``actor`` on the test day."""
    return await decisions.confirm(
        session=session,
        proposal_id=proposal.id or 0,
        actor=actor,
        evaluation=settings.evaluation,
        locale=settings.i18n.default_locale,
        today=TODAY,
        now=NOW,
        **extra,
    )


async def test_county_confirms_rectify_with_deadline(session: AsyncSession, db_url: str) -> None:
    world, settings = await _setup(session, db_url)
    county = await _actor(session, 501, "330108")
    proposal = await _proposal(session, world, "A3")
    decision = await _confirm(session, settings, proposal, county)
    station = await session.get(Station, world.stations["A3"])
    assert station is not None and station.status == "rectifying"
    assert station.rectify_deadline == TODAY + dt.timedelta(days=60)
    assert "2026" in (station.status_reason or "")
    assert decision.proposal.status == "confirmed"
    assert decision.proposal.decided_by == county.person_id
    [entry] = await _audits(session, "evaluation.confirm")
    assert entry.allowed and entry.actor_id == county.person_id
    assert entry.detail["from"] == "recognised" and entry.detail["to"] == "rectifying"
    assert [a.detail["to"] for a in await _audits(session, "station.rectify")] == ["rectifying"]
    with pytest.raises(EvaluationError) as err:  # a second press is refused
        await _confirm(session, settings, proposal, county)
    assert err.value.code == "already_decided"


async def test_scope_refusals_are_audited(session: AsyncSession, db_url: str) -> None:
    world, settings = await _setup(session, db_url)
    other_county = await _actor(session, 502, "330106")  # Xihu, not Binjiang
    county = await _actor(session, 503, "330108")
    ningbo = await _actor(session, 504, "330200")
    for actor, key in ((other_county, "A3"), (county, "A4"), (ningbo, "A4")):
        proposal = await _proposal(session, world, key)
        with pytest.raises(EvaluationError) as err:
            await _confirm(session, settings, proposal, actor)
        assert err.value.code == "not_allowed"
    refused = await _audits(session, "evaluation.confirm")
    assert [(a.allowed, a.reason, a.actor_id) for a in refused] == [
        (False, "not_allowed", other_county.person_id),
        (False, "not_allowed", county.person_id),
        (False, "not_allowed", ningbo.person_id),
    ]
    a4 = await session.get(Station, world.stations["A4"])
    assert a4 is not None and a4.status == "recognised"


async def test_city_eliminates_through_the_state_machine(
    session: AsyncSession, db_url: str
) -> None:
    world, settings = await _setup(session, db_url)
    city = await _actor(session, 505, "330100")
    proposal = await _proposal(session, world, "A4")
    decision = await _confirm(session, settings, proposal, city, note="连续一年无活动")
    assert decision.station.status == "revoked"
    assert [a.detail["to"] for a in await _audits(session, "station.rectify")] == ["rectifying"]
    assert [a.detail["to"] for a in await _audits(session, "station.revoke")] == ["revoked"]
    [entry] = await _audits(session, "evaluation.confirm")
    assert entry.reason == "连续一年无活动" and entry.detail["to"] == "revoked"


async def test_illegal_transition_is_refused_and_nothing_changes(
    session: AsyncSession, db_url: str
) -> None:
    world, settings = await _setup(session, db_url)
    city = await _actor(session, 506, "330200")
    b2 = await session.get(Station, world.stations["B2"])
    assert b2 is not None
    b2.status = "revoked"  # revoked by hand meanwhile: revoking again is illegal
    await session.flush()
    proposal = await _proposal(session, world, "B2")
    with pytest.raises(EvaluationError) as err:
        await _confirm(session, settings, proposal, city)
    assert err.value.code == "illegal_transition"
    assert (await session.get(EvaluationProposal, proposal.id)).status == "proposed"  # type: ignore[union-attr]
    [entry] = await _audits(session, "evaluation.confirm")
    assert not entry.allowed and entry.reason == "illegal_transition"


async def test_override_needs_a_reason(session: AsyncSession, db_url: str) -> None:
    world, settings = await _setup(session, db_url)
    city = await _actor(session, 507, "330200")
    proposal = await _proposal(session, world, "B2")
    with pytest.raises(EvaluationError) as err:
        await decisions.override(
            session=session, proposal_id=proposal.id or 0, actor=city, reason="   ", now=NOW
        )
    assert err.value.code == "reason_required"
    decision = await decisions.override(
        session=session,
        proposal_id=proposal.id or 0,
        actor=city,
        reason="照片经核实为同一活动",
        now=NOW,
    )
    assert decision.proposal.status == "overridden"
    assert decision.station.status == "recognised"
    audits = await _audits(session, "evaluation.override")
    assert [(a.allowed, a.reason) for a in audits] == [
        (False, "reason_required"),
        (True, "照片经核实为同一活动"),
    ]


async def test_commend_notifies_admin_and_informants(session: AsyncSession, db_url: str) -> None:
    world, settings = await _setup(session, db_url)
    await role_service.grant(
        session=session,
        telegram_id=777,
        role="station_admin",
        station_id=world.stations["A1"],
        now=NOW,
    )
    county = await _actor(session, 508, "330106")
    proposal = await _proposal(session, world, "A1")
    decision = await _confirm(session, settings, proposal, county)
    assert decision.station.status == "recognised"
    targets = {n.telegram_id: n.message for n in decision.notices}
    # the admin and 张一 (i1); the forgotten 张二 (i2) is not told
    assert set(targets) == {777, world.people["i1"].telegram_id}
    assert targets[777] == decisions.COMMEND_ADMIN


async def test_integrity_report(session: AsyncSession, db_url: str) -> None:
    world = await build(session)
    settings = make_settings(db_url, evaluation={"reported_reach_alert": 500})
    report = await integrity_report(
        session=session,
        evaluation=settings.evaluation,
        propagation=settings.propagation,
        tz=settings.scheduler.tz,
        region_code="330000",
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 12, 31),
    )
    paper = {world.key_of(p.station_id): p.reasons for p in report.paper}
    assert paper == {"A3": ("inactive",), "A4": ("no_informants", "inactive")}
    assert [world.key_of(f.station_id or 0) for f in report.bursts] == ["A3"]
    assert [(world.key_of(f.station_id or 0), f.resolved) for f in report.reused] == [
        ("B2", False),
        ("B1", True),
    ]
    assert [
        (world.key_of(u.station_id), u.reported_reach, u.visits) for u in report.unverified
    ] == [("B1", 600, 0)]
    city = await integrity_report(
        session=session,
        evaluation=settings.evaluation,
        propagation=settings.propagation,
        tz=settings.scheduler.tz,
        region_code="330100",
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 12, 31),
    )
    assert not city.reused and not city.unverified and len(city.paper) == 2


async def test_xlsx_reopens_with_chinese_headers(session: AsyncSession, db_url: str) -> None:
    world, settings = await _setup(session, db_url)
    # A stored paper-station finding, dismissed: the sheet shows it with its status instead
    # of the on-the-fly rows of the same station; a duplicate use and a commercial activity
    # are listed too (every kind of stored finding).
    paper = await make_flag(
        session,
        kind="paper_station",
        station_id=world.stations["A4"],
        subject_type="station",
        subject_id=world.stations["A4"],
        detail={"reasons": ["no_informants", "inactive"], "inactive_days": 90},
        created_at=dt.datetime(2026, 11, 2, 2, tzinfo=dt.UTC),
        status="dismissed",
    )
    paper.decision_reason = "站点正在换届，已电话核实"
    await make_flag(
        session,
        kind="commercial",
        station_id=world.stations["A2"],
        detail={"answer": True, "words": ["保健品"]},
        created_at=dt.datetime(2026, 11, 3, 2, tzinfo=dt.UTC),
    )
    await make_flag(
        session,
        kind="duplicate_use",
        station_id=world.stations["A1"],
        detail={"audience": 30, "other_id": 7, "closed_why": "duplicate_gone"},
        created_at=dt.datetime(2026, 11, 4, 2, tzinfo=dt.UTC),
        status="closed",
    )
    await session.flush()
    data = await evaluation_workbook(
        session=session,
        evaluation=settings.evaluation,
        propagation=settings.propagation,
        tz=settings.scheduler.tz,
        year=2026,
        region_code="330100",
        t=get_translator("zh_CN"),
    )
    assert data is not None
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["得分与排名", "评估建议", "优秀信息员", "诚信报告"]
    sheet = book["得分与排名"]
    assert sheet["A1"].value == "杭州市科普e站2026年度评估 · 得分与排名 · 2026年1月1日—12月31日"
    assert sheet["A2"].value == "按得分从高到低排列。"
    assert sheet["A3"].value == (
        "各站点的数字均按2026年1月1日—12月31日计算；年内才认定的站点标注“年内认定”。"
    )
    scores = list(sheet.iter_rows(min_row=4, values_only=True))  # the header is row 4
    assert scores[0][:2] == ("站点编号", "站点") and scores[0][14] == "得分"
    assert scores[0][4:6] == ("认定日期", "年内认定")
    marked = {r[1]: (r[4].date() if r[4] else None, r[5]) for r in scores[1:]}
    assert marked["滨江三站"] == (dt.date(2026, 11, 1), "年内认定")  # recognised on 1 November
    assert marked["西湖一站"][1] is None  # recognised before the year: no marker
    assert [(r[1], r[14], r[16]) for r in scores[1:6]] == [
        ("西湖一站", 99.66, 1),
        ("西湖二站", 59.71, 2),
        ("滨江三站", 50, 3),  # its year counts its shares before recognition too
        ("滨江一站", 12.49, 4),
        ("滨江二站", 0, 5),
    ]
    assert {c.number_format for c in sheet["O"][4:]} == {"0.00"}  # one format: 100 as 100.00
    assert sheet.freeze_panes == "C5" and sheet.print_title_rows == "$4:$4"
    proposals_sheet = book["评估建议"]
    assert "按建议类别（表扬、整改、淘汰、撤销认定）排列" in proposals_sheet["A2"].value
    proposals = list(proposals_sheet.iter_rows(min_row=3, values_only=True))[1:]
    # Sorted by kind (commend, rectify, eliminate, revoke), then by city rank.
    assert [(r[2], r[4]) for r in proposals] == [
        ("西湖一站", "表扬"),
        ("滨江一站", "整改"),
        ("滨江二站", "淘汰"),
    ]
    informants = list(book["优秀信息员"].iter_rows(min_row=3, values_only=True))
    assert informants[1][:2] == (1, "赵五")
    integrity = book["诚信报告"]
    assert integrity["A1"].value.startswith("杭州市科普e站2026年度评估 · 诚信报告 · 2026年1月1日")
    rows = list(integrity.iter_rows(min_row=4, values_only=True))  # two notes, then the header
    assert rows[0] == ("疑点", "站点编号", "站点", "县（市、区）", "详情", "提出日期", "疑点状态")
    found = {(r[0], r[2]): (r[4], r[6]) for r in rows[1:]}
    assert found[("参与人数异常偏高", "滨江三站")][1] == "已确认"  # its region is its station's
    assert found[("申请集中涌现", "滨江一站")][1] == "待核查"
    assert found[("纸面站点", "滨江二站")] == (
        "该站计入统计，但目前没有信息员。",
        "已排除：站点正在换届，已电话核实",
    )
    assert not any(kind.startswith("纸面站点：") and name == "滨江二站" for kind, name in found)
    assert found[("纸面站点：90 天无任何活动", "滨江一站")][1] is None  # not raised yet
    assert found[("疑似商业活动", "西湖二站")][1] == "待核查"
    assert "保健品" in found[("疑似商业活动", "西湖二站")][0]
    assert found[("内容使用重复记录", "西湖一站")][1].startswith("已消除（复核后不再成立）：")
    assert not any(str(r[3]).isdigit() for r in rows[1:])  # region names, never a bare code
    for ws in book.worksheets:  # every sheet prints and scrolls the same way
        assert ws["A1"].value.startswith("杭州市科普e站2026年度评估 · "), ws.title
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True
        header = int(ws.print_title_rows.split(":")[0].strip("$"))
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith(str(header + 1))
        assert ws.freeze_panes[0] != "A", ws.title  # the name column stays in view
        for column in ws.iter_cols(min_row=header + 1, max_row=ws.max_row):
            assert len({c.number_format for c in column}) <= 1, (ws.title, column[0].coordinate)
    assert (
        await evaluation_workbook(
            session=session,
            evaluation=settings.evaluation,
            propagation=settings.propagation,
            tz=settings.scheduler.tz,
            year=2025,
            region_code="330100",
            t=get_translator("zh_CN"),
        )
        is None
    )
