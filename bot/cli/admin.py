"""`kepubot admin`: bootstrap roles from the command line."""

from __future__ import annotations

import argparse

from bot.cli import CliError, cli_session, set_command, translator
from bot.config import Settings
from bot.core.error_text import error_text as domain_text
from bot.services import roles as role_service
from storage import roles as roles_store

ROLE_CHOICES = ["admin", "curator", "coordinator", "station-admin"]


async def _grant(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    try:
        async with cli_session(settings) as (runtime, session):
            result = await role_service.grant(
                session=session,
                telegram_id=args.telegram_id,
                role=args.role,
                region_code=args.region,
                station_id=args.station,
                now=runtime.now(),
            )
    except role_service.RoleError as exc:
        raise CliError(domain_text(exc, t)) from exc
    scope = args.region or (f"station {args.station}" if args.station else "-")
    if result.changed:
        print(
            t(
                "Granted {role} to {telegram_id} (scope: {scope}).",
                role=args.role,
                telegram_id=args.telegram_id,
                scope=scope,
            )
        )
    else:
        print(
            t(
                "{telegram_id} already holds {role} (scope: {scope}).",
                role=args.role,
                telegram_id=args.telegram_id,
                scope=scope,
            )
        )
    return 0


async def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    try:
        async with cli_session(settings) as (runtime, session):
            result = await role_service.revoke(
                session=session,
                telegram_id=args.telegram_id,
                role=args.role,
                region_code=args.region,
                station_id=args.station,
                now=runtime.now(),
            )
    except role_service.RoleError as exc:
        raise CliError(domain_text(exc, t)) from exc
    if not result.changed:
        print(
            t(
                "{telegram_id} does not hold {role} with that scope.",
                role=args.role,
                telegram_id=args.telegram_id,
            )
        )
        return 1
    print(t("Revoked {role} from {telegram_id}.", role=args.role, telegram_id=args.telegram_id))
    return 0


async def _list(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    async with cli_session(settings) as (_runtime, session):
        grants = await roles_store.list_grants(session=session)
    if not grants:
        print(t("No roles granted yet."))
        return 0
    for grant, person in grants:
        scope = grant.region_code or (f"station:{grant.station_id}" if grant.station_id else "-")
        name = person.first_name or ""
        print(f"{person.telegram_id}\t{grant.role}\t{scope}\t{name}")
    return 0


def _scope_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--telegram-id", type=int, required=True, help="the user's Telegram id")
    parser.add_argument("--role", choices=ROLE_CHOICES, required=True, help="the role")
    parser.add_argument("--region", metavar="CODE", help="6-digit region code (coordinators)")
    parser.add_argument("--station", metavar="ID", type=int, help="station id (station-admin)")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot admin …`."""
    admin = sub.add_parser(
        "admin",
        help="grant, revoke and list roles",
        description="Grant, revoke and list roles (audited).",
    )
    admin_sub = admin.add_subparsers(dest="admin_command", required=True, metavar="COMMAND")
    grant = admin_sub.add_parser("grant", help="grant a role to a Telegram user")
    _scope_args(grant)
    set_command(grant, _grant)
    revoke = admin_sub.add_parser("revoke", help="revoke a role")
    _scope_args(revoke)
    set_command(revoke, _revoke)
    lst = admin_sub.add_parser("list", help="list every role granted")
    set_command(lst, _list)
