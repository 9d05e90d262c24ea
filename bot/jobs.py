"""Every scheduled job, defined in one place. Times come from ``[scheduler]`` settings.

A job here is small: it opens its transaction, calls a service that returns a result, and
returns a summary for ``job_run``. Messages go through the outbox in the same transaction
(the sender is woken when it commits). Features list the jobs they bring in their
declaration; periods (``2026-11-23``, ``2026-W47``, ``2026``) are in ``bot.core.periods``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import SchedulerSettings, Settings
from bot.content import feed_poll
from bot.content.taxonomy import default_taxonomy
from bot.core.periods import (
    day_period,
    is_day,
    is_week,
    is_year,
    parse_week,
    previous_week_period,
    previous_year_period,
)
from bot.i18n import N_, Translator, get_translator
from bot.reports import campaign as campaign_report
from bot.reports import windows
from bot.reports.digest import RenderedDigest, digest_calls, render
from bot.runtime.context import Runtime
from bot.runtime.effects import API_KIND, encode_call
from bot.runtime.scheduler import JobContext, JobOutcome, JobSpec, run_job
from bot.services import campaigns as campaign_service
from bot.services import digest as digest_service
from bot.services import evaluation as evaluation_service
from bot.services import findings as finding_service
from bot.services import findings_auto
from bot.services import push as push_service
from bot.services import reminders as reminder_service
from bot.services import review_reminders as review_reminder_service
from bot.services import tally as tally_service
from bot.services.access import region_prefix
from bot.services.desk_open import DIGEST_DESK_PAGE, desk_button, desk_url
from bot.services.tally import TALLY_JOB, TallyError, shift_week
from storage import campaigns as campaign_store
from storage import feeds as feed_store
from storage import outbox as outbox_store
from storage import tally as tally_store
from storage.outbox import NewMessage

log = logging.getLogger(__name__)

Trigger = Callable[[Settings], CronTrigger]


def daily_at(when: Callable[[SchedulerSettings], dt.time]) -> Trigger:
    """Return a trigger factory firing every day at the configured time ``when`` reads."""

    def make(settings: Settings) -> CronTrigger:
        at = when(settings.scheduler)
        return CronTrigger(hour=at.hour, minute=at.minute, timezone=settings.scheduler.tz)

    return make


def weekly_at(
    day: Callable[[SchedulerSettings], str], when: Callable[[SchedulerSettings], dt.time]
) -> Trigger:
    """Return a trigger factory firing weekly on the configured day and time."""

    def make(settings: Settings) -> CronTrigger:
        at = when(settings.scheduler)
        return CronTrigger(
            day_of_week=day(settings.scheduler),
            hour=at.hour,
            minute=at.minute,
            timezone=settings.scheduler.tz,
        )

    return make


def yearly_evaluation_trigger(settings: Settings) -> CronTrigger:
    """Fire on day 5 of ``scheduler.evaluation_month`` at 09:00 (after New Year reporting)."""
    return CronTrigger(
        month=settings.scheduler.evaluation_month,
        day=5,
        hour=9,
        minute=0,
        timezone=settings.scheduler.tz,
    )


# --- daily push --------------------------------------------------------------------------


def daily_paid(settings: Settings) -> push_service.PaidRates | None:
    """Return the daily push's paid rates when ``[broadcast] daily_push_paid`` opts it in."""
    broadcast = settings.broadcast
    if not (broadcast.enabled and broadcast.daily_push_paid):
        return None
    return push_service.PaidRates(limits=settings.limits, broadcast=broadcast)


async def push_daily(
    *,
    session: AsyncSession,
    settings: Settings,
    now: dt.datetime,
    to: str | None = None,
    paid: push_service.PaidRates | None = None,
) -> push_service.DailyPushResult:
    """Run today's push as configured (``to`` / ``paid``: the command line's instead)."""
    to = to or settings.content.daily_push_to
    return await push_service.run_daily_push(
        session=session,
        now=now,
        tz=settings.scheduler.tz,
        default_locale=settings.i18n.default_locale,
        max_items=settings.content.daily_push_items,
        lookback=dt.timedelta(days=settings.content.daily_push_lookback_days),
        require_approval=settings.content.review_before_publish,
        informants=to in ("informants", "both"),
        channels=to in ("channels", "both"),
        paid=paid or daily_paid(settings),
    )


