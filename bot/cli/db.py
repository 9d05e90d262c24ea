"""`kepubot db`: migrations."""

from __future__ import annotations

import argparse

from bot.cli import cli_runtime, set_command, translator
from bot.config import Settings
from bot.i18n import N_
from storage.migrate import current_revision, downgrade, head_revision, upgrade


async def _upgrade(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    async with cli_runtime(settings) as runtime:
        before = await current_revision(runtime.engine)
        after = await upgrade(runtime.engine, args.revision)
    if before == after:
        print(t("Database already at revision {revision}.", revision=after))
    else:
        print(t("Database upgraded from {before} to {after}.", before=before or "-", after=after))
    return 0


async def _downgrade(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    async with cli_runtime(settings) as runtime:
        after = await downgrade(runtime.engine, args.revision)
    print(t("Database downgraded to {revision}.", revision=after or "-"))
    return 0


async def _current(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    async with cli_runtime(settings) as runtime:
        current = await current_revision(runtime.engine)
    head = head_revision()
    print(t("Database revision: {current} (newest: {head}).", current=current or "-", head=head))
    return 0 if current == head else 1


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot db …`."""
    db = sub.add_parser(
        "db", help=N_("database migrations"), description=N_("Database migrations.")
    )
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    up = db_sub.add_parser("upgrade", help=N_("apply migrations (to the newest by default)"))
    up.add_argument("revision", nargs="?", default="heads", help=N_("target revision (heads)"))
    set_command(up, _upgrade)
    down = db_sub.add_parser("downgrade", help=N_("revert migrations to REVISION"))
    down.add_argument("revision", help=N_("target revision, e.g. base"))
    set_command(down, _downgrade)
    cur = db_sub.add_parser("current", help=N_("show the revision; exit 1 if not the newest"))
    set_command(cur, _current)
