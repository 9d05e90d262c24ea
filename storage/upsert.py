"""Dialect-aware INSERT … ON CONFLICT helpers (SQLite and PostgreSQL share the syntax)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import dml as pg_dml
from sqlalchemy.dialects.sqlite import dml as sqlite_dml
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.visitors import InternalTraversal


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def insert_for(session: AsyncSession, table: Any) -> Any:
    """Return the dialect's ``insert`` construct for ``table`` (it has on_conflict_*)."""
    return (postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert)(table)


# SQLAlchemy compiles a dialect INSERT with ON CONFLICT anew at every execution: the
# dialects' Insert and OnConflict* classes opt out of its statement cache (their clauses
# can carry arbitrary SET expressions). ``insert_ignoring`` builds the DO NOTHING form with
# only column names as its target, which these subclasses describe to the cache in full,
# so the hot inserts (the inbox, shares, the outbox) are compiled once.


class _PgIgnore(pg_dml.OnConflictDoNothing):
    _traverse_internals = [("_columns", InternalTraversal.dp_string_list)]

    def __init__(self, columns: Sequence[str]) -> None:
        super().__init__(index_elements=list(columns))
        self._columns = list(columns)


class _SqliteIgnore(sqlite_dml.OnConflictDoNothing):
    _traverse_internals = [("_columns", InternalTraversal.dp_string_list)]

    def __init__(self, columns: Sequence[str]) -> None:
        super().__init__(index_elements=list(columns))
        self._columns = list(columns)


class _PgInsert(pg_dml.Insert):
    inherit_cache = True


class _SqliteInsert(sqlite_dml.Insert):
    inherit_cache = True


def insert_ignoring(session: AsyncSession, table: Any, columns: Sequence[str]) -> Any:
    """Return ``INSERT INTO table … ON CONFLICT (columns) DO NOTHING``, cacheable.

    Built once per dialect, table and target; ``.values()`` and ``.returning()`` return
    copies, so callers cannot change the shared one.
    """
    return _ignoring(_dialect(session), table, tuple(columns))


@functools.cache
def _ignoring(dialect: str, table: Any, columns: tuple[str, ...]) -> Any:
    if dialect == "postgresql":
        stmt: Any = _PgInsert(table)
        stmt._post_values_clause = _PgIgnore(columns)
    else:
        stmt = _SqliteInsert(table)
        stmt._post_values_clause = _SqliteIgnore(columns)
    return stmt
