"""Engine and sessions. Nothing is built at import time; callers pass the URL in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import any_, bindparam, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool


def _sqlite_setup(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions, so SAVEPOINT works (see the
        # SQLAlchemy pysqlite notes); WAL + NORMAL batches fsyncs.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: two writers then queue on busy_timeout
        # instead of one failing with "database is locked" when it upgrades a read lock.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _prepare_sqlite_path(url: str) -> None:
    database = make_url(url).database or ""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create an async engine for ``url`` (sqlite+aiosqlite or postgresql+asyncpg)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_path(url)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        # No ping before each checkout: it costs three round trips a transaction (BEGIN, a
        # ping, ROLLBACK) on the hot paths (webhook stores, shared send-cap takes). A
        # connection the server dropped fails its one transaction instead, which every
        # caller retries (the webhook answers 500 and Telegram sends again, the processor
        # and the sender try again), and the pool then replaces every older connection.
        kwargs["pool_size"] = 10
        kwargs["max_overflow"] = 10
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _sqlite_setup(engine)
    return engine


def create_nullpool_engine(url: str) -> AsyncEngine:
    """Create an engine without pooling (short-lived CLI commands, migrations)."""
    engine = create_async_engine(url, poolclass=NullPool)
    if make_url(url).get_backend_name() == "sqlite":
        _prepare_sqlite_path(url)
        _sqlite_setup(engine)
    return engine


def session_factory(
    engine: AsyncEngine, *, after_commit: Callable[[Session], None] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Return the session factory for ``engine``; objects stay usable after commit.

    ``after_commit`` runs after each committed transaction of the factory's sessions (not
    savepoints): e.g. to wake the outbox sender once what it must send is visible.
    """
    if after_commit is None:
        return async_sessionmaker(engine, expire_on_commit=False)

    class CommitHookSession(Session):
        """A session class of this factory alone, so the hook never leaks to others."""

    event.listen(CommitHookSession, "after_commit", after_commit)
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=CommitHookSession)


@asynccontextmanager
async def transaction(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """Open a session, commit on success, roll back on error."""
    async with factory() as session, session.begin():
        yield session


def is_postgres(engine_or_session: AsyncEngine | AsyncSession) -> bool:
    """Tell whether the backend is PostgreSQL."""
    bind = engine_or_session.bind if isinstance(engine_or_session, AsyncSession) else None
    engine = bind if bind is not None else engine_or_session
    return engine.dialect.name == "postgresql"  # type: ignore[union-attr]


def rowcount(result: Result[Any]) -> int:
    """Return ``result.rowcount`` of an executed UPDATE or DELETE.

    ``AsyncSession.execute`` is typed to return a plain ``Result``; for DML it is the
    ``CursorResult`` that carries ``rowcount``.
    """
    return cast(CursorResult[Any], result).rowcount


def among(session: AsyncSession, column: Any, values: Sequence[Any]) -> Any:
    """Return ``column IN (values)`` for one statement whatever the number of values.

    ``IN`` renders one placeholder per value, so each list length is its own statement: on
    PostgreSQL its own prepared statement and plan, and a hot query called with lists of
    1 to 100 ids crowds the driver's statement cache (100 a connection) and is planned
    again and again. There it is ``column = ANY(:array)`` instead, one statement for any
    length; SQLite keeps ``IN``.
    """
    if is_postgres(session):
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))
