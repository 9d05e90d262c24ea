"""Both activity forms end to end through the sandbox: guided, one-message, album, refusals."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.sandbox.harness import RunningBot
from bot.sandbox.models import SimMessage
from bot.sandbox.world import SimUser
from storage.models import AuditLog, DialogState
from tests.activities.helpers import activities, flags, photos, png, setup_admin

TODAY = dt.date(2026, 11, 23)  # the fixed clock's day in Shanghai


async def last(bot_env: RunningBot, user: SimUser) -> SimMessage:
    await bot_env.settle()
    return user.messages[-1]


def with_button(user: SimUser, label: str) -> SimMessage:
    for message in reversed(user.messages):
        if any(label in b.text for row in message.buttons for b in row):
            return message
    raise AssertionError(f"no message with button {label!r}: {[m.text for m in user.messages]}")


async def press(bot_env: RunningBot, user: SimUser, label: str) -> None:
    message = with_button(user, label)
    text = next(b.text for row in message.buttons for b in row if label in b.text)
    await user.press(message, text)
    await bot_env.settle()


async def say(bot_env: RunningBot, user: SimUser, text: str) -> SimMessage:
    await user.send(text)
    return await last(bot_env, user)


async def test_guided_form_writes_only_on_confirm(bot_env: RunningBot) -> None:
    user, [station_id] = await setup_admin(bot_env)
    await user.command("activity")
    await bot_env.settle()
    await press(bot_env, user, "讲座/培训")
    assert "名称或主题" in (user.messages[-1].text or "")
    await say(bot_env, user, "防范电信诈骗")
    reply = await say(bot_env, user, "2026年12月1日")  # future: refused, asked again
    assert "还没到" in (reply.text or "")
    reply = await say(bot_env, user, "10月1日")  # 53 days back: too old
    assert "30 天" in (reply.text or "")
    await say(bot_env, user, "昨天下午3点")
    await say(bot_env, user, "社区活动室")
    reply = await say(bot_env, user, "很多")
    assert "参与人数" in (reply.text or "")
    await say(bot_env, user, "四十五人")
    await press(bot_env, user, "全国科普日")
    reply = await say(bot_env, user, "还有照片吗")
    assert "照片" in (reply.text or "")
    await user.send_photo(png(1))
    await bot_env.settle()
    await press(bot_env, user, "照片已发完")
    confirm = user.messages[-1]
    assert "请核对活动信息" in (confirm.text or "") and "西湖区文化站" in (confirm.text or "")
    assert "照片：1 张" in (confirm.text or "")
    assert await activities(bot_env) == []  # nothing written before Confirm
    await press(bot_env, user, "确认提交")
    assert "登记成功" in (user.messages[-1].text or "")
    [act] = await activities(bot_env)
    assert (act.station_id, act.type, act.title) == (station_id, "lecture", "防范电信诈骗")
    assert act.held_on == TODAY - dt.timedelta(days=1)
    assert act.held_at_time == dt.time(15, 0)
    assert (act.place, act.participants, act.campaign) == ("社区活动室", 45, "science_day")
    assert not act.flagged
    [photo] = await photos(bot_env, act.id)
    assert photo.file_id and photo.file_unique_id
    # A second Confirm tap on the old screen changes nothing.
    answer = await user.press(confirm, data="ACT:ok")
    await bot_env.settle()
    assert answer is not None and "已失效" in answer["text"]
    assert len(await activities(bot_env)) == 1


async def test_guided_form_edit_buttons_and_cancel(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await user.command("activity")
    await bot_env.settle()
    await press(bot_env, user, "展览")
    await say(bot_env, user, "垃圾分类")
    await press(bot_env, user, "今天")
    await press(bot_env, user, "跳过")
    await say(bot_env, user, "30")
    await press(bot_env, user, "不属于")
    await user.send_photo(png(2))
    await bot_env.settle()
    await press(bot_env, user, "照片已发完")
    await press(bot_env, user, "✏️ 参与人数")
    confirm = await say(bot_env, user, "一百二十")
    assert "参与人数：120" in (confirm.text or "")
    await press(bot_env, user, "✏️ 名称")
    confirm = await say(bot_env, user, "垃圾分类知识展")
    assert "名称：垃圾分类知识展" in (confirm.text or "")
    await press(bot_env, user, "取消")
    assert await activities(bot_env) == []
    async with bot_env.runtime.sessions() as s:
        assert (await s.execute(select(DialogState))).first() is None


async def test_one_message_photo_caption_complete(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await user.send_photo(png(3), caption="#活动 今天 讲座 防范电信诈骗 四十五人")
    confirm = await last(bot_env, user)
    text = confirm.text or ""
    assert "讲座/培训" in text and "防范电信诈骗" in text and "参与人数：45" in text
    assert "照片：1 张" in text
    await press(bot_env, user, "确认提交")
    [act] = await activities(bot_env)
    assert (act.type, act.title, act.held_on, act.participants) == (
        "lecture",
        "防范电信诈骗",
        TODAY,
        45,
    )


async def test_album_with_caption_collects_every_photo(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await user.send_album(
        [png(4), png(5), png(6)], caption="#活动 11月20日 展览 科普展 在社区广场举办 约120人"
    )
    await bot_env.settle()
    confirm = with_button(user, "确认提交")
    assert "照片：3 张" in (confirm.text or "")  # the screen was refreshed as photos came
    assert "社区广场" in (confirm.text or "")
    await press(bot_env, user, "确认提交")
    [act] = await activities(bot_env)
    assert (act.type, act.held_on, act.participants, act.place) == (
        "exhibition",
        dt.date(2026, 11, 20),
        120,
        "社区广场",
    )
    assert len(await photos(bot_env, act.id)) == 3


async def test_album_with_caption_on_a_later_photo(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    # Telegram clients may put the caption on any item; emulate a caption on the second.
    await user.send_photo(png(7))
    await bot_env.settle()
    assert "照片已收到" in "".join(m.text or "" for m in user.messages)
    await user.send_photo(png(8), caption="#活动 昨天 咨询 健康义诊 60人")
    await bot_env.settle()
    confirm = with_button(user, "确认提交")
    assert "照片：2 张" in (confirm.text or "") and "健康义诊" in (confirm.text or "")
    await press(bot_env, user, "确认提交")
    [act] = await activities(bot_env)
    assert act.type == "consultation" and len(await photos(bot_env, act.id)) == 2


async def test_one_message_asks_for_what_is_missing(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await user.send("#活动 昨天 防范电信诈骗讲座")  # no count, no photo
    await bot_env.settle()
    texts = "\n".join(m.text or "" for m in user.messages)
    assert "我理解的内容如下" in texts and "还需要补充" in texts
    assert "有多少人参加" in (user.messages[-1].text or "")
    await say(bot_env, user, "50")
    assert "至少发送一张" in (user.messages[-1].text or "")
    await user.send_photo(png(9))
    await bot_env.settle()
    await press(bot_env, user, "照片已发完")
    await press(bot_env, user, "确认提交")
    [act] = await activities(bot_env)
    assert act.participants == 50 and act.type == "lecture"


async def test_one_message_future_and_too_old_dates_are_refused(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await user.send_photo(png(10), caption="#活动 2026-12-05 讲座 未来讲座 45人")
    await bot_env.settle()
    texts = "\n".join(m.text or "" for m in user.messages)
    assert "这个日期还没到" in texts
    assert "哪天举办" in (user.messages[-1].text or "")
    reply = await say(bot_env, user, "2026-09-01")
    assert "超过 30 天" in (reply.text or "")
    await press(bot_env, user, "今天")
    await press(bot_env, user, "确认提交")
    [act] = await activities(bot_env)
    assert act.held_on == TODAY


async def test_non_admin_gets_a_polite_refusal(bot_env: RunningBot) -> None:
    user = bot_env.sandbox.user("信息员")
    await user.send_photo(png(11), caption="#活动 今天 讲座 防诈骗 45人")
    reply = await last(bot_env, user)
    assert "只有站点管理员可以登记活动" in (reply.text or "")
    assert len(user.messages) == 1  # not also the "did not understand" fallback
    await user.command("activity")
    assert "没有权限" in ((await last(bot_env, user)).text or "")
    assert await activities(bot_env) == []


async def test_participants_above_bound_are_flagged(bot_env: RunningBot) -> None:
    user, [station_id] = await setup_admin(bot_env)
    await user.send_photo(png(12), caption="#活动 今天 讲座 大讲堂 800人")
    await bot_env.settle()
    assert "800人，确定吗？" in (user.messages[-1].text or "")
    await press(bot_env, user, "是")
    await press(bot_env, user, "确认提交")
    assert "例行程序" in (user.messages[-1].text or "")
    [act] = await activities(bot_env)
    assert act.flagged and act.participants == 800
    [flag] = await flags(bot_env)
    assert (flag.kind, flag.subject_type, flag.subject_id, flag.station_id) == (
        "participants_high",
        "activity",
        act.id,
        station_id,
    )
    assert flag.region_code == "330106" and flag.detail["participants"] == 800


async def test_reused_photo_is_flagged_with_both_subjects(bot_env: RunningBot) -> None:
    user, [first_station, second_station] = await setup_admin(bot_env, stations=2)
    other = bot_env.sandbox.user("另一站长")
    from bot.services import roles as role_service

    async with bot_env.runtime.sessions() as s, s.begin():
        await role_service.grant(
            session=s,
            telegram_id=other.id,
            role="station_admin",
            station_id=second_station,
            now=bot_env.runtime.now(),
        )
    # The first admin administers both stations: picks one with a button.
    await user.send_photo(png(13), caption="#活动 今天 讲座 科学育儿 30人")
    await bot_env.settle()
    await press(bot_env, user, "西湖区文化站")
    await press(bot_env, user, "确认提交")
    # Another station's admin sends the same picture: registered, but flagged.
    await other.send_photo(png(13), caption="#活动 今天 讲座 科学育儿讲座 35人")
    await bot_env.settle()
    await press(bot_env, other, "确认提交")
    assert "已作为疑点提交科协工作人员核查" in (other.messages[-1].text or "")
    first, second = await activities(bot_env)
    assert first.station_id == first_station and second.station_id == second_station
    assert not first.flagged and second.flagged
    [flag] = await flags(bot_env)
    assert flag.kind == "photo_reuse" and flag.subject_id == second.id
    assert flag.detail["other_type"] == "activity" and flag.detail["other_id"] == first.id
    assert flag.detail["other_station_id"] == first_station
    async with bot_env.runtime.sessions() as s:
        actions = [a.action for a in (await s.execute(select(AuditLog))).scalars()]
    assert actions.count("activity.create") == 2
