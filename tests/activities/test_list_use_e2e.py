"""/activities with edits and deletes inside and outside the window; content use; audit."""

from __future__ import annotations

from sqlalchemy import select

from bot.sandbox.factories import make_content
from bot.sandbox.harness import RunningBot
from storage.models import AuditLog, ContentUse
from tests.activities.helpers import activities, flags, photos, png, setup_admin
from tests.activities.test_form_e2e import last, press, say
from tests.conftest import FixedClock


async def register(bot_env: RunningBot, user, caption: str, seed: int) -> None:  # type: ignore[no-untyped-def]
    await user.send_photo(png(seed), caption=caption)
    await bot_env.settle()
    await press(bot_env, user, "确认提交")


async def test_list_edit_and_delete_within_window(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    for i in range(6):
        await register(bot_env, user, f"#活动 今天 讲座 第{i + 1}讲 {20 + i}人", 20 + i)
    await user.command("activities")
    listing = await last(bot_env, user)
    assert "共 6 场，第 1/2 页" in (listing.text or "")
    await user.press(listing, "▶")
    await bot_env.settle()
    assert "第 2/2 页" in (listing.text or "")
    await user.press(listing, "✏️ 修改 6")
    await bot_env.settle()
    assert "请核对活动信息" in (user.messages[-1].text or "")
    await press(bot_env, user, "✏️ 参与人数")
    await say(bot_env, user, "600")
    await press(bot_env, user, "是")  # above 500: confirmed before the confirmation screen
    await press(bot_env, user, "✏️ 照片")
    await user.send_photo(png(99))
    await bot_env.settle()
    await press(bot_env, user, "照片已发完")
    await press(bot_env, user, "保存修改")
    assert "修改已保存" in (user.messages[-1].text or "")
    first = (await activities(bot_env))[0]
    assert first.participants == 600 and first.flagged and first.updated_at is not None
    [photo] = await photos(bot_env, first.id)
    assert photo.file_unique_id  # replaced by the new one
    assert [f.kind for f in await flags(bot_env)] == ["participants_high"]
    await user.command("activities")
    listing = await last(bot_env, user)
    await user.press(listing, "🗑 删除 1")
    await bot_env.settle()
    await press(bot_env, user, "确定删除")
    assert "已删除" in (user.messages[-1].text or "")
    acts = await activities(bot_env)
    assert sum(a.deleted_at is not None for a in acts) == 1
    async with bot_env.runtime.sessions() as s:
        actions = [a.action for a in (await s.execute(select(AuditLog))).scalars()]
    assert "activity.edit" in actions and "activity.delete" in actions


async def test_edit_refused_after_seven_days(bot_env: RunningBot, clock: FixedClock) -> None:
    user, _ = await setup_admin(bot_env)
    await register(bot_env, user, "#活动 今天 讲座 老活动 20人", 30)
    await user.command("activities")
    listing = await last(bot_env, user)
    clock.advance(days=8)
    await user.press(listing, "✏️ 修改 1")
    reply = await last(bot_env, user)
    assert "只能在登记后 7 天内修改" in (reply.text or "")
    await user.press(listing, "🗑 删除 1")
    reply = await last(bot_env, user)
    assert "只能在登记后 7 天内修改" in (reply.text or "")
    await user.command("activities")
    listing = await last(bot_env, user)
    assert not any("修改" in b.text for row in listing.buttons for b in row)
    assert "不能再修改" in (listing.text or "")
    async with bot_env.runtime.sessions() as s:
        refused = [
            (a.action, a.allowed)
            for a in (await s.execute(select(AuditLog))).scalars()
            if not a.allowed
        ]
    assert ("activity.edit", False) in refused and ("activity.delete", False) in refused
    assert (await activities(bot_env))[0].deleted_at is None


async def add_content(bot_env: RunningBot) -> list[int]:
    async with bot_env.runtime.sessions() as s, s.begin():
        items = [
            await make_content(
                s,
                guid="v1",
                title="防范电信诈骗动画",
                category="safety",
                kind="video",
                url="https://example.org/v1",
            ),
            await make_content(
                s,
                guid="p1",
                title="垃圾分类挂图",
                category="environment",
                kind="poster",
                url="https://example.org/p1",
            ),
        ]
        return [int(i.id or 0) for i in items]


async def test_used_command_with_search(bot_env: RunningBot) -> None:
    user, [station_id] = await setup_admin(bot_env)
    video, poster = await add_content(bot_env)
    await user.command("used")
    picker = await last(bot_env, user)
    assert {b.text for row in picker.buttons for b in row} >= {"防范电信诈骗动画", "垃圾分类挂图"}
    reply = await say(bot_env, user, "挂图")
    assert [b.text for row in reply.buttons for b in row] == ["垃圾分类挂图"]
    await user.press(reply, "垃圾分类挂图")
    await bot_env.settle()
    kinds = user.messages[-1]
    assert kinds.buttons[0][0].text == "📌 张贴了挂图"  # the usual use of a poster first
    await user.press(kinds, "📌 张贴了挂图")
    await bot_env.settle()
    await say(bot_env, user, "村委会公告栏")
    reply = await say(bot_env, user, "很多人")
    assert "看到的人数" in (reply.text or "")
    reply = await say(bot_env, user, "二百人")
    assert "已登记" in (reply.text or "") and "200" in (reply.text or "")
    async with bot_env.runtime.sessions() as s:
        [use] = (await s.execute(select(ContentUse))).scalars().all()
    assert (use.station_id, use.content_id, use.use_kind, use.place, use.audience) == (
        station_id,
        poster,
        "posted",
        "村委会公告栏",
        200,
    )


async def test_used_offline_card_button(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    video, _poster = await add_content(bot_env)
    await user.command("help")
    anything = await last(bot_env, user)
    await user.press(anything, data=f"USE:{video}")
    await bot_env.settle()
    await press(bot_env, user, "播放了视频")
    await press(bot_env, user, "跳过")
    await say(bot_env, user, "约80")
    async with bot_env.runtime.sessions() as s:
        [use] = (await s.execute(select(ContentUse))).scalars().all()
    assert (use.content_id, use.use_kind, use.place, use.audience) == (video, "played", None, 80)


async def test_use_kinds_fit_the_content(bot_env: RunningBot) -> None:
    """A poster is put up, a video played: neither is offered the other's use."""
    user, _ = await setup_admin(bot_env)
    video, poster = await add_content(bot_env)
    offered = {}
    for item in (video, poster):
        await user.command("help")
        await user.press(await last(bot_env, user), data=f"USE:{item}")
        await bot_env.settle()
        offered[item] = [b.text for row in user.messages[-1].buttons for b in row]
        await user.command("cancel")
        await bot_env.settle()
    assert offered[video] == ["▶️ 播放了视频", "其他用途"]
    assert offered[poster] == ["📌 张贴了挂图", "其他用途"]


async def test_informant_cannot_record_use(bot_env: RunningBot) -> None:
    user = bot_env.sandbox.user("路人")
    video, _ = await add_content(bot_env)
    await user.command("help")
    answer = await user.press(await last(bot_env, user), data=f"USE:{video}")
    assert answer is not None and answer["show_alert"]
    await user.command("used")
    assert "没有权限" in ((await last(bot_env, user)).text or "")


async def uses(bot_env: RunningBot) -> list[int]:
    async with bot_env.runtime.sessions() as s:
        return [u.audience for u in (await s.execute(select(ContentUse))).scalars().all()]


async def test_large_audience_is_confirmed_before_saving(bot_env: RunningBot) -> None:
    """Above activities.participants_flag_above (500): 是 / 改一下, typed 是, or a new number."""
    user, _ = await setup_admin(bot_env)
    video, _poster = await add_content(bot_env)

    async def to_audience() -> None:
        await user.command("help")
        await user.press(await last(bot_env, user), data=f"USE:{video}")
        await bot_env.settle()
        await press(bot_env, user, "播放了视频")
        await press(bot_env, user, "跳过")

    await to_audience()
    asked = await say(bot_env, user, "约五千人")
    assert "约5,000人看到，确定吗？" in (asked.text or "")
    assert [b.text for row in asked.buttons for b in row] == ["是", "改一下"]
    assert await uses(bot_env) == []  # nothing saved before the answer
    await press(bot_env, user, "改一下")
    assert "大约有多少人看到？" in (user.messages[-1].text or "")
    again = await say(bot_env, user, "3000")  # asked again for the new number
    assert "3,000人看到，确定吗？" in (again.text or "")
    assert await uses(bot_env) == []
    await press(bot_env, user, "是")
    assert "已登记" in (user.messages[-1].text or "") and "3,000" in (user.messages[-1].text or "")
    assert await uses(bot_env) == [3000]

    await to_audience()
    await say(bot_env, user, "800")
    done = await say(bot_env, user, "是")  # typing 是 confirms too
    assert "已登记" in (done.text or "")
    assert await uses(bot_env) == [3000, 800]

    await to_audience()
    await say(bot_env, user, "900人")
    done = await say(bot_env, user, "90")  # a new, ordinary number replaces it and is saved
    assert "已登记" in (done.text or "") and "90" in (done.text or "")
    assert await uses(bot_env) == [3000, 800, 90]

    await to_audience()
    done = await say(bot_env, user, "500")  # at the bound: no question
    assert "已登记" in (done.text or "")
    assert await uses(bot_env) == [3000, 800, 90, 500]
