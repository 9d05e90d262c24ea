"""The driver-level hot statements (``storage.bulk``) and SQLite's in-process write queue."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.sandbox.factories import NOW, make_content, make_informant, make_region_tree, make_station
from storage import inbox, shares
from storage.bulk import MAX_ROWS, BulkInsert
from storage.db import create_engine, session_factory
from storage.models import InboxUpdate, ShareEvent, table_of

_SHARES = table_of(ShareEvent)


def _share(informant_id: int, station_id: int, content_id: int, key: str) -> dict[str, Any]:
    return {
        "informant_id": informant_id,
        "station_id": station_id,
        "content_id": content_id,
        "channel": "telegram_inline",
        "target": key,
        "audience": 0,
        "audience_reported": None,
        "chat_type": "group",
        "flagged": False,
        "day": NOW.date(),
        "dedupe_key": key,
        "created_at": NOW,
    }


async def _setup(engine: AsyncEngine) -> tuple[int, int, int]:
    async with session_factory(engine)() as session, session.begin():
        await make_region_tree(session)
        station = await make_station(session)
        informant = await make_informant(session, station_id=station.id, telegram_id=501)
        item = await make_content(session)
    assert station.id and informant.id and item.id
    return informant.id, station.id, item.id


async def test_bulk_insert_stores_what_sqlalchemy_stores(engine: AsyncEngine) -> None:
    # The same row through session.execute and through BulkInsert reads back the same:
    # datetimes (aware, UTC), dates, booleans, NULLs, JSON.
    informant_id, station_id, content_id = await _setup(engine)
    factory = session_factory(engine)
    async with factory() as session, session.begin():
        await session.execute(insert(_SHARES), [_share(informant_id, station_id, content_id, "a")])
        new = await shares.insert_shares(
            session=session, rows=[_share(informant_id, station_id, content_id, "b")]
        )
        assert new == 1
    async with factory() as session:
        rows = (await session.execute(select(ShareEvent).order_by(ShareEvent.id))).scalars().all()
    by_sqlalchemy, by_bulk = (r.model_dump(exclude={"id", "dedupe_key", "target"}) for r in rows)
    assert by_bulk == by_sqlalchemy
    assert by_bulk["created_at"] == NOW and by_bulk["created_at"].tzinfo is not None
    async with factory() as session, session.begin():
        payload = {"update_id": 7, "message": {"text": "你好", "from": {"id": 501}}}
        assert await inbox.store_new_updates(session=session, payloads=[payload], now=NOW) == [7]
    async with factory() as session:
        stored = await inbox.get_update(session=session, update_id=7)
    assert stored is not None and stored.payload == payload and stored.user_id == 501
    assert stored.received_at == NOW and stored.status == "pending"


async def test_bulk_insert_skips_repeats_chunks_and_returns_the_new(engine: AsyncEngine) -> None:
    informant_id, station_id, content_id = await _setup(engine)
    factory = session_factory(engine)
    many = MAX_ROWS * 2 + 3  # three chunks
    rows = [_share(informant_id, station_id, content_id, f"k{i}") for i in range(many)]
    async with factory() as session, session.begin():
        assert await shares.insert_shares(session=session, rows=rows[:10]) == 10
        # Repeats of stored keys, and a repeat within the same statement, are skipped.
        assert await shares.insert_shares(session=session, rows=[*rows, rows[-1]]) == many - 10
        assert await shares.insert_shares(session=session, rows=[]) == 0
    async with factory() as session:
        count = (await session.execute(text("SELECT count(*) FROM share_event"))).scalar_one()
    assert count == many


async def test_each_row_keeps_its_own_values(engine: AsyncEngine) -> None:
    # A burst's rows share their timestamp object, converted once; rows with other
    # values (or an equal value in another object) are converted each.
    informant_id, station_id, content_id = await _setup(engine)
    times = [NOW, NOW, NOW + dt.timedelta(hours=1), NOW.replace(), NOW - dt.timedelta(days=1)]
    rows = [
        _share(informant_id, station_id, content_id, f"t{i}")
        | {"created_at": at, "day": at.date()}
        for i, at in enumerate(times)
    ]
    factory = session_factory(engine)
    async with factory() as session, session.begin():
        assert await shares.insert_shares(session=session, rows=rows) == len(rows)
    async with factory() as session:
        stored = (await session.execute(select(ShareEvent).order_by(ShareEvent.id))).scalars()
        assert [(s.created_at, s.day) for s in stored] == [(t, t.date()) for t in times]


async def test_bulk_statements_roll_back_with_the_session(engine: AsyncEngine) -> None:
    # They run in the session's transaction, even as its first statement (asyncpg opens
    # SQLAlchemy's transaction lazily: a statement sent straight to it would autocommit).
    factory = session_factory(engine)
    with pytest.raises(RuntimeError):
        async with factory() as session, session.begin():
            await inbox.store_new_updates(session=session, payloads=[{"update_id": 1}], now=NOW)
            raise RuntimeError("the handler failed")
    async with factory() as session:
        assert await inbox.get_update(session=session, update_id=1) is None


async def test_driver_queries_take_id_lists_of_any_length(engine: AsyncEngine) -> None:
    informant_id, station_id, content_id = await _setup(engine)
    factory = session_factory(engine)
    async with factory() as session, session.begin():
        await shares.insert_shares(
            session=session, rows=[_share(informant_id, station_id, content_id, "x")]
        )
        found = await shares.informants_by_telegram_id(
            session=session,
            telegram_ids=[501, *range(10_000, 10_400)],
            shares_since=NOW - dt.timedelta(hours=1),
        )
        assert found == {501: (informant_id, station_id, "330106", "recognised", 1)}
        later = await shares.informants_by_telegram_id(
            session=session, telegram_ids=[501], shares_since=NOW + dt.timedelta(seconds=1)
        )
        assert later[501][4] == 0  # the since bound is compared as the column stores it
        assert (await shares.informants_by_telegram_id(session=session, telegram_ids=[501]))[501][
            4
        ] == 0
        assert await shares.existing_content_ids(
            session=session, content_ids=[content_id, 999_999]
        ) == {content_id}


def test_bulk_insert_renders_one_statement_per_dialect(engine: AsyncEngine) -> None:
    insert_updates = BulkInsert(
        table_of(InboxUpdate), ["update_id", "payload"], conflict=["update_id"], returning="x"
    )
    dialect = engine.sync_engine.dialect
    if dialect.name == "postgresql":
        sql = insert_updates._sql_for("unnest", dialect)
        assert "unnest($1::BIGINT[], $2::JSON[])" in sql
    else:
        sql = insert_updates._sql_for(2, dialect)
        assert "VALUES (?, ?), (?, ?) ON CONFLICT (update_id) DO NOTHING RETURNING x" in sql


# --- SQLite: one writer at a time, queued in the event loop --------------------------------


@pytest.fixture
async def sqlite_engine(tmp_path: Any) -> Any:
    eng = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'queue.db'}")
    async with eng.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield eng
    await eng.dispose()


def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


async def test_sqlite_writers_queue_in_the_loop_not_in_the_busy_handler(
    sqlite_engine: AsyncEngine,
) -> None:
    # A writer waiting for another starts as soon as that one commits: 20 transactions
    # that each hold the lock across a loop turn finish in order, none meeting SQLite's
    # busy handler (whose sleeps would show as BEGIN taking milliseconds; here a busy
    # timeout of 0 makes any meeting an error).
    await sqlite_engine.dispose()  # connections from now on meet no busy handler
    event.listen(sqlite_engine.sync_engine, "connect", _no_busy_wait)
    factory = session_factory(sqlite_engine)
    order: list[int] = []

    async def write(n: int) -> None:
        async with factory() as session, session.begin():
            await session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            await asyncio.sleep(0)  # hold the write lock across a turn of the loop
            order.append(n)

    await asyncio.gather(*(write(n) for n in range(20)))
    assert sorted(order) == list(range(20))
    async with factory() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 20


async def test_sqlite_write_slot_is_given_back_on_rollback_and_failure(
    sqlite_engine: AsyncEngine,
) -> None:
    factory = session_factory(sqlite_engine)
    with pytest.raises(Exception, match="no such table"):
        async with factory() as session, session.begin():
            await session.execute(text("INSERT INTO missing VALUES (1)"))
    async with factory() as session, session.begin():
        await session.execute(text("INSERT INTO t VALUES (1)"))
        await session.rollback()
    async with factory() as session, session.begin():  # would wait for ever if leaked
        await session.execute(text("INSERT INTO t VALUES (2)"))
    async with factory() as session:
        assert (await session.execute(text("SELECT n FROM t"))).scalars().all() == [2]


async def test_a_session_opened_inside_another_gets_a_clear_error(tmp_path: Any) -> None:
    # Waiting for a write slot the waiter itself holds would never end: it ends in an
    # error that says what happened (and the outer transaction still commits).
    eng = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'nested.db'}", sqlite_write_wait=0.2)
    factory = session_factory(eng)
    try:
        async with factory() as outer, outer.begin():
            await outer.execute(text("CREATE TABLE t (n INTEGER)"))
            with pytest.raises(TimeoutError, match="session opened inside another"):
                async with factory() as inner, inner.begin():
                    await inner.execute(text("INSERT INTO t VALUES (1)"))
            await outer.execute(text("INSERT INTO t VALUES (2)"))
        async with factory() as session:
            assert (await session.execute(text("SELECT n FROM t"))).scalars().all() == [2]
    finally:
        await eng.dispose()


async def test_a_connection_returned_inside_a_transaction_is_rolled_back(
    sqlite_engine: AsyncEngine,
) -> None:
    # The pool skips the ROLLBACK after a commit (pool_reset_on_return=None) but still
    # rolls back one returned in the middle of a transaction, and frees the write slot.
    conn = await sqlite_engine.connect()
    await conn.execute(text("INSERT INTO t VALUES (1)"))
    raw = await conn.get_raw_connection()
    assert raw.driver_connection.in_transaction
    await conn.close()  # no commit
    async with sqlite_engine.connect() as again:
        assert not (await again.get_raw_connection()).driver_connection.in_transaction
        assert (await again.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    factory = session_factory(sqlite_engine)
    async with factory() as session, session.begin():
        await session.execute(text("INSERT INTO t VALUES (2)"))
    async with factory() as session:
        assert (await session.execute(text("SELECT n FROM t"))).scalars().all() == [2]
