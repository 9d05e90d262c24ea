"""`kepubot content …` (import, list, push) and `kepubot outbox status`."""

from __future__ import annotations

import argparse

from bot.cli import CliError, cli_session, set_command, translator
from bot.config import Settings
from bot.content.catalogue import item_state
from bot.content.importer import ImportFailed, import_source, report_lines
from bot.content.taxonomy import default_taxonomy
from bot.core.error_text import error_text as domain_text
from bot.core.regions_csv import is_region_code
from bot.i18n import N_
from bot.services import broadcast as broadcast_service
from bot.services import push as push_service
from storage import broadcast as broadcast_store
from storage import content as content_store
from storage import outbox as outbox_store

STATE_NAMES = {
    "draft": N_("draft"),
    "scheduled": N_("scheduled"),
    "published": N_("published"),
    "expired": N_("expired"),
    "retired": N_("retired"),
}


async def _import(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    try:
        async with cli_session(settings) as (runtime, session):
            report = await import_source(
                session=session,
                source=args.source,
                taxonomy=default_taxonomy(),
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


async def _push(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(args, settings)
    tz = settings.scheduler.tz
    if args.scheduled:
        if args.item_id is not None:
            raise CliError(t("Give either ITEM_ID or --scheduled, not both."))
        async with cli_session(settings) as (runtime, session):
            daily = await push_service.run_daily_push(
                session=session,
                now=runtime.now(),
                tz=tz,
                default_locale=settings.i18n.default_locale,
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
    print(
        t(
            "The running bot sends them; follow with: kepubot outbox status {push}",
            push=result.push_id,
        )
    )
    return 0


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
        if push.id in paid:
            print("  " + broadcast_service.paid_note(t, paid[push.id]))
    return 0


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
    set_command(push, _push)

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