async def daily_push(ctx: JobContext) -> dict[str, Any]:
    """Push today's new content (by interest and region, quiet hours kept; to informants,
    channels or both, paid or not, as ``daily_push_to`` / ``daily_push_paid`` say)."""
    async with ctx.runtime.sessions() as session, session.begin():
        result = await push_daily(session=session, settings=ctx.runtime.settings, now=ctx.now)
    summary = result.as_dict()
    log.info("daily push", extra=summary)
    return summary


# --- weekly tally and digest ----------------------------------------------------------------


async def weekly_tally(ctx: JobContext) -> dict[str, Any]:
    """Recompute the period's week in one transaction."""
    runtime = ctx.runtime
    async with runtime.sessions() as session, session.begin():
        result = await tally_service.tally_week(
            session=session, week=ctx.period, settings=runtime.settings, now=runtime.now()
        )
    return {"week": result.week, "stations": result.stations, "regions": result.regions}


async def ensure_tally(runtime: Runtime, weeks: Sequence[str]) -> None:
    """Run the weekly tally for each of ``weeks`` that has not run (once per period)."""
    for week in weeks:
        async with runtime.sessions() as session:
            done = await tally_store.week_computed(session=session, week=week, job=TALLY_JOB)
        if not done:
            outcome = await run_job(runtime, WEEKLY_TALLY, period=week)
            if outcome.status == "failed":
                raise TallyError("tally_failed", week=week, error=outcome.error or "")


async def weekly_digest(ctx: JobContext) -> dict[str, Any]:
    """Queue every coordinator the period's digest of each region, once per week.

    Each digest is three outbox rows (text, chart, spreadsheet) written in one transaction
    per coordinator and sent in order by the sender; one already sent, or still queued, is
    not queued again, and one that could not be delivered (blocked, failed) is queued anew.
    """
    runtime, week = ctx.runtime, ctx.period
    await ensure_tally(runtime, [shift_week(week, -1), week])
    async with runtime.sessions() as session:
        recipients = await tally_store.coordinator_recipients(session=session)
        taken = await outbox_store.keys_taken(session=session, prefix=f"digest:{week}:")
    cache: dict[tuple[str, str], RenderedDigest | None] = {}
    counts: Counter[str] = Counter()
    for person in recipients:
        key = f"digest:{week}:{person.region_code}:{person.chat_id}"
        if key in taken:
            counts["skipped"] += 1
            continue
        locale = get_translator(person.language or runtime.settings.i18n.default_locale).locale
        digest = await _rendered(runtime, cache, person.region_code, week, locale)
        if digest is None:
            counts["unknown_region"] += 1
            continue
        now = runtime.now()
        # Digests go to private chats: the desk's web_app button may ride under the text.
        desk = desk_button(get_translator(locale), runtime.settings, DIGEST_DESK_PAGE)
        messages = [
            _digest_call(person.chat_id, key, method, params, now)
            for method, params in digest_calls(person.chat_id, digest, desk_button=desk)
        ]
        async with runtime.sessions() as session, session.begin():
            await outbox_store.forget_ended(session=session, keys=[m.dedupe_key for m in messages])
            await outbox_store.enqueue(session=session, push_id=None, messages=messages, now=now)
        counts["queued"] += 1
    return {"week": week, "recipients": len(recipients), **{k: counts[k] for k in sorted(counts)}}


def _digest_call(
    chat_id: int, key: str, method: str, params: dict[str, Any], now: dt.datetime
) -> NewMessage:
    """Return the outbox row of one part of a digest (the text keeps the digest's own key)."""
    part = "" if method == "sendMessage" else f":{method}"
    return NewMessage(
        chat_id=chat_id,
        kind=API_KIND,
        payload={"method": method, **encode_call(params)},
        dedupe_key=key + part,
        due_at=now,
    )


