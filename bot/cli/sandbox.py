"""`kepubot demo` and `kepubot chat`: try kepubot without Telegram."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli import set_command
from bot.config import Settings
from bot.i18n import N_
from bot.sandbox.chat import ROLES, run_chat, stdin_lines
from bot.sandbox.demo import run_demo


async def _demo(args: argparse.Namespace, settings: Settings) -> int:

    await run_demo(
        out_dir=Path(args.out), lang=args.lang or settings.i18n.default_locale, quiet=args.quiet
    )
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot demo`."""
    demo = sub.add_parser(
        "demo",
        help=N_("play a scripted week against the local Bot API sandbox"),
        description=N_(
            "Start the local Bot API sandbox and the real bot on a fresh SQLite "
            "database, play a scripted week in one sample region, print the transcript and write "
            "what coordinators receive to the output folder. Language: --lang before 'demo'."
        ),
    )
    demo.add_argument(
        "--out", default="demo-output", help=N_("output folder (default: demo-output)")
    )
    demo.add_argument("--quiet", action="store_true", help=N_("do not print the transcript"))
    set_command(demo, _demo)
    add_chat_parser(sub)


async def _chat(args: argparse.Namespace, settings: Settings) -> int:

    return await run_chat(
        role=args.role,
        lines=stdin_lines(),
        out=sys.stdout,
        work_dir=Path(args.dir),
        lang=args.lang or settings.i18n.default_locale,
        stars=args.stars,
    )


def add_chat_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot chat`."""
    chat = sub.add_parser(
        "chat",
        help=N_("chat with the bot in this terminal (through the local sandbox)"),
        description=N_(
            "Talk to the real bot through the local Bot API sandbox, as an informant, a "
            "station admin, a county coordinator or a content curator of a sample region. "
            "Type messages or /commands; #N presses button N (digits alone are text); :help "
            "lists :contact, :photo, :location, :quit."
        ),
    )
    chat.add_argument(
        "--as",
        dest="role",
        choices=list(ROLES),
        default="informant",
        help=N_("who you are (default: informant)"),
    )
    chat.add_argument(
        "--dir",
        default="var/chat",
        help=N_("where the chat database and received files go (default: var/chat)"),
    )
    chat.add_argument(
        "--stars",
        type=float,
        default=None,
        help=N_("the bot's Stars balance in the sandbox; turns paid broadcasts on"),
    )
    set_command(chat, _chat)
