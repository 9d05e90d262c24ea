"""Privacy rights end to end: /mydata exports everything, /forget leaves no trace."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from sqlalchemy import func, select
from sqlmodel import SQLModel

from bot.runtime.outbox import WORKER_KEY, notify_outbox
from bot.sandbox.harness import RunningBot
from bot.sandbox.world import SimUser
from bot.services import invites as invite_service
from bot.services import push as push_service
from storage import inbox as inbox_store
from storage import outbox as outbox_store
from storage.models import AuditLog, Informant, Person, RoleGrant, ShareEvent
from tests.informants.helpers import grant_station_admin, informant_of, join, last, setup_station
from tests.shares.helpers import add_items

TELEGRAM_ID = 987654321
FIRST_NAME = "Qiaoyun"
USERNAME = "qiaoyun_fly"
REAL_NAME = "乔云飞"
PHONE = "+8613912345678"


async def _wait_outbox(bot_env: RunningBot, timeout: float = 10.0) -> None:
    """Wait until the sender has sent every queued message."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with bot_env.runtime.sessions() as session:
            counts = await outbox_store.counts(session=session)
        worker = bot_env.runtime.extras.get(WORKER_KEY)
        if counts.get("pending", 0) == 0 and not (worker and worker.busy):
            break
        assert loop.time() < deadline, f"outbox not drained: {counts}"
        await asyncio.sleep(0.02)
    await bot_env.settle()


async def _build_history(bot_env: RunningBot) -> tuple[SimUser, int, int]:
    """Join, receive a push, record a share, press settings; return user, station, item."""
    station_id, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user(FIRST_NAME, username=USERNAME, user_id=TELEGRAM_ID)
    await join(bot_env, user, payload, name=REAL_NAME, phone=PHONE, topics=("anti_fraud",))
    async with bot_env.runtime.sessions() as s, s.begin():
        [item_id] = await add_items(s, 1)
        result = await push_service.push_item(
            session=s,
            content_id=item_id,
            now=bot_env.runtime.now(),
            tz=bot_env.runtime.settings.scheduler.tz,
        )
        assert result.queued == 1
    notify_outbox(bot_env.runtime)
    await _wait_outbox(bot_env)
    card = user.messages[-1]
    assert "防范电信诈骗1" in (card.caption or card.text or "")
    await user.press(card, data=f"SHX:{item_id}")
    question = await last(user, bot_env)
    await user.press(question, "微信群")
    await bot_env.settle()
    await user.press(question, "约200人")
    await user.command("settings")
    menu = await last(user, bot_env)
    await user.press(menu, data="SET:pause")
    await bot_env.settle()
    return user, station_id, item_id


async def test_mydata_summary_in_chinese_and_file_with_raw_updates_and_outbox(
    bot_env: RunningBot,
) -> None:
    user, _, item_id = await _build_history(bot_env)
    await user.command("mydata")
    await bot_env.settle()
    summary, document = user.messages[-2], user.messages[-1]
    text = re.sub(r"</?b>", "", summary.text or "")
    assert "我保存的关于您的数据" in text and "真实姓名" in text
    assert "您发给机器人的消息" in text and "处理后 7 天删除" in text and "30 天后删除" in text
    assert "分享记录" in text and "分享 1 次" in text and "链接访问 0 次" in text
    assert "所在e站" in text and "加入）" in text
    # Local times the way people write them, in the configured zone.
    assert re.search(r"截至 ?\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", text), text
    assert "发送 7 天后删除" in text and "/forget" in text
    assert document.filename and document.filename.endswith(".json")
    data = json.loads(document.document_bytes() or b"{}")
    # Readable keys: each table under its section name, the table in brackets.
    assert {"说明", "生成时间", "时区", "数据"} <= set(data)
    assert "个人资料（person）" in data["数据"] and "分享记录（share_event）" in data["数据"]
    tables = {key.split("（")[-1].rstrip("）"): rows for key, rows in data["数据"].items()}
    updates = tables["inbox_update"]
    assert all(row["user_id"] == TELEGRAM_ID for row in updates)
    kinds = {key for row in updates for key in row["payload"] if key != "update_id"}
    assert {"message", "callback_query"} <= kinds
    contacts = [r for r in updates if "contact" in r["payload"].get("message", {})]
    assert contacts[0]["payload"]["message"]["contact"]["phone_number"] == PHONE
    assert any(r["payload"].get("callback_query", {}).get("data") == "SET:pause" for r in updates)
    # Every message the bot sent them: the pushed card and the replies (Bot API calls).
    sent = tables["outbox_message"]
    assert f"机器人发给您的消息（{len(sent)} 条）" in text and len(sent) > 5
    assert all(row["chat_id"] == TELEGRAM_ID for row in sent)
    [card] = [row for row in sent if row["kind"] == "content"]
    assert card["payload"]["content_id"] == item_id and card["state"] == "sent"
    replies = [row for row in sent if row["kind"] == "api"]
    assert any(row["payload"]["method"] == "answerCallbackQuery" for row in replies)
    assert tables["share_event"][0]["channel"] == "wechat_group"
    # Times in the configured zone (Asia/Shanghai), with the offset.
    assert data["生成时间"].endswith("+08:00") and data["时区"] == "Asia/Shanghai"
    assert tables["person"][0]["created_at"].endswith("+08:00")
    assert updates[0]["received_at"].endswith("+08:00")