async def _rendered(
    runtime: Runtime,
    cache: dict[tuple[str, str], RenderedDigest | None],
    region: str,
    week: str,
    locale: str,
) -> RenderedDigest | None:
    """Build and render a region's digest once per language."""
    if (region, locale) not in cache:
        try:
            async with runtime.sessions() as session:
                data = await digest_service.build_digest(
                    session=session, region_code=region, week=week, settings=runtime.settings
                )
        except TallyError:
            cache[(region, locale)] = None
        else:
            rendered = await render(get_translator(locale), data, runtime.settings.propagation)
            async with runtime.sessions() as session:  # the running campaigns' block
                rendered = await campaign_report.with_campaigns(
                    session=session,
                    settings=runtime.settings,
                    t=get_translator(locale),
                    digest=rendered,
                    region_code=region,
                    start=data.start,
                    end=data.end,
                )
            cache[(region, locale)] = rendered
    return cache[(region, locale)]


# --- reminders -------------------------------------------------------------------------


async def reminders(ctx: JobContext) -> dict[str, Any]:
    """Enqueue today's reminders; the outbox sender delivers them."""
    runtime = ctx.runtime
    async with runtime.sessions() as session, session.begin():
        planned = await reminder_service.plan(
            session=session,
            today=dt.date.fromisoformat(ctx.period),
            now=runtime.now(),
            default_locale=runtime.settings.i18n.default_locale,
        )
        # Reviews waiting too long: remind the reviewers, then tell the level above.
        reviews = await review_reminder_service.plan(
            session=session,
            stations=runtime.settings.stations,
            today=dt.date.fromisoformat(ctx.period),
            tz=runtime.settings.scheduler.tz,
            now=runtime.now(),
            default_locale=runtime.settings.i18n.default_locale,
            desk_url=desk_url(runtime.settings, review_reminder_service.DESK_REVIEWS_PAGE),
        )
        await review_reminder_service.record(session=session, planned=reviews, now=runtime.now())
        messages = [p.message for p in planned] + [m for r in reviews for m in r.messages]
        added = await outbox_store.enqueue(
            session=session, push_id=None, messages=messages, now=runtime.now()
        )
    counts = Counter(p.rule for p in planned) + Counter(r.rule for r in reviews)
    return {"day": ctx.period, "enqueued": added, **{k: counts[k] for k in sorted(counts)}}


# --- integrity findings ------------------------------------------------------------------


async def findings_notice(ctx: JobContext) -> dict[str, Any]:
    """Tell each coordinator, once a day, how many findings were raised in their area."""
    runtime = ctx.runtime
    async with runtime.sessions() as session, session.begin():
        messages = await finding_service.plan_notices(
            session=session,
            day=dt.date.fromisoformat(ctx.period),
            tz=runtime.settings.scheduler.tz,
            now=runtime.now(),
            default_locale=runtime.settings.i18n.default_locale,
        )
        added = await outbox_store.enqueue(
            session=session, push_id=None, messages=messages, now=runtime.now()
        )
    return {"day": ctx.period, "coordinators": len(messages), "enqueued": added}


# --- annual evaluation -------------------------------------------------------------------


async def annual_evaluation(ctx: JobContext) -> dict[str, Any]:
    """Evaluate the year named by the period everywhere; tell coordinators through the outbox."""
    runtime = ctx.runtime
    year = int(ctx.period)
    as_of = ctx.now.astimezone(runtime.settings.scheduler.tz).date()
    default = runtime.settings.i18n.default_locale
    async with runtime.sessions() as session, session.begin():
        result = await evaluation_service.run_evaluation(
            session=session,
            evaluation=runtime.settings.evaluation,
            propagation=runtime.settings.propagation,
            tz=runtime.settings.scheduler.tz,
            year=year,
            region_code="",
            as_of=as_of,
            now=ctx.now,
        )
        notices = await evaluation_service.coordinator_notices(session=session, year=year)
        messages = [
            NewMessage(
                chat_id=telegram_id,
                kind="message",
                payload={
                    "text": get_translator(language or default)(
                        "The {year} annual evaluation is ready: {n} proposals in your area wait "
                        "for a decision. Send /evaluation to review them.",
                        year=year,
                        n=n,
                    )
                },
                dedupe_key=f"evaluation:{year}:{telegram_id}",
                due_at=ctx.now,
            )
            for telegram_id, language, n in notices
        ]
        queued = await outbox_store.enqueue(
            session=session, push_id=None, messages=messages, now=ctx.now
        )
    return {**result.summary(), "notified": queued}


