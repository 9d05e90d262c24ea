"""Joining a station through the sandbox: happy path, bad input, refusals, transfer."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.sandbox.harness import RunningBot
from storage.models import AuditLog, DialogState, Informant, InviteLink
from tests.informants.helpers import informant_of, join, last, setup_station


async def _invite(bot_env: RunningBot, payload: str) -> InviteLink:
    async with bot_env.runtime.sessions() as s:
        row = (
            await s.execute(select(InviteLink).where(InviteLink.payload == payload))
        ).scalar_one()
        return row


async def test_happy_path_in_chinese(bot_env: RunningBot) -> None:
    station_id, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user("张三", language_code="zh-hans")
    await user.command("start", payload)
    consent = await last(user, bot_env)
    assert "隐私" in (consent.text or "") and "西湖区文化站" in (consent.text or "")
    await user.press(consent, "✅ 同意")
    ask = await last(user, bot_env)
    assert "真实姓名" in (ask.text or "")
    await user.send("张 三丰")
    phone_ask = await last(user, bot_env)
    assert phone_ask.keyboard and phone_ask.keyboard[0][0].request_contact
    await user.send_contact("8613800000001")
    topics = await last(user, bot_env)
    await user.press(topics, data="JN:int:health")
    await user.press(topics, data="JN:int:elderly")
    await user.press(topics, data="JN:int:elderly")  # toggled off again
    assert any(b.text.startswith("✅") for row in topics.buttons for b in row)
    await user.press(topics, data="JN:done")
    confirm = await last(user, bot_env)
    assert "张 三丰" in (confirm.text or "") and "+8613800000001" in (confirm.text or "")
    assert "卫生健康" in (confirm.text or "")
    await user.press(confirm, "✅ 确认并加入")
    welcome = await last(user, bot_env)
    assert "欢迎" in (welcome.text or "")
    informant = await informant_of(bot_env, user)
    assert informant is not None
    assert informant.station_id == station_id
    assert informant.real_name == "张 三丰"
    assert informant.phone == "+8613800000001"
    assert informant.interests == ["health"]
    assert informant.consent_at is not None and informant.consent_version
    assert (await _invite(bot_env, payload)).uses == 1
    async with bot_env.runtime.sessions() as s:
        actions = (await s.execute(select(AuditLog.action))).scalars().all()
        assert "informant.join" in actions
        assert (await s.execute(select(func.count()).select_from(DialogState))).scalar_one() == 0
    # The command menu now includes informant commands.
    menu = [c["command"] for c in bot_env.sandbox.commands(f"chat:{user.id}")]
    assert "me" in menu


async def test_bad_name_is_asked_again(bot_env: RunningBot) -> None:
    _, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user("Ann", language_code="en")
    await user.command("start", payload)
    await user.press(await last(user, bot_env), data="JN:agree")
    for bad in ("A", "张三123", "x" * 31, "<b>Bob</b>", "李"):
        await user.send(bad)
        assert "does not look like a real name" in ((await last(user, bot_env)).text or "")
    await user.send("Ann Smith")
    assert "phone number" in ((await last(user, bot_env)).text or "")
    await user.send("Ann·Smith")  # a name typed at the phone step is not a contact
    assert "use the button" in ((await last(user, bot_env)).text or "")


async def test_someone_elses_contact_is_refused(bot_env: RunningBot) -> None:
    _, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user("Bob", language_code="en")
    await user.command("start", payload)
    await user.press(await last(user, bot_env), data="JN:agree")
    await user.send("Bob Lee")
    await bot_env.settle()
    await user.send_contact("+8613900000000", user_id=user.id + 1, first_name="Mum")
    refused = await last(user, bot_env)
    assert "someone else's contact" in (refused.text or "")
    assert refused.keyboard[0][0].request_contact
    await user.send_contact("+8613900000000", first_name="NoUserId")  # not a Telegram user
    assert "someone else's contact" in ((await last(user, bot_env)).text or "")
    await user.send("+8613900000000")
    assert "use the button" in ((await last(user, bot_env)).text or "")
    assert await informant_of(bot_env, user) is None


async def test_declining_stores_nothing(bot_env: RunningBot) -> None:
    _, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user("Cat", language_code="en")
    await user.command("start", payload)
    await user.send("hello?")
    assert "Agree or Decline" in ((await last(user, bot_env)).text or "")
    await user.press(user.messages[-2], data="JN:decline")
    assert "nothing about you was stored" in ((await last(user, bot_env)).text or "")
    async with bot_env.runtime.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Informant))).scalar_one() == 0
        assert (await s.execute(select(func.count()).select_from(DialogState))).scalar_one() == 0
    assert (await _invite(bot_env, payload)).uses == 0


async def test_cancel_mid_join_saves_nothing(bot_env: RunningBot) -> None:
    _, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user("Dan", language_code="en")
    await user.command("start", payload)
    await user.press(await last(user, bot_env), data="JN:agree")
    await user.send("Dan Brown")
    await bot_env.settle()
    await user.command("cancel")
    assert "nothing was saved" in ((await last(user, bot_env)).text or "")
    assert await informant_of(bot_env, user) is None
    assert (await _invite(bot_env, payload)).uses == 0


async def test_stale_button_after_cancel(bot_env: RunningBot) -> None:
    _, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user("Eve", language_code="en")
    await user.command("start", payload)
    consent = await last(user, bot_env)
    await user.command("cancel")
    await bot_env.settle()
    answer = await user.press(consent, data="JN:agree")
    assert answer is not None and "no longer active" in answer["text"]


async def test_edit_from_confirmation(bot_env: RunningBot) -> None:
    _, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user("Fay", language_code="en")
    await user.command("start", payload)
    await user.press(await last(user, bot_env), data="JN:agree")
    await user.send("Fay Wong")
    await bot_env.settle()
    await user.send_contact("+8613700000000")
    topics = await last(user, bot_env)
    answer = await user.press(topics, data="JN:done")
    assert answer is not None and "at least one topic" in answer["text"]
    await user.press(topics, data="JN:int:children")
    await user.press(topics, data="JN:done")
    confirm = await last(user, bot_env)
    await user.press(confirm, data="JN:edit:name")
    await user.send("王菲")
    confirm = await last(user, bot_env)
    assert "王菲" in (confirm.text or "")
    await user.press(confirm, data="JN:ok")
    await bot_env.settle()
    informant = await informant_of(bot_env, user)
    assert informant is not None and informant.real_name == "王菲"
    assert informant.interests == ["children"]


async def test_language_can_be_changed_on_the_consent_screen(bot_env: RunningBot) -> None:
    _, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user("Gus", language_code="zh-hans")
    await user.command("start", payload)
    consent = await last(user, bot_env)
    await user.press(consent, data="JN:lang:en")
    await bot_env.settle()
    assert "Privacy notice" in (consent.text or "")


async def test_bad_links_explain_how_to_get_one(bot_env: RunningBot, clock) -> None:
    station_id, expiring = await setup_station(bot_env, expires_days=1)
    _, revoked = await setup_station(bot_env, name="站二", regions=False)
    _, closed = await setup_station(bot_env, name="撤销站", regions=False, status="revoked")
    _, limited = await setup_station(bot_env, name="限量站", regions=False, max_uses=1)
    async with bot_env.runtime.sessions() as s, s.begin():
        from bot.services import invites as invite_service

        await invite_service.revoke_invite(
            session=s, payload=revoked, actor_id=None, now=bot_env.runtime.now()
        )
    user = bot_env.sandbox.user("Hal", language_code="en")
    await user.command("start", "j_" + "A" * 22)
    assert "not valid" in ((await last(user, bot_env)).text or "")
    await user.command("start", revoked)
    assert "withdrawn" in ((await last(user, bot_env)).text or "")
    await user.command("start", closed)
    assert "not accepting new informants" in ((await last(user, bot_env)).text or "")
    await user.command("start")
    assert "invite link" in ((await last(user, bot_env)).text or "")
    await join(bot_env, bot_env.sandbox.user("First", language_code="en"), limited)
    await user.command("start", limited)
    assert "used as often as allowed" in ((await last(user, bot_env)).text or "")
    clock.advance(days=2)
    await user.command("start", expiring)
    assert "expired" in ((await last(user, bot_env)).text or "")
    assert await informant_of(bot_env, user) is None


async def test_link_revoked_during_join_saves_nothing(bot_env: RunningBot) -> None:
    _, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user("Ivy", language_code="en")
    await user.command("start", payload)
    await user.press(await last(user, bot_env), data="JN:agree")
    await user.send("Ivy Chen")
    await bot_env.settle()
    await user.send_contact("+8613600000000")
    topics = await last(user, bot_env)
    await user.press(topics, data="JN:int:health")
    await user.press(topics, data="JN:done")
    confirm = await last(user, bot_env)
    async with bot_env.runtime.sessions() as s, s.begin():
        from bot.services import invites as invite_service

        await invite_service.revoke_invite(
            session=s, payload=payload, actor_id=None, now=bot_env.runtime.now()
        )
    await user.press(confirm, data="JN:ok")
    assert "withdrawn" in ((await last(user, bot_env)).text or "")
    assert await informant_of(bot_env, user) is None


async def test_already_registered_and_transfer(bot_env: RunningBot) -> None:
    first_id, first = await setup_station(bot_env, name="一站")
    second_id, second = await setup_station(bot_env, name="二站", regions=False)
    user = bot_env.sandbox.user("Jo", language_code="en")
    await join(bot_env, user, first, name="Jo March")
    await user.command("start", first)
    assert "already registered with 一站" in ((await last(user, bot_env)).text or "")
    await user.command("start", second)
    question = await last(user, bot_env)
    assert "Move to" in (question.text or "")
    await user.press(question, data="JN:stay")
    assert "stay with" in ((await last(user, bot_env)).text or "")
    assert (await informant_of(bot_env, user)).station_id == first_id  # type: ignore[union-attr]
    await user.command("start", second)
    await user.press(await last(user, bot_env), data="JN:move")
    assert "now an informant of" in ((await last(user, bot_env)).text or "")
    informant = await informant_of(bot_env, user)
    assert informant is not None and informant.station_id == second_id
    assert informant.real_name == "Jo March"
    async with bot_env.runtime.sessions() as s:
        entry = (
            await s.execute(select(AuditLog).where(AuditLog.action == "informant.transfer"))
        ).scalar_one()
        assert entry.detail["from_station_id"] == first_id
        assert entry.detail["to_station_id"] == second_id
    assert (await _invite(bot_env, second)).uses == 1
