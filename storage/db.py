"""Engine and sessions. Nothing is built at import time; callers pass the URL in."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_only


class _WriteQueue:
    """SQLite's one writer at a time, queued in this process's event loop.

    Every SQLite transaction begins with BEGIN IMMEDIATE: it takes the write lock. A
    second writer that finds it taken waits in SQLite's busy handler, which sleeps in steps
    of up to 100 ms whatever the holder has left to do: under a flood of shares, the
    sender's and the jobs' BEGINs slept 1.4-1.9 s per 20,000 updates behind the poller's
    stores. Here a writer waits for an ``asyncio.Lock`` instead, and starts as soon
    as the one before it commits or rolls back. Other processes (the CLI, a second bot on
    the same file) still meet ``busy_timeout``.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._held: dict[int, asyncio.Lock] = {}  # id(DBAPI connection) -> the lock it holds

    def acquire(self, dbapi_connection: Any) -> None:
        """Wait (in the connection's greenlet) until this connection may write."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        try:
            await_only(asyncio.wait_for(lock.acquire(), self.timeout))
        except TimeoutError:
            raise TimeoutError(
                f"no SQLite write slot within {self.timeout:g} s: a transaction of this "
                "process holds it (a session opened inside another one?)"
            ) from None
        self._held[id(dbapi_connection)] = lock

    def release(self, dbapi_connection: Any) -> None:
        """Let the next writer in, if this connection held the slot."""
        lock = self._held.pop(id(dbapi_connection), None)
        if lock is not None:
            lock.release()


def _dbapi_of(connection: Any) -> Any:
    """Return the DBAPI connection behind a pool fairy (or the connection itself)."""
    return getattr(connection, "dbapi_connection", connection)


def _sqlite_setup(engine: AsyncEngine, *, timeout: float = 30.0) -> None:
    sync_engine = engine.sync_engine
    queue = _WriteQueue(timeout)

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
        # IMMEDIATE takes the write lock up front: two writers then queue instead of one
        # failing with "database is locked" when it upgrades a read lock.
        dbapi_conn = _dbapi_of(conn.connection)
        queue.acquire(dbapi_conn)
        try:
            # Straight to aiosqlite: one hand-off to its thread, where SQLAlchemy's
            # cursor makes three (open, execute, close) for a statement with no rows.
            await_only(conn.connection.driver_connection.execute_fetchall("BEGIN IMMEDIATE"))
        except BaseException:
            queue.release(dbapi_conn)
            raise

    # The slot is given back once COMMIT or ROLLBACK has run (the connection events fire
    # before it), and whenever the pool drops or takes back a connection.
    dialect: Any = sync_engine.dialect
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    def _commit(connection: Any) -> None:
        try:
            do_commit(connection)
        finally:
            queue.release(_dbapi_of(connection))

    def _rollback(connection: Any) -> None:
        try:
            do_rollback(connection)
        finally:
            queue.release(_dbapi_of(connection))

    dialect.do_commit, dialect.do_rollback = _commit, _rollback

    @event.listens_for(sync_engine, "reset")
    def _on_reset(dbapi_conn: Any, _record: Any, state: Any) -> None:
        # With pool_reset_on_return=None (create_engine), the pool's own rollback.
        if state.asyncio_safe and dbapi_conn.driver_connection.in_transaction:
            dbapi_conn.rollback()

    for name in ("checkin", "close", "invalidate", "soft_invalidate"):
        event.listen(sync_engine, name, lambda dbapi_conn, *_: queue.release(dbapi_conn))


def _prepare_sqlite_path(url: str) -> None:
    database = make_url(url).database or ""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, *, echo: bool = False, sqlite_write_wait: float = 30.0) -> AsyncEngine:
    """Create an async engine for ``url`` (sqlite+aiosqlite or postgresql+asyncpg).

    ``sqlite_write_wait``: how long a SQLite transaction waits for this process's write
    slot before it fails (``_WriteQueue``).
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_path(url)
        kwargs["connect_args"] = {"timeout": 30}
        # A connection goes back to the pool rolled back only if it is still in a
        # transaction (``_sqlite_setup``), not after every commit: on aiosqlite even an
        # empty ROLLBACK is a hand-off to the connection's thread and back.
        kwargs["pool_reset_on_return"] = None
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
        _sqlite_setup(engine, timeout=sqlite_write_wait)
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
