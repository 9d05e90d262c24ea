"""The durable inbox: no update lost, none applied twice, poison parked, order kept."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.runtime.context import KepuContext, Runtime
from bot.runtime.inbox import InboxProcessor, record_handler_error, store_and_notify
from storage import audit
from storage import inbox as inbox_store
from storage.db import create_engine, session_factory
from storage.models import AuditLog, InboxUpdate
from tests.conftest import FixedClock, make_settings
from tests.offline import OfflineRequest


class Crash(BaseException):
    """Stands in for kill -9: escapes every handler and error handler."""


def message_update(update_id: int, text: str = "hi", user: int = 42) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "text": text,
            "chat": {"id": user, "type": "private", "first_name": "U"},
            "from": {"id": user, "is_bot": False, "first_name": "U"},
        },
    }


async def build_app(
    runtime: Runtime, behaviour: dict[str, Any]
) -> Application[Any, Any, Any, Any, Any, Any]:
    """An application whose one handler records each update in the audit log."""

    async def handle(update: Update, context: KepuContext) -> None:
        text = update.effective_message.text if update.effective_message else ""
        await audit.record(
            session=context.session,
            actor_id=None,
            action="seen",
            now=context.runtime.now(),
            subject_id=update.update_id,
            detail={"text": text},
        )
        if text == "boom":
            raise ValueError("handler bug")
        if text == "crash" and behaviour.get("crash", True):
            raise Crash()
        behaviour.setdefault("order", []).append(update.update_id)

    app = (
        ApplicationBuilder()
        .token("1:TEST")
        .updater(None)
        .request(OfflineRequest())
        .get_updates_request(OfflineRequest())
        .context_types(ContextTypes(context=KepuContext))
        .build()
    )
    app.bot_data["runtime"] = runtime
    app.add_handler(TypeHandler(Update, handle))
    app.add_error_handler(record_handler_error)
    await app.initialize()
    return app


async def seen(runtime: Runtime) -> dict[int, int]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(AuditLog.subject_id, func.count()).group_by(AuditLog.subject_id)
        )
        return {int(k): int(v) for k, v in rows.all()}


async def statuses(runtime: Runtime) -> dict[int, str]:
    async with runtime.sessions() as session:
        rows = await session.execute(select(InboxUpdate.update_id, InboxUpdate.status))
        return dict(rows.all())


async def test_redelivered_update_is_applied_once(runtime: Runtime) -> None:
    processor = InboxProcessor(await build_app(runtime, {}))
    assert await store_and_notify(runtime, processor, [message_update(1), message_update(2)]) == 2
    assert (await processor.drain()).done == 2
    # Telegram delivers the same updates again (e.g. the ack was lost).
    assert await store_and_notify(runtime, processor, [message_update(1), message_update(2)]) == 0
    assert (await processor.drain()).total == 0
    assert await seen(runtime) == {1: 1, 2: 1}


async def test_crash_between_store_and_processing_loses_nothing(
    runtime: Runtime, db_url: str, clock: FixedClock
) -> None:
    await store_and_notify(runtime, None, [message_update(i) for i in (1, 2, 3)])
    # The process dies here. A new process with a new engine starts on the same database.
    engine: AsyncEngine = create_engine(db_url)
    try:
        fresh = Runtime(
            settings=make_settings(db_url),
            engine=engine,
            sessions=session_factory(engine),
            clock=clock,
        )
        behaviour: dict[str, Any] = {}
        result = await InboxProcessor(await build_app(fresh, behaviour)).drain()
        assert result.done == 3
        assert behaviour["order"] == [1, 2, 3]
        assert await seen(fresh) == {1: 1, 2: 1, 3: 1}
    finally:
        await engine.dispose()


async def test_crash_mid_batch_rolls_back_and_replays_exactly_once(runtime: Runtime) -> None:
    behaviour: dict[str, Any] = {}
    await store_and_notify(
        runtime, None, [message_update(1), message_update(2, "crash"), message_update(3)]
    )
    try:
        await InboxProcessor(await build_app(runtime, behaviour)).drain()
    except Crash:
        pass
    else:  # pragma: no cover
        raise AssertionError("the crash did not propagate")
    # Nothing of the interrupted batch was committed: update 1's effect is gone too.
    assert await seen(runtime) == {}
    assert set((await statuses(runtime)).values()) == {"pending"}
    behaviour["crash"] = False  # the restarted process no longer crashes
    result = await InboxProcessor(await build_app(runtime, behaviour)).drain()
    assert result.done == 3
    assert await seen(runtime) == {1: 1, 2: 1, 3: 1}


async def test_poison_update_is_parked_and_does_not_block_others(
    runtime: Runtime, clock: FixedClock
) -> None:
    alerts: list[tuple[int, str]] = []
    processor = InboxProcessor(await build_app(runtime, {}))

    async def alert(payload: dict[str, Any], error: BaseException) -> None:
        alerts.append((payload["update_id"], str(error)))

    processor.on_parked.append(alert)
    await store_and_notify(
        runtime, processor, [message_update(1), message_update(2, "boom"), message_update(3)]
    )
    first = await processor.drain()
    assert (first.done, first.retried) == (2, 1)
    # Its savepoint was rolled back: the failed attempt left no trace.
    assert await seen(runtime) == {1: 1, 3: 1}
    attempts = runtime.settings.limits.inbox_max_attempts
    for _ in range(attempts - 1):
        assert (await processor.drain()).total == 0  # backing off: not due yet
        clock.advance(minutes=10)
        await processor.drain()
    assert (await statuses(runtime)) == {1: "done", 2: "parked", 3: "done"}
    assert alerts == [(2, "handler bug")]
    async with runtime.sessions() as session:
        row = await inbox_store.get_update(session=session, update_id=2)
    assert row is not None and row.attempts == attempts
    assert row.last_error == "ValueError: handler bug"
    await store_and_notify(runtime, processor, [message_update(4)])
    assert (await processor.drain()).done == 1


@pytest.mark.postgres
async def test_two_processes_share_the_inbox_without_double_processing(
    db_url: str, runtime: Runtime, clock: FixedClock
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several processes share one inbox on PostgreSQL")
    other_engine = create_engine(db_url)
    try:
        other = Runtime(
            settings=make_settings(db_url, limits={"inbox_batch_size": 7}),
            engine=other_engine,
            sessions=session_factory(other_engine),
            clock=clock,
        )
        runtime.settings.limits.inbox_batch_size = 7
        await store_and_notify(runtime, None, [message_update(i, user=i) for i in range(1, 101)])
        first = InboxProcessor(await build_app(runtime, {}))
        second = InboxProcessor(await build_app(other, {}))
        a, b = await asyncio.gather(first.drain(), second.drain())
    finally:
        await other_engine.dispose()
    assert a.done + b.done == 100
    assert a.done > 0 and b.done > 0  # SKIP LOCKED let both work
    assert await seen(runtime) == {i: 1 for i in range(1, 101)}


def inline_choice(update_id: int, user: int = 42) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "chosen_inline_result": {
            "result_id": f"r{update_id}",
            "query": "",
            "from": {"id": user, "is_bot": False, "first_name": "U"},
        },
    }


async def test_batch_handler_takes_its_kind_in_one_call(runtime: Runtime) -> None:
    calls: list[list[int]] = []

    async def bulk(rt: Runtime, session: Any, payloads: list[dict[str, Any]]) -> None:
        calls.append([p["update_id"] for p in payloads])
        for p in payloads:
            await audit.record(
                session=session,
                actor_id=None,
                action="bulk",
                now=rt.now(),
                subject_id=p["update_id"],
            )

    behaviour: dict[str, Any] = {}
    processor = InboxProcessor(
        await build_app(runtime, behaviour), batch_handlers={"chosen_inline_result": bulk}
    )
    await store_and_notify(
        runtime,
        processor,
        [message_update(1), inline_choice(2), inline_choice(3), message_update(4)],
    )
    # The inline results were handled in the storing transaction, in one call, and stored
    # as done; the messages wait for the processor.
    assert calls == [[2, 3]]
    async with runtime.sessions() as session:
        assert await inbox_store.count_by_status(session=session) == {"done": 2, "pending": 2}
    result = await processor.drain()
    assert result.done == 2
    assert behaviour["order"] == [1, 4]  # the rest went through PTB, in order
    assert await seen(runtime) == {1: 1, 2: 1, 3: 1, 4: 1}
    # Telegram delivering an inline result again (with a new one) changes nothing twice.
    assert await store_and_notify(runtime, processor, [inline_choice(3), inline_choice(5)]) == 1
    assert calls == [[2, 3], [5]]
    assert await seen(runtime) == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}


async def test_failing_batch_handler_falls_back_to_one_by_one(runtime: Runtime) -> None:
    async def broken(rt: Runtime, session: Any, payloads: list[dict[str, Any]]) -> None:
        await audit.record(
            session=session, actor_id=None, action="half", now=rt.now(), subject_id=999
        )
        raise RuntimeError("bulk bug")

    behaviour: dict[str, Any] = {}
    processor = InboxProcessor(
        await build_app(runtime, behaviour), batch_handlers={"chosen_inline_result": broken}
    )
    await store_and_notify(runtime, processor, [inline_choice(5), inline_choice(6)])
    result = await processor.drain()
    assert result.done == 2
    assert behaviour["order"] == [5, 6]  # handled by the ordinary per-update path
    assert await seen(runtime) == {5: 1, 6: 1}  # the failed bulk attempt left nothing


async def test_processor_survives_a_database_error_and_carries_on(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    processor = InboxProcessor(await build_app(runtime, {}))
    real_claim = inbox_store.claim_pending
    failures = []

    async def flaky_claim(**kwargs: Any) -> Any:
        if not failures:
            failures.append(1)
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        return await real_claim(**kwargs)

    monkeypatch.setattr(inbox_store, "claim_pending", flaky_claim)
    sleeps: list[float] = []
    monkeypatch.setattr(processor, "_sleep", lambda s: _record(sleeps, s))
    await store_and_notify(runtime, processor, [message_update(1), message_update(2)])
    task = asyncio.create_task(processor.run(idle_poll=0.05))
    for _ in range(200):
        if set((await statuses(runtime)).values()) == {"done"}:
            break
        await asyncio.sleep(0.01)
    processor.stop()
    await asyncio.wait_for(task, 5)
    assert failures == [1] and sleeps == [0.5]  # backed off once, then went on
    assert await seen(runtime) == {1: 1, 2: 1}


async def _record(sleeps: list[float], seconds: float) -> None:
    sleeps.append(seconds)


@pytest.mark.postgres
async def test_connections_the_server_dropped_cost_one_try_and_are_replaced(
    runtime: Runtime, db_url: str
) -> None:
    # No ping before checkout (storage.db): a dropped connection fails one transaction,
    # its caller tries again (as the webhook's sender, Telegram, does after a 500), and the
    # pool replaces the dead connections instead of failing every later call.
    if not db_url.startswith("postgresql"):
        pytest.skip("the server drops connections on PostgreSQL")
    await store_and_notify(runtime, None, [message_update(1)])  # a pooled connection
    admin = create_engine(db_url)
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    finally:
        await admin.dispose()
    failures = 0
    for update_id in (2, 3, 4):
        for _ in range(2):
            try:
                await store_and_notify(runtime, None, [message_update(update_id)])
                break
            except Exception:
                failures += 1
    assert failures <= 1  # at most the one call on the dead connection
    async with runtime.sessions() as session:
        assert await inbox_store.count_by_status(session=session) == {"pending": 4}
