"""Hot statements run on the driver's own connection, below SQLAlchemy's execution layer.

A burst of shares is a getUpdates batch of 100: 100 inbox rows and 100 share rows in one
transaction. Through ``session.execute`` each row costs SQLAlchemy's per-row parameter
processing and ``insertmanyvalues`` bookkeeping, about 40 µs; that was most of what one
burst cost the bot beyond what a do-nothing bot costs (``benchmarks/shares_bench.py``).
``BulkInsert`` sends the rows as one ``INSERT … ON CONFLICT (…) DO NOTHING RETURNING``
statement on the session's connection, so it runs inside the session's transaction:

* **SQLite** (aiosqlite): one multi-row ``VALUES`` statement per chunk, rendered once per
  row count (the driver keeps the compiled statements);
* **PostgreSQL** (asyncpg): ``INSERT … SELECT * FROM unnest($1::type[], …)``, one prepared
  statement for any number of rows.

Each value is converted by its column type's own bind processor for the dialect (the one
SQLAlchemy would apply), so what is stored is exactly what ``session.execute`` stores.

``DriverQuery`` is the same for the burst's two lookups (who the informants are, which
items exist): a statement text per dialect, its values of plain types (ints, strings), the
id list in one parameter. Nothing here fires SQLAlchemy's statement events; the hot path
of a burst alone uses it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

# SQLite allows 32,766 parameters a statement, PostgreSQL 65,535; a chunk stays well below.
MAX_PARAMETERS = 30_000
MAX_ROWS = 500


class BulkInsert:
    """``INSERT INTO table (columns) … ON CONFLICT (conflict) DO NOTHING RETURNING …``."""

    def __init__(
        self, table: Table, columns: Sequence[str], *, conflict: Sequence[str], returning: str
    ) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.conflict = tuple(conflict)
        self.returning = returning
        self.chunk = max(1, min(MAX_ROWS, MAX_PARAMETERS // len(self.columns)))
        self._sql: dict[Any, str] = {}  # row count (SQLite) or "unnest" -> statement text

    async def run(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Insert ``rows`` (each has every column); return ``returning`` of those inserted."""
        if not rows:
            return []
        connection = await session.connection()
        dialect = connection.dialect
        values = _converted(rows, self._converters(dialect))
        inserted: list[Any] = []
        for start in range(0, len(values), self.chunk):
            chunk = values[start : start + self.chunk]
            if dialect.name == "postgresql":
                columns = [list(column) for column in zip(*chunk, strict=True)]
                records = await _fetch(connection, self._sql_for("unnest", dialect), columns)
            else:
                flat = [value for row in chunk for value in row]
                records = await _fetch(connection, self._sql_for(len(chunk), dialect), flat)
            inserted.extend(record[0] for record in records)
        return inserted

    def _converters(self, dialect: Dialect) -> list[tuple[str, Callable[[Any], Any] | None]]:
        return _converters(self.table, self.columns, dialect)

    def _sql_for(self, key: int | str, dialect: Dialect) -> str:
        sql = self._sql.get(key)
        if sql is None:
            head = f"INSERT INTO {self.table.name} ({', '.join(self.columns)}) "
            if key == "unnest":
                casts = ", ".join(
                    f"${i}::{self.table.c[name].type.compile(dialect)}[]"
                    for i, name in enumerate(self.columns, start=1)
                )
                body = f"SELECT * FROM unnest({casts})"
            else:
                row = "(" + ", ".join("?" * len(self.columns)) + ")"
                body = "VALUES " + ", ".join([row] * int(key))
            tail = (
                f" ON CONFLICT ({', '.join(self.conflict)}) DO NOTHING RETURNING {self.returning}"
            )
            sql = self._sql[key] = head + body + tail
        return sql


class IdList:
    """A parameter holding a list of ids: ``IN (SELECT value FROM json_each(?1))`` on SQLite
    (the list as JSON text), ``= ANY($n)`` on PostgreSQL (an array); one statement for any
    length either way."""


class DriverQuery:
    """A read with one text per dialect, run on the session's driver connection.

    ``sqlite`` takes ``?1``, ``?2``… parameters, ``postgresql`` ``$1``…; ``params`` gives
    each one's kind: a column (its value converted as that column's type would be), or
    ``IdList``.
    Rows come back as plain values, unprocessed: keep the selected columns to ints,
    strings and None.
    """

    def __init__(self, *, sqlite: str, postgresql: str, params: Sequence[Any] = ()) -> None:
        self.sql = {"sqlite": sqlite, "postgresql": postgresql}
        self.params = tuple(params)

    async def rows(self, session: AsyncSession, *values: Any) -> list[Sequence[Any]]:
        """Run the query in the session's transaction; return its rows."""
        connection = await session.connection()
        dialect = connection.dialect
        bound = [
            self._bind(kind, value, dialect)
            for kind, value in zip(self.params, values, strict=True)
        ]
        return list(await _fetch(connection, self.sql[dialect.name], bound))

    @staticmethod
    def _bind(kind: Any, value: Any, dialect: Dialect) -> Any:
        if kind is IdList:
            ids = [int(v) for v in value]
            return ids if dialect.name == "postgresql" else json.dumps(ids)
        processor = _converters(kind.table, (kind.name,), dialect)[0][1]
        return processor(value) if processor is not None else value


async def _fetch(connection: AsyncConnection, sql: str, params: list[Any]) -> Sequence[Any]:
    """Run ``sql`` in the connection's transaction; return its rows."""
    if connection.dialect.name == "postgresql":
        # Through SQLAlchemy's asyncpg adapter, which opens the transaction lazily at the
        # first statement: one sent past it, straight to asyncpg, would autocommit.
        return (await connection.exec_driver_sql(sql, tuple(params))).all()
    # SQLite: the transaction is open once the session has its connection (BEGIN
    # IMMEDIATE, storage.db); aiosqlite runs and fetches in one hop to its thread, where
    # SQLAlchemy's adapter makes four.
    driver: Any = (await connection.get_raw_connection()).driver_connection
    return list(await driver.execute_fetchall(sql, params))


def _converted(
    rows: Sequence[Mapping[str, Any]], convert: Sequence[tuple[str, Callable[[Any], Any] | None]]
) -> list[list[Any]]:
    """Return each row's values in column order, each through its column's processor.

    The rows of a burst share their timestamps (the same ``now`` object): a value that
    is the very object the previous row had is converted once (bind processors are pure).
    """
    last: list[tuple[Any, Any]] = [(_UNSEEN, None)] * len(convert)
    values = []
    for row in rows:
        out = []
        for i, (name, fn) in enumerate(convert):
            value = row[name]
            if fn is not None:
                seen, done = last[i]
                if value is not seen:
                    done = fn(value)
                    last[i] = (value, done)
                value = done
            out.append(value)
        values.append(out)
    return values


_UNSEEN = object()


@functools.lru_cache(maxsize=32)
def _converters(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> list[tuple[str, Callable[[Any], Any] | None]]:
    """Return each column's bind processor for ``dialect`` (None: the value goes as is)."""
    return [
        (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in columns
    ]
