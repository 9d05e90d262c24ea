"""Command line: parse arguments and dispatch to ``bot.cli``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from sqlalchemy.exc import SQLAlchemyError

from bot import __version__
from bot.cli import (
    CliError,
    activities,
    admin,
    content,
    db,
    evaluate,
    jobs,
    report,
    run,
    sandbox,
    stations,
)
from bot.config import ConfigError, load_settings

CLI_MODULES = [run, db, admin, stations, content, activities, jobs, report, evaluate, sandbox]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="kepubot",
        description="kepubot — the Kepu China e-station informant network bot.",
        epilog="Settings come from --config PATH (or $KEPUBOT_CONFIG), overridable by "
        "KEPUBOT_SECTION__KEY environment variables. See config.example.toml.",
    )
    parser.add_argument("--config", metavar="PATH", help="TOML settings file")
    parser.add_argument("--lang", choices=["zh_CN", "en"], help="language of command output")
    parser.add_argument("--version", action="version", version=f"kepubot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in CLI_MODULES:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
        return asyncio.run(args.func(args, settings))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except CliError as exc:
        print(str(exc), file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except (SQLAlchemyError, OSError) as exc:
        # An operator needs the cause in one line; KEPUBOT_DEBUG=1 shows the traceback.
        if os.environ.get("KEPUBOT_DEBUG"):
            logging.exception("command failed")
        cause = getattr(exc, "orig", None) or exc
        print(f"error: {type(cause).__name__}: {cause}".splitlines()[0], file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