def _traces(value: Any, needles: list[re.Pattern[str]]) -> list[str]:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return [n.pattern for n in needles if n.search(text)]


async def _scan(bot_env: RunningBot) -> list[str]:
    """Return every table.column holding the user's Telegram id, name, username or phone."""
    needles = [
        re.compile(rf"(?<!\d){TELEGRAM_ID}(?!\d)"),
        re.compile(FIRST_NAME),
        re.compile(USERNAME),
        re.compile(REAL_NAME),
        re.compile(PHONE.removeprefix("+")),
    ]
    found = []
    async with bot_env.runtime.sessions() as s:
        for table in SQLModel.metadata.sorted_tables:
            for row in (await s.execute(select(table))).all():
                for column, value in row._mapping.items():
                    if value == TELEGRAM_ID or _traces(value, needles):
                        found.append(f"{table.name}.{column}={value!r}")
    return found


async def _park(bot_env: RunningBot, payloads: list[dict[str, Any]]) -> None:
    async with bot_env.runtime.sessions() as s, s.begin():
        now = bot_env.runtime.now()
        await inbox_store.store_updates(session=s, payloads=payloads, now=now)
        for p in payloads:
            await inbox_store.mark_failed(
                session=s, update_id=p["update_id"], attempts=5, error="E", now=now, retry_at=None
            )


