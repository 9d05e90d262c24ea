"""`kepubot station invite ID`: make, list and revoke a station's invite links."""

from __future__ import annotations

import argparse

from bot.cli import CliError, cli_session, positive_int, set_command, translator
from bot.config import Settings
from bot.core.error_text import error_text as domain_text
from bot.i18n import N_, Translator
from bot.services import invites as invite_service

STATUS_NAMES = {
    "active": N_("active"),
    "revoked": N_("revoked"),
    "expired": N_("expired"),
    "used_up": N_("used up"),
}


def bot_username(settings: Settings, t: Translator) -> str:
    """Return the bot's username for t.me links (telegram.bot_username in the settings)."""
    name = settings.telegram.bot_username
    if not name:
        raise CliError(
            t(
                "Set telegram.bot_username (or KEPUBOT_TELEGRAM__BOT_USERNAME) so I "
                "can build t.me links."
            )
        )
    return name.lstrip("@")


async def _invite(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    username = bot_username(settings, t)
    try:
        async with cli_session(settings) as (runtime, session):
            if args.list:
                rows = await invite_service.list_invites(
                    session=session, station_id=args.station_id, bot_username=username
                )
                now = runtime.now()
                if not rows:
                    print(t("Station {id} has no invite links yet.", id=args.station_id))
                for info in rows:
                    limit = str(info.max_uses) if info.max_uses else "∞"
                    expires = info.expires_at.isoformat() if info.expires_at else "-"
                    status = t(STATUS_NAMES[info.status(now)])
                    print(f"{info.link}\t{status}\t{info.uses}/{limit}\t{expires}")
                return 0
            if args.revoke:
                await invite_service.revoke_invite(
                    session=session,
                    payload=args.revoke.rsplit("start=", 1)[-1],
                    actor_id=None,
                    now=runtime.now(),
                    station_id=args.station_id,
                )
                print(t("Revoked the invite link {payload}.", payload=args.revoke))
                return 0
            info = await invite_service.create_invite(
                session=session,
                station_id=args.station_id,
                bot_username=username,
                actor_id=None,
                now=runtime.now(),
                expires_days=args.expires_days,
                max_uses=args.max_uses,
            )
    except invite_service.InviteError as exc:
        raise CliError(domain_text(exc, t, cli=True)) from exc
    print(info.link)
    return 0


def add_to(station_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot station invite …` to the `station` command group."""
    parser = station_sub.add_parser(
        "invite",
        help=N_("make, list or revoke a station's invite links"),
        description=N_(
            "Make a new invite link for a recognised station and print it "
            "(https://t.me/<bot>?start=<payload>); or list / revoke its links."
        ),
    )
    parser.add_argument("station_id", metavar="ID", type=int, help=N_("station id"))
    parser.add_argument(
        "--expires-days",
        metavar="N",
        type=positive_int,
        help=N_("the link stops working after N days"),
    )
    parser.add_argument(
        "--max-uses", metavar="N", type=positive_int, help=N_("the link works for N registrations")
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--revoke", metavar="PAYLOAD", help=N_("revoke the link with this payload")
    )
    action.add_argument("--list", action="store_true", help=N_("list the station's links"))
    set_command(parser, _invite)
