"""Inline sharing through the real bot and the sandbox."""

from __future__ import annotations

from sqlalchemy import select

from bot.sandbox.harness import RunningBot
from storage.models import TrackedLink
from tests.shares.helpers import setup_world, shares


async def test_inline_query_by_id_carries_tracked_link_and_records_share(
    bot_env: RunningBot,
) -> None:
    sb = bot_env.sandbox
    alice = sb.user("王秀英", started=True)
    group = sb.group("小区群", members=[alice], extra_members=30)
    world = await setup_world(bot_env, [alice])
    cid = world.content_ids[0]
    results = await alice.inline_query(f"c{cid}")
    assert [r["id"] for r in results] == [f"c{cid}.s"]  # the chat type rides along
    text = results[0]["input_message_content"]["message_text"]
    assert "http://kepu.test/s/" in text
    assert results[0]["reply_markup"]["inline_keyboard"][0][0]["url"].startswith(
        "http://kepu.test/s/"
    )
    await alice.choose_inline_result(results[0], query=f"c{cid}", chat=group)
    await bot_env.settle()
    rows = await shares(bot_env)
    assert len(rows) == 1
    share = rows[0]
    assert (share.channel, share.content_id, share.audience) == ("telegram_inline", cid, 0)
    assert share.informant_id == world.informants[alice.id]
    assert share.target.startswith("AgAAA")  # the inline_message_id
    async with bot_env.runtime.sessions() as s:
        link = (await s.execute(select(TrackedLink))).scalar_one()
    assert link.channel == "telegram_inline" and link.code in text


async def test_redelivered_chosen_result_counts_once(bot_env: RunningBot) -> None:
    sb = bot_env.sandbox
    alice = sb.user("王秀英", started=True)
    world = await setup_world(bot_env, [alice])
    cid = world.content_ids[0]
    results = await alice.inline_query(f"c{cid}")
    update = await alice.choose_inline_result(results[0], query=f"c{cid}")
    assert update is not None
    payload = dict(update["chosen_inline_result"])
    # The same update again (a redelivery with a new update id) and a bare repeat.
    await sb.push_update("chosen_inline_result", payload)
    await sb.push_update("chosen_inline_result", payload)
    await bot_env.settle()
    assert len(await shares(bot_env)) == 1


async def test_search_words_and_non_informant(bot_env: RunningBot) -> None:
    sb = bot_env.sandbox
    alice = sb.user("王秀英", started=True)
    stranger = sb.user("路人", started=True)
    world = await setup_world(bot_env, [alice], items=3)
    results = await alice.inline_query("电信诈骗2")
    assert [r["id"] for r in results] == [f"c{world.content_ids[1]}.s"]
    anon = await stranger.inline_query("电信诈骗")
    assert len(anon) == 3 and all(r["id"].startswith("x") for r in anon)
    assert all("kepuchina.cn" in r["input_message_content"]["message_text"] for r in anon)
    await stranger.choose_inline_result(anon[0], query="电信诈骗")
    await bot_env.settle()
    assert await shares(bot_env) == []
    assert await alice.inline_query("没有这个词") == []
    assert await alice.inline_query("c999999") == []


async def test_share_button_on_card_opens_inline_for_item(bot_env: RunningBot) -> None:
    from bot.content.cards import CardRecipient, build_card
    from bot.handlers.feature import assembly_of

    sb = bot_env.sandbox
    alice = sb.user("王秀英", started=True)
    world = await setup_world(bot_env, [alice])
    cid = world.content_ids[0]
    async with bot_env.runtime.sessions() as s, s.begin():
        from storage.content import get_item

        item = await get_item(session=s, content_id=cid)
        assert item is not None
        card = await build_card(
            CardRecipient(
                session=s,
                item=item,
                chat_id=alice.id,
                locale="zh_CN",
                informant_id=world.informants[alice.id],
            ),
            assembly_of(bot_env.processor.application).card_providers(bot_env.runtime),
        )
    flat = [b for row in card.rows for b in row]
    share = next(b for b in flat if b.switch_inline_query_chosen_chat is not None)
    assert share.switch_inline_query_chosen_chat.query == f"c{cid}"
    assert share.switch_inline_query_chosen_chat.allow_group_chats
    assert any(b.callback_data == f"SHX:{cid}" for b in flat)
    assert any((b.url or "").startswith("http://kepu.test/s/") for b in flat)
