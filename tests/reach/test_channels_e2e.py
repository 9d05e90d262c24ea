"""Channels end to end through the sandbox: link, push to a channel, credit forwards, reach."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.core.propagation import volume_over
from bot.handlers.channels import install_channel_links
from bot.runtime.web import build_web_app
from bot.sandbox import SimChannel, SimUser
from bot.sandbox.factories import make_content, make_region_tree
from bot.sandbox.harness import RunningBot
from bot.sandbox.models import SimMessage
from bot.services import roles
from storage import audit, figures
from storage import channels as channel_store
from storage.models import AuditLog, ChannelPost, OutboxMessage, Push, ReachChannel
from tests.content_push.conftest import wait_outbox
from tests.informants.helpers import join, setup_station
from tests.shares.helpers import PUBLISHED, setup_world, shares

BROWSER = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/124 Mobile Safari/537.36"
NOT_ADMIN = "请先把本机器人设为频道管理员（需要发布消息权限）"


# --- helpers ------------------------------------------------------------------------------
async def grant(bot: RunningBot, user: SimUser, role: str, region: str | None = None) -> None:
    async with bot.runtime.sessions() as s, s.begin():
        await make_region_tree(s, ("330106", "330203"))
        await roles.grant(
            session=s, telegram_id=user.id, role=role, region_code=region, now=bot.runtime.now()
        )


def text_of(msg: SimMessage) -> str:
    return msg.text or msg.caption or ""


async def reply_to(bot: RunningBot, user: SimUser) -> SimMessage:
    await bot.settle()
    return user.messages[-1]


async def linked(bot: RunningBot) -> list[ReachChannel]:
    async with bot.runtime.sessions() as s:
        return list((await s.execute(select(ReachChannel))).scalars())


async def channel_audit(bot: RunningBot) -> list[AuditLog]:
    async with bot.runtime.sessions() as s:
        rows = await s.execute(
            select(AuditLog).where(AuditLog.action.startswith("channel."))  # type: ignore[attr-defined]
        )
        return list(rows.scalars())


async def posts(bot: RunningBot) -> list[ChannelPost]:
    async with bot.runtime.sessions() as s:
        return list((await s.execute(select(ChannelPost))).scalars())


def hangzhou(bot: RunningBot, *, admin: bool = True, can_post: bool = True) -> SimChannel:
    return bot.sandbox.channel(
        "杭州科普", username="hzkepu", subscribers=500, bot_admin=admin, can_post=can_post
    )


async def link_directly(bot: RunningBot, channel: SimChannel, region: str = "330100") -> None:
    async with bot.runtime.sessions() as s, s.begin():
        await make_region_tree(s, ("330106", "330203"))
        await channel_store.link_channel(
            session=s,
            chat_id=channel.id,
            region_code=region,
            title=channel.title,
            username=channel.chat.username,
            invite_link=None,
            linked_by=None,
            now=bot.runtime.now(),
        )


async def hangzhou_item(bot: RunningBot) -> int:
    async with bot.runtime.sessions() as s, s.begin():
        item = await make_content(
            s,
            guid="hz-1",
            title="冬季预防一氧化碳中毒",
            summary="用煤炉取暖要开窗通风。",
            category="anti_fraud",
            regions=["330100"],
            publish_at=PUBLISHED,
            created_at=PUBLISHED,
        )
        assert item.id is not None
        return item.id


# --- linking ------------------------------------------------------------------------------
async def test_link_refused_when_the_bot_is_not_an_admin(bot_env: RunningBot) -> None:
    bot = bot_env
    coordinator = bot.sandbox.user("杭州市科协", started=True)
    await grant(bot, coordinator, "coordinator", "330100")
    channel = hangzhou(bot, admin=False)
    post = await channel.post("欢迎关注杭州科普")

    await coordinator.forward(post)
    answer = await reply_to(bot, coordinator)
    assert NOT_ADMIN in text_of(answer)
    assert await linked(bot) == []
    (entry,) = await channel_audit(bot)
    assert (entry.action, entry.allowed, entry.reason) == ("channel.link", False, "not_admin")

    # An administrator without the right to post is refused too, with the way out.
    channel.chat.bot_status, channel.chat.can_post = "administrator", False
    await coordinator.command("channels", "link @hzkepu")
    answer = await reply_to(bot, coordinator)
    assert "没有发布消息权限" in text_of(answer) and await linked(bot) == []


async def test_forwarded_post_links_the_channel_to_the_coordinators_region(
    bot_env: RunningBot,
) -> None:
    bot = bot_env
    coordinator = bot.sandbox.user("杭州市科协", started=True)
    await grant(bot, coordinator, "coordinator", "330100")
    channel = hangzhou(bot)
    post = await channel.post("欢迎关注杭州科普")
    await bot.settle()  # the channel_post update reaches the bot and is ignored quietly

    await coordinator.forward(post)
    answer = await reply_to(bot, coordinator)
    assert text_of(answer).startswith("已关联：📢")
    assert "杭州科普" in text_of(answer) and "杭州市" in text_of(answer)
    (row,) = await linked(bot)
    assert (row.chat_id, row.region_code, row.username) == (channel.id, "330100", "hzkepu")
    (entry,) = await channel_audit(bot)
    assert (entry.action, entry.allowed, entry.region_code) == ("channel.link", True, "330100")

    await coordinator.command("channels")
    listing = await reply_to(bot, coordinator)
    assert "辖区内已关联的频道（1个）" in text_of(listing)
    assert [b.text for row in listing.buttons for b in row] == ["解除关联“杭州科普”"]
    await coordinator.press(listing, "解除关联“杭州科普”")
    done = await reply_to(bot, coordinator)
    assert text_of(done) == "已解除关联“杭州科普”。" and await linked(bot) == []


async def test_coordinator_out_of_scope_is_refused(bot_env: RunningBot) -> None:
    bot = bot_env
    ningbo = bot.sandbox.user("宁波市科协", started=True)
    await grant(bot, ningbo, "coordinator", "330200")
    hangzhou(bot)

    await ningbo.command("channels", "link @hzkepu 330100")
    answer = await reply_to(bot, ningbo)
    assert "不在您的辖区内" in text_of(answer)
    assert await linked(bot) == []
    (entry,) = await channel_audit(bot)
    assert (entry.allowed, entry.reason, entry.region_code) == (False, "out_of_scope", "330100")


async def test_curator_is_asked_the_region_and_bad_input_is_explained(bot_env: RunningBot) -> None:
    bot = bot_env
    curator = bot.sandbox.user("内容编辑", started=True)
    await grant(bot, curator, "curator")
    channel = hangzhou(bot)
    post = await channel.post("欢迎关注")

    await curator.forward(post)
    ask = await reply_to(bot, curator)
    assert "关联到哪个地区" in text_of(ask) and "60分钟内未回复" in text_of(ask)
    await curator.send("杭州")
    again = await reply_to(bot, curator)
    assert "6位地区代码" in text_of(again) and await linked(bot) == []
    await curator.send("330100")
    done = await reply_to(bot, curator)
    assert text_of(done).startswith("已关联：")
    assert [c.region_code for c in await linked(bot)] == ["330100"]


# --- pushing ------------------------------------------------------------------------------
async def _push(bot: RunningBot, curator: SimUser, content_id: int, label: str) -> SimMessage:
    curator.mark_seen()
    await curator.command("catalog")
    listing = await curator.wait_for_message()
    curator.mark_seen()
    await curator.press(listing, data=f"CAT:push:{content_id}")
    ask = await curator.wait_for_message()
    await curator.press(ask, label)
    await wait_outbox(bot)
    return ask


async def test_push_to_channel_only_posts_once_with_share_buttons(bot_env: RunningBot) -> None:
    bot = bot_env
    sb = bot.sandbox
    reader = sb.user("王秀英", started=True)
    curator = sb.user("内容编辑", started=True)
    world = await setup_world(bot, [reader])
    await grant(bot, curator, "curator")
    channel = hangzhou(bot)
    await link_directly(bot, channel)
    content_id = await hangzhou_item(bot)

    ask = await _push(bot, curator, content_id, "📢 频道")
    assert "已关联频道1个：杭州科普" in text_of(ask) and ask.buttons == []
    assert reader.messages == []  # channels only: no private message
    (card,) = channel.messages
    assert card.raw["sender_chat"]["id"] == channel.id and "from" not in card.raw
    assert "冬季预防一氧化碳中毒" in text_of(card)
    buttons = [b for row in card.buttons for b in row]
    assert [b.text for b in buttons] == ["📤 分享", "🔗 打开查看"]
    assert buttons[0].switch_inline_query == f"c{content_id}"
    assert buttons[1].url is not None and buttons[1].url.startswith("http://kepu.test/c/")
    assert not any(b.callback_data for b in buttons)  # nothing per informant

    (post,) = await posts(bot)
    assert (post.channel_chat_id, post.message_id, post.content_id) == (
        channel.id,
        card.message_id,
        content_id,
    )
    assert post.subscribers == 501  # 500 subscribers and the bot, measured once
    report = await curator.wait_for_message(predicate=lambda m: "频道触达" in text_of(m))
    assert "1条频道消息，订阅者501人" in text_of(report)
    assert "不计入传播量" in text_of(report)

    # The tracked link leads to the item; people's visits count once a day, bots' never.
    app = build_web_app(bot.runtime, installers=[install_channel_links])
    path = buttons[1].url.removeprefix("http://kepu.test")
    async with TestClient(TestServer(app)) as client:
        for agent in (BROWSER, BROWSER, "TelegramBot (like TwitterBot)"):
            resp = await client.get(path, headers={"User-Agent": agent}, allow_redirects=False)
            assert resp.status == 302 and resp.headers["Location"] == "https://www.kepuchina.cn/"
        assert (await client.get("/c/nope", allow_redirects=False)).status == 404
    async with bot.runtime.sessions() as s:
        reach = await figures.channel_reach(
            session=s,
            window=figures.Window.week_of(bot.runtime.today()),
            tz=bot.runtime.settings.scheduler.tz,
        )
    assert (reach.posts, reach.subscribers, reach.visits) == (1, 501, 1)
    assert world.content_ids  # the world's own items were not pushed

    # The same item again: the channel already has it, nothing is posted twice.
    await curator.command("catalog")
    await bot.settle()
    await curator.press(curator.messages[-1], data=f"CAT:push:{content_id}")
    ask = await reply_to(bot, curator)
    await curator.press(ask, "📢 频道")
    nothing = await reply_to(bot, curator)
    assert text_of(nothing).startswith("没有新的可以发送：已关联的频道都已发过这条内容")
    assert len(channel.messages) == 1 and len(await posts(bot)) == 1


async def test_push_to_both_reaches_informants_and_the_channel(bot_env: RunningBot) -> None:
    bot = bot_env
    sb = bot.sandbox
    reader = sb.user("王秀英", started=True)
    curator = sb.user("内容编辑", started=True)
    await setup_world(bot, [reader])
    await grant(bot, curator, "curator")
    channel = hangzhou(bot)
    await link_directly(bot, channel)
    content_id = await hangzhou_item(bot)

    await _push(bot, curator, content_id, "📨+📢 两者")
    assert len(reader.messages) == 1 and len(channel.messages) == 1
    async with bot.runtime.sessions() as s:
        (push,) = (await s.execute(select(Push))).scalars()
        rows = list(
            (
                await s.execute(select(OutboxMessage).where(OutboxMessage.push_id == push.id))
            ).scalars()
        )
    assert push.total == 2 and push.targeting["to"] == "both"
    assert sorted(r.kind for r in rows) == ["channel_post", "content"]
    # The informant's card keeps their own buttons; the channel's has none of them.
    assert "✍️ 我已分享到别处" in [b.text for row in reader.messages[0].buttons for b in row]
    assert "✍️ 我已分享到别处" not in [b.text for row in channel.messages[0].buttons for b in row]


# --- credit and reach ---------------------------------------------------------------------
async def test_forward_of_a_channel_post_into_a_group_credits_the_informant(
    bot_env: RunningBot,
) -> None:
    bot = bot_env
    sb = bot.sandbox
    alice = sb.user("王秀英", started=True)
    stranger = sb.user("路人", started=True)
    curator = sb.user("内容编辑", started=True)
    world = await setup_world(bot, [alice])
    await grant(bot, curator, "curator")
    group = sb.group("幸福小区居民群", members=[stranger], extra_members=40)
    await alice.add_bot_to(group, as_admin=True)
    channel = hangzhou(bot)
    await link_directly(bot, channel)
    content_id = await hangzhou_item(bot)
    await _push(bot, curator, content_id, "📢 频道")
    (card,) = channel.messages

    await stranger.forward(card, to=group)  # not an informant: not counted, nothing said
    await alice.forward(card, to=group)
    await alice.forward(card, to=group)  # same day, same group: once
    await bot.settle()
    (share,) = await shares(bot)
    assert (share.informant_id, share.content_id, share.channel, share.target) == (
        world.informants[alice.id],
        content_id,
        "telegram_forward",
        str(group.id),
    )
    assert share.audience == 41  # alice, the stranger, 40 others and the bot, minus 2

    # Channel reach is its own figure: 501 subscribers, not in the informant's reach.
    async with bot.runtime.sessions() as s:
        window = figures.Window.week_of(bot.runtime.today())
        reach = await figures.channel_reach(
            session=s, window=window, tz=bot.runtime.settings.scheduler.tz, prefixes=["33"]
        )
        mine = await figures.informant_figures(
            session=s, window=window, volume=volume_over(bot.runtime.settings.propagation)
        )
    assert (reach.posts, reach.subscribers, reach.channels) == (1, 501, 1)
    assert mine[world.informants[alice.id]].telegram_reach == 41


async def test_join_message_names_the_regions_channel(bot_env: RunningBot) -> None:
    bot = bot_env
    _, payload = await setup_station(bot)
    channel = hangzhou(bot)
    await link_directly(bot, channel, "330100")  # the city's channel serves 西湖区 too
    user = bot.sandbox.user("张三")
    welcome = await join(bot, user, payload)
    assert "欢迎" in text_of(welcome)
    assert '📢 本地区频道：<a href="https://t.me/hzkepu">杭州科普</a>' in text_of(welcome)


async def test_join_message_without_a_channel_has_no_channel_line(bot_env: RunningBot) -> None:
    bot = bot_env
    _, payload = await setup_station(bot)
    user = bot.sandbox.user("张三")
    welcome = await join(bot, user, payload)
    assert "欢迎" in text_of(welcome) and "本地区频道" not in text_of(welcome)


async def test_refusals_are_audited_with_the_attempt(bot_env: RunningBot) -> None:
    bot = bot_env
    reader = bot.sandbox.user("王秀英", started=True)
    await setup_world(bot, [reader])
    await reader.command("channels")
    answer = await reply_to(bot, reader)
    assert "没有权限" in text_of(answer)
    async with bot.runtime.sessions() as s:
        rows = await audit.entries(session=s, action="command.channels")
    assert rows and rows[0].allowed is False


async def test_private_channel_gets_an_invite_link_and_scope_guards_unlink(
    bot_env: RunningBot,
) -> None:
    bot = bot_env
    sb = bot.sandbox
    xihu = sb.user("西湖区科协", started=True)
    ningbo = sb.user("宁波市科协", started=True)
    await grant(bot, xihu, "coordinator", "330106")
    await grant(bot, ningbo, "coordinator", "330200")
    private = sb.channel("西湖科普（内部）", subscribers=40, bot_admin=True)
    post = await private.post("内部通知")

    await xihu.forward(post)
    done = await reply_to(bot, xihu)
    assert text_of(done).startswith("已关联：")
    (row,) = await linked(bot)
    assert row.region_code == "330106" and row.username is None
    assert row.invite_link is not None and row.invite_link.startswith("https://t.me/+")
    assert row.invite_link in private.chat.invite_links

    # A coordinator elsewhere cannot unlink it, even with a forged button; it is audited.
    assert row.id is not None
    await ningbo.command("channels")
    listing = await reply_to(bot, ningbo)
    assert "还没有关联频道" in text_of(listing)  # Xihu's channel is not in Ningbo's list
    answer = await ningbo.press(listing, data=f"CHN:del:{row.id}")
    assert answer is not None and "不在您的辖区内" in answer["text"]
    assert [c.id for c in await linked(bot)] == [row.id]
    refused = [e for e in await channel_audit(bot) if e.action == "channel.unlink"]
    assert [(e.allowed, e.reason) for e in refused] == [(False, "out_of_scope")]


async def test_whoever_linked_a_channel_is_told_when_the_bot_loses_its_rights(
    bot_env: RunningBot,
) -> None:
    bot = bot_env
    coordinator = bot.sandbox.user("杭州市科协", started=True)
    await grant(bot, coordinator, "coordinator", "330100")
    channel = hangzhou(bot)
    await coordinator.command("channels", "link @hzkepu")
    assert text_of(await reply_to(bot, coordinator)).startswith("已关联：")

    await channel.set_bot_admin(True, can_post=True)  # still allowed to post: nothing said
    await bot.settle()
    before = len(coordinator.messages)
    await channel.set_bot_admin(True, can_post=False)
    notice = await coordinator.wait_for_message(
        predicate=lambda m: "不能在频道" in text_of(m), timeout=10
    )
    assert "“杭州科普”" in text_of(notice) and "/channels" in text_of(notice)
    assert len(coordinator.messages) == before + 1
