"""/me, /settings, /mydata and /forget through the sandbox."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from bot.app import FEATURES
from bot.handlers.feature import Feature
from bot.sandbox import Sandbox
from bot.sandbox.harness import RunningBot, running_bot, sandbox_settings
from bot.services.informants import ProfileStat
from storage.models import AuditLog, DialogState, Informant, Person
from tests.conftest import FixedClock
from tests.informants.helpers import informant_of, join, last, setup_station


async def test_me_shows_profile_or_explains_joining(bot_env: RunningBot) -> None:
    _, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user("Kim", language_code="en")
    await user.command("me")
    assert "not joined a station" in ((await last(user, bot_env)).text or "")
    await join(bot_env, user, payload, name="Kim Lee", topics=("health",))
    await user.command("me")
    text = (await last(user, bot_env)).text or ""
    assert "Kim Lee" in text and "西湖区文化站" in text and "Health" in text
    assert "+8613800000001" in text


async def test_profile_stats_of_a_declared_feature(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> None:
    async def provider(*, session, informant_id, now):  # type: ignore[no-untyped-def]
        return [ProfileStat("Shares this month: {n}", {"n": 7})]

    extra = Feature(name="test_stats", profile_stats=(lambda _settings: provider,))
    settings = sandbox_settings(sandbox, sqlite_url, web={"public_base_url": "http://kepu.test"})
    async with running_bot(sandbox, settings, clock=clock, features=(*FEATURES, extra)) as env:
        _, payload = await setup_station(env)
        user = env.sandbox.user("Lu", language_code="en")
        await join(env, user, payload, name="Lu Xun")
        await user.command("me")
        assert "Shares this month: 7" in ((await last(user, env)).text or "")


async def test_settings_topics_pause_quiet_hours_language(bot_env: RunningBot) -> None:
    _, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user("Mo", language_code="en")
    await join(bot_env, user, payload, name="Mo Yan", topics=("health",))
    await user.command("settings")
    menu = await last(user, bot_env)
    assert "Settings" in (menu.text or "")
    await user.press(menu, data="SET:topics")
    answer = await user.press(menu, data="SET:t:health")  # the last topic stays
    assert answer is not None and "at least one" in answer["text"]
    await user.press(menu, data="SET:t:frontier")
    await user.press(menu, data="SET:t:health")
    await user.press(menu, data="SET:menu")
    await user.press(menu, data="SET:pause")
    await user.press(menu, data="SET:quiet")
    await user.press(menu, data="SET:qs:22")
    await user.press(menu, data="SET:qe:22:7")
    await bot_env.settle()
    assert "22:00–07:00" in (menu.text or "")
    informant = await informant_of(bot_env, user)
    assert informant is not None
    assert informant.interests == ["frontier"]
    assert informant.paused is True
    assert informant.quiet_start == dt.time(22) and informant.quiet_end == dt.time(7)
    await user.press(menu, data="SET:resume")
    await user.press(menu, data="SET:quiet")
    await user.press(menu, data="SET:qoff")
    await user.press(menu, data="SET:lang")
    await user.press(menu, data="SET:lang:zh_CN")
    await bot_env.settle()
    assert "设置" in (menu.text or "")
    informant = await informant_of(bot_env, user)
    assert informant is not None and not informant.paused and informant.quiet_start is None
    async with bot_env.runtime.sessions() as s:
        person = (
            await s.execute(select(Person).where(Person.telegram_id == user.id))
        ).scalar_one()
        assert person.language == "zh_CN"


async def test_settings_for_non_informants_offer_language_only(bot_env: RunningBot) -> None:
    user = bot_env.sandbox.user("Ned", language_code="en")
    await user.command("settings")
    menu = await last(user, bot_env)
    assert [b.callback_data for row in menu.buttons for b in row] == ["SET:lang"]
    answer = await user.press(menu, data="SET:pause")  # a forged button changes nothing
    assert answer is not None and "not joined" in answer["text"]


async def test_mydata_sends_everything_as_json(bot_env: RunningBot) -> None:
    _, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user("Olga", language_code="en")
    await join(bot_env, user, payload, name="Olga Wu", topics=("children",))
    await user.command("mydata")
    doc = await last(user, bot_env)
    assert doc.filename and doc.filename.endswith(".json")
    data = json.loads(doc.document_bytes() or b"{}")
    assert "Profile (person)" in data["Data"]
    tables = {key.split(" (")[-1].rstrip(")"): rows for key, rows in data["Data"].items()}
    assert data["Telegram ID"] == user.id
    assert tables["person"][0]["telegram_id"] == user.id
    assert tables["informant"][0]["real_name"] == "Olga Wu"
    assert tables["informant"][0]["phone"] == "+8613800000001"
    assert any(e["action"] == "informant.join" for e in tables["audit_log"])


async def test_forget_erases_and_allows_rejoining(bot_env: RunningBot) -> None:
    station_id, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user("Pia", language_code="en", username="pia")
    await join(bot_env, user, payload, name="Pia Zhao")
    old = await informant_of(bot_env, user)
    assert old is not None
    await user.command("forget")
    ask = await last(user, bot_env)
    await user.press(ask, data="FGT:no")
    await bot_env.settle()
    assert "Nothing was erased" in (ask.text or "")
    assert await informant_of(bot_env, user) is not None
    await user.command("forget")
    ask = await last(user, bot_env)
    await user.press(ask, data="FGT:yes")
    await bot_env.settle()
    assert "has been erased" in (ask.text or "")
    assert await informant_of(bot_env, user) is None
    async with bot_env.runtime.sessions() as s:
        row = await s.get(Informant, old.id)
        assert row is not None
        assert row.person_id is None and row.real_name is None and row.phone is None
        assert row.interests == [] and row.forgotten_at and row.removed_at
        assert row.station_id == station_id  # kept for the station's totals
        # Nothing else pointed at the person row: it is gone with the Telegram id and name.
        assert (await s.execute(select(Person))).first() is None
        entry = (
            await s.execute(select(AuditLog).where(AuditLog.action == "privacy.forget"))
        ).scalar_one()
        assert entry.actor_id is None and entry.subject_type is None and entry.subject_id is None
        assert "Pia" not in json.dumps(entry.detail) and entry.detail["person_deleted"] is True
        assert (await s.execute(select(DialogState))).first() is None
    await user.command("me")
    assert "not joined" in ((await last(user, bot_env)).text or "")
    # Join again from scratch: a new informant row, the old anonymous one untouched.
    await join(bot_env, user, payload, name="Pia Zhao")
    new = await informant_of(bot_env, user)
    assert new is not None and new.id != old.id and new.real_name == "Pia Zhao"
