"""`kepubot run`: start the bot."""

from __future__ import annotations

import argparse

from bot.app import run_bot
from bot.cli import CliError, set_command, translator
from bot.config import Settings, require_token
from bot.runtime.logs import setup_logging
from bot.runtime.runner import NotMigrated


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    require_token(settings)
    setup_logging(args.log_level)
    try:
        await run_bot(settings)
    except NotMigrated as exc:
        t = translator(args, settings)
        raise CliError(t("The database is not migrated ({detail}).", detail=str(exc))) from exc
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot run`."""
    run = sub.add_parser(
        "run",
        help="run the bot (polling or webhook, as configured)",
        description="Run the bot until SIGTERM/SIGINT. Refuses an un-migrated database.",
    )
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    set_command(run, _run)
