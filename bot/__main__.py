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
from bot.cli.speech import LocalisedParser, config_error_text, pick_locale
from bot.config import ConfigError, load_settings
from bot.i18n import DEFAULT_LOCALE, N_, Translator, get_translator

CLI_MODULES = [run, db, admin, stations, content, activities, jobs, report, evaluate, sandbox]


def build_parser(t: Translator | None = None) -> argparse.ArgumentParser:
    """Build the argument parser of every subcommand, speaking the language of ``t``."""
    parser = LocalisedParser(
        prog="kepubot",
        t=t or get_translator(DEFAULT_LOCALE),
        description=N_("kepubot — the Kepu China e-station informant network bot."),
        epilog=N_(
            "Settings come from --config PATH (or $KEPUBOT_CONFIG), overridable by "
            "KEPUBOT_SECTION__KEY environment variables. See config.example.toml."
        ),
    )
    parser.add_argument("--config", metavar="PATH", help=N_("TOML settings file"))
    parser.add_argument("--lang", choices=["zh_CN", "en"], help=N_("language of command output"))
    parser.add_argument(
        "--version",
        action="version",
        version=f"kepubot {__version__}",
        help=N_("show the version and exit"),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in CLI_MODULES:
        module.add_parser(sub)
    return parser


def _is_missing_table(exc: SQLAlchemyError) -> bool:
    """Tell whether a database error means the schema was never created."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause)
    return (
        "no such table" in text
        or type(cause).__name__ == "UndefinedTableError"
        or ("relation" in text and "does not exist" in text)
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    # The language is known before parsing, so --help speaks it even with a broken config.
    lang, settings, config_error = pick_locale(argv, load_settings)
    t = get_translator(lang)
    args = build_parser(t).parse_args(argv)
    args.lang = lang
    try:
        if config_error is not None:
            raise config_error
        return asyncio.run(args.func(args, settings))
    except ConfigError as exc:
        print(config_error_text(exc, t), file=sys.stderr)
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
        if isinstance(exc, SQLAlchemyError) and _is_missing_table(exc):
            print(
                t("The database has no tables yet. Run first: kepubot db upgrade"), file=sys.stderr
            )
            return 1
        cause = getattr(exc, "orig", None) or exc
        line = f"{type(cause).__name__}: {cause}".splitlines()[0]
        print(t("error: {detail}", detail=line), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
