"""`kepubot run`: start the bot."""

from __future__ import annotations

import argparse

from telegram.error import NetworkError

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
    except NetworkError as exc:
        # Start-up calls getMe and setMyCommands: no route to Telegram is a setting to fix,
        # not a crash, so one line naming the setting instead of a traceback.
        raise CliError(_unreachable(args, settings, exc)) from exc
    return 0


def _unreachable(args: argparse.Namespace, settings: Settings, exc: NetworkError) -> str:
    """Return the one-line explanation of a start that could not reach Telegram."""
    token = require_token(settings)
    detail = " ".join(exc.message.replace(token, "***").split())
    return translator(args, settings)(
        "Cannot reach Telegram at {url} ({detail}). Check telegram.base_url and the network.",
        url=settings.telegram.base_url,
        detail=detail,
    )


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot run`."""
    run = sub.add_parser(
        "run",
        help="run the bot (polling or webhook, as configured)",
        description="Run the bot until SIGTERM/SIGINT. Refuses an un-migrated database.",
    )
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    set_command(run, _run)
