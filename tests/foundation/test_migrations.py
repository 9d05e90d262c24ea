"""Migrations: up and down on both backends, and models in sync with them."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from bot.runtime.context import Runtime
from bot.runtime.runner import NotMigrated, ensure_migrated
from storage.db import create_nullpool_engine, session_factory
from storage.migrate import current_revision, downgrade, head_revision, upgrade
from tests.conftest import make_settings


async def test_database_is_at_head_with_every_table(engine: AsyncEngine) -> None:
    assert await current_revision(engine) == head_revision()
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(SQLModel.metadata.tables) <= tables


async def test_models_match_migrations(engine: AsyncEngine) -> None:
    def diff(connection: object) -> list[object]:
        ctx = MigrationContext.configure(connection, opts={"compare_type": False})  # type: ignore[arg-type]
        return compare_metadata(ctx, SQLModel.metadata)

    async with engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_down_to_base_and_up_again(engine: AsyncEngine) -> None:
    assert await downgrade(engine, "base") is None
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert not set(SQLModel.metadata.tables) & tables
    assert await upgrade(engine) == head_revision()


async def test_run_refuses_unmigrated_database(tmp_path: object) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/empty.db"
    engine = create_nullpool_engine(url)
    runtime = Runtime(settings=make_settings(url), engine=engine, sessions=session_factory(engine))
    try:
        await ensure_migrated(runtime)
    except NotMigrated as exc:
        assert "kepubot db upgrade" in str(exc)
    else:  # pragma: no cover - the assertion below explains
        raise AssertionError("an empty database was accepted")
    finally:
        await engine.dispose()


async def test_privacy_1_backfills_the_sender_of_stored_updates(engine: AsyncEngine) -> None:
    await downgrade(engine, "0001")
    inbox = sa.table(
        "inbox_update",
        sa.column("update_id", sa.BigInteger()),
        sa.column("payload", sa.JSON()),
        sa.column("status", sa.String()),
        sa.column("attempts", sa.Integer()),
        sa.column("received_at", sa.DateTime(timezone=True)),
    )
    sender = {"id": 4242, "is_bot": False, "first_name": "A"}
    payloads = [
        {"update_id": 1, "message": {"message_id": 1, "from": sender, "text": "hi"}},
        {"update_id": 2, "callback_query": {"id": "q", "from": sender, "data": "x"}},
        {"update_id": 3, "channel_post": {"message_id": 1, "chat": {"id": -100}}},
    ]
    when = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    async with engine.begin() as conn:
        await conn.execute(
            inbox.insert(),
            [
                {
                    "update_id": p["update_id"],
                    "payload": p,
                    "status": "done",
                    "attempts": 0,
                    # SQLite stores naive UTC (storage.types.UTCDateTime does the same).
                    "received_at": when
                    if conn.dialect.name != "sqlite"
                    else when.replace(tzinfo=None),
                }
                for p in payloads
            ],
        )
    assert await upgrade(engine) == head_revision()
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT update_id, user_id FROM inbox_update"))).all()
    assert sorted(tuple(r) for r in rows) == [(1, 4242), (2, 4242), (3, None)]
