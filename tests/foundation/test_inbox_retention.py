"""Raw updates: retention of processed and parked rows, the sender column, erasure."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import ConfigError
from bot.runtime.context import Runtime
from bot.runtime.inbox import purge_inbox
from storage import dialogs as dialog_store
from storage import inbox as inbox_store
from storage import outbox as outbox_store
from storage.db import session_factory
from storage.outbox import NewMessage
from tests.conftest import FIXED_NOW, FixedClock, make_settings

ME = {"id": 4242, "is_bot": False, "first_name": "Me"}


def _message(update_id: int, sender: dict[str, Any] = ME, **extra: Any) -> dict[str, Any]:
    chat = {"id": sender["id"], "type": "private", "first_name": sender["first_name"]}
    body = {"message_id": update_id, "date": 1, "chat": chat, "from": sender, **extra}
    return {"update_id": update_id, "message": body}


async def _store(
    runtime: Runtime, payload: dict[str, Any], status: str, age: dt.timedelta
) -> None:
    async with runtime.sessions() as session, session.begin():
        await inbox_store.store_updates(session=session, payloads=[payload], now=FIXED_NOW - age)
        update_id = payload["update_id"]
        if status == "done":
            await inbox_store.mark_done(
                session=session, update_ids=[update_id], now=FIXED_NOW - age
            )
        elif status == "parked":
            await inbox_store.mark_failed(
                session=session,
                update_id=update_id,
                attempts=5,
                error="E",
                now=FIXED_NOW - age,
                retry_at=None,
            )


async def _ids(runtime: Runtime) -> set[int]:
    async with runtime.sessions() as session:
        rows = [await inbox_store.get_update(session=session, update_id=i) for i in range(1, 9)]
    return {row.update_id for row in rows if row is not None}


async def test_retention_of_processed_and_parked_updates(db_url: str, engine: AsyncEngine) -> None:
    settings = make_settings(
        db_url, privacy={"processed_update_days": 3, "parked_update_days": 10}
    )
    runtime = Runtime(
        settings=settings, engine=engine, sessions=session_factory(engine), clock=FixedClock()
    )
    days = dt.timedelta(days=1)
    await _store(runtime, _message(1), "done", 4 * days)  # past 3 days: purged
    await _store(runtime, _message(2), "done", 2 * days)  # kept
    await _store(runtime, _message(3), "parked", 11 * days)  # past 10 days: purged
    await _store(runtime, _message(4), "parked", 9 * days)  # kept
    await _store(runtime, _message(5), "pending", 40 * days)  # never purged: still to do
    assert await purge_inbox(runtime) == {"done": 1, "parked": 1, "replies": 0, "dialogs": 0}
    assert await _ids(runtime) == {2, 4, 5}
    assert await purge_inbox(runtime) == {"done": 0, "parked": 0, "replies": 0, "dialogs": 0}


async def test_idle_dialogs_are_deleted_with_the_replies_retention(
    db_url: str, engine: AsyncEngine
) -> None:
    settings = make_settings(db_url, privacy={"sent_message_days": 2})
    runtime = Runtime(
        settings=settings, engine=engine, sessions=session_factory(engine), clock=FixedClock()
    )
    async with runtime.sessions() as session, session.begin():
        for user_id, age in ((1, dt.timedelta(days=3)), (2, dt.timedelta(hours=1))):
            await dialog_store.set_dialog(
                session=session,
                chat_id=user_id,
                user_id=user_id,
                flow="join",
                step="phone",
                data={"name": "张三"},
                now=FIXED_NOW - age,
            )
    assert (await purge_inbox(runtime))["dialogs"] == 1
    async with runtime.sessions() as session:
        assert await dialog_store.get_dialog(session=session, chat_id=1, user_id=1) is None
        assert await dialog_store.get_dialog(session=session, chat_id=2, user_id=2) is not None


async def test_sent_replies_are_deleted_after_their_retention(
    db_url: str, engine: AsyncEngine
) -> None:
    settings = make_settings(db_url, privacy={"sent_message_days": 2})
    runtime = Runtime(
        settings=settings, engine=engine, sessions=session_factory(engine), clock=FixedClock()
    )
    days = dt.timedelta(days=1)
    ids = {}
    async with runtime.sessions() as session, session.begin():
        for name, kind, age in (
            ("old_reply", "api", 3 * days),
            ("new_reply", "api", 1 * days),
            ("old_notice", "message", 3 * days),
            ("old_push", "content", 3 * days),  # a push's rows stay for its report
            ("old_unsent", "api", 3 * days),
        ):
            ids[name] = await outbox_store.enqueue_one(
                session=session,
                message=NewMessage(
                    chat_id=7, kind=kind, payload={}, dedupe_key=name, due_at=FIXED_NOW - age
                ),
                now=FIXED_NOW - age,
            )
            if name != "old_unsent":
                await outbox_store.mark_sent(
                    session=session,
                    message_id=ids[name],
                    now=FIXED_NOW - age,
                    telegram_message_id=1,
                    attempts=1,
                )
    assert (await purge_inbox(runtime))["replies"] == 2
    async with runtime.sessions() as session:
        left = {row.dedupe_key for row in await outbox_store.messages_of(session=session)}
    assert left == {"new_reply", "old_push", "old_unsent"}


def test_retention_defaults_and_bounds() -> None:
    privacy = make_settings("sqlite+aiosqlite:///x.db").privacy
    assert (privacy.processed_update_days, privacy.parked_update_days) == (7, 30)
    assert privacy.processed_update_retention == dt.timedelta(days=7)
    with pytest.raises(ConfigError, match="privacy.parked_update_days"):
        make_settings("sqlite+aiosqlite:///x.db", privacy={"parked_update_days": 0})


@pytest.mark.parametrize(
    ("payload", "sender"),
    [
        (_message(1), 4242),
        ({"update_id": 2, "callback_query": {"id": "q", "from": ME, "data": "x"}}, 4242),
        ({"update_id": 3, "inline_query": {"id": "q", "from": ME, "query": ""}}, 4242),
        ({"update_id": 4, "chosen_inline_result": {"result_id": "r", "from": ME}}, 4242),
        ({"update_id": 5, "my_chat_member": {"chat": {"id": -1}, "from": ME}}, 4242),
        ({"update_id": 6, "poll_answer": {"poll_id": "p", "user": ME}}, 4242),
        ({"update_id": 7, "channel_post": {"message_id": 1, "chat": {"id": -100}}}, None),
    ],
)
def test_sender_id_of_each_update_kind(payload: dict[str, Any], sender: int | None) -> None:
    assert inbox_store.sender_id(payload) == sender


def test_scrub_user_erases_them_and_keeps_the_rest() -> None:
    other = {"id": 7, "is_bot": False, "first_name": "Other"}
    payload = _message(
        1,
        other,
        forward_origin={"type": "user", "sender_user": ME},
        contact={"phone_number": "+861", "first_name": "Me", "user_id": 4242},
        text="hello",
    )
    clean, changed = inbox_store.scrub_user(payload, 4242)
    assert changed
    assert clean["message"]["forward_origin"]["sender_user"] == {"erased": True}
    assert clean["message"]["contact"] == {"erased": True}
    assert clean["message"]["from"] == other and clean["message"]["text"] == "hello"
    assert inbox_store.scrub_user(payload, 99) == (payload, False)


async def test_erasing_a_users_updates_keeps_their_newer_pending_ones(
    db_url: str, engine: AsyncEngine
) -> None:
    runtime = Runtime(
        settings=make_settings(db_url),
        engine=engine,
        sessions=session_factory(engine),
        clock=FixedClock(),
    )
    hour = dt.timedelta(hours=1)
    await _store(runtime, _message(1), "done", hour)
    await _store(runtime, _message(2), "parked", hour)
    await _store(runtime, _message(3), "pending", hour)  # the /forget being processed
    await _store(runtime, _message(4), "pending", hour)  # sent after it: still to answer
    await _store(runtime, _message(5, {"id": 7, "is_bot": False, "first_name": "O"}), "done", hour)
    forwarded = _message(
        6, {"id": 7, "is_bot": False, "first_name": "O"}, forward_origin={"sender_user": ME}
    )
    await _store(runtime, forwarded, "parked", hour)
    async with runtime.sessions() as session, session.begin():
        assert [
            r["update_id"]
            for r in await inbox_store.updates_of_user(session=session, user_id=4242)
        ] == [1, 2, 3, 4]
        deleted = await inbox_store.delete_user_updates(
            session=session, user_id=4242, through_update_id=3
        )
        scrubbed = await inbox_store.scrub_user_mentions(
            session=session, user_id=4242, through_update_id=3
        )
    assert (deleted, scrubbed) == (3, 1)
    assert await _ids(runtime) == {4, 5, 6}
    async with runtime.sessions() as session:
        row = await inbox_store.get_update(session=session, update_id=6)
        assert row is not None
        assert row.payload["message"]["forward_origin"]["sender_user"] == {"erased": True}
