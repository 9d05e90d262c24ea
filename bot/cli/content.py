"""`kepubot content …` (import, list, push) and `kepubot outbox status|retry`."""

from __future__ import annotations

import argparse

from bot.cli import CliError, cli_runtime, cli_session, set_command, translator
from bot.cli import outbox as outbox_cli
from bot.config import Settings
from bot.content import feed_poll
from bot.content.catalogue import item_state
from bot.content.importer import ImportFailed, import_source, report_lines
from bot.content.taxonomy import default_taxonomy
from bot.core.error_text import error_text as domain_text
from bot.core.regions_csv import is_region_code
from bot.i18n import N_, Translator
from bot.jobs import FEEDS_POLL, describe_result, feed_configs, push_daily
from bot.reports.push_report import way_lines
from bot.services import broadcast as broadcast_service
from bot.services import push as push_service
from bot.services.campaigns import taxonomy_with_campaigns
from storage import broadcast as broadcast_store
from storage import content as content_store
from storage import feeds as feed_store
from storage import outbox as outbox_store

STATE_NAMES = {
    "draft": N_("draft"),
    "scheduled": N_("scheduled"),
    "published": N_("published"),
    "expired": N_("expired"),
    "retired": N_("retired"),
    "review": N_("in review"),
}


async def _import(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    try:
        async with cli_session(settings) as (runtime, session):
            report = await import_source(
                session=session,
                source=args.source,
                # a pack may tag items with config or curators' campaigns (issue #19)
                taxonomy=await taxonomy_with_campaigns(session=session, settings=settings),
                now=runtime.now(),
                tz=settings.scheduler.tz,
                category=args.category,
            )
    except ImportFailed as exc:
        raise CliError(domain_text(exc, t)) from exc
    except OSError as exc:  # network errors of the download
        raise CliError(
            t(
                "Could not download {url}: {detail}",
                url=args.source,
                detail=str(exc) or type(exc).__name__,
            )
        ) from exc
    print("\n".join(report_lines(report, t)))
    return 0


async def _list(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    taxonomy = default_taxonomy()
    async with cli_session(settings) as (runtime, session):
        items, total = await content_store.list_items(session=session, offset=0, limit=args.limit)
        now = runtime.now()
    if not items:
        print(t("The catalogue is empty. Import a pack: kepubot content import PATH"))
        return 0
    for item in items:
        state = t(STATE_NAMES[item_state(item, now)])
        category = taxonomy.name(item.category, t.locale)
        print(f"{item.id}\t{state}\t{category}\t{item.kind}\t{item.title}")
    print(t("{shown} of {total} items (newest first).", shown=len(items), total=total))
    return 0


PUSH_TO = ("informants", "channels", "both")


def _paid_rates(args: argparse.Namespace, settings: Settings) -> push_service.PaidRates | None:
    """Return the paid rates when --paid asks for them (refused if paid broadcasts are off)."""
    if args.paid and not settings.broadcast.enabled:
        raise CliError(
            translator(args, settings)(
                "--paid needs paid broadcasts: set [broadcast] enabled = true (and enable "
                "them for the bot in @BotFather)."
            )
        )
    if args.paid:
        return push_service.PaidRates(limits=settings.limits, broadcast=settings.broadcast)
    return None  # --scheduled: [broadcast] daily_push_paid decides


async def _push(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    tz = settings.scheduler.tz
    paid = _paid_rates(args, settings)
    if args.scheduled:
        if args.item_id is not None:
            raise CliError(t("Give either ITEM_ID or --scheduled, not both."))
        async with cli_session(settings) as (runtime, session):
            daily = await push_daily(
                session=session, settings=settings, now=runtime.now(), to=args.to, paid=paid
            )
        if not daily.items:
            print(t("Nothing to push today: no published, unexpired item is waiting."))
        for result in daily.items:
            print(
                t(
                    "Push #{push} of item #{item}: {queued} messages queued ({deferred} "
                    "after quiet hours).",
                    push=result.push_id,
                    item=result.content_id,
                    queued=result.queued,
                    deferred=result.deferred,
                )
            )
            _print_way(t, result)
        return 0
    if args.item_id is None:
        raise CliError(t("Give ITEM_ID, or --scheduled for today's scheduled push."))
    taxonomy = default_taxonomy()
    for code in args.region or []:
        if not is_region_code(code):
            raise CliError(t("“{value}” is not a 6-digit region code.", value=code))
    for code in args.category or []:
        if taxonomy.get(code) is None:
            raise CliError(
                t(
                    "Unknown category “{value}”. Use one of: {codes}",
                    value=code,
                    codes=", ".join(taxonomy.codes),
                )
            )
    to = args.to or "informants"
    try:
        async with cli_session(settings) as (runtime, session):
            result = await push_service.push_item(
                session=session,
                content_id=args.item_id,
                now=runtime.now(),
                tz=tz,
                default_locale=settings.i18n.default_locale,
                trigger="cli",
                categories=args.category,
                regions=args.region,
                require_approval=settings.content.review_before_publish,
                informants=to in ("informants", "both"),
                channels=to in ("channels", "both"),
            )
            result = await push_service.open_paid(
                session=session, result=result, paid=paid, now=runtime.now()
            )
    except push_service.PushError as exc:
        raise CliError(domain_text(exc, t, cli=True)) from exc
    print(
        t(
            "Push #{push} of item #{item}: {queued} messages queued ({deferred} after quiet "
            "hours), {already} already had it.",
            push=result.push_id,
            item=result.content_id,
            queued=result.queued,
            deferred=result.deferred,
            already=result.already,
        )
    )
    _print_way(t, result)
    print(
        t(
            "The running bot sends them; follow with: kepubot outbox status {push}",
            push=result.push_id,
        )
    )
    return 0


def _print_way(t: Translator, result: push_service.PushResult) -> None:
    """Print how many of a push's messages are channel posts, and whether it goes paid."""
    for line in way_lines(t, result):
        print("  " + line)


async def _status(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    async with cli_session(settings) as (_runtime, session):
        if args.push_id is not None:
            status = await push_service.push_status(session=session, push_id=args.push_id)
            if status is None:
                raise CliError(t("No push #{id}.", id=args.push_id))
            pushes = [status]
        else:
            overall = await outbox_store.counts(session=session)
            pushes = []
            for push in await outbox_store.recent_pushes(session=session, limit=args.limit):
                found = await push_service.push_status(session=session, push_id=push.id or 0)
                if found is not None:
                    pushes.append(found)
        failures = {
            status.push.id: await push_service.failure_summary(
                session=session, push_id=status.push.id or 0
            )
            for status in pushes
        }
        paid = await broadcast_store.broadcasts(  # reach: the Stars paid pushes spent
            session=session, push_ids=[status.push.id or 0 for status in pushes]
        )
    if args.push_id is None:
        print(
            t(
                "Outbox: {sent} sent, {failed} failed, {blocked} blocked, {pending} pending.",
                **overall,
            )
        )
    for status in pushes:
        push = status.push
        state = t("finished") if push.finished_at is not None else t("sending")
        print(
            t(
                "Push #{id} (item #{item}, {trigger}, {state}): {sent} sent, {failed} failed, "
                "{blocked} blocked, {pending} pending of {total}.",
                id=push.id,
                item=push.content_id,
                trigger=(push.targeting or {}).get("trigger", "-"),
                state=state,
                total=push.total,
                **status.counts,
            )
        )
        for line in outbox_cli.reason_lines(t, push.id, failures[push.id]):
            print(line)
        if push.id in paid:
            print("  " + broadcast_service.paid_note(t, paid[push.id]))
    return 0


# --- `kepubot content feeds …` (content-feeds) ----------------------------------------------
FEED_STATUS_NAMES = {
    "new": N_("not polled yet"),
    "ok": N_("OK"),
    "not_modified": N_("OK (unchanged)"),
    "warning": N_("read, with warnings"),
    "error": N_("failing"),
}


async def _feeds_status(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    tz = settings.scheduler.tz
    async with cli_session(settings) as (runtime, session):
        await feed_store.sync_config_feeds(
            session=session, configs=feed_configs(settings), now=runtime.now()
        )
        feeds = await feed_store.list_feeds(session=session, active_only=not args.all)
    if not feeds:
        print(t("No feed is subscribed. Add [[content.feeds]] to the config, or /feeds add."))
        return 0
    for feed in feeds:
        when = (
            f"{feed.last_polled_at.astimezone(tz):%Y-%m-%d %H:%M}"
            if feed.last_polled_at
            else t("never")
        )
        status = t(FEED_STATUS_NAMES.get(feed.status, feed.status))
        if not feed.active:
            status = t("removed")
        print(f"#{feed.id}\t{feed.name}\t{feed.url}")
        line = "  " + t("last poll: {when}; status: {status}", when=when, status=status)
        if feed.error:
            line += t(" — {reason}", reason=feed_poll.error_text(t, feed.error, feed.error_detail))
        print(line)
    print(
        t(
            "Polled every {minutes} minutes by the job {job} (kepubot jobs run {job}).",
            minutes=settings.content.feed_poll_minutes,
            job=FEEDS_POLL.name,
        )
    )
    return 0


async def _feeds_poll(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    async with cli_runtime(settings) as runtime:
        result = await feed_poll.poll_feeds(
            sessions=runtime.sessions,
            taxonomy=default_taxonomy(),
            now=runtime.now,
            fetch=feed_poll.conditional_fetcher(settings.content.feed_timeout_seconds),
            default_locale=settings.i18n.default_locale,
            configs=feed_configs(settings),
            only=args.feed_id,
        )
    print(describe_result(FEEDS_POLL.name, result.as_dict(), t))
    return 0


def _add_feeds_parser(content_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    feeds = content_sub.add_parser(
        "feeds",
        help=N_("subscribed RSS/Atom feeds: status, poll now"),
        description=N_(
            "Feeds from [[content.feeds]] and those curators added with /feeds are polled "
            "on a schedule; new entries become drafts or are published."
        ),
    )
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True, metavar="COMMAND")
    status = feeds_sub.add_parser("status", help=N_("each feed's last poll, status and error"))
    status.add_argument("--all", action="store_true", help=N_("include removed feeds"))
    set_command(status, _feeds_status)
    poll = feeds_sub.add_parser("poll", help=N_("poll the feeds now (the running bot sends)"))
    poll.add_argument("feed_id", metavar="FEED_ID", type=int, nargs="?", help=N_("only this feed"))
    set_command(poll, _feeds_poll)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot content …` and `kepubot outbox …`."""
    content = sub.add_parser(
        "content",
        help=N_("import, list and push content"),
        description=N_("The content catalogue and precise push."),
    )
    content_sub = content.add_subparsers(dest="content_command", required=True, metavar="COMMAND")
    imp = content_sub.add_parser(
        "import",
        help=N_("import a content pack or an RSS/Atom feed (file or URL)"),
        description=N_(
            "Import a pack directory (pack.toml/pack.json + media), a manifest "
            "file, or an RSS/Atom feed from a file or an http(s) URL. Items already in the "
            "catalogue (same guid or link) are skipped; invalid ones are reported."
        ),
    )
    imp.add_argument("source", metavar="PATH|URL", help=N_("pack directory, manifest or feed"))
    imp.add_argument(
        "--category",
        metavar="CODE",
        help=N_("category for feed entries without a matching tag (feeds)"),
    )
    set_command(imp, _import)
    lst = content_sub.add_parser("list", help=N_("list catalogue items, newest first"))
    lst.add_argument("--limit", type=int, default=50, help=N_("how many items (default 50)"))
    set_command(lst, _list)
    push = content_sub.add_parser(
        "push",
        help=N_("push an item to matching informants now, or run today's scheduled push"),
        description=N_(
            "Queue one message per matching informant (interests and region; "
            "quiet hours are respected). The running bot (`kepubot run`) sends them."
        ),
    )
    push.add_argument("item_id", metavar="ITEM_ID", type=int, nargs="?", help=N_("item to push"))
    push.add_argument(
        "--region",
        metavar="CODE",
        action="append",
        help=N_("only informants of stations in this region (repeatable)"),
    )
    push.add_argument(
        "--category",
        metavar="CODE",
        action="append",
        help=N_(
            "target informants interested in this category instead of the item's own (repeatable)"
        ),
    )
    push.add_argument(
        "--scheduled", action="store_true", help=N_("run today's scheduled push now (idempotent)")
    )
    push.add_argument(
        "--to",
        choices=PUSH_TO,
        help=N_(
            "who gets it: informants (private messages, the default), channels (the channels "
            "linked within its regions) or both; with --scheduled the default is "
            "[content] daily_push_to"
        ),
    )
    push.add_argument(
        "--paid",
        action="store_true",
        help=N_(
            "send what is above the free rate as paid broadcasts, within [broadcast] "
            "stars_budget (needs [broadcast] enabled)"
        ),
    )
    set_command(push, _push)
    _add_feeds_parser(content_sub)

    outbox = sub.add_parser(
        "outbox",
        help=N_("outbox (push delivery) status"),
        description=N_("Delivery state of pushes."),
    )
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True, metavar="COMMAND")
    status = outbox_sub.add_parser("status", help=N_("messages per state, overall or of one push"))
    status.add_argument("push_id", metavar="PUSH_ID", type=int, nargs="?", help=N_("a push id"))
    status.add_argument("--limit", type=int, default=10, help=N_("recent pushes to show"))
    set_command(status, _status)
    outbox_cli.add_retry(outbox_sub)
