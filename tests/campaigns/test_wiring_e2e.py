"""Issue #19's wiring, end to end through the sandbox: a campaign a curator added (or one
from config) is offered by /newcontent's and /catalog's pickers and by the activity form's
buttons, named on the pushed card and on the confirmation screens; two campaigns running
at an activity's station make the form ask which one instead of guessing.

FIXED_NOW is Monday 23 November 2026 in Shanghai.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.sandbox.factories import make_region_tree
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimMessage, SimUser
from bot.services import campaigns as campaign_service
from storage.models import Activity
from tests.activities.helpers import png, setup_admin
from tests.activities.test_form_e2e import press, say
from tests.conftest import FIXED_NOW
from tests.content_push.conftest import wait_outbox
from tests.content_push.test_catalog_fields_e2e import new_article, open_item, saved
from tests.content_push.test_curator_e2e import (
    all_items,
    answer,
    get_item,
    labels,
    make_curator,
    readers,
    tap,
    text_of,
    walk_to_schedule,
)

TAXONOMY_CAMPAIGNS = ["全国科普日", "科技活动周", "全国防灾减灾日", "安全生产月"]


async def _stored_campaign(
    bot: RunningBot, name: str, start: dt.date, end: dt.date, regions: list[str]
) -> str:
    """A curator's campaign stored as /campaigns stores it (tested in test_campaigns_e2e)."""
    async with bot.runtime.sessions() as s, s.begin():
        campaign = await campaign_service.add_campaign(
            session=s, settings=bot.runtime.settings, name=name, start=start, end=end,
            regions=regions, actor_id=None, now=bot.runtime.now(),
        )  # fmt: skip
    return campaign.key


async def _activities(bot: RunningBot) -> list[Activity]:
    async with bot.runtime.sessions() as s:
        return list((await s.execute(select(Activity).order_by(Activity.id))).scalars())


def _last_with(user: SimUser, text: str) -> SimMessage:
    return next(m for m in reversed(user.messages) if text in text_of(m))


async def test_newcontent_offers_a_curators_campaign_and_the_pushed_card_names_it(
    bot_env: RunningBot,
) -> None:
    bot = bot_env
    hangzhou, _ = await readers(bot)
    curator = bot.sandbox.user("策展人")
    await make_curator(bot, curator)
    # The curator adds a campaign in the bot; it runs today, everywhere.
    listing = await answer(bot, curator, "/campaigns")
    await tap(bot, curator, listing, "➕ 新建主题活动")
    await answer(bot, curator, "冬季安全宣传周")
    await answer(bot, curator, "11月20日至12月5日")
    stored = await answer(bot, curator, "全部地区")
    assert "✅ 主题活动已保存。" in text_of(stored)

    ask_when = await walk_to_schedule(bot, curator, category="🩺 卫生健康")
    confirm = await tap(bot, curator, ask_when, "立即推送")
    assert "主题活动：无" in text_of(confirm)
    picker = await tap(bot, curator, confirm, "🎯 主题活动")
    # The running campaign comes first, then the taxonomy's, then "none".
    assert labels(picker)[0] == "冬季安全宣传周"
    assert [label for label in labels(picker) if label in TAXONOMY_CAMPAIGNS] == (
        TAXONOMY_CAMPAIGNS
    )
    confirm = await tap(bot, curator, picker, "冬季安全宣传周")
    assert "主题活动：冬季安全宣传周" in text_of(confirm)
    await tap(bot, curator, confirm, "保存")
    [item] = await all_items(bot)
    assert item.campaign == "c20261120"

    await wait_outbox(bot)
    card = hangzhou.messages[-1]
    assert "冬季预防一氧化碳中毒" in text_of(card)
    assert "🎯 主题活动：冬季安全宣传周" in text_of(card)

    # A campaign added after the sender read the campaigns is named on the next push too.
    key = await _stored_campaign(
        bot, "寒假科普周", dt.date(2026, 11, 23), dt.date(2026, 11, 23), []
    )
    ask_when = await walk_to_schedule(bot, curator, title="寒假安全", category="🩺 卫生健康")
    picker = await tap(bot, curator, await tap(bot, curator, ask_when, "立即推送"), "🎯 主题活动")
    assert labels(picker)[:2] == ["冬季安全宣传周", "寒假科普周"]  # both run today
    await tap(bot, curator, await tap(bot, curator, picker, "寒假科普周"), "保存")
    assert {i.campaign for i in await all_items(bot)} == {"c20261120", key}
    await wait_outbox(bot)
    card = hangzhou.messages[-1]
    assert "寒假安全" in text_of(card) and "🎯 主题活动：寒假科普周" in text_of(card)


