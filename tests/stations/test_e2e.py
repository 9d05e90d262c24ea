"""End to end through the sandbox: apply, county review with on-site check, city recognise,
rejections, rectification, revocation, bad region codes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.sandbox.factories import make_person, make_station
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimUser
from storage.models import AuditLog, Person, RoleGrant, Station, StationEvidence, StationReview
from tests.stations.helpers import (
    HANGZHOU,
    XIHU,
    grant_coordinator,
    in_tx,
    load_sample,
    png,
    settle_last,
    texts,
)


async def _world(bot_env: RunningBot) -> tuple[SimUser, SimUser, SimUser]:
    sb = bot_env.sandbox
    applicant = sb.user("王站长", started=True)
    county = sb.user("西湖区科协", started=True)
    city = sb.user("杭州市科协", started=True)
    now = bot_env.runtime.now()

    async def setup(s: AsyncSession) -> None:
        await load_sample(s, now)
        await grant_coordinator(s, county.id, XIHU, now)
        await grant_coordinator(s, city.id, HANGZHOU, now)

    await in_tx(bot_env, setup)
    return applicant, county, city


async def _apply(bot_env: RunningBot, user: SimUser, *, region_text: str = XIHU) -> None:
    await user.command("apply")
    await settle_last(bot_env, user)
    await user.send("西湖区文三路小学科普e站")
    venue = await settle_last(bot_env, user)
    await user.press(venue, "学校")
    await settle_last(bot_env, user)
    await user.send("杭州市西湖区文三路100号")
    await settle_last(bot_env, user)
    await user.send(region_text)
    for i in range(5):
        ask = await settle_last(bot_env, user)
        assert f"{i + 1}/5" in (ask.text or ""), ask.text
        await user.send_photo(png(), caption=f"证明{i}")
        await user.send(f"说明{i}")
        saved = await settle_last(bot_env, user)
        await user.press(saved, "下一步 ▶")
    summary = await settle_last(bot_env, user)
    assert "请核对" in (summary.text or "")
    await user.press(summary, "✅ 提交")
    await bot_env.settle()


async def _station(bot_env: RunningBot) -> Station:
    async with bot_env.runtime.sessions() as s:
        return (await s.execute(select(Station))).scalar_one()


async def test_apply_county_approve_city_recognise(bot_env: RunningBot) -> None:
    applicant, county, city = await _world(bot_env)
    await _apply(bot_env, applicant)
    station = await _station(bot_env)
    assert station.status == "submitted" and station.region_code == XIHU
    assert "已提交" in texts(applicant)
    assert "待审核" in texts(county)  # notified
    async with bot_env.runtime.sessions() as s:
        evidence = (await s.execute(select(StationEvidence))).scalars().all()
    assert len(evidence) == 10 and all(e.file_unique_id for e in evidence if e.file_id)

    # County: /pending, open the card (photos sent), approve with an on-site record.
    await county.command("pending")
    listing = await settle_last(bot_env, county)
    await county.press(listing, index=(0, 0))
    card = await settle_last(bot_env, county)
    assert any(m.photo for m in county.messages)
    await county.press(card, "✅ 通过（实地核查）")
    ask = await settle_last(bot_env, county)
    await county.send("2026-11-30")  # a future date is refused
    assert "不能晚于今天" in (await settle_last(bot_env, county)).text
    await county.press(ask, "昨天")
    await settle_last(bot_env, county)
    await county.send("李检查")
    await settle_last(bot_env, county)
    await county.send("网络、场地均符合要求")
    await settle_last(bot_env, county)
    await county.send("没有照片")  # text is not a proof
    await settle_last(bot_env, county)
    await county.send_location(30.27, 120.15)
    await bot_env.settle()
    station = await _station(bot_env)
    assert station.status == "county_approved"
    async with bot_env.runtime.sessions() as s:
        review = (await s.execute(select(StationReview))).scalar_one()
    assert review.inspector == "李检查" and review.latitude == 30.27
    assert str(review.onsite_date) == "2026-11-22"
    assert "复核" in texts(city)

    # The county coordinator cannot do the city stage.
    await county.command("pending")
    assert "没有待您审核" in (await settle_last(bot_env, county)).text

    # City: recognise; the applicant becomes station admin.
    await city.command("pending")
    listing = await settle_last(bot_env, city)
    await city.press(listing, index=(0, 0))
    card = await settle_last(bot_env, city)
    assert "李检查" in (card.text or "")
    await city.press(card, "🏅 认定")
    await bot_env.settle()
    station = await _station(bot_env)
    assert station.status == "recognised" and station.recognised_at is not None
    async with bot_env.runtime.sessions() as s:
        person = (
            await s.execute(select(Person).where(Person.telegram_id == applicant.id))
        ).scalar_one()
        grant = (
            await s.execute(
                select(RoleGrant).where(
                    RoleGrant.person_id == person.id, RoleGrant.role == "station_admin"
                )
            )
        ).scalar_one()
        actions = [a.action for a in (await s.execute(select(AuditLog))).scalars()]
    assert grant.station_id == station.id
    assert {
        "station.submit",
        "station.county_approve",
        "station.city_recognise",
        "role.grant",
    } <= set(actions)
    assert "恭喜" in texts(applicant)


async def test_rejection_with_reason_and_resubmission(bot_env: RunningBot) -> None:
    applicant, county, city = await _world(bot_env)
    await _apply(bot_env, applicant)
    await county.command("pending")
    listing = await settle_last(bot_env, county)
    await county.press(listing, index=(0, 0))
    card = await settle_last(bot_env, county)
    await county.press(card, "❌ 驳回")
    await settle_last(bot_env, county)
    await county.send("   ")  # an empty reason is refused
    await settle_last(bot_env, county)
    await county.send("终端照片不清楚")
    await bot_env.settle()
    station = await _station(bot_env)
    assert station.status == "rejected" and station.status_reason == "终端照片不清楚"
    assert "终端照片不清楚" in texts(applicant)

    # The applicant edits the evidence and resubmits: back to the county.
    await applicant.command("apply")
    summary = await settle_last(bot_env, applicant)
    assert "终端照片不清楚" in (summary.text or "")
    await applicant.press(summary, "✅ 提交")
    await bot_env.settle()
    assert (await _station(bot_env)).status == "submitted"

    # County approves (photo proof), city sends back with a reason → rejected.
    await county.command("pending")
    await county.press(await settle_last(bot_env, county), index=(0, 0))
    await county.press(await settle_last(bot_env, county), "✅ 通过（实地核查）")
    await county.send("2026-11-20")
    await settle_last(bot_env, county)
    await county.send("李检查")
    await settle_last(bot_env, county)
    await county.send("合格")
    await settle_last(bot_env, county)
    await county.send_photo(png("blue"))
    await bot_env.settle()
    assert (await _station(bot_env)).status == "county_approved"
    await city.command("pending")
    await city.press(await settle_last(bot_env, city), index=(0, 0))
    await city.press(await settle_last(bot_env, city), "↩ 退回")
    await settle_last(bot_env, city)
    await city.send("活动记录不足")
    await bot_env.settle()
    station = await _station(bot_env)
    assert station.status == "rejected" and station.status_reason == "活动记录不足"


async def test_rectification_lift_and_revocation(bot_env: RunningBot) -> None:
    applicant, county, city = await _world(bot_env)

    async def setup(s: AsyncSession) -> int:
        person = await make_person(s, telegram_id=applicant.id, first_name="王站长")
        station = await make_station(
            s, name="拱宸桥e站", venue_type="school", county=XIHU, applicant_id=person.id
        )
        assert station.id is not None
        return station.id

    station_id = await in_tx(bot_env, setup)
    await applicant.send("你好")  # opens the private chat so notices can be delivered
    await city.command("station", str(station_id))
    card = await settle_last(bot_env, city)
    await city.press(card, "⚠ 责令整改")
    await settle_last(bot_env, city)
    await city.send("长期无活动")
    await settle_last(bot_env, city)
    await city.send("2026-11-01")  # past: re-asked
    assert "整改期限必须晚于今天" in (await settle_last(bot_env, city)).text
    await city.send("2027-01-31")
    await bot_env.settle()
    station = await _station(bot_env)
    assert station.status == "rectifying" and str(station.rectify_deadline) == "2027-01-31"
    assert "整改" in texts(applicant)

    # Lift, rectify again, then revoke.
    await city.command("station", str(station_id))
    await city.press(await settle_last(bot_env, city), "✔ 解除整改")
    await bot_env.settle()
    assert (await _station(bot_env)).status == "recognised"
    await county.command("station", str(station_id))
    card = await settle_last(bot_env, county)
    await county.press(card, "⚠ 责令整改")
    await settle_last(bot_env, county)
    await county.send("无终端")
    await settle_last(bot_env, county)
    await county.send("1月31日")
    await bot_env.settle()
    assert (await _station(bot_env)).rectify_deadline.isoformat() == "2027-01-31"
    # The county may not revoke: no button, and a forged press is refused and audited.
    card = await settle_last(bot_env, county)
    await county.command("station", str(station_id))
    card = await settle_last(bot_env, county)
    assert "✖ 撤销认定" not in [b.text for row in card.buttons for b in row]
    answer = await county.press(card, data=f"MGT:revoke:{station_id}")
    assert answer and answer.get("show_alert")
    await city.command("station", str(station_id))
    await city.press(await settle_last(bot_env, city), "✖ 撤销认定")
    await settle_last(bot_env, city)
    await city.send("整改无效")
    await bot_env.settle()
    station = await _station(bot_env)
    assert station.status == "revoked" and station.status_reason == "整改无效"
    async with bot_env.runtime.sessions() as s:
        denied = (
            (await s.execute(select(AuditLog).where(AuditLog.allowed.is_(False)))).scalars().all()
        )
    assert [d.action for d in denied] == ["station.revoke"]


async def test_bad_region_code_is_reasked_and_draft_survives_cancel(bot_env: RunningBot) -> None:
    applicant, _county, _city = await _world(bot_env)
    await applicant.command("apply")
    await settle_last(bot_env, applicant)
    await applicant.send("X")  # too short a name
    assert "字" in (await settle_last(bot_env, applicant)).text
    await applicant.send("滨江e站")
    await applicant.press(await settle_last(bot_env, applicant), "医院")
    await settle_last(bot_env, applicant)
    await applicant.send("江南大道1号")
    await settle_last(bot_env, applicant)
    await applicant.send("12345")
    assert "不是行政区划代码" in (await settle_last(bot_env, applicant)).text
    await applicant.send("339999")
    assert "没有代码为 339999" in (await settle_last(bot_env, applicant)).text
    await applicant.send("330100")  # a city: its counties are offered
    offer = await settle_last(bot_env, applicant)
    assert "不是区县" in (offer.text or "")
    await applicant.command("cancel")
    assert "草稿已保存" in (await settle_last(bot_env, applicant)).text

    await applicant.command("apply")  # resumes at the region
    ask = await settle_last(bot_env, applicant)
    assert "区/县" in (ask.text or "")
    await applicant.press(ask, "浙江省")
    await applicant.press(await settle_last(bot_env, applicant), "杭州市")
    await applicant.press(await settle_last(bot_env, applicant), "滨江区")
    ask = await settle_last(bot_env, applicant)
    assert "1/5" in (ask.text or "")
    answer = await applicant.press(ask, "下一步 ▶")  # no evidence yet: refused
    assert answer and answer.get("show_alert")
    station = await _station(bot_env)
    assert station.status == "draft" and station.region_code == "330108"


async def test_region_back_button_goes_one_level_up(bot_env: RunningBot) -> None:
    applicant, _county, _city = await _world(bot_env)
    await applicant.command("apply")
    await settle_last(bot_env, applicant)
    await applicant.send("滨江e站")
    await applicant.press(await settle_last(bot_env, applicant), "医院")
    await settle_last(bot_env, applicant)
    await applicant.send("江南大道1号")
    await applicant.press(await settle_last(bot_env, applicant), "浙江省")
    cities = await settle_last(bot_env, applicant)
    assert cities.buttons[-1][-1].text == "« 返回省份"  # the cities came from the provinces
    await applicant.press(cities, "杭州市")
    counties = await settle_last(bot_env, applicant)
    assert "西湖区" in [b.text for row in counties.buttons for b in row]
    assert counties.buttons[-1][-1].text == "« 返回城市"  # a city's counties go back to cities
    await applicant.press(counties, "« 返回城市")
    again = await settle_last(bot_env, applicant)
    assert "杭州市" in [b.text for row in again.buttons for b in row]
    assert "西湖区" not in [b.text for row in again.buttons for b in row]
