"""Command-line subcommands. Each module exposes ``add_parser(subparsers)``."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.speech import ArgValueError
from bot.config import Settings
from bot.i18n import N_, Translator, get_translator
from bot.runtime.context import Runtime
from storage.db import create_nullpool_engine, session_factory

Command = Callable[[argparse.Namespace, Settings], Awaitable[int]]


class CliError(Exception):
    """A user error on the command line: print the message, exit with ``code``."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def translator(args: argparse.Namespace, settings: Settings) -> Translator:
    """Return the translator for CLI output (``--lang`` or the configured default)."""
    return get_translator(getattr(args, "lang", None) or settings.i18n.default_locale)


@asynccontextmanager
async def cli_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """Open a short-lived runtime for one command, and dispose of it afterwards."""
    engine = create_nullpool_engine(settings.database.url)
    try:
        yield Runtime(settings=settings, engine=engine, sessions=session_factory(engine))
    finally:
        await engine.dispose()


@asynccontextmanager
async def cli_session(settings: Settings) -> AsyncIterator[tuple[Runtime, AsyncSession]]:
    """Open a runtime and one transaction on it (committed on success)."""
    async with cli_runtime(settings) as runtime, runtime.sessions() as session:
        async with session.begin():
            yield runtime, session


def run_async(coro: Awaitable[int]) -> int:
    """Run a command coroutine."""

    async def _main() -> int:
        return await coro

    return asyncio.run(_main())


def set_command(parser: argparse.ArgumentParser, func: Command) -> None:
    """Attach the coroutine that implements a (sub)command."""
    parser.set_defaults(func=func)


def positive_int(value: str) -> int:
    """Parse a positive integer argument."""
    try:
        number = int(value)
    except ValueError as exc:
        raise ArgValueError(N_("not a whole number: {value!r}"), value=value) from exc
    if number <= 0:
        raise ArgValueError(N_("must be positive: {value!r}"), value=value)
    return number


__all__ = [
    "CliError",
    "Command",
    "cli_runtime",
    "cli_session",
    "positive_int",
    "run_async",
    "set_command",
    "translator",
]
