"""Personal data only in private chats: in a group the bot answers with a link, nothing else."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimGroup, SimUser
from storage.models import AuditLog, DialogState, Person
from tests.informants.helpers import grant_station_admin, join, last, setup_station

NAME, PHONE = "张三", "+8613800000001"
LINK = "https://t.me/kepubot_bot?start"


async def _group_with(bot_env: RunningBot, *users: SimUser) -> SimGroup:
    group = bot_env.sandbox.group("幸福小区居民群", members=list(users), extra_members=30)
    await users[0].add_bot_to(group)
    await bot_env.settle()
    group.mark_seen()
    return group


async def _refusals(bot_env: RunningBot) -> list[AuditLog]:
    async with bot_env.runtime.sessions() as s:
        rows = await s.execute(
            select(AuditLog).where(col(AuditLog.allowed).is_(False)).order_by(col(AuditLog.id))
        )
        return list(rows.scalars())


async def test_personal_commands_in_a_group_get_only_a_link(bot_env: RunningBot) -> None:
    station_id, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user("阿三", started=True)
    await join(bot_env, user, payload, name=NAME, phone=PHONE)
    await grant_station_admin(bot_env, user, station_id)  # /informants lists real names
    group = await _group_with(bot_env, user)
    private_before = len(user.messages)
    async with bot_env.runtime.sessions() as s:
        found = await s.execute(select(Person).where(col(Person.telegram_id) == user.id))
        person = found.scalar_one()

    commands = ("me", "mydata", "settings", "forget", "informants")
    for name in commands:
        await user.command(name, chat=group)
        hint = await group.wait_for_message()
        await bot_env.settle()
        assert hint.text is not None and LINK in hint.text, name
        assert "私聊" in hint.text, name
        assert NAME not in hint.text and PHONE[3:] not in hint.text, name
        assert hint.document is None and not hint.buttons, name
    assert len(group.messages) - len(commands) == 1  # only the greeting besides the hints
    with_data = [m for m in group.messages if NAME in (m.text or "") or m.document]
    assert with_data == []
    assert len(user.messages) == private_before  # nothing sent privately either

    refusals = await _refusals(bot_env)
    assert [(r.action, r.reason, r.actor_id) for r in refusals] == [
        (f"command.{name}", "not_private", person.id) for name in commands
    ]
    assert all(r.subject_type == "command" for r in refusals)
    assert all(r.detail["chat_id"] == group.id for r in refusals)

    # The same commands in the private chat still work.
    await user.command("me")
    assert NAME in ((await last(user, bot_env)).text or "")
    await user.command("mydata")
    assert (await last(user, bot_env)).document is not None
    await user.command("settings")
    assert "设置" in ((await last(user, bot_env)).text or "")
    await user.command("informants")
    assert NAME in ((await last(user, bot_env)).text or "")
    await user.command("forget")
    assert (await last(user, bot_env)).buttons
    assert len(await _refusals(bot_env)) == len(commands)


async def test_join_link_in_a_group_leads_to_the_private_chat(bot_env: RunningBot) -> None:
    _station_id, payload = await setup_station(bot_env)
    member = bot_env.sandbox.user("李四", started=True)
    newcomer = bot_env.sandbox.user("王五", started=True)
    group = await _group_with(bot_env, member, newcomer)

    await newcomer.command("start", payload, chat=group)
    hint = await group.wait_for_message()
    await bot_env.settle()
    assert hint.text is not None and f"{LINK}={payload}" in hint.text
    assert "手机号" in hint.text and not hint.buttons
    assert group.messages[-1].message_id == hint.message_id  # nothing after the hint
    async with bot_env.runtime.sessions() as s:
        assert (await s.execute(select(DialogState))).first() is None  # no joining started
    [refusal] = await _refusals(bot_env)
    assert (refusal.action, refusal.reason) == ("command.start", "not_private")

    # The link opens the private chat with the same payload: joining works there.
    await newcomer.command("start", payload)
    consent = await last(newcomer, bot_env)
    assert "隐私说明" in (consent.text or "")