# --- integrity sweep -----------------------------------------------------------------------


async def integrity_sweep(ctx: JobContext) -> dict[str, Any]:
    """Raise findings for audiences without visits, paper stations and bursts; close stale."""
    runtime = ctx.runtime
    today = ctx.now.astimezone(runtime.settings.scheduler.tz).date()
    async with runtime.sessions() as session, session.begin():
        result = await findings_auto.sweep(
            session=session, settings=runtime.settings, today=today, now=ctx.now
        )
    summary = result.as_dict()
    log.info("integrity sweep", extra=summary)
    return summary


def _sweep_trigger(settings: Settings) -> CronTrigger:
    at = settings.integrity.sweep_time
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=settings.scheduler.tz)


# --- feeds: poll subscribed RSS/Atom feeds (docs/feeds.md) ----------------------------------
FEED_FETCHER_KEY = "feed_fetcher"  # runtime.extras: a fetcher to use instead of HTTP (tests)
_FEED_PERIOD = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def feed_configs(settings: Settings) -> list[feed_store.FeedConfig]:
    """Return the feeds ``[[content.feeds]]`` declares."""
    return [
        feed_store.FeedConfig(
            url=f.url,
            name=f.name,
            category=f.category,
            kind=f.kind,
            auto_publish=f.auto_publish,
            regions=tuple(f.regions),
        )
        for f in settings.content.feeds
    ]


async def feeds_poll(ctx: JobContext) -> dict[str, Any]:
    """Poll every subscribed feed once; no transaction is open during a fetch."""
    runtime, settings = ctx.runtime, ctx.runtime.settings
    fetch = runtime.extras.get(FEED_FETCHER_KEY) or feed_poll.conditional_fetcher(
        settings.content.feed_timeout_seconds
    )
    result = await feed_poll.poll_feeds(
        sessions=runtime.sessions,
        taxonomy=default_taxonomy(),
        now=runtime.now,
        fetch=fetch,
        default_locale=settings.i18n.default_locale,
        configs=feed_configs(settings),
    )
    summary = result.as_dict()
    log.info("feeds poll", extra=summary)
    return summary


def feeds_trigger(settings: Settings) -> CronTrigger:
    """Fire every ``content.feed_poll_minutes`` on the clock (:00, :30 …)."""
    minutes = settings.content.feed_poll_minutes
    tz = settings.scheduler.tz
    if minutes < 60:
        return CronTrigger(minute=f"*/{minutes}", timezone=tz)
    return CronTrigger(hour=f"*/{minutes // 60}", minute=0, timezone=tz)


def feeds_period(local: dt.datetime) -> str:
    """Return the poll slot a firing stands for: 2026-11-23T10:30 (local time)."""
    return f"{local:%Y-%m-%dT%H:%M}"


FEEDS_POLL = JobSpec(
    name="feeds_poll",
    description=N_("Poll subscribed RSS/Atom feeds: new entries become drafts or are published"),
    trigger=feeds_trigger,
    period=feeds_period,
    func=feeds_poll,
    lookback=dt.timedelta(days=1),
    validate_period=lambda p: _FEED_PERIOD.fullmatch(p) is not None,
)
# --- campaign reports --------------------------------------------------------------------
CAMPAIGN_REPORT_DAYS = 30  # a campaign that ended longer ago gets no report by schedule


