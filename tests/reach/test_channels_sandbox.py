"""The sandbox's channels answer with the Bot API's shapes (read through python-telegram-bot)."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberOwner,
    MessageOriginChannel,
    Update,
)
from telegram.error import BadRequest, Forbidden

from bot.sandbox import Sandbox


def _bot(sandbox: Sandbox) -> Bot:
    return Bot(sandbox.token, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url)


async def test_bot_admin_of_a_channel_posts_and_reads_it(sandbox: Sandbox) -> None:
    owner = sandbox.user("频道主", started=True)
    channel = sandbox.channel(
        "杭州科普", username="hzkepu", subscribers=300, owner=owner, bot_admin=True
    )
    async with _bot(sandbox) as bot:
        me = await bot.get_me()
        member = await bot.get_chat_member(channel.id, me.id)
        assert isinstance(member, ChatMemberAdministrator) and member.can_post_messages
        assert member.can_edit_messages and member.can_pin_messages is None
        creator = await bot.get_chat_member(channel.id, owner.id)
        assert isinstance(creator, ChatMemberOwner)
        chat = await bot.get_chat("@hzkepu")
        assert (chat.id, chat.type, chat.title, chat.username) == (
            channel.id,
            "channel",
            "杭州科普",
            "hzkepu",
        )
        sent = await bot.send_message(channel.id, "科普一下")
        assert sent.chat.type == "channel" and sent.sender_chat is not None
        assert sent.sender_chat.id == channel.id and sent.from_user is None
        assert await bot.get_chat_member_count(channel.id) == 302  # 300, the owner, the bot
        primary = await bot.export_chat_invite_link(channel.id)
        extra = await bot.create_chat_invite_link(channel.id, name="信息员")
        assert primary.startswith("https://t.me/+") and extra.invite_link != primary
        assert extra.name == "信息员" and not extra.is_primary

        # The owner's post reaches the bot as a channel_post update.
        post = await channel.post("欢迎关注")
        updates = await bot.get_updates(timeout=0)
        update = Update.de_json(updates[-1].to_dict(), bot)
        assert update.channel_post is not None and update.channel_post.text == "欢迎关注"
        assert update.channel_post.message_id == post.message_id

        # A user forwards it into a group: the origin names the channel and the post.
        reader = sandbox.user("读者", started=True)
        group = sandbox.group("小区群", members=[reader])
        await reader.add_bot_to(group, as_admin=True)
        await reader.forward(post, to=group)
        updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
        forwarded = updates[-1].message
        assert forwarded is not None
        origin = forwarded.forward_origin
        assert isinstance(origin, MessageOriginChannel)
        assert (origin.chat.id, origin.message_id) == (channel.id, post.message_id)


async def test_bot_not_admin_of_a_channel_is_refused_as_telegram_does(sandbox: Sandbox) -> None:
    public = sandbox.channel("公开频道", username="openkepu", subscribers=10)
    hidden = sandbox.channel("私密频道")
    mute = sandbox.channel("不能发", bot_admin=True, can_post=False)
    async with _bot(sandbox) as bot:
        me = await bot.get_me()
        assert isinstance(await bot.get_chat_member(public.id, me.id), ChatMemberLeft)
        with pytest.raises(Forbidden):
            await bot.send_message(public.id, "x")
        with pytest.raises(BadRequest, match="not found"):
            await bot.get_chat(hidden.id)
        with pytest.raises(BadRequest, match="(?i)not enough rights"):
            await bot.export_chat_invite_link(public.id)
        member = await bot.get_chat_member(mute.id, me.id)
        assert isinstance(member, ChatMemberAdministrator) and not member.can_post_messages
        with pytest.raises(BadRequest, match="(?i)administrator rights"):
            await bot.send_message(mute.id, "x")
