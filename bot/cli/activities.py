"""`kepubot export KIND`: a region's activities, shares, content uses, station figures or
informant roster between two dates, as CSV or XLSX (the desk's export definitions)."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from bot.cli import CliError, cli_session, set_command, translator
from bot.cli.speech import ArgValueError
from bot.config import Settings
from bot.core.propagation import volume_over
from bot.i18n import N_
from bot.reports.exports import (
    FORMATS,
    STATUS_CHOICES,
    STATUS_COUNTED,
    ExportRequest,
    ExportScope,
    build_export,
    render,
)
from storage.figures import Window
from storage.regions import get_region

_REGION_RE = re.compile(r"^\d{6}$")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ArgValueError(N_("not a date (YYYY-MM-DD): {value!r}"), value=value) from exc


async def _export(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    if not _REGION_RE.match(args.region):
        raise CliError(t("The region must be a 6-digit code, e.g. 330106."))
    if args.date_from > args.date_to:
        raise CliError(t("--from must not be after --to."))
    async with cli_session(settings) as (_runtime, session):
        region = await get_region(session=session, code=args.region)
        if region is None:
            raise CliError(
                t("No region with code {code}; import the regions first.", code=args.region)
            )
        table = await build_export(
            session=session,
            t=t,
            request=ExportRequest(
                kind=args.kind,
                window=Window(args.date_from, args.date_to),
                region_code=args.region,
                region_name=region.name,
                status=args.status,
            ),
            scope=ExportScope.everywhere(),
            volume=volume_over(settings.propagation),
            tz=settings.scheduler.tz,
        )
    data = render(table, args.format)
    body = table.rows
    if args.out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    out = Path(
        args.out
        or f"{args.kind}-{args.region}-{args.date_from:%Y%m%d}-{args.date_to:%Y%m%d}.{args.format}"
    )
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise CliError(
            t("Cannot write {path}: {error}", path=out, error=exc.strerror), code=1
        ) from exc
    if args.kind == "activities":
        print(t("Wrote {n} activities to {path}.", n=len(body), path=out))
    else:
        print(t("Wrote {n} rows to {path}.", n=len(body), path=out))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `export` command group with its `activities` subcommand."""
    export = sub.add_parser(
        "export",
        help=N_("export data as CSV or XLSX"),
        description=N_("Export data for coordinators."),
    )
    export_sub = export.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    acts = export_sub.add_parser(
        "activities",
        help=N_("activities of recognised stations in a region"),
        description=N_(
            "Export the activities of recognised stations in a region (and every "
            "region inside it) held between two dates, inclusive."
        ),
    )
    _window_args(acts, "activities", default_status="recognised")
    for kind, help_text in OTHER_KINDS.items():
        other = export_sub.add_parser(kind, help=help_text, description=help_text)
        _window_args(other, kind, default_status=STATUS_COUNTED)


OTHER_KINDS = {
    "shares": N_("shares recorded in a region between two dates"),
    "uses": N_("offline content uses in a region between two dates"),
    "stations": N_("each station's figures for the window (as the digest counts them)"),
    "roster": N_("the informant roster (without names or phone numbers)"),
}


def _window_args(parser: argparse.ArgumentParser, kind: str, *, default_status: str) -> None:
    parser.add_argument(
        "--region",
        required=True,
        metavar="CODE",
        help=N_("6-digit GB/T 2260 region code (province, city or county)"),
    )
    parser.add_argument(
        "--from",
        dest="date_from",
        required=True,
        type=_date,
        metavar="DATE",
        help=N_("first day, YYYY-MM-DD"),
    )
    parser.add_argument(
        "--to",
        dest="date_to",
        required=True,
        type=_date,
        metavar="DATE",
        help=N_("last day, YYYY-MM-DD"),
    )
    parser.add_argument("--format", required=True, choices=list(FORMATS), help=N_("file format"))
    parser.add_argument(
        "--status",
        choices=list(STATUS_CHOICES),
        default=default_status,
        help=N_("station status kept: counted, all, or one state"),
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        help=N_("output file ('-' for standard output; default KIND-CODE-FROM-TO.EXT)"),
    )
    parser.set_defaults(kind=kind)
    set_command(parser, _export)