async def test_forget_leaves_no_trace_and_keeps_the_station_counts(bot_env: RunningBot) -> None:
    user, station_id, _ = await _build_history(bot_env)
    me = {"id": TELEGRAM_ID, "is_bot": False, "first_name": FIRST_NAME, "username": USERNAME}
    other = {"id": 555001, "is_bot": False, "first_name": "Other"}
    chat = {"id": 555001, "type": "private", "first_name": "Other"}
    await _park(
        bot_env,
        [
            # One of the user's own updates that kept failing…
            {"update_id": 9_000_001, "message": {"message_id": 1, "from": me, "text": REAL_NAME}},
            # …and someone else's, forwarding them and sharing their contact card.
            {
                "update_id": 9_000_002,
                "message": {
                    "message_id": 2,
                    "from": other,
                    "chat": chat,
                    "forward_origin": {"type": "user", "sender_user": me},
                    "text": "hi",
                },
            },
            {
                "update_id": 9_000_003,
                "message": {
                    "message_id": 3,
                    "from": other,
                    "chat": chat,
                    "contact": {
                        "phone_number": PHONE,
                        "first_name": REAL_NAME,
                        "user_id": me["id"],
                    },
                },
            },
        ],
    )
    old = await informant_of(bot_env, user)
    assert old is not None and old.id is not None
    async with bot_env.runtime.sessions() as s:
        shares_before = (
            await s.execute(
                select(func.count())
                .select_from(ShareEvent)
                .where(ShareEvent.station_id == station_id)
            )
        ).scalar_one()
        person_id = (
            await s.execute(select(Person.id).where(Person.telegram_id == TELEGRAM_ID))
        ).scalar_one()
    assert shares_before == 1
    assert await _scan(bot_env)  # the scan finds the user before /forget

    await user.command("forget")
    ask = await last(user, bot_env)
    await user.press(ask, data="FGT:yes")
    await bot_env.settle()
    assert "已删除" in (ask.text or "")

    assert await _scan(bot_env) == []
    async with bot_env.runtime.sessions() as s:
        assert await s.get(Person, person_id) is None  # nothing else pointed at it
        row = await s.get(Informant, old.id)
        assert row is not None and row.person_id is None and row.station_id == station_id
        shares_after = (
            await s.execute(
                select(func.count())
                .select_from(ShareEvent)
                .where(ShareEvent.informant_id == old.id)
            )
        ).scalar_one()
        assert shares_after == shares_before
        entries = (await s.execute(select(AuditLog))).scalars().all()
        assert not [e for e in entries if e.actor_id == person_id]
        assert not [e for e in entries if e.subject_type == "person" and e.subject_id == person_id]
        [erasure] = [e for e in entries if e.action == "privacy.forget"]
        assert erasure.actor_id is None and erasure.subject_id is None
        assert erasure.detail["inbox_deleted"] > 5 and erasure.detail["inbox_scrubbed"] == 2
        # The card and every reply the bot sent them (Bot API calls through the outbox).
        assert erasure.detail["outbox_erased"] > 5 and erasure.detail["person_deleted"]
        join_entry = next(e for e in entries if e.action == "informant.join")
        assert join_entry.actor_id is None and join_entry.subject_id == old.id
        parked = await inbox_store.get_update(session=s, update_id=9_000_002)
        assert parked is not None and parked.payload["message"]["text"] == "hi"
        assert await inbox_store.get_update(session=s, update_id=9_000_001) is None
        erased = await outbox_store.messages_to_chat(session=s, chat_id=0)
        assert len(erased) == erasure.detail["outbox_erased"]
        assert all(row["payload"] == {} for row in erased)
        assert [row["state"] for row in erased if row["kind"] == "content"] == ["sent"]


async def test_forget_of_a_station_admin_keeps_an_anonymous_person_for_their_duties(
    bot_env: RunningBot,
) -> None:
    station_id, payload = await setup_station(bot_env)
    user = bot_env.sandbox.user(FIRST_NAME, username=USERNAME, user_id=TELEGRAM_ID)
    await join(bot_env, user, payload, name=REAL_NAME, phone=PHONE)
    await grant_station_admin(bot_env, user, station_id)
    async with bot_env.runtime.sessions() as s, s.begin():
        person = (
            await s.execute(select(Person).where(Person.telegram_id == TELEGRAM_ID))
        ).scalar_one()
        await invite_service.create_invite(
            session=s,
            station_id=station_id,
            bot_username=bot_env.runtime.bot_username,
            actor_id=person.id,
            now=bot_env.runtime.now(),
        )

    await user.command("forget")
    ask = await last(user, bot_env)
    await user.press(ask, data="FGT:yes")
    await bot_env.settle()

    assert await _scan(bot_env) == []
    async with bot_env.runtime.sessions() as s:
        kept = await s.get(Person, person.id)
        assert kept is not None and kept.telegram_id == -kept.id
        assert kept.first_name is None and kept.username is None and kept.unreachable
        grants = (await s.execute(select(RoleGrant))).scalars().all()
        assert grants == []
        # The duty stays accountable to the (anonymous) person row.
        entry = (
            await s.execute(
                select(AuditLog).where(
                    AuditLog.action == "invite.create", AuditLog.actor_id == kept.id
                )
            )
        ).scalar_one_or_none()
        assert entry is not None
    await user.command("me")  # writing again makes a brand-new person
    await bot_env.settle()
    async with bot_env.runtime.sessions() as s:
        fresh = (
            await s.execute(select(Person).where(Person.telegram_id == TELEGRAM_ID))
        ).scalar_one()
        assert fresh.id != person.id
