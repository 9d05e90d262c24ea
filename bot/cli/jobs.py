"""`kepubot jobs`: list scheduled jobs and run one by hand."""

from __future__ import annotations

import argparse
from typing import Any

from telegram import Bot

from bot.app import FEATURES
from bot.cli import CliError, cli_runtime, set_command, translator
from bot.config import Settings
from bot.handlers.feature import Assembly
from bot.i18n import N_
from bot.jobs import describe_result
from bot.runtime.scheduler import run_job
from storage import jobs as job_store

RUN_STATUS = {
    "running": N_("running"),
    "done": N_("done"),
    "failed": N_("failed"),
    "skipped": N_("skipped"),
}


async def _list(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    jobs = Assembly.of(FEATURES).jobs
    async with cli_runtime(settings) as runtime:
        async with runtime.sessions() as session:
            latest = await job_store.last_runs(session=session)
        now = runtime.now()
        for spec in jobs.values():
            trigger = spec.trigger(settings)
            upcoming = trigger.get_next_fire_time(None, now.astimezone(settings.scheduler.tz))
            last = latest.get(spec.name)
            last_text = (
                t(
                    "{period}, {status}",
                    period=last.period,
                    status=t(RUN_STATUS.get(last.status, last.status)),
                )
                if last
                else t("never")
            )
            local = upcoming.astimezone(settings.scheduler.tz) if upcoming else None
            next_text = f"{t.date(local.date(), 'long')} {local:%H:%M}" if local else t("never")
            print(f"{spec.name}\t{t(spec.description)}")
            print("  " + t("next: {next}; last run: {last}", next=next_text, last=last_text))
        if not jobs:
            print(t("No jobs are registered."))
    return 0


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    jobs = Assembly.of(FEATURES).jobs
    spec = jobs.get(args.name)
    if spec is None:
        raise CliError(
            t(
                "Unknown job {name}. Known jobs: {names}.",
                name=args.name,
                names=", ".join(jobs) or "-",
            )
        )
    if args.period is not None and not spec.validate_period(args.period):
        raise CliError(
            t("Invalid period {period} for job {name}.", period=args.period, name=args.name)
        )
    bot: Any = None
    async with cli_runtime(settings) as runtime:
        if settings.telegram.token is not None:
            bot = Bot(
                settings.telegram.token.get_secret_value(),
                base_url=settings.telegram.base_url,
                base_file_url=settings.telegram.base_file_url,
            )
        try:
            outcome = await run_job(runtime, spec, bot=bot, period=args.period, force=args.force)
        finally:
            if bot is not None:
                await bot.shutdown()
    if outcome.status == "skipped":
        print(
            t(
                "{name} {period}: already done (use --force to run it again).",
                name=spec.name,
                period=outcome.period,
            )
        )
        return 0
    if outcome.status == "failed":
        raise CliError(
            t(
                "{name} {period} failed: {error}",
                name=spec.name,
                period=outcome.period,
                error=outcome.error or "",
            ),
            code=1,
        )
    print(
        t(
            "{name} {period}: done — {result}.",
            name=spec.name,
            period=outcome.period,
            result=describe_result(spec.name, outcome.result, t),
        )
    )
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot jobs …`."""
    jobs = sub.add_parser(
        "jobs",
        help=N_("list scheduled jobs or run one by hand"),
        description=N_("Scheduled jobs (times in [scheduler] settings)."),
    )
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="COMMAND")
    lst = jobs_sub.add_parser("list", help=N_("list jobs with their next and last run"))
    set_command(lst, _list)
    run = jobs_sub.add_parser("run", help=N_("run a job now (once per period unless --force)"))
    run.add_argument("name", help=N_("job name, see 'kepubot jobs list'"))
    run.add_argument(
        "--period", help=N_("period to run, e.g. 2026-11-23 or 2026-W48 (default: the latest due)")
    )
    run.add_argument("--force", action="store_true", help=N_("run even if the period is done"))
    set_command(run, _run)
