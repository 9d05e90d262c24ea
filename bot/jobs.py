"""Every scheduled job, defined in one place. Times come from ``[scheduler]`` settings.

Periods name what a run covers: ``2026-11-23`` (a day), ``2026-W47`` (an ISO week),
``2026`` (a year). A weekly job firing on Monday covers the ISO week that just ended.
"""

from __future__ import annotations

import datetime as dt

from apscheduler.triggers.cron import CronTrigger

from bot.config import Settings
from bot.core.periods import (
    day_period,
    is_day,
    is_week,
    is_year,
    previous_week_period,
    previous_year_period,
)


def daily_at(attr: str) -> object:
    """Return a trigger factory firing every day at ``settings.scheduler.<attr>``."""

    def make(settings: Settings) -> CronTrigger:
        at: dt.time = getattr(settings.scheduler, attr)
        return CronTrigger(hour=at.hour, minute=at.minute, timezone=settings.scheduler.tz)

    return make


def weekly_at(day_attr: str, time_attr: str) -> object:
    """Return a trigger factory firing weekly on the configured day and time."""

    def make(settings: Settings) -> CronTrigger:
        at: dt.time = getattr(settings.scheduler, time_attr)
        return CronTrigger(
            day_of_week=getattr(settings.scheduler, day_attr),
            hour=at.hour,
            minute=at.minute,
            timezone=settings.scheduler.tz,
        )

    return make


def load_jobs() -> None:
    """Import the feature modules whose jobs are registered (idempotent)."""
    from bot.runtime.scheduler import JOBS, JobContext, JobSpec, register_job

    if "daily_push" not in JOBS:
        from bot.services.push import daily_push_job

        async def daily_push(ctx: JobContext) -> dict[str, object]:
            return await daily_push_job(ctx.runtime, ctx.now)

        register_job(
            JobSpec(
                name="daily_push",
                description="Push today's new content to informants (quiet hours respected)",
                trigger=daily_at("push_time"),  # type: ignore[arg-type]
                period=day_period,
                func=daily_push,
                validate_period=is_day,
            )
        )

    if "weekly_tally" not in JOBS:
        from bot.services.tally import weekly_tally_job

        register_job(
            JobSpec(
                name="weekly_tally",
                description="Tally last week's figures per station, rolled up to regions",
                trigger=weekly_at("tally_day", "tally_time"),  # type: ignore[arg-type]
                period=previous_week_period,
                func=weekly_tally_job,
                validate_period=is_week,
            )
        )
    if "weekly_digest" not in JOBS:
        from bot.handlers.digest import weekly_digest_job

        register_job(
            JobSpec(
                name="weekly_digest",
                description="Send each coordinator last week's digest (text, chart, XLSX)",
                trigger=weekly_at("digest_day", "digest_time"),  # type: ignore[arg-type]
                period=previous_week_period,
                func=weekly_digest_job,
                validate_period=is_week,
            )
        )
    if "reminders" not in JOBS:
        from bot.services.reminders import reminders_job

        register_job(
            JobSpec(
                name="reminders",
                description="Nudge idle informants and stations; rectification deadlines",
                trigger=daily_at("reminders_time"),  # type: ignore[arg-type]
                period=day_period,
                func=reminders_job,
                validate_period=is_day,
            )
        )
    if "annual_evaluation" not in JOBS:  # issue 10: the January evaluation of last year
        from bot.services.evaluation import scheduled_evaluation

        register_job(
            JobSpec(
                name="annual_evaluation",
                description="Evaluate last year: scores, ranks and proposals for coordinators",
                trigger=yearly_evaluation_trigger,
                period=previous_year_period,
                func=scheduled_evaluation,
                lookback=dt.timedelta(days=400),
                validate_period=is_year,
            )
        )


def yearly_evaluation_trigger(settings: Settings) -> CronTrigger:
    """Fire on day 5 of ``scheduler.evaluation_month`` at 09:00 (after New Year reporting)."""
    return CronTrigger(
        month=settings.scheduler.evaluation_month,
        day=5,
        hour=9,
        minute=0,
        timezone=settings.scheduler.tz,
    )
