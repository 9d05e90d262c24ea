"""Shared fixtures: databases on SQLite (always) and PostgreSQL (when configured), clocks."""

from __future__ import annotations

import asyncio
import atexit
import datetime as dt
import logging
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from bot.config import Settings, load_settings
from bot.runtime.context import Runtime
from storage.db import create_engine, create_nullpool_engine, session_factory
from storage.migrate import upgrade

# Property tests are judged by their examples, never by the clock: on a loaded 2-core CI
# machine a case may take longer than hypothesis's default 200 ms deadline. Derandomised,
# so every run tries the same examples (the suite is deterministic).
hypothesis_settings.register_profile("kepubot", deadline=None, derandomize=True)
hypothesis_settings.load_profile("kepubot")

PG_ENV = "KEPUBOT_TEST_DATABASE_URL"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# Monday 2026-11-23 10:00 in Shanghai: a fixed "now" for every test.
FIXED_NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: runs against PostgreSQL")
    config.addinivalue_line("markers", "slow: slower end-to-end tests")


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, now: dt.datetime = FIXED_NOW) -> None:
        self.current = now

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current

    def set(self, value: dt.datetime) -> None:
        self.current = value


def postgres_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("KEPUBOT_REQUIRE_POSTGRES"):
            pytest.fail(f"{PG_ENV} is required here but not set")
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+asyncpg://…/test)")
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate one SQLite file once; tests copy it instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def _make() -> None:
        engine = create_nullpool_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(_make())
    return path


_pg_private: dict[str, str] = {}  # configured URL -> this run's private database URL


async def _private_database(url: str) -> str:
    """Create a database of this test run's own next to the configured one.

    Several test runs (or developers) may share one PostgreSQL server: each gets its own
    database, migrated once, so no run drops or truncates another's tables.
    """
    if url in _pg_private:
        return _pg_private[url]
    base = make_url(url)
    name = f"{base.database}_run{os.getpid()}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    private = base.set(database=name).render_as_string(hide_password=False)
    engine = create_nullpool_engine(private)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    _pg_private[url] = private
    atexit.register(_drop_database, url, name)
    return private


def _drop_database(url: str, name: str) -> None:
    async def drop() -> None:
        admin = create_async_engine(
            make_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        try:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            await admin.dispose()

    try:
        asyncio.run(drop())
    except Exception:  # best effort at exit; a leftover database is harmless
        pass


async def _reset_postgres(url: str) -> str:
    private = await _private_database(url)
    engine = create_nullpool_engine(private)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()
    return private


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database on each backend."""
    if request.param == "postgres":
        return await _reset_postgres(postgres_url())
    path = tmp_path / "kepubot.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty SQLite database (end-to-end tests)."""
    path = tmp_path / "kepubot.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def make_settings(db_url: str, **sections: dict[str, object]) -> Settings:
    """Build settings for a test: no file, no environment surprises."""
    base: dict[str, dict[str, object]] = {
        "database": {"url": db_url},
        "telegram": {"token": "123456:TEST-TOKEN", "poll_timeout": 1},
        "web": {"port": 0, "public_base_url": "http://127.0.0.1:8080"},
        "limits": {
            "global_per_second": 10_000,
            "per_chat_per_second": 10_000,
            "per_group_per_minute": 100_000,
        },
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    return load_settings(None, **base)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url)
    yield eng
    await eng.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """One session in one transaction, rolled back at the end."""
    factory = session_factory(engine)
    async with factory() as sess:
        yield sess
        await sess.rollback()


@pytest.fixture
def runtime(db_url: str, engine: AsyncEngine, clock: FixedClock) -> Runtime:
    return Runtime(
        settings=make_settings(db_url),
        engine=engine,
        sessions=session_factory(engine),
        clock=clock,
    )


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Give each test the root logger it found: a command line run in a test
    (``setup_logging``) points the root handler at that test's captured stderr, which is
    closed after it, so later log lines would fail with "--- Logging error ---"."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _no_env_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keep the developer's KEPUBOT_* environment out of tests."""
    for key in list(os.environ):
        if key.startswith("KEPUBOT_") and key not in (PG_ENV, "KEPUBOT_REQUIRE_POSTGRES"):
            monkeypatch.delenv(key)
    yield


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A running Bot API sandbox without limits or faults."""
    from bot.sandbox import Sandbox

    async with Sandbox(token="123456:TEST-TOKEN", bot_username="kepubot_bot") as sb:
        yield sb


@pytest.fixture
async def bot_env(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> AsyncIterator[RunningBot]:
    """The real application running against the sandbox on a fresh SQLite database."""
    from bot.sandbox.harness import running_bot, sandbox_settings

    settings = sandbox_settings(sandbox, sqlite_url, web={"public_base_url": "http://kepu.test"})
    async with running_bot(sandbox, settings, clock=clock) as running:
        yield running


if TYPE_CHECKING:
    from bot.sandbox import Sandbox
    from bot.sandbox.harness import RunningBot