async def campaign_reports(ctx: JobContext) -> dict[str, Any]:
    """Send each coordinator and curator the XLSX of every campaign that ended, once.

    Coordinators get their area's figures (campaigns reaching it), curators the whole
    campaign. One outbox row per person and campaign (``campaign-report:<key>:<chat>``):
    one already sent or queued is not queued again.
    """
    runtime, settings = ctx.runtime, ctx.runtime.settings
    today = dt.date.fromisoformat(ctx.period)
    counts: Counter[str] = Counter()
    async with runtime.sessions() as session:
        ended = [
            c
            for c in await campaign_service.all_campaigns(session=session, settings=settings)
            if c.end < today and (today - c.end).days <= CAMPAIGN_REPORT_DAYS
        ]
        recipients = await campaign_store.report_recipients(session=session)
        taken = await outbox_store.keys_taken(session=session, prefix="campaign-report:")
    for campaign in ended:
        seen: set[int] = set()
        for person in recipients:
            key = f"campaign-report:{campaign.key}:{person.chat_id}"
            prefixes = (
                [region_prefix(person.region_code)]
                if person.role == "coordinator" and person.region_code
                else None
            )
            if (
                f"{key}:sendDocument" in taken
                or person.chat_id in seen
                or not campaign.overlaps(prefixes)
            ):
                continue
            seen.add(person.chat_id)
            t = get_translator(person.language or settings.i18n.default_locale)
            async with runtime.sessions() as session, session.begin():
                report = await campaign_service.build_report(
                    session=session, settings=settings, campaign=campaign, today=today,
                    prefixes=prefixes, now=ctx.now,
                )  # fmt: skip
                params = campaign_report.document_call(person.chat_id, t, report)
                await outbox_store.enqueue(
                    session=session,
                    push_id=None,
                    messages=[_digest_call(person.chat_id, key, "sendDocument", params, ctx.now)],
                    now=ctx.now,
                )
            counts["queued"] += 1
    return {"day": ctx.period, "campaigns": len(ended), **{k: counts[k] for k in sorted(counts)}}


DAILY_PUSH = JobSpec(
    name="daily_push",
    description=N_("Push today's new content to informants (quiet hours respected)"),
    trigger=daily_at(lambda s: s.push_time),
    period=day_period,
    func=daily_push,
    validate_period=is_day,
)
WEEKLY_TALLY = JobSpec(
    name=TALLY_JOB,
    description=N_("Tally last week's figures per station, rolled up to regions"),
    trigger=weekly_at(lambda s: s.tally_day, lambda s: s.tally_time),
    period=previous_week_period,
    func=weekly_tally,
    validate_period=is_week,
)
WEEKLY_DIGEST = JobSpec(
    name="weekly_digest",
    description=N_("Send each coordinator last week's digest (text, chart, XLSX)"),
    trigger=weekly_at(lambda s: s.digest_day, lambda s: s.digest_time),
    period=previous_week_period,
    func=weekly_digest,
    validate_period=is_week,
)
REMINDERS = JobSpec(
    name="reminders",
    description=N_(
        "Nudge idle informants and stations; rectification deadlines; remind reviewers of "
        "late reviews and tell the level above"
    ),
    trigger=daily_at(lambda s: s.reminders_time),
    period=day_period,
    func=reminders,
    validate_period=is_day,
)
FINDINGS_NOTICE = JobSpec(
    name="findings_notice",
    description=N_(
        "Tell coordinators about yesterday's new integrity findings (one message each)"
    ),
    trigger=daily_at(lambda s: s.reminders_time),
    period=day_period,
    func=findings_notice,
    validate_period=is_day,
)
ANNUAL_EVALUATION = JobSpec(
    name="annual_evaluation",
    description=N_("Evaluate last year: scores, ranks and proposals for coordinators"),
    trigger=yearly_evaluation_trigger,
    period=previous_year_period,
    func=annual_evaluation,
    lookback=dt.timedelta(days=400),
    validate_period=is_year,
)
CAMPAIGN_REPORTS = JobSpec(
    name="campaign_reports",
    description=N_("Send coordinators and curators the report of each campaign that ended"),
    trigger=daily_at(lambda s: s.reminders_time),
    period=day_period,
    func=campaign_reports,
    validate_period=is_day,
)
INTEGRITY_SWEEP = JobSpec(
    name="integrity_sweep",
    description=N_("Raise integrity findings: audiences without visits, paper stations, bursts"),
    trigger=_sweep_trigger,
    period=day_period,
    func=integrity_sweep,
    validate_period=is_day,
)


# --- results, as a person reads them ------------------------------------------------------


def week_text(week: str, t: Translator) -> str:
    """Return an ISO week as 2026年第48周（11月23日—11月29日）."""
    return windows.week_text(t, week, *parse_week(week))


