"""`kepubot export activities`: a region's activities between two dates, as CSV or XLSX."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import re
import sys
from pathlib import Path

from bot.cli import CliError, cli_session, set_command, translator
from bot.cli.speech import ArgValueError
from bot.config import Settings
from bot.content.taxonomy import Taxonomy
from bot.handlers.activities_view import campaign_label, type_label
from bot.i18n import N_, Translator
from bot.reports.windows import date_range
from bot.reports.xlsx import Sheet, make_columns, write_table_xlsx
from bot.services.access import region_prefix
from bot.services.campaigns import taxonomy_with_campaigns
from bot.services.finding_text import KIND_NAMES as FINDING_KINDS
from storage import activities as store
from storage.activities import ExportRow
from storage.regions import get_region

HEADERS = [
    N_("Activity no."),
    N_("Station"),
    N_("County"),
    N_("Region code"),
    N_("Type"),
    N_("Title"),
    N_("Date"),
    N_("Time"),
    N_("Place"),
    N_("Participants"),
    N_("Campaign"),
    N_("Photos"),
    N_("Flags"),
]
FLAG_LABELS = FINDING_KINDS  # the one table of finding kinds
_REGION_RE = re.compile(r"^\d{6}$")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ArgValueError(N_("not a date (YYYY-MM-DD): {value!r}"), value=value) from exc


def table(
    t: Translator, rows: list[ExportRow], taxonomy: Taxonomy | None = None
) -> tuple[list[str], list[list[object]]]:
    """Return the localised headers and the cells of every row.

    ``taxonomy`` names the campaigns (``taxonomy_with_campaigns``: curators' ones too).
    """
    body: list[list[object]] = []
    for row in rows:
        act = row.activity
        body.append(
            [
                act.id,
                row.station_name,
                row.county_name or "",
                row.region_code or "",
                type_label(t, act.type),
                act.title,
                act.held_on,
                act.held_at_time.strftime("%H:%M") if act.held_at_time else "",
                act.place or "",
                act.participants,
                campaign_label(t, act.campaign, taxonomy) if act.campaign else "",
                row.photo_count,
                "; ".join(t(FLAG_LABELS.get(kind, kind)) for kind in row.flag_kinds),
            ]
        )
    return [t(h) for h in HEADERS], body


def to_csv(headers: list[str], rows: list[list[object]]) -> bytes:
    """Return CSV bytes in UTF-8 with a BOM, so Excel shows Chinese correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([c.isoformat() if isinstance(c, dt.date) else c for c in row])
    return buf.getvalue().encode("utf-8-sig")


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
        rows = await store.export_rows(
            session=session,
            region_prefix=region_prefix(args.region, region.level),
            date_from=args.date_from,
            date_to=args.date_to,
        )
        taxonomy = await taxonomy_with_campaigns(session=session, settings=settings)
    headers, body = table(t, rows, taxonomy)
    if args.format == "csv":
        data = to_csv(headers, body)
    else:
        data = write_table_xlsx(
            [
                Sheet(
                    title=t("Activities"),
                    heading=t(
                        "{region} activities · {window}",
                        region=region.name,
                        window=date_range(t, args.date_from, args.date_to),
                    ),
                    notes=[t("Rows by county, station and date; recognised stations only.")],
                    columns=make_columns(headers),
                    rows=body,
                    frozen_columns=2,  # the activity number and the station
                )
            ]
        )
    if args.out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    out = Path(
        args.out
        or f"activities-{args.region}-{args.date_from:%Y%m%d}-{args.date_to:%Y%m%d}.{args.format}"
    )
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise CliError(
            t("Cannot write {path}: {error}", path=out, error=exc.strerror), code=1
        ) from exc
    print(t("Wrote {n} activities to {path}.", n=len(body), path=out))
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
    acts.add_argument(
        "--region",
        required=True,
        metavar="CODE",
        help=N_("6-digit GB/T 2260 region code (province, city or county)"),
    )
    acts.add_argument(
        "--from",
        dest="date_from",
        required=True,
        type=_date,
        metavar="DATE",
        help=N_("first day, YYYY-MM-DD"),
    )
    acts.add_argument(
        "--to",
        dest="date_to",
        required=True,
        type=_date,
        metavar="DATE",
        help=N_("last day, YYYY-MM-DD"),
    )
    acts.add_argument("--format", required=True, choices=["csv", "xlsx"], help=N_("file format"))
    acts.add_argument(
        "--out",
        metavar="FILE",
        help=N_("output file ('-' for standard output; default activities-CODE-FROM-TO.EXT)"),
    )
    set_command(acts, _export)