async def test_catalog_picks_a_curators_campaign_running_in_the_items_region(
    bot_env: RunningBot,
) -> None:
    bot = bot_env
    curator = bot.sandbox.user("策展人")
    await make_curator(bot, curator)
    cid = await new_article(bot)
    async with bot.runtime.sessions() as s, s.begin():
        await make_region_tree(s, ("330106",))
    later = await _stored_campaign(
        bot, "元旦科普游园", dt.date(2026, 12, 28), dt.date(2027, 1, 3), []
    )
    now_on = await _stored_campaign(
        bot, "西湖<科普>月", dt.date(2026, 11, 1), dt.date(2026, 11, 30), ["330106"]
    )
    view = await open_item(bot, curator, cid)  # the listing becomes the item's view
    assert "主题活动：无" in text_of(view) and "🎯 主题活动" not in text_of(view)
    picker = await tap(bot, curator, view, "🎯 主题活动")
    names = labels(picker)
    # Running today in the item's regions (all) first; upcoming ones are offered too.
    assert names[0] == "西湖<科普>月" and "元旦科普游园" in names
    assert names[-1] == "不属于任何主题活动"
    assert text_of(await tap(bot, curator, picker, "西湖<科普>月")) == saved("主题活动", cid)
    assert (await get_item(bot, cid)).campaign == now_on != later

    view = await open_item(bot, curator, cid)
    # The card preview and the field lines name it (escaped), never as a raw code.
    assert "🎯 主题活动：西湖&lt;科普&gt;月" in text_of(view)
    assert "主题活动：西湖&lt;科普&gt;月" in text_of(view).split("🎯 主题活动：", 1)[1]
    assert now_on not in text_of(view)


async def test_activity_form_buttons_offer_a_curators_campaign(bot_env: RunningBot) -> None:
    bot = bot_env
    user, _ = await setup_admin(bot)  # 西湖区文化站, county 330106
    key = await _stored_campaign(
        bot, "西湖科普周", dt.date(2026, 11, 20), dt.date(2026, 11, 26), ["330106"]
    )
    await _stored_campaign(  # in Binjiang only: not this station's
        bot, "滨江科普周", dt.date(2026, 11, 20), dt.date(2026, 11, 26), ["330108"]
    )
    await user.command("activity")
    await bot.settle()
    await press(bot, user, "讲座/培训")
    await say(bot, user, "防范电信诈骗")
    await press(bot, user, "今天")
    await press(bot, user, "跳过")
    question = await say(bot, user, "45")
    assert "是否属于全国性主题活动" in text_of(question)
    # The station's running campaign first, then the undated taxonomy ones, then "none".
    assert labels(question) == ["西湖科普周", *TAXONOMY_CAMPAIGNS, "不属于"]
    await press(bot, user, "西湖科普周")
    assert text_of(_last_with(user, "主题活动：")) == "主题活动：西湖科普周"
    await user.send_photo(png(3))
    await bot.settle()
    await press(bot, user, "照片已发完")
    screen = _last_with(user, "请核对")
    assert "主题活动：西湖科普周" in text_of(screen)
    await press(bot, user, "确认提交")
    [act] = await _activities(bot)
    assert act.campaign == key


async def test_two_running_campaigns_make_the_form_ask(campaign_bot: RunningBot) -> None:
    """The config campaign (Hangzhou) and a curator's one (西湖区) both run today."""
    bot = campaign_bot
    user, _ = await setup_admin(bot)
    key = await _stored_campaign(
        bot, "西湖科普周", dt.date(2026, 11, 20), dt.date(2026, 11, 26), ["330106"]
    )
    await user.send_photo(png(5), caption="#活动 今天 讲座 防范电信诈骗 40人")
    await bot.settle()
    question = user.messages[-1]
    assert "当天本站所在地区有2个主题活动同时进行，这次活动属于哪一个？" in text_of(question)
    assert labels(question) == ["2026年全国科普日", "西湖科普周", "不属于"]
    assert await _activities(bot) == []  # nothing saved, nothing guessed
    await press(bot, user, "西湖科普周")
    screen = _last_with(user, "请核对")
    assert "主题活动：西湖科普周" in text_of(screen)
    await press(bot, user, "确认提交")
    [act] = await _activities(bot)
    assert act.campaign == key


async def test_one_running_campaign_is_shown_on_the_confirmation_screen(
    campaign_bot: RunningBot,
) -> None:
    bot = campaign_bot
    user, _ = await setup_admin(bot)
    await user.send_photo(png(6), caption="#活动 今天 讲座 防范电信诈骗 40人")
    await bot.settle()
    screen = user.messages[-1]
    assert "请核对" in text_of(screen) and "主题活动：2026年全国科普日" in text_of(screen)
    # "None" on the screen's campaign button keeps it untagged.
    await press(bot, user, "✏️ 主题活动")
    assert labels(user.messages[-1])[0] == "2026年全国科普日"
    await press(bot, user, "不属于")
    assert "主题活动：无" in text_of(_last_with(user, "请核对"))
    await press(bot, user, "确认提交")
    [act] = await _activities(bot)
    assert act.campaign is None
    assert FIXED_NOW.date() == dt.date(2026, 11, 23)
