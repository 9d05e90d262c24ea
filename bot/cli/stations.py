"""`kepubot station …`, `kepubot stations …`, `kepubot regions …`, `kepubot audit`."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli import CliError, cli_session, invites, positive_int, set_command, translator
from bot.cli.audit_text import action_text, subject_text
from bot.config import Settings
from bot.core.error_text import code_text
from bot.i18n import N_, Translator
from bot.services import regions as region_service
from bot.services import roles as role_service
from bot.services import stations as station_service
from bot.services.access import level_of, region_prefix
from bot.services.stations import STATE_NAMES, StationError
from bot.services.stations_csv import import_stations
from storage import audit, people
from storage import regions as region_store
from storage import stations as station_store

# Region levels as people say them (县级/市级/省级).
LEVEL_NAMES = {"county": N_("county"), "city": N_("city"), "province": N_("province")}


def _line_error(
    t: Translator, line: int, column: str | None, code: str, params: dict[str, object]
) -> str:
    values = {"choices": ", ".join(station_service.Station.VENUE_TYPES), **params}
    message = code_text(f"line.{code}", {k: str(v) for k, v in values.items()}, t)
    if column:
        return t(
            "line {line}, column {column}: {message}", line=line, column=column, message=message
        )
    return t("line {line}: {message}", line=line, message=message)


def _read(path: str, t: Translator) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(
            t("Cannot read {path}: {error}", path=path, error=exc.strerror or exc), 1
        ) from exc


# --- regions ------------------------------------------------------------------------------
async def _regions_import(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    data = _read(args.file, t)
    async with cli_session(settings) as (runtime, session):
        result = await region_service.import_regions(
            session=session, data=data, now=runtime.now(), dry_run=args.dry_run
        )
    if result.errors:
        for error in result.errors:
            print(_line_error(t, error.line, error.column, error.code, dict(error.params)))
        raise CliError(t("{n} problems found; nothing was imported.", n=len(result.errors)), 1)
    if args.dry_run:
        print(
            t(
                "Check passed: {new} new regions, {same} already known. Nothing was written.",
                new=result.new,
                same=result.unchanged,
            )
        )
        return 0
    print(
        t(
            "Regions imported: {new} new, {changed} updated, {same} unchanged.",
            new=result.new,
            changed=result.changed,
            same=result.unchanged,
        )
    )
    return 0


async def _regions_list(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    async with cli_session(settings) as (_runtime, session):
        if (
            args.parent
            and await region_store.get_region(session=session, code=args.parent) is None
        ):
            raise CliError(code_text("line.unknown_region", {"code": args.parent}, t), 1)
        rows = await region_store.children(session=session, parent_code=args.parent)
        counts = await region_store.child_counts(
            session=session, parent_codes=[r.code for r in rows]
        )
    if not rows:
        print(t("No regions yet. Import them with `kepubot regions import FILE.csv`."))
        return 0
    for region in rows:
        below = counts.get(region.code, 0)
        level = t(LEVEL_NAMES[region.level]) if region.level in LEVEL_NAMES else region.level
        print(f"{region.code}\t{region.name}\t{level}" + (f"\t({below})" if below else ""))
    return 0


# --- stations -----------------------------------------------------------------------------
async def _station_add(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    try:
        async with cli_session(settings) as (runtime, session):
            station = await station_service.create_recognised(
                session=session,
                name=args.name,
                region_code=args.region,
                venue_type=station_service.venue_from_text(args.venue_type),
                address=args.address,
                external_ref=args.external_ref,
                now=runtime.now(),
            )
            if args.admin_telegram_id:
                await role_service.grant(
                    session=session,
                    telegram_id=args.admin_telegram_id,
                    role="station_admin",
                    station_id=station.id,
                    now=runtime.now(),
                )
    except StationError as exc:
        raise CliError(
            _line_error(t, 0, None, exc.code, dict(exc.params)).split(": ", 1)[-1], 1
        ) from exc
    print(t("Station #{id} {name} added as recognised.", id=station.id, name=station.name))
    if args.admin_telegram_id:
        print(t("{telegram_id} is its station admin.", telegram_id=args.admin_telegram_id))
    return 0


async def _stations_import(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    data = _read(args.file, t)
    async with cli_session(settings) as (runtime, session):
        result = await import_stations(session=session, data=data, now=runtime.now())
    if result.errors:
        for error in result.errors:
            print(_line_error(t, error.line, error.column, error.code, dict(error.params)))
        raise CliError(t("{n} problems found; nothing was imported.", n=len(result.errors)), 1)
    print(
        t(
            "Stations imported: {new} new, {changed} updated, {same} unchanged.",
            new=result.created,
            changed=result.updated,
            same=result.unchanged,
        )
    )
    return 0


async def _stations_list(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    async with cli_session(settings) as (_runtime, session):
        rows = await station_store.list_stations(
            session=session,
            statuses=[args.status] if args.status else None,
            region_prefixes=[region_prefix(args.region)] if args.region else None,
            limit=args.limit,
        )
        names = await region_store.get_regions(
            session=session, codes=sorted({s.region_code for s in rows if s.region_code})
        )
    if not rows:
        print(t("No stations match."))
        return 0
    for s in rows:
        region = names.get(s.region_code or "")
        state = t(STATE_NAMES[s.status]) if s.status in STATE_NAMES else s.status
        print(f"{s.id}\t{region.name if region else s.region_code or '-'}\t{state}\t{s.name}")
    return 0


# --- audit --------------------------------------------------------------------------------
async def _audit(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    async with cli_session(settings) as (_runtime, session):
        entries = await audit.entries(
            session=session,
            subject_type="station" if args.station else None,
            subject_id=args.station,
            region_prefix=region_prefix(args.region, level_of(args.region))
            if args.region
            else None,
            limit=args.limit,
        )

        actors = {}
        for entry in entries:
            if entry.actor_id is not None and entry.actor_id not in actors:
                actors[entry.actor_id] = await people.get_person(
                    session=session, person_id=entry.actor_id
                )
        regions = await region_store.get_regions(
            session=session, codes=sorted({e.region_code for e in entries if e.region_code})
        )
        station_names: dict[int, str] = {}
        for entry in entries:
            if entry.subject_type == "station" and entry.subject_id is not None:
                if entry.subject_id not in station_names:
                    found = await station_store.get_station(
                        session=session, station_id=entry.subject_id
                    )
                    station_names[entry.subject_id] = found.name if found else ""
    if not entries:
        print(t("No audit entries match."))
        return 0
    for entry in entries:
        person = actors.get(entry.actor_id) if entry.actor_id is not None else None
        who = (
            t("{name} ({id})", name=person.first_name or "-", id=person.telegram_id)
            if person
            else t("command line")
        )
        verdict = t("allowed") if entry.allowed else t("REFUSED")
        is_station = entry.subject_type == "station"
        name = station_names.get(entry.subject_id or 0) if is_station else None
        subject = subject_text(t, entry.subject_type, entry.subject_id, name)
        local = entry.at.astimezone(settings.scheduler.tz)
        when = f"{t.date(local.date(), 'long')} {local:%H:%M}"
        region = regions.get(entry.region_code or "")
        print(
            "\t".join(
                [
                    when,
                    who,
                    action_text(t, entry.action),
                    verdict,
                    subject,
                    region.name if region else entry.region_code or "-",
                    entry.reason or "",
                ]
            )
        )
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the station, stations, regions and audit command groups."""
    station = sub.add_parser(
        "station", help=N_("one station: add, invite links"), description=N_("Manage one station.")
    )
    station_sub = station.add_subparsers(dest="station_command", required=True, metavar="COMMAND")
    invites.add_to(station_sub)
    add = station_sub.add_parser(
        "add",
        help=N_("add a station already recognised elsewhere"),
        description=N_("Add a recognised station (bootstrap, migration). Audited."),
    )
    add.add_argument("--name", required=True, help=N_("station name"))
    add.add_argument(
        "--region",
        required=True,
        metavar="CODE",
        help=N_("6-digit county-level region code (imported first)"),
    )
    add.add_argument(
        "--venue-type",
        required=True,
        metavar="TYPE",
        help="one of: "
        + ", ".join(station_service.Station.VENUE_TYPES)
        + " (or its Chinese name)",
    )
    add.add_argument("--address", help=N_("street address"))
    add.add_argument("--external-ref", metavar="REF", help=N_("id in the previous registry"))
    add.add_argument(
        "--admin-telegram-id",
        type=positive_int,
        metavar="N",
        help=N_("make this Telegram user the station admin"),
    )
    set_command(add, _station_add)

    stations = sub.add_parser(
        "stations",
        help=N_("many stations: import, list"),
        description=N_("Import and list stations. See docs/stations.md."),
    )
    stations_sub = stations.add_subparsers(
        dest="stations_command", required=True, metavar="COMMAND"
    )
    imp = stations_sub.add_parser(
        "import",
        help=N_("import recognised stations from CSV"),
        description=N_(
            "Columns: name,region_code,venue_type[,address,external_ref,"
            "admin_telegram_id,recognised_on]. All or nothing; re-importing is a no-op."
        ),
    )
    imp.add_argument("file", metavar="FILE.csv")
    set_command(imp, _stations_import)
    lst = stations_sub.add_parser("list", help=N_("list stations"))
    lst.add_argument("--region", metavar="CODE", help=N_("only inside this region"))
    lst.add_argument("--status", choices=list(STATE_NAMES), help=N_("only in this state"))
    lst.add_argument("--limit", type=positive_int, default=200)
    set_command(lst, _stations_list)

    regions = sub.add_parser(
        "regions",
        help=N_("regions: import, list"),
        description=N_("GB/T 2260 regions. See docs/regions-csv.md."),
    )
    regions_sub = regions.add_subparsers(dest="regions_command", required=True, metavar="COMMAND")
    rimp = regions_sub.add_parser(
        "import",
        help=N_("import regions from CSV"),
        description=N_("Columns: code,name[,name_en],level,parent_code. All or nothing."),
    )
    rimp.add_argument("file", metavar="FILE.csv")
    rimp.add_argument("--dry-run", action="store_true", help=N_("only check the file"))
    set_command(rimp, _regions_import)
    rlist = regions_sub.add_parser("list", help=N_("list provinces, or the regions under one"))
    rlist.add_argument("--parent", metavar="CODE", help=N_("list the regions under CODE"))
    set_command(rlist, _regions_list)

    aud = sub.add_parser(
        "audit",
        help=N_("show the audit log"),
        description=N_("Who did what, when and why (newest first)."),
    )
    aud.add_argument("--station", type=positive_int, metavar="ID", help=N_("one station"))
    aud.add_argument("--region", metavar="CODE", help=N_("inside this region"))
    aud.add_argument("--limit", type=positive_int, default=50, metavar="N")
    set_command(aud, _audit)
