"""Issue #17's misread activity input, end to end: each case would have caught its defect."""

from __future__ import annotations

import datetime as dt

from bot.sandbox.harness import RunningBot
from tests.activities.helpers import activities, flags, png, setup_admin
from tests.activities.test_form_e2e import last, press, say
from tests.conftest import FixedClock


async def test_slash_date_is_month_day(bot_env: RunningBot, clock: FixedClock) -> None:
    clock.set(dt.datetime(2026, 1, 15, 2, 0, tzinfo=dt.UTC))  # 15 January in Shanghai
    user, _ = await setup_admin(bot_env)
    await user.send_photo(png(1), caption="#活动 1/12 讲座 垃圾分类 30人")
    screen = await last(bot_env, user)
    assert "日期：2026年1月12日" in (screen.text or "")  # not 12月1日 (day/month)
    await press(bot_env, user, "确认提交")
    [act] = await activities(bot_env)
    assert act.held_on == dt.date(2026, 1, 12) and act.title == "垃圾分类"


async def test_impossible_date_is_named_and_kept_out_of_the_title(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await user.send_photo(png(2), caption="#活动 2月30日 讲座 防范电信诈骗 40人")
    await bot_env.settle()
    said = "\n".join(m.text or "" for m in user.messages)
    assert "2月30日不存在" in said
    assert "名称：防范电信诈骗\n" in said and "名称：2月30日" not in said
    assert "哪天举办" in (user.messages[-1].text or "")  # the date is asked, nothing guessed
    reply = await say(bot_env, user, "2月30号")
    assert "2月30号不存在" in (reply.text or "")
    await say(bot_env, user, "昨天")
    await press(bot_env, user, "确认提交")
    [act] = await activities(bot_env)
    assert act.title == "防范电信诈骗" and act.held_on == dt.date(2026, 11, 22)


async def test_negative_count_is_refused_not_flipped(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await user.send_photo(png(3), caption="#活动 今天 讲座 防诈骗 -45人")
    await bot_env.settle()
    said = "\n".join(m.text or "" for m in user.messages)
    assert "参与人数不能是负数" in said and "参与人数：45" not in said
    reply = await say(bot_env, user, "－45")
    assert "参与人数不能是负数" in (reply.text or "")
    assert await activities(bot_env) == []
    await say(bot_env, user, "约45人")
    await press(bot_env, user, "确认提交")
    [act] = await activities(bot_env)
    assert act.participants == 45


async def test_emoji_only_title_is_refused(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await user.command("activity")
    await bot_env.settle()
    await press(bot_env, user, "讲座/培训")
    for wordless in ("👍", "！！！", "🎉 🎉"):
        reply = await say(bot_env, user, wordless)
        assert "不能只有表情或标点" in (reply.text or "")
    reply = await say(bot_env, user, "防诈骗👍")
    assert "哪天举办" in (reply.text or "")  # a title with words (and an emoji) is taken


async def test_emoji_title_in_a_report_is_asked_for(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await user.send_photo(png(4), caption="#活动 今天 讲座 👍 45人")
    asked = await last(bot_env, user)
    assert "名称或主题" in (asked.text or "")
    reply = await say(bot_env, user, "🎉")
    assert "不能只有表情或标点" in (reply.text or "")


async def test_huge_count_is_confirmed_before_saving(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await user.send_photo(png(5), caption="#活动 今天 讲座 社区科普大讲堂 约100000人")
    check = await last(bot_env, user)
    assert "约100,000人，确定吗？" in (check.text or "")
    assert not any("确认提交" in b.text for row in check.buttons for b in row)
    assert await activities(bot_env) == []
    await press(bot_env, user, "改一下")
    assert "有多少人参加" in (user.messages[-1].text or "")
    await say(bot_env, user, "80人左右")
    await press(bot_env, user, "确认提交")
    [act] = await activities(bot_env)
    assert act.participants == 80 and not act.flagged


async def test_huge_count_kept_when_confirmed(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await user.send_photo(png(6), caption="#活动 今天 展览 科技成果展 1200人")
    assert "1,200人，确定吗？" in ((await last(bot_env, user)).text or "")
    await press(bot_env, user, "是")
    assert "请核对活动信息" in (user.messages[-1].text or "")
    await press(bot_env, user, "确认提交")
    [act] = await activities(bot_env)
    assert act.participants == 1200 and act.flagged
    assert [f.kind for f in await flags(bot_env)] == ["participants_high"]


async def test_participant_answers_as_people_type_them(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await user.send_photo(png(7), caption="#活动 今天 讲座 防诈骗")
    assert "有多少人参加" in ((await last(bot_env, user)).text or "")
    reply = await say(bot_env, user, "很多")
    assert "约80人或200人左右" in (reply.text or "")
    await say(bot_env, user, "约 五十 人")
    await press(bot_env, user, "确认提交")
    [act] = await activities(bot_env)
    assert act.participants == 50
