"""The desk's queues through aiohttp's test client with signed initData: reviews (with age),
findings and evaluation proposals, decided with the bot's rules, reasons and audit; notices
as outbox rows written with the decision; out-of-scope refused (403) and audited."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import make_flag, make_grant, make_person, make_station
from storage.models import (
    AuditLog,
    EvaluationProposal,
    EvaluationRun,
    EvaluationScore,
    IntegrityFlag,
    OutboxMessage,
    Station,
    StationEvidence,
    StationReview,
)
from tests.conftest import FIXED_NOW, FixedClock
from tests.desk.conftest import DeskClient
from tests.stations.helpers import (
    BINJIANG,
    HANGZHOU,
    NINGBO,
    XIHU,
    complete_application,
    load_sample,
)

COUNTY, CITY, OTHER_COUNTY, OTHER_CITY, APPLICANT = 701, 702, 703, 704, 705


@dataclass
class World:
    station_id: int
    applicant_person: int


async def _world(desk: DeskClient) -> World:
    now = desk.runtime.now()
    async with desk.runtime.sessions() as s, s.begin():
        await load_sample(s, now)
        await desk.person(s, COUNTY, role="coordinator", region_code=XIHU)
        await desk.person(s, CITY, role="coordinator", region_code=HANGZHOU)
        await desk.person(s, OTHER_COUNTY, role="coordinator", region_code=BINJIANG)
        await desk.person(s, OTHER_CITY, role="coordinator", region_code=NINGBO)
        applicant = await make_person(s, telegram_id=APPLICANT, first_name="王站长")
        assert applicant.id is not None
        station = await complete_application(
            s,
            applicant_id=applicant.id,
            status="submitted",
            now=now - dt.timedelta(days=6),
        )
        station.submitted_at = now - dt.timedelta(days=6)
        assert station.id is not None
        return World(station.id, applicant.id)


async def _station(desk: DeskClient, station_id: int) -> Station:
    async with desk.runtime.sessions() as s:
        station = await s.get(Station, station_id)
        assert station is not None
        return station


async def _rows(desk: DeskClient, model: type, **where: object) -> list:  # type: ignore[type-arg]
    async with desk.runtime.sessions() as s:
        stmt = select(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return list((await s.execute(stmt)).scalars())


async def test_review_queue_shows_age_and_scope(desk: DeskClient) -> None:
    world = await _world(desk)
    async with desk.runtime.sessions() as s, s.begin():
        await make_station(
            s,
            name="整改中e站",
            county=XIHU,
            status="rectifying",
            rectify_deadline=FIXED_NOW.date() - dt.timedelta(days=1),
        )
    page = await desk.get("queues/reviews", user=COUNTY)
    assert "整改中e站" in page.text and "已过整改期限" in page.text
    assert page.status == 200
    assert f"#{world.station_id} 西湖e站" in page.text
    assert "6 天" in page.text and "县级审核" in page.text
    assert "已提醒审核人" in page.text  # 6 ≥ the default 5 reminder days
    # The city sees it too (it is the level a late review is escalated to), look only.
    city = await desk.get("queues/reviews", user=CITY)
    assert "西湖e站" in city.text and "仅查看" in city.text
    # Another county and another city see nothing of it.
    for user in (OTHER_COUNTY, OTHER_CITY):
        other = await desk.get("queues/reviews", user=user)
        assert other.status == 200 and "西湖e站" not in other.text
        assert "没有等待审核的申报" in other.text and "整改中e站" not in other.text


async def test_out_of_scope_card_and_action_are_refused_and_audited(desk: DeskClient) -> None:
    world = await _world(desk)
    sid = world.station_id
    page = await desk.get(f"queues/reviews/{sid}", user=OTHER_COUNTY)
    assert page.status == 403 and "西湖e站" not in page.text
    done = await desk.post(f"queues/reviews/{sid}/county_reject", {"reason": "x"}, user=CITY)
    assert done.status == 403  # a city coordinator may not take the county stage
    refusals = [a for a in await _rows(desk, AuditLog, allowed=False) if a.subject_id == sid]
    assert {(a.action, a.reason) for a in refusals} == {
        ("station.view", "not_allowed"),
        ("station.county_reject", "not_allowed"),
    }
    assert (await _station(desk, sid)).status == "submitted"


async def test_reject_needs_a_reason_then_tells_the_applicant(desk: DeskClient) -> None:
    world = await _world(desk)
    sid = world.station_id
    card = await desk.get(f"queues/reviews/{sid}", user=COUNTY)
    assert card.status == 200 and "❌ 驳回" in card.text and "🏅" not in card.text
    assert "6 天" in card.text  # how long it has waited
    missing = await desk.post(f"queues/reviews/{sid}/county_reject", {"reason": "  "}, user=COUNTY)
    assert missing.status == 400 and "请填写理由" in missing.text
    assert "❌ 驳回" in missing.text  # the form again
    assert (await _station(desk, sid)).status == "submitted"
    done = await desk.post(
        f"queues/reviews/{sid}/county_reject", {"reason": "终端照片不清楚"}, user=COUNTY
    )
    assert done.status == 200 and "已退回" in done.text
    station = await _station(desk, sid)
    assert station.status == "rejected" and station.status_reason == "终端照片不清楚"
    [entry] = await _rows(desk, AuditLog, action="station.county_reject", allowed=True)
    assert entry.reason == "终端照片不清楚"
    [notice] = await _rows(desk, OutboxMessage, chat_id=APPLICANT)
    assert notice.state == "pending" and "终端照片不清楚" in notice.payload["text"]
    # Decided already: the same form again is refused by the state machine (409, audited).
    again = await desk.post(f"queues/reviews/{sid}/county_reject", {"reason": "再次"}, user=COUNTY)
    assert again.status == 409


async def test_county_approval_keeps_what_was_typed_then_city_recognises(
    desk: DeskClient,
) -> None:
    world = await _world(desk)
    sid = world.station_id
    form = {"onsite_date": "2026-11-22", "inspector": "李检查", "note": ""}
    missing = await desk.post(f"queues/reviews/{sid}/county_approve", form, user=COUNTY)
    assert missing.status == 400 and 'value="李检查"' in missing.text
    no_proof = await desk.post(
        f"queues/reviews/{sid}/county_approve", {**form, "note": "场地符合要求"}, user=COUNTY
    )
    assert no_proof.status == 400  # neither a photo nor a location: the bot's rule
    where = {"latitude": "30.27", "longitude": "120.15"}
    future = await desk.post(
        f"queues/reviews/{sid}/county_approve",
        {**form, **where, "note": "好", "onsite_date": "2026-11-30"},
        user=COUNTY,
    )
    assert future.status == 400
    assert (await _station(desk, sid)).status == "submitted"
    done = await desk.post(
        f"queues/reviews/{sid}/county_approve",
        {**form, "note": "场地符合要求", "latitude": "30.27", "longitude": "120.15"},
        user=COUNTY,
    )
    assert done.status == 200
    assert (await _station(desk, sid)).status == "county_approved"
    [review] = await _rows(desk, StationReview, station_id=sid)
    assert review.inspector == "李检查" and review.latitude == 30.27
    assert str(review.onsite_date) == "2026-11-22"
    told = {m.chat_id for m in await _rows(desk, OutboxMessage)}
    assert told == {APPLICANT, CITY}
    # The city recognises it; the applicant becomes its station admin.
    card = await desk.get(f"queues/reviews/{sid}", user=CITY)
    assert "🏅 认定" in card.text
    assert (await desk.post(f"queues/reviews/{sid}/city_recognise", {}, user=CITY)).status == 200
    assert (await _station(desk, sid)).status == "recognised"
    actions = {a.action for a in await _rows(desk, AuditLog, allowed=True)}
    assert {"station.county_approve", "station.city_recognise", "role.grant"} <= actions


async def test_findings_confirm_with_reason(desk: DeskClient) -> None:
    world = await _world(desk)
    async with desk.runtime.sessions() as s, s.begin():
        flag = await make_flag(
            s, kind="photo_reuse", station_id=world.station_id, region_code=XIHU
        )
        fid = flag.id
    page = await desk.get("queues/findings", user=COUNTY)
    assert page.status == 200 and f"#{fid}" in page.text and "确认 #" in page.text
    assert f"#{fid}" not in (await desk.get("queues/findings", user=OTHER_CITY)).text
    missing = await desk.post(
        f"queues/findings/{fid}", {"decision": "confirmed", "reason": ""}, user=COUNTY
    )
    assert missing.status == 400 and "请填写理由" in missing.text
    refused = await desk.post(
        f"queues/findings/{fid}", {"decision": "confirmed", "reason": "x"}, user=OTHER_CITY
    )
    assert refused.status == 403
    [entry] = await _rows(desk, AuditLog, action="finding.confirm", allowed=False)
    assert entry.reason == "not_allowed"
    done = await desk.post(
        f"queues/findings/{fid}", {"decision": "confirmed", "reason": "同一张照片"}, user=COUNTY
    )
    assert done.status == 200 and f"#{fid}" in done.text
    [found] = await _rows(desk, IntegrityFlag, id=fid)
    assert found.status == "confirmed" and found.decision_reason == "同一张照片"
    [entry] = await _rows(desk, AuditLog, action="finding.confirm", allowed=True)
    assert entry.reason == "同一张照片"


async def _proposal(desk: DeskClient, station_id: int, kind: str, reason_code: str) -> int:
    async with desk.runtime.sessions() as s, s.begin():
        run = EvaluationRun(year=2025, region_code="", created_at=FIXED_NOW)
        s.add(run)
        await s.flush()
        assert run.id is not None
        s.add(
            EvaluationScore(
                run_id=run.id,
                station_id=station_id,
                region_code=XIHU,
                counted_from=dt.date(2025, 1, 1),
            )
        )
        proposal = EvaluationProposal(
            run_id=run.id,
            year=2025,
            station_id=station_id,
            kind=kind,
            reason_code=reason_code,
            detail={"score": 0.1, "rank_city": 9, "city_count": 9},
            created_at=FIXED_NOW,
        )
        s.add(proposal)
        await s.flush()
        assert proposal.id is not None
        return proposal.id


async def _recognised(desk: DeskClient, session: AsyncSession, admin_tg: int) -> int:
    station = await complete_application(
        session, applicant_id=None, name="文三路e站", status="recognised", now=FIXED_NOW
    )  # type: ignore[arg-type]
    assert station.id is not None
    admin = await make_person(session, telegram_id=admin_tg, first_name="站点管理员")
    assert admin.id is not None
    await make_grant(session, person_id=admin.id, role="station_admin", station_id=station.id)
    return station.id


async def test_proposals_confirm_tells_station_admins_and_override_needs_reason(
    desk: DeskClient, clock: FixedClock
) -> None:
    await _world(desk)
    async with desk.runtime.sessions() as s, s.begin():
        sid = await _recognised(desk, s, 801)
    rectify = await _proposal(desk, sid, "rectify", "inactive")
    page = await desk.get("queues/proposals", user=COUNTY)
    assert page.status == 200 and "2025" in page.text and "文三路e站" in page.text
    assert "2025年全年（1月1日—12月31日）" in page.text  # the window it was counted over
    missing = await desk.post(f"queues/proposals/{rectify}/override", {"reason": ""}, user=COUNTY)
    assert missing.status == 400 and "请填写理由" in missing.text
    refused = await desk.post(f"queues/proposals/{rectify}/confirm", {}, user=OTHER_CITY)
    assert refused.status == 403
    done = await desk.post(f"queues/proposals/{rectify}/confirm", {"year": "2025"}, user=COUNTY)
    assert done.status == 200
    assert (await _station(desk, sid)).status == "rectifying"
    [notice] = await _rows(desk, OutboxMessage, chat_id=801)
    assert "整改" in notice.payload["text"]
    [entry] = await _rows(desk, AuditLog, action="evaluation.confirm", allowed=True)
    assert entry.subject_id == rectify
    # Override of another proposal, with its reason.
    async with desk.runtime.sessions() as s, s.begin():
        run = (await s.execute(select(EvaluationRun))).scalars().first()
        assert run is not None and run.id is not None
        other = EvaluationProposal(
            run_id=run.id, year=2025, station_id=sid, kind="commend", reason_code="top_share",
            detail={}, created_at=FIXED_NOW,
        )  # fmt: skip
        s.add(other)
        await s.flush()
        oid = other.id
    done = await desk.post(
        f"queues/proposals/{oid}/override", {"reason": "整改中，暂不表彰"}, user=COUNTY
    )
    assert done.status == 200 and "整改中，暂不表彰" in done.text
    [row] = await _rows(desk, EvaluationProposal, id=oid)
    assert row.status == "overridden" and row.decision_reason == "整改中，暂不表彰"


async def test_english_viewer_and_no_role(desk: DeskClient) -> None:
    await _world(desk)
    async with desk.runtime.sessions() as s, s.begin():
        await desk.person(s, 900, role="coordinator", region_code=XIHU, language="en")
        await desk.person(s, 901)
    page = await desk.get("queues/reviews", user=900)
    assert page.status == 200 and "Applications waiting for review" in page.text
    assert (await desk.get("queues/reviews", user=901)).status == 403


async def test_review_card_shows_signed_evidence_thumbnails(desk: DeskClient) -> None:
    world = await _world(desk)
    async with desk.runtime.sessions() as s, s.begin():
        photo = StationEvidence(
            station_id=world.station_id,
            have="venue",
            file_id="AgACAgQAAx0-venue",
            file_unique_id="venue-1",
            created_at=FIXED_NOW,
        )
        s.add(photo)
        await s.flush()
        pid = photo.id
    card = await desk.get(f"queues/reviews/{world.station_id}", user=COUNTY)
    found = re.search(
        rf'src="(/desk/evidence/{pid}\?e=\d+&amp;v={COUNTY}&amp;s=[0-9a-f]+)"', card.text
    )
    assert found is not None
    url = found.group(1).replace("&amp;", "&")
    forged = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    assert (await desk.get(forged)).status == 401  # a tampered signature
    other = url.replace(f"v={COUNTY}", f"v={OTHER_COUNTY}")
    assert (await desk.get(other)).status == 401  # signed for someone else
    # Out of scope: no card, so no signed URL at all.
    assert (
        "/desk/evidence/"
        not in (await desk.get(f"queues/reviews/{world.station_id}", user=OTHER_COUNTY)).text
    )
