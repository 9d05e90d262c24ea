"""/announce end to end through the sandbox: scope, audiences, attachments, quiet hours,
leaving, and the report that comes back to the author."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select

from bot.runtime.outbox import notify_outbox
from bot.sandbox import SimUser
from bot.sandbox.factories import (
    make_grant,
    make_informant,
    make_person,
    make_region_tree,
    make_station,
)
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimMessage
from storage.models import Announcement, AuditLog, DialogState, OutboxMessage, Push
from tests.conftest import FixedClock
from tests.content_push.conftest import wait_outbox

PICTURE = Path(__file__).resolve().parents[2] / "bot/content/packs/starter/media/handwash.png"
TEXT = "全国科普日 9月20日 活动通知：请各站点做好准备。"
FOOTER = "这是一条群发通知，回复只会发给机器人，不会转给其他人。"


def text_of(msg: SimMessage) -> str:
    return msg.text or msg.caption or ""


def labels(msg: SimMessage) -> list[str]:
    return [b.text for row in msg.buttons for b in row]


class World:
    """Xihu (330106, Hangzhou) and Haishu (330203, Ningbo): one station, admin and
    informant each; a county coordinator of Xihu, a city one of Hangzhou, a curator."""

    def __init__(self, bot: RunningBot) -> None:
        sb = bot.sandbox
        self.bot = bot
        self.xihu_admin = sb.user("西湖站长", started=True)
        self.xihu_reader = sb.user("西湖信息员", started=True)
        self.ningbo_admin = sb.user("海曙站长", started=True)
        self.ningbo_reader = sb.user("海曙信息员", started=True)
        self.county = sb.user("西湖区科协")
        self.city = sb.user("杭州市科协")
        self.curator = sb.user("内容编辑")

    async def seed(self, *, reader_quiet: tuple[dt.time, dt.time] | None = None) -> None:
        async with self.bot.runtime.sessions() as s, s.begin():
            await make_region_tree(s, ("330106", "330203"))
            for county, admin, reader in (
                ("330106", self.xihu_admin, self.xihu_reader),
                ("330203", self.ningbo_admin, self.ningbo_reader),
            ):
                station = await make_station(s, name=f"站点{county}", county=county)
                assert station.id is not None
                person = await make_person(s, telegram_id=admin.id, first_name=admin.first_name)
                assert person.id is not None
                await make_grant(
                    s, person_id=person.id, role="station_admin", station_id=station.id
                )
                await make_informant(
                    s,
                    station_id=station.id,
                    telegram_id=reader.id,
                    real_name=reader.first_name,
                    quiet=reader_quiet,
                )
            for user, role, region in (
                (self.county, "coordinator", "330106"),
                (self.city, "coordinator", "330100"),
                (self.curator, "curator", None),
            ):
                person = await make_person(s, telegram_id=user.id, first_name=user.first_name)
                assert person.id is not None
                await make_grant(s, person_id=person.id, role=role, region_code=region)


async def tap(user: SimUser, msg: SimMessage, label: str) -> SimMessage:
    user.mark_seen()
    await user.press(msg, label)
    return await user.wait_for_message()


async def say(user: SimUser, text: str) -> SimMessage:
    user.mark_seen()
    await user.send(text)
    return await user.wait_for_message()


async def start(user: SimUser) -> SimMessage:
    user.mark_seen()
    await user.command("announce")
    return await user.wait_for_message()


async def count(bot: RunningBot, table: object) -> int:
    async with bot.runtime.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_county_coordinator_reaches_only_the_station_admins_of_the_county(
    bot_env: RunningBot,
) -> None:
    w = World(bot_env)
    await w.seed()
    ask = await start(w.county)
    assert "1/5" in text_of(ask) and labels(ask) == ["站点管理员", "信息员", "两者都发"]
    typed = await say(w.county, "站长们")  # a typed answer: asked again
    assert "1/5" in text_of(typed)
    ask_text = await tap(w.county, typed, "站点管理员")
    assert "3/5" in text_of(ask_text)  # a county coordinator has no region to pick
    blank = await say(w.county, "   ")
    assert text_of(blank) == "请以文字发送通知内容。"
    too_long = await say(w.county, "长" * 3501)
    assert "3501" in text_of(too_long) and "3500" in text_of(too_long)
    ask_file = await say(w.county, TEXT)
    assert "4/5" in text_of(ask_file) and labels(ask_file) == ["无附件"]
    ask_when = await tap(w.county, ask_file, "无附件")
    assert "5/5" in text_of(ask_when) and labels(ask_when) == ["立即发送"]
    preview = await tap(w.county, ask_when, "立即发送")
    text = text_of(preview)
    assert "📢 <b>通知</b> · 西湖区科协" in text and TEXT in text and FOOTER in text
    assert "收件人：西湖区（330106）的站点管理员，共1人。" in text
    assert "附件：无" in text and "发送时间：立即" in text
    assert labels(preview) == ["发送", "取消"]
    assert await count(bot_env, Announcement) == 0  # nothing before Send

    sent = await tap(w.county, preview, "发送")
    assert text_of(sent).startswith("正在发送：通知 #1 将发给1人")
    await wait_outbox(bot_env)
    got = w.xihu_admin.messages[-1]
    assert text_of(got).startswith("📢 <b>通知</b> · 西湖区科协") and TEXT in text_of(got)
    assert FOOTER in text_of(got)
    assert w.ningbo_admin.messages == [] and w.xihu_reader.messages == []
    report = await w.county.wait_for_message(predicate=lambda m: "通知发送报告" in text_of(m))
    assert text_of(report).startswith("✅ 通知发送报告 #")
    assert "已发送 1 ·" in text_of(report)
    async with bot_env.runtime.sessions() as s:
        push = (await s.execute(select(Push))).scalar_one()
        audit = (
            await s.execute(select(AuditLog).where(AuditLog.action == "announcement.send"))
        ).scalar_one()
    assert push.kind == "announcement" and push.content_id is None and push.total == 1
    assert push.finished_at is not None
    assert audit.region_code == "330106" and audit.detail["audience"] == "admins"

    # A reply to the announcement goes to the bot only: nobody else hears of it.
    before = len(w.county.messages)
    await w.xihu_admin.send("收到，我们站会参加")
    await bot_env.settle()
    assert len(w.county.messages) == before and w.ningbo_admin.messages == []


async def test_curator_sends_to_every_informant_with_a_photo(bot_env: RunningBot) -> None:
    w = World(bot_env)
    await w.seed()
    ask = await start(w.curator)
    ask_region = await tap(w.curator, ask, "信息员")
    assert "2/5" in text_of(ask_region) and labels(ask_region) == ["全部地区"]
    ask_text = await tap(w.curator, ask_region, "全部地区")
    assert "3/5" in text_of(ask_text)
    ask_file = await say(w.curator, TEXT)
    assert "4/5" in text_of(ask_file)
    not_a_file = await say(w.curator, "图片稍后")
    assert "4/5" in text_of(not_a_file)
    w.curator.mark_seen()
    await w.curator.send_photo(PICTURE)
    ask_when = await w.curator.wait_for_message()
    assert "5/5" in text_of(ask_when)
    preview = await tap(w.curator, ask_when, "立即发送")
    assert "附件：图片" in text_of(preview) and "全部地区的信息员，共2人" in text_of(preview)
    assert "通知</b> · 内容编辑" in text_of(preview)
    await tap(w.curator, preview, "发送")
    await wait_outbox(bot_env)
    for reader in (w.xihu_reader, w.ningbo_reader):
        card = reader.messages[-1]
        assert card.photo and TEXT in text_of(card)
    assert w.xihu_admin.messages == [] and w.ningbo_admin.messages == []


async def test_city_coordinator_cannot_leave_the_city_and_may_send_a_file(
    bot_env: RunningBot,
) -> None:
    w = World(bot_env)
    await w.seed()
    ask = await start(w.city)
    ask_region = await tap(w.city, ask, "两者都发")
    assert labels(ask_region) == ["杭州市（330100）"]
    refused = await say(w.city, "330203")  # Ningbo's Haishu: outside Hangzhou
    assert text_of(refused) == (
        "抱歉，海曙区不在您的管辖范围内：科协工作人员只能向本地区发送通知。"
    )
    bad = await say(w.city, "3302")
    assert "不是6位行政区划代码" in text_of(bad)
    async with bot_env.runtime.sessions() as s:
        refusal = (
            await s.execute(select(AuditLog).where(AuditLog.allowed.is_(False)))  # type: ignore[attr-defined]
        ).scalar_one()
    assert refusal.action == "announcement.send" and refusal.region_code == "330203"
    assert refusal.reason == "region_out_of_scope"

    ask_text = await say(w.city, "330106")
    assert "3/5" in text_of(ask_text)
    await say(w.city, TEXT)
    w.city.mark_seen()
    await w.city.send_document(b"%PDF-1.4 notice", filename="通知.pdf")
    ask_when = await w.city.wait_for_message()
    preview = await tap(w.city, ask_when, "立即发送")
    assert "附件：文件" in text_of(preview) and "共2人" in text_of(preview)
    await tap(w.city, preview, "发送")
    await wait_outbox(bot_env)
    for user in (w.xihu_admin, w.xihu_reader):
        assert user.messages[-1].document and TEXT in text_of(user.messages[-1])
    assert w.ningbo_admin.messages == [] and w.ningbo_reader.messages == []


async def test_scheduled_announcement_waits_for_the_time_and_for_quiet_hours(
    bot_env: RunningBot, clock: FixedClock
) -> None:
    w = World(bot_env)
    await w.seed(reader_quiet=(dt.time(22, 0), dt.time(7, 0)))
    ask = await start(w.county)
    ask_text = await tap(w.county, ask, "两者都发")
    assert "3/5" in text_of(ask_text)
    ask_file = await say(w.county, TEXT)
    ask_when = await tap(w.county, ask_file, "无附件")
    past = await say(w.county, "2026-11-23 08:00")  # two hours ago (now 10:00 in Shanghai)
    assert "过去" in text_of(past)
    preview = await say(w.county, "今天23:00")
    assert "发送时间：2026年11月23日 23:00" in text_of(preview) and "5/5" in text_of(ask_when)
    done = await tap(w.county, preview, "发送")
    assert text_of(done).startswith("已安排：通知 #1 将于2026年11月23日 23:00发给2人")
    assert "其中1人正处于免打扰时段" in text_of(done)
    async with bot_env.runtime.sessions() as s:
        rows = list(
            (
                await s.execute(
                    select(OutboxMessage)
                    .where(OutboxMessage.kind == "announcement")
                    .order_by(OutboxMessage.chat_id)
                )
            ).scalars()
        )
    due = {r.chat_id: r.next_attempt_at for r in rows}
    at_23 = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)
    at_7 = dt.datetime(2026, 11, 23, 23, 0, tzinfo=dt.UTC)  # 07:00 next morning, Shanghai
    assert due == {w.xihu_admin.id: at_23, w.xihu_reader.id: at_7}
    await bot_env.settle()
    assert w.xihu_admin.messages == [] and w.xihu_reader.messages == []

    clock.set(at_23 + dt.timedelta(minutes=1))
    notify_outbox(bot_env.runtime)
    await w.xihu_admin.wait_for_message(predicate=lambda m: TEXT in text_of(m))
    assert w.xihu_reader.messages == []  # still in quiet hours
    clock.set(at_7 + dt.timedelta(minutes=1))
    notify_outbox(bot_env.runtime)
    await w.xihu_reader.wait_for_message(predicate=lambda m: TEXT in text_of(m))
    report = await w.county.wait_for_message(predicate=lambda m: "通知发送报告" in text_of(m))
    assert "已发送 2 ·" in text_of(report)


async def test_cancel_leaves_and_others_may_not_announce(bot_env: RunningBot) -> None:
    w = World(bot_env)
    await w.seed()
    ask = await start(w.county)
    await tap(w.county, ask, "信息员")
    left = await say(w.county, "/cancel")
    assert "已退出通知，未发送任何内容。" in text_of(left)
    assert await count(bot_env, DialogState) == 0
    after = await say(w.county, TEXT)  # no longer taken as the announcement's text
    assert "4/5" not in text_of(after)  # still in the form, the text would lead to 4/5
    assert await count(bot_env, Announcement) == 0

    refused = await start(w.xihu_reader)
    assert text_of(refused) == "抱歉，您没有权限进行此操作。"
    # Cancel on the preview sends nothing either.
    ask = await start(w.county)
    ask_text = await tap(w.county, ask, "站点管理员")
    ask_file = await say(w.county, TEXT)
    ask_when = await tap(w.county, ask_file, "无附件")
    preview = await tap(w.county, ask_when, "立即发送")
    cancelled = await tap(w.county, preview, "取消")
    assert text_of(cancelled) == "已退出通知，未发送任何内容。" and "3/5" in text_of(ask_text)
    assert await count(bot_env, Announcement) == 0


async def test_in_a_group_announce_points_to_the_private_chat(bot_env: RunningBot) -> None:
    w = World(bot_env)
    await w.seed()
    group = bot_env.sandbox.group("西湖科协群", members=[w.county])
    await w.county.add_bot_to(group)
    await bot_env.settle()
    group.mark_seen()
    await w.county.command("announce", chat=group)
    answer = await group.wait_for_message()
    assert "t.me/kepubot_bot" in text_of(answer)
    assert await count(bot_env, DialogState) == 0
