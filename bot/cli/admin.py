"""`kepubot admin`: bootstrap roles from the command line."""

from __future__ import annotations

import argparse

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import CliError, cli_session, set_command, translator
from bot.cli.speech import COORDINATOR_NAMES, role_name
from bot.config import Settings
from bot.core.error_text import error_text as domain_text
from bot.i18n import N_, Translator
from bot.services import roles as role_service
from storage import regions as region_store
from storage import roles as roles_store
from storage.models import Station

ROLE_CHOICES = ["admin", "curator", "coordinator", "station-admin"]


async def _scope(
    session: AsyncSession, t: Translator, region_code: str | None, station_id: int | None
) -> tuple[str, str | None]:
    """Return the scope as a person reads it (a region's or station's name) and its level."""
    if region_code:
        region = await region_store.get_region(session=session, code=region_code)
        if region is None:
            return region_code, None
        return region.name, region.level
    if station_id:
        station = await session.get(Station, station_id)
        return (station.name if station else t("station {id}", id=station_id)), None
    return t("everywhere"), None


def _role(role: str, level: str | None, t: Translator) -> str:
    """Return a role's name; a coordinator's says the level (县级/市级/省级科协)."""
    if role == "coordinator" and level in COORDINATOR_NAMES:
        return t(COORDINATOR_NAMES[level])
    return role_name(role, t)


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
            scope, level = await _scope(session, t, args.region, args.station)
    except role_service.RoleError as exc:
        raise CliError(domain_text(exc, t)) from exc
    role = _role(args.role, level, t)
    if result.changed:
        print(
            t(
                "Granted {role} to {telegram_id} (scope: {scope}).",
                role=role,
                telegram_id=args.telegram_id,
                scope=scope,
            )
        )
    else:
        print(
            t(
                "{telegram_id} already holds {role} (scope: {scope}).",
                role=role,
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
                role=role_name(args.role, t),
                telegram_id=args.telegram_id,
            )
        )
        return 1
    print(
        t(
            "Revoked {role} from {telegram_id}.",
            role=role_name(args.role, t),
            telegram_id=args.telegram_id,
        )
    )
    return 0


async def _list(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    async with cli_session(settings) as (_runtime, session):
        grants = await roles_store.list_grants(session=session)
        rows = []
        for grant, person in grants:
            scope, level = await _scope(session, t, grant.region_code, grant.station_id)
            if grant.region_code and scope != grant.region_code:
                scope = t("{name} ({code})", name=scope, code=grant.region_code)
            rows.append((person, _role(grant.role, level, t), scope))
    if not rows:
        print(t("No roles granted yet."))
        return 0
    for person, role, scope in rows:
        print(f"{person.telegram_id}\t{role}\t{scope}\t{person.first_name or ''}")
    return 0


def _scope_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--telegram-id", type=int, required=True, help=N_("the user's Telegram id")
    )
    parser.add_argument("--role", choices=ROLE_CHOICES, required=True, help=N_("the role"))
    parser.add_argument("--region", metavar="CODE", help=N_("6-digit region code (coordinators)"))
    parser.add_argument("--station", metavar="ID", type=int, help=N_("station id (station-admin)"))


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot admin …`."""
    admin = sub.add_parser(
        "admin",
        help=N_("grant, revoke and list roles"),
        description=N_("Grant, revoke and list roles (audited)."),
    )
    admin_sub = admin.add_subparsers(dest="admin_command", required=True, metavar="COMMAND")
    grant = admin_sub.add_parser("grant", help=N_("grant a role to a Telegram user"))
    _scope_args(grant)
    set_command(grant, _grant)
    revoke = admin_sub.add_parser("revoke", help=N_("revoke a role"))
    _scope_args(revoke)
    set_command(revoke, _revoke)
    lst = admin_sub.add_parser("list", help=N_("list every role granted"))
    set_command(lst, _list)
