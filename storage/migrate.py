"""Run Alembic migrations programmatically and tell whether a database is up to date."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """Build the Alembic configuration without an ini file."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revisions() -> tuple[str, ...]:
    """Return the newest migration id(s), sorted."""
    return tuple(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))


def head_revision() -> str:
    """Return the newest migration id(s) as one string (``a+b`` while branches are open)."""
    return "+".join(head_revisions())


def _current(connection: Connection) -> tuple[str, ...]:
    return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


async def current_revisions(engine: AsyncEngine) -> tuple[str, ...]:
    """Return the revision(s) the database is at (empty if never migrated)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def current_revision(engine: AsyncEngine) -> str | None:
    """Return the database revision as one string, None if never migrated."""
    heads = await current_revisions(engine)
    return "+".join(heads) if heads else None


async def _run(engine: AsyncEngine, action: str, revision: str) -> None:
    def run(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        getattr(command, action)(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> str | None:
    """Upgrade the database to ``revision`` (every head by default); return where it ends."""
    await _run(engine, "upgrade", "heads" if revision == "head" else revision)
    return await current_revision(engine)


async def downgrade(engine: AsyncEngine, revision: str) -> str | None:
    """Downgrade the database to ``revision``."""
    await _run(engine, "downgrade", revision)
    return await current_revision(engine)


async def is_up_to_date(engine: AsyncEngine) -> bool:
    """Tell whether the database is at the newest revision(s)."""
    return await current_revisions(engine) == head_revisions()
