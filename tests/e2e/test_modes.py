"""Modes never trap: a command, a #活动 report or a captioned photo leaves any pending step."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import FEATURES
from bot.handlers.dialog import Dialog
from bot.handlers.feature import Assembly
from bot.i18n import get_translator
from bot.sandbox.factories import make_content
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimUser
from storage import dialogs as dialog_store
from storage.models import Activity, DialogState
from tests.activities.helpers import png, setup_admin
from tests.conftest import FixedClock

ZH = get_translator("zh_CN")
FLOWS = Assembly.of(FEATURES).flows
REPORT = "#活动 今天 讲座 垃圾分类 30人"


async def _dialog(bot_env: RunningBot, user: SimUser) -> DialogState | None:
    async with bot_env.runtime.sessions() as s:
        return await dialog_store.get_dialog(session=s, chat_id=user.id, user_id=user.id)


async def _plant(bot_env: RunningBot, user: SimUser, flow: str, step: str) -> None:
    """Put the user in ``flow`` at ``step``, as its own entry would have."""
    async with bot_env.runtime.sessions() as s, s.begin():
        await dialog_store.set_dialog(
            session=s,
            chat_id=user.id,
            user_id=user.id,
            flow=flow,
            step=step,
            data={},
            now=bot_env.runtime.now(),
        )


def _texts(user: SimUser, since: int) -> str:
    return "\n".join(m.text or m.caption or "" for m in user.messages[since:])


def _every_step() -> list[tuple[str, str]]:
    return [(name, step) for name, flow in FLOWS.items() for step in flow.steps]


async def test_used_then_report_registers_the_activity_not_a_search(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    async with bot_env.runtime.sessions() as s, s.begin():
        await make_content(s, title="垃圾分类挂图", kind="poster")
    await user.command("used")
    await bot_env.settle()
    prompt = user.messages[-1].text or ""
    assert "发送 /cancel 或其他命令即退出" in prompt and "60分钟" in prompt
    since = len(user.messages)
    await user.send(REPORT)
    await bot_env.settle()
    said = _texts(user, since)
    assert "已退出内容使用登记，没有记录。" in said
    assert "名称：垃圾分类" in said and "参与人数：30" in said  # read as a report
    assert "搜索结果" not in said and "内容库里没有" not in said  # not a search
    row = await _dialog(bot_env, user)
    assert row is not None and row.flow == "activity"


async def test_used_then_help_answers_help_and_leaves_the_search(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await user.command("used")
    await bot_env.settle()
    since = len(user.messages)
    await user.command("help")
    await bot_env.settle()
    said = _texts(user, since)
    assert "已退出内容使用登记，没有记录。" in said and "/used" in said
    assert await _dialog(bot_env, user) is None
    # The next words are not a search any more.
    since = len(user.messages)
    await user.send("垃圾分类")
    await bot_env.settle()
    assert "内容库里没有" not in _texts(user, since)


async def test_every_step_of_every_flow_is_left_by_help(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    steps = _every_step()
    assert len(steps) > 20  # every flow of the bot, not a sample
    for flow, step in steps:
        await _plant(bot_env, user, flow, step)
        since = len(user.messages)
        await user.command("help")
        await bot_env.settle()
        said = _texts(user, since)
        left = ZH(FLOWS[flow].left(Dialog(user.id, user.id, flow, step, {})))
        assert left in said, (flow, step, said)
        assert "我能为您做这些" in said, (flow, step, said)
        assert await _dialog(bot_env, user) is None, (flow, step)


async def test_every_step_of_every_flow_is_left_by_a_report(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    for flow, step in _every_step():
        await _plant(bot_env, user, flow, step)
        since = len(user.messages)
        await user.send(REPORT)
        await bot_env.settle()
        said = _texts(user, since)
        assert "名称：垃圾分类" in said and "参与人数：30" in said, (flow, step, said)
        row = await _dialog(bot_env, user)
        assert row is not None and row.flow == "activity", (flow, step)
        if flow != "activity":  # the form itself takes a report as its answers
            left = ZH(FLOWS[flow].left(Dialog(user.id, user.id, flow, step, {})))
            assert left in said, (flow, step, said)


async def test_every_step_of_every_flow_is_left_by_a_captioned_photo(
    bot_env: RunningBot,
) -> None:
    user, _ = await setup_admin(bot_env)
    for i, (flow, step) in enumerate(_every_step()):
        await _plant(bot_env, user, flow, step)
        since = len(user.messages)
        await user.send_photo(png(200 + i), caption=REPORT)
        await bot_env.settle()
        said = _texts(user, since)
        assert "照片：1 张" in said and "参与人数：30" in said, (flow, step, said)
        row = await _dialog(bot_env, user)
        assert row is not None and row.flow == "activity", (flow, step)
        if flow != "activity":  # left, and a complete report is ready to confirm
            assert "请核对活动信息" in said and row.step == "confirm", (flow, step, said)
    # Nothing was written by the flows left behind, and the last report is one activity.
    async with bot_env.runtime.sessions() as s:
        assert list((await s.execute(select(Activity))).scalars()) == []


async def test_cancel_says_what_leaving_each_mode_did(bot_env: RunningBot) -> None:
    user, _ = await setup_admin(bot_env)
    await user.command("used")
    await bot_env.settle()
    await user.command("cancel")
    await bot_env.settle()
    assert user.messages[-1].text == "已退出内容使用登记，没有记录。"
    await _plant(bot_env, user, "apply", "have")
    async with bot_env.runtime.sessions() as s, s.begin():
        await dialog_store.set_dialog(
            session=s,
            chat_id=user.id,
            user_id=user.id,
            flow="apply",
            step="have",
            data={"station_id": 1, "have": 0},
            now=bot_env.runtime.now(),
        )
    await user.command("cancel")
    await bot_env.settle()
    assert "草稿已保存" in (user.messages[-1].text or "")
    await user.command("cancel")
    await bot_env.settle()
    assert user.messages[-1].text == "当前没有可取消的操作。"
    await user.command("help")
    await bot_env.settle()
    help_text = user.messages[-1].text or ""
    assert "不保存" not in help_text and "申请会保留草稿" in help_text


async def test_a_step_times_out(bot_env: RunningBot, clock: FixedClock) -> None:
    user, _ = await setup_admin(bot_env)
    async with bot_env.runtime.sessions() as s, s.begin():
        await make_content(s, title="垃圾分类挂图", kind="poster")
    await user.command("used")
    await bot_env.settle()
    clock.advance(minutes=59)
    await user.send("挂图")
    await bot_env.settle()
    assert "搜索结果" in (user.messages[-1].text or "")  # still searching within the hour
    clock.advance(minutes=61)
    since = len(user.messages)
    await user.send("垃圾分类")
    await bot_env.settle()
    said = _texts(user, since)
    assert "上一步骤已结束：60分钟内没有收到回复。" in said
    assert "已退出内容使用登记，没有记录。" in said
    assert "搜索结果" not in said and "内容库里没有" not in said
    assert await _dialog(bot_env, user) is None
    # Its buttons are dead too.
    picker = next(m for m in reversed(user.messages) if m.buttons)
    await user.press(picker, picker.buttons[0][0].text)
    await bot_env.settle()
    assert await _dialog(bot_env, user) is None
