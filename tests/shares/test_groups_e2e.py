"""Groups: the bot added by an informant, forwards of content cards counted with group size."""

from __future__ import annotations

from sqlalchemy import select

from bot.sandbox.harness import RunningBot
from storage.models import GroupChat
from tests.shares.helpers import setup_world, shares


async def _send_card(bot_env: RunningBot, user_id: int, content_id: int) -> None:
    from bot.content.cards import CardRecipient, build_card, send_card
    from bot.handlers.feature import assembly_of
    from storage.content import get_item

    app = bot_env.processor.application
    async with bot_env.runtime.sessions() as s, s.begin():
        item = await get_item(session=s, content_id=content_id)
        assert item is not None
        card = await build_card(
            CardRecipient(
                session=s, item=item, chat_id=user_id, locale="zh_CN", informant_id=None
            ),
            assembly_of(app).card_providers(bot_env.runtime),
        )
    await send_card(app.bot, user_id, card)


async def test_added_group_and_forward_recorded_with_member_count(bot_env: RunningBot) -> None:
    sb = bot_env.sandbox
    alice = sb.user("王秀英", started=True)
    bob = sb.user("李建国", started=True)
    stranger = sb.user("路人", started=True)
    group = sb.group("幸福小区居民群", members=[bob, stranger], extra_members=150)
    world = await setup_world(bot_env, [alice, bob])
    await alice.add_bot_to(group, as_admin=True)
    await bot_env.settle()
    async with bot_env.runtime.sessions() as s:
        row = (await s.execute(select(GroupChat))).scalar_one()
    assert row.chat_id == group.id and row.informant_id == world.informants[alice.id]
    assert row.member_count == 154 and row.removed_at is None  # 3 people + 150 + the bot
    assert group.messages, "the bot greets the group"

    cid = world.content_ids[0]
    await _send_card(bot_env, bob.id, cid)
    card = await bob.wait_for_message()
    await bob.forward(card, to=group)
    await bob.forward(card, to=group)  # the same day, the same group: counted once
    await bot_env.settle()
    rows = await shares(bot_env)
    assert len(rows) == 1
    share = rows[0]
    assert (share.channel, share.content_id, share.target) == (
        "telegram_forward",
        cid,
        str(group.id),
    )
    assert share.informant_id == world.informants[bob.id]
    assert share.audience == 152  # everyone but the bot and the sharer

    # A non-informant's forward and a forward of someone else's message are ignored.
    await stranger.forward(card, to=group)
    other = await stranger.send("随便说一句", chat=group)
    assert other is not None
    await bot_env.settle()
    assert len(await shares(bot_env)) == 1

    await alice.remove_bot_from(group)
    await bot_env.settle()
    async with bot_env.runtime.sessions() as s:
        row = (await s.execute(select(GroupChat))).scalar_one()
    assert row.removed_at is not None


async def test_plain_member_adder_is_told_about_privacy(bot_env: RunningBot) -> None:
    sb = bot_env.sandbox
    sb.privacy_mode = True
    alice = sb.user("王秀英", started=True)
    group = sb.group("家长群", members=[], extra_members=20)
    await setup_world(bot_env, [alice])
    await alice.add_bot_to(group)
    await bot_env.settle()
    assert any("管理员" in (m.text or "") for m in alice.messages)
