"""Late reviews, end to end through the sandbox: the reviewers are reminded at day N, the
level above is told at day M, once each; the notices go out after the job's commit with the
desk button and the bot's own review button, which the reviewer uses to decide."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import jobs
from bot.desk.web import INIT_FIELD, INIT_HEADER
from bot.runtime.scheduler import run_job
from bot.sandbox import Sandbox
from bot.sandbox.factories import make_person
from bot.sandbox.harness import RunningBot, running_bot, sandbox_settings
from bot.sandbox.models import SimMessage
from bot.sandbox.webapp import sign_init_data
from bot.sandbox.world import SimUser
from storage.models import AuditLog, OutboxMessage, Station
from tests.conftest import FIXED_NOW, FixedClock
from tests.stations.helpers import (
    HANGZHOU,
    XIHU,
    ZHEJIANG,
    complete_application,
    grant_coordinator,
    in_tx,
    load_sample,
    settle_last,
)

DESK = "https://kepu.test/desk/?p=/desk/p/queues/reviews"


@pytest.fixture
async def late_env(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> AsyncIterator[RunningBot]:
    """The bot on https (so the desk button is offered), reminders at 3 days, escalation at 6."""
    settings = sandbox_settings(
        sandbox,
        sqlite_url,
        web={"public_base_url": "https://kepu.test"},
        stations={"review_reminder_days": 3, "review_escalate_days": 6},
    )
    async with running_bot(sandbox, settings, clock=clock) as running:
        yield running


async def _world(env: RunningBot) -> tuple[SimUser, SimUser, SimUser, SimUser, int]:
    sb = env.sandbox
    applicant = sb.user("王站长", started=True)
    county = sb.user("西湖区科协", started=True)
    city = sb.user("杭州市科协", started=True)
    province = sb.user("浙江省科协", started=True)
    now = env.runtime.now()

    async def setup(s: AsyncSession) -> int:
        await load_sample(s, now)
        await grant_coordinator(s, county.id, XIHU, now)
        await grant_coordinator(s, city.id, HANGZHOU, now)
        await grant_coordinator(s, province.id, ZHEJIANG, now)
        person = await make_person(s, telegram_id=applicant.id, first_name="王站长")
        assert person.id is not None
        station = await complete_application(
            s, applicant_id=person.id, status="submitted", now=now
        )
        station.submitted_at = now
        assert station.id is not None
        return station.id

    station_id = await in_tx(env, setup)
    return applicant, county, city, province, station_id


async def _run(env: RunningBot, clock: FixedClock, day: dt.date) -> dict[str, object]:
    """Run the daily reminders job on ``day`` at 10:00 Beijing time, then let it send."""
    clock.set(dt.datetime.combine(day, dt.time(2, 0), dt.UTC))
    outcome = await run_job(env.runtime, jobs.REMINDERS, period=day.isoformat())
    assert outcome.status == "done", outcome.error
    await env.settle()
    return dict(outcome.result)


def _buttons(message: SimMessage) -> list[dict[str, object]]:
    markup = message.raw.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def _late(user: SimUser) -> list[SimMessage]:
    return [m for m in user.messages if "⏰" in (m.text or "") or "⚠" in (m.text or "")]


async def _outbox(env: RunningBot, prefix: str) -> list[OutboxMessage]:
    async with env.runtime.sessions() as s:
        rows = await s.execute(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith(prefix))
        )
        return list(rows.scalars())


async def _audited(env: RunningBot, action: str) -> list[AuditLog]:
    async with env.runtime.sessions() as s:
        return list((await s.execute(select(AuditLog).where(AuditLog.action == action))).scalars())


async def test_remind_at_day_n_escalate_at_day_m_once_each(
    late_env: RunningBot, clock: FixedClock
) -> None:
    env = late_env
    _applicant, county, city, province, station_id = await _world(env)
    day0 = FIXED_NOW.date()  # submitted on 23 Nov

    # Day 2: not late yet.
    result = await _run(env, clock, day0 + dt.timedelta(days=2))
    assert "review_remind" not in result and not _late(county)

    # Day 3: the county is reminded, once; nobody else.
    result = await _run(env, clock, day0 + dt.timedelta(days=3))
    assert result["review_remind"] == 1 and "review_escalate" not in result
    [reminder] = _late(county)
    assert "已等待县级审核 3 天" in (reminder.text or "")
    assert "西湖e站" in (reminder.text or "") and "西湖区" in (reminder.text or "")
    buttons = _buttons(reminder)
    assert buttons[0]["web_app"] == {"url": DESK}
    assert buttons[1]["text"] == "📄 在机器人中打开申报"
    assert buttons[1]["callback_data"] == f"REV:open:{station_id}"
    assert not _late(city) and not _late(province)
    # The row was committed with the job and sent after it.
    [row] = await _outbox(env, f"review:remind:{station_id}:submitted:")
    assert row.state == "sent" and row.chat_id == county.id
    [entry] = await _audited(env, "review.remind")
    assert entry.subject_id == station_id and entry.actor_id is None
    assert entry.detail["status"] == "submitted" and entry.detail["days"] == 3

    # Forced again the same day, and the next days: no repeat.
    again = await run_job(env.runtime, jobs.REMINDERS, period=(day0 + dt.timedelta(3)).isoformat(),
                          force=True)  # fmt: skip
    assert "review_remind" not in again.result
    await _run(env, clock, day0 + dt.timedelta(days=4))
    await _run(env, clock, day0 + dt.timedelta(days=5))
    assert len(_late(county)) == 1 and not _late(city)

    # Day 6: the city (the level above the county) is told, once.
    result = await _run(env, clock, day0 + dt.timedelta(days=6))
    assert result["review_escalate"] == 1 and "review_remind" not in result
    [escalation] = _late(city)
    text = escalation.text or ""
    assert "审核逾期" in text and "已等待县级审核 6 天" in text and "第 3 天提醒" in text
    assert _buttons(escalation)[0]["web_app"] == {"url": DESK}
    assert len(_late(county)) == 1 and not _late(province)

    # Sent outbox rows are purged after a week: the audit log still knows, so no repeat.
    async with env.runtime.sessions() as s, s.begin():
        await s.execute(delete(OutboxMessage))
    result = await _run(env, clock, day0 + dt.timedelta(days=14))
    assert "review_remind" not in result and "review_escalate" not in result
    assert len(_late(county)) == 1 and len(_late(city)) == 1

    # The county acts from the reminder, in the bot: open, approve with the on-site record.
    await county.press(reminder, "📄 在机器人中打开申报")
    card = await settle_last(env, county)
    await county.press(card, "✅ 通过（实地核查）")
    await settle_last(env, county)
    await county.send("昨天")
    await settle_last(env, county)
    await county.send("李检查")
    await settle_last(env, county)
    await county.send("场地符合要求")
    await settle_last(env, county)
    await county.send_location(30.27, 120.15)
    await env.settle()
    async with env.runtime.sessions() as s:
        station = await s.get(Station, station_id)
        assert station is not None and station.status == "county_approved"

    # The city stage waits anew from the county's approval (day 14): day 17 reminds the
    # city, day 20 tells the province.
    result = await _run(env, clock, day0 + dt.timedelta(days=17))
    assert result["review_remind"] == 1
    city_reminder = _late(city)[-1]
    assert "已等待您复核 3 天" in (city_reminder.text or "")
    assert _buttons(city_reminder)[1]["callback_data"] == f"REV:open:{station_id}"
    result = await _run(env, clock, day0 + dt.timedelta(days=20))
    assert result["review_escalate"] == 1
    [told] = _late(province)
    assert "已等待市级复核 6 天" in (told.text or "")
    assert len(_late(county)) == 1

    # The city recognises it from its reminder's button; nothing more is due.
    await city.press(city_reminder, "📄 在机器人中打开申报")
    card = await settle_last(env, city)
    await city.press(card, "🏅 认定")
    await env.settle()
    result = await _run(env, clock, day0 + dt.timedelta(days=30))
    assert "review_remind" not in result and "review_escalate" not in result
    assert len(await _audited(env, "review.remind")) == 2
    assert len(await _audited(env, "review.escalate")) == 2


async def test_nobody_at_the_stage_goes_to_the_level_above_and_http_has_no_desk_button(
    bot_env: RunningBot, clock: FixedClock
) -> None:
    sb = bot_env.sandbox
    applicant, province = sb.user("王站长", started=True), sb.user("浙江省科协", started=True)
    now = bot_env.runtime.now()

    async def setup(s: AsyncSession) -> int:
        await load_sample(s, now)
        await grant_coordinator(s, province.id, ZHEJIANG, now)
        person = await make_person(s, telegram_id=applicant.id, first_name="王站长")
        assert person.id is not None
        station = await complete_application(
            s, applicant_id=person.id, status="submitted", now=now
        )
        station.submitted_at = now
        assert station.id is not None
        return station.id

    station_id = await in_tx(bot_env, setup)
    # Defaults: reminder at 5 days, escalation at 10. No county or city coordinator exists.
    result = await _run(bot_env, clock, FIXED_NOW.date() + dt.timedelta(days=5))
    assert "review_remind" not in result  # nobody to remind: nothing recorded
    result = await _run(bot_env, clock, FIXED_NOW.date() + dt.timedelta(days=10))
    assert result["review_escalate"] == 1
    [told] = _late(province)
    assert "尚无负责审核的科协工作人员" in (told.text or "")
    # http://kepu.test is no https address: only the bot's button.
    assert [b.get("callback_data") for b in _buttons(told)] == [f"REV:open:{station_id}"]
    await province.press(told, "📄 在机器人中打开申报")
    card = await settle_last(bot_env, province)
    assert "西湖e站" in (card.text or "")
    assert "✅" not in str(card.raw.get("reply_markup"))  # a province may look, not approve


async def test_the_reminders_desk_button_opens_the_queue_where_the_reviewer_decides(
    late_env: RunningBot, clock: FixedClock
) -> None:
    """Open the reminder's Mini App button as Telegram would (signed launch data), decide on
    the desk; the applicant's notice goes through the outbox to the sandbox after commit."""
    env = late_env
    applicant, county, _city, _province, station_id = await _world(env)
    await _run(env, clock, FIXED_NOW.date() + dt.timedelta(days=3))
    [reminder] = _late(county)
    url = str(_buttons(reminder)[0]["web_app"]["url"])  # type: ignore[index]
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "kepu.test", "/desk/")
    page = parse_qs(parts.query)["p"][0]
    assert page == "/desk/p/queues/reviews"
    init = sign_init_data(
        env.runtime.settings.telegram.token.get_secret_value(),  # type: ignore[union-attr]
        dict(county.user),
        auth_date=env.runtime.now(),
        query_id="AAHdF6IQAAAAAN0XohDhrOrc",
    )
    async with aiohttp.ClientSession(env.web_url) as http:
        async with http.get(f"/desk/?{parts.query}") as shell:
            assert shell.status == 200  # the shell needs no credential
        async with http.get(page, headers={INIT_HEADER: init}) as r:
            text = await r.text()
        assert r.status == 200 and f"#{station_id} 西湖e站" in text and "3 天" in text
        form = {"reason": "终端照片不清楚", INIT_FIELD: init}
        async with http.post(f"{page}/{station_id}/county_reject", data=form) as r:
            assert r.status == 200
    await env.settle()
    async with env.runtime.sessions() as s:
        station = await s.get(Station, station_id)
        assert station is not None and station.status == "rejected"
    assert any("终端照片不清楚" in (m.text or "") for m in applicant.messages)
    # Nothing waits any more: no escalation on day 6.
    assert "review_escalate" not in await _run(env, clock, FIXED_NOW.date() + dt.timedelta(6))