def _day_text(day: object, t: Translator) -> str:
    try:
        return t.date(dt.date.fromisoformat(str(day)), t("MMM d"))
    except ValueError:
        return str(day)


def describe_result(name: str, result: Mapping[str, Any], t: Translator) -> str:
    """Return what a job run did as one sentence (``kepubot jobs run``, the demo)."""
    r = dict(result)
    if name == TALLY_JOB and "week" in r:
        return t(
            "tallied {week}: {stations} stations, {regions} region totals",
            week=week_text(str(r["week"]), t),
            stations=t.number(r.get("stations", 0)),
            regions=t.number(r.get("regions", 0)),
        )
    if name == "weekly_digest" and "week" in r:
        text = t(
            "digest of {week}: {recipients} recipients, {queued} queued to send",
            week=week_text(str(r["week"]), t),
            recipients=t.number(r.get("recipients", 0)),
            queued=t.number(r.get("queued", 0)),
        )
        if r.get("skipped"):
            text += t("; {n} had it already (not sent again)", n=t.number(r["skipped"]))
        if r.get("unknown_region"):
            text += t("; {n} in regions not imported", n=t.number(r["unknown_region"]))
        return text
    if name == "daily_push" and "day" in r:
        text = t(
            "push of {day}: {items} items, {queued} messages queued, {deferred} held for quiet "
            "hours",
            day=_day_text(r["day"], t),
            items=t.number(len(r.get("items") or [])),
            queued=t.number(r.get("queued", 0)),
            deferred=t.number(r.get("deferred", 0)),
        )
        if r.get("channel_posts"):  # daily_push_to = channels or both
            text += t("; {n} of them channel posts", n=t.number(r["channel_posts"]))
        if r.get("paid"):  # daily_push_paid
            text += t("; {n} pushes paid broadcasts", n=t.number(len(r["paid"])))
        return text
    if name == "reminders" and "day" in r:
        return t(
            "reminders of {day}: {n} queued",
            day=_day_text(r["day"], t),
            n=t.number(r.get("enqueued", 0)),
        )
    if name == "annual_evaluation" and "year" in r:
        proposals = r.get("proposals") or {}
        return t(
            "evaluation of {year}: {stations} stations scored, {proposals} proposals, "
            "{notified} coordinators told",
            year=r["year"],
            stations=t.number(r.get("stations", 0)),
            proposals=t.number(sum(proposals.values()) if isinstance(proposals, dict) else 0),
            notified=t.number(r.get("notified", 0)),
        )
    if name == "findings_notice" and "day" in r:
        return t(
            "findings of {day}: {n} coordinators told",
            day=_day_text(r["day"], t),
            n=t.number(r.get("enqueued", 0)),
        )
    if name == "integrity_sweep" and "raised" in r:
        raised = r.get("raised") or {}
        closed = r.get("closed") or []
        return t(
            "integrity sweep: {raised} findings raised, {closed} closed",
            raised=t.number(sum(raised.values()) if isinstance(raised, dict) else 0),
            closed=t.number(len(closed) if isinstance(closed, list) else int(closed)),
        )
    if name == "feeds_poll" and "feeds" in r:
        return t(
            "feeds polled: {feeds}; {drafts} new drafts, {published} published, {dup} "
            "duplicates, {same} unchanged, {errors} failed",
            feeds=t.number(r.get("feeds", 0)),
            drafts=t.number(r.get("drafts", 0)),
            published=t.number(r.get("published", 0)),
            dup=t.number(r.get("duplicates", 0)),
            same=t.number(r.get("not_modified", 0)),
            errors=t.number(r.get("errors", 0)),
        )
    return "; ".join(f"{key}: {value}" for key, value in r.items())


def outcome_text(outcome: JobOutcome, t: Translator) -> str:
    """Return one run's outcome as a sentence: done with what, skipped, or failed."""
    if outcome.status == "done":
        return t("Done: {result}.", result=describe_result(outcome.job, outcome.result, t))
    if outcome.status == "skipped":
        return t("{period} was done already; nothing was run again.", period=outcome.period)
    return t("Failed: {error}", error=outcome.error or "")
