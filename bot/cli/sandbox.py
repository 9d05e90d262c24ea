"""`kepubot demo` and `kepubot chat`: try kepubot without Telegram."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli import set_command
from bot.config import Settings


async def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.sandbox.demo import run_demo

    await run_demo(out_dir=Path(args.out), lang=args.lang or settings.i18n.default_locale,
                   quiet=args.quiet)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot demo`."""
    demo = sub.add_parser(
        "demo", help="play a scripted week against the local Bot API sandbox",
        description="Start the local Bot API sandbox and the real bot on a fresh SQLite "
        "database, play a scripted week in one sample region, print the transcript and write "
        "what coordinators receive to the output folder. Language: --lang before 'demo'.",
    )
    demo.add_argument("--out", default="demo-output", help="output folder (default: demo-output)")
    demo.add_argument("--quiet", action="store_true", help="do not print the transcript")
    set_command(demo, _demo)
