"""`kepubot report weekly`: write a region's weekly digest chart (PNG) and table (XLSX)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli import CliError, cli_runtime, set_command, translator
from bot.cli import campaigns as campaigns_cli
from bot.config import Settings
from bot.core.error_text import error_text as domain_text
from bot.handlers.digest import WEEK_ARG
from bot.i18n import N_, get_translator
from bot.jobs import ensure_tally
from bot.reports.digest import render
from bot.services import digest as digest_service
from bot.services.tally import TallyError, check_finished, shift_week


async def _weekly(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    match = WEEK_ARG.match(args.week.strip())
    if match is None:
        raise CliError(domain_text(TallyError("bad_week", week=args.week), t))
    week = f"{match[1]}-W{int(match[2]):02d}"
    out = Path(args.out)
    async with cli_runtime(settings) as runtime:
        try:
            check_finished(week, runtime.today())
            async with runtime.sessions() as session:
                # Checked before tallying anything, so a typo costs nothing.
                await digest_service.build_digest(
                    session=session, region_code=args.region, week=week, settings=settings
                )
            await ensure_tally(runtime, [shift_week(week, -1), week])
            async with runtime.sessions() as session:
                data = await digest_service.build_digest(
                    session=session, region_code=args.region, week=week, settings=settings
                )
        except TallyError as exc:
            raise CliError(domain_text(exc, t)) from exc
        rendered = await render(get_translator(t.locale), data, settings.propagation)
    try:
        out.mkdir(parents=True, exist_ok=True)
        png, xlsx = out / rendered.png_name, out / rendered.xlsx_name
        png.write_bytes(rendered.png)
        xlsx.write_bytes(rendered.xlsx)
    except OSError as exc:
        raise CliError(
            t("Cannot write to {path}: {error}", path=out, error=exc.strerror), code=1
        ) from exc
    print(t("Weekly report of {region} for {week}:", region=data.region_name, week=week))
    print(f"  {png}")
    print(f"  {xlsx}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot report …`."""
    report = sub.add_parser(
        "report", help=N_("offline reports"), description=N_("Offline reports, written to files.")
    )
    report_sub = report.add_subparsers(dest="report_command", required=True, metavar="REPORT")
    weekly = report_sub.add_parser(
        "weekly",
        help=N_("a region's weekly digest: chart (PNG) and table (XLSX)"),
        description=N_(
            "Write the same chart and spreadsheet coordinators receive. The week is "
            "tallied first if it has not been yet."
        ),
    )
    weekly.add_argument("--region", required=True, help=N_("region code, e.g. 330106"))
    weekly.add_argument("--week", required=True, help=N_("ISO week, e.g. 2026-W48"))
    weekly.add_argument("--out", required=True, help=N_("output folder (created if missing)"))
    set_command(weekly, _weekly)
    campaigns_cli.add_report_parser(report_sub)
