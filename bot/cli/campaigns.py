"""`kepubot report campaign KEY`: a campaign's report as XLSX (and its figures printed)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli import CliError, cli_session, set_command, translator
from bot.config import Settings
from bot.i18n import N_, get_translator
from bot.reports import campaign as campaign_report
from bot.services import campaigns as service
from bot.services.access import region_prefix


async def _campaign(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    out = Path(args.out)
    async with cli_session(settings) as (runtime, session):
        campaign = await service.get_campaign(session=session, settings=settings, key=args.key)
        if campaign is None:
            keys = [c.key for c in await service.all_campaigns(session=session, settings=settings)]
            raise CliError(
                t("No campaign {key}. Known: {keys}", key=args.key, keys=", ".join(keys) or "—")
            )
        report = await service.build_report(
            session=session,
            settings=settings,
            campaign=campaign,
            today=runtime.today(),
            prefixes=[region_prefix(args.region)] if args.region else None,
            now=runtime.now(),
        )
        names = await campaign_report.region_names(session, campaign.regions)
    reader = get_translator(t.locale)
    path = out / campaign_report.report_filename(report)
    try:
        out.mkdir(parents=True, exist_ok=True)
        path.write_bytes(campaign_report.report_xlsx(reader, report))
    except OSError as exc:
        raise CliError(
            t("Cannot write to {path}: {error}", path=out, error=exc.strerror), code=1
        ) from exc
    text = campaign_report.report_text(reader, report, names)
    print(text.replace("<b>", "").replace("</b>", ""))
    print(f"  {path}")
    return 0


def add_report_parser(report_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot report campaign KEY`."""
    campaign = report_sub.add_parser(
        "campaign",
        help=N_("a campaign's report (XLSX): pushes, shares, activities by region"),
        description=N_(
            "Write the spreadsheet coordinators and curators receive when a campaign ends "
            "(so far, while it runs). KEY is the campaign's key, as /campaigns and "
            "[[campaigns]] name it."
        ),
    )
    campaign.add_argument("key", metavar="KEY", help=N_("campaign key, e.g. science_day"))
    campaign.add_argument("--region", help=N_("only this region (code, e.g. 330100)"))
    campaign.add_argument("--out", default=".", help=N_("output folder (created if missing)"))
    set_command(campaign, _campaign)
