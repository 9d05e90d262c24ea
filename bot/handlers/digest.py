"""The weekly digest: /digest on demand for coordinators, and the weekly_digest job's sends."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from typing import Any

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, CommandHandler, filters

from bot.core.error_text import error_text as domain_text
from bot.handlers.commands import command
from bot.handlers.common import esc, requires
from bot.i18n import N_, Translator, get_translator
from bot.runtime.context import KepuContext, Runtime
from bot.runtime.ratelimit import retry_after_seconds
from bot.runtime.scheduler import JobContext
from bot.services import digest as digest_service
from bot.services.access import coordinates, coordinator_regions
from bot.services.digest_render import RenderedDigest, render
from bot.services.tally import (
    TALLY_JOB,
    TallyError,
    check_finished,
    ensure_tally,
    last_full_week,
    shift_week,
)
from storage import people as people_store
from storage import tally as tally_store

log = logging.getLogger(__name__)

WEEK_ARG = re.compile(r"^(\d{4})-?[Ww](\d{1,2})$")
REGION_ARG = re.compile(r"^\d{6}$")
SEND_ATTEMPTS = 3

command(
    "digest",
    N_("Weekly digest of your region (optionally: /digest 2026-W48 330106)"),
    "coordinator",
    order=60,
)


def error_text(t: Translator, exc: TallyError) -> str:
    """Return the localised text of a refused digest request."""
    params = {key: esc(value) for key, value in exc.params.items()}
    return domain_text(exc, t, params=params)


def parse_args(args: list[str]) -> tuple[str | None, list[str]]:
    """Return the week and region codes given to /digest."""
    week: str | None = None
    regions: list[str] = []
    for arg in args:
        match = WEEK_ARG.match(arg.strip())
        if match:
            week = f"{match[1]}-W{int(match[2]):02d}"
        elif REGION_ARG.match(arg.strip()):
            regions.append(arg.strip())
        else:
            raise TallyError("usage", arg=arg[:40])
    return week, regions


@requires("coordinator")
async def digest_command(update: Update, context: KepuContext) -> None:
    """Send the digest of each region the coordinator asks for (default: all of theirs)."""
    message = update.effective_message
    if message is None:
        return
    t, runtime = context.t, context.runtime
    grants = context.scope.roles
    try:
        week, regions = parse_args(list(context.args or []))
        week = week or last_full_week(runtime.today())
        check_finished(week, runtime.today())
        for region in regions:
            if not coordinates(grants, region):
                raise TallyError("not_your_region", region=region)
        regions = regions or coordinator_regions(grants)
        if not regions:
            raise TallyError("no_region")
        if not await tally_store.week_computed(session=context.session, week=week, job=TALLY_JOB):
            raise TallyError("not_computed", week=week)
        rendered = []
        for region in regions:
            data = await digest_service.build_digest(
                session=context.session, region_code=region, week=week, settings=runtime.settings
            )
            rendered.append(await render(t, data, runtime.settings.propagation))
    except TallyError as exc:
        await message.reply_text(error_text(t, exc))
        return
    for digest in rendered:
        await deliver(context.bot, message.chat_id, digest)


async def _call(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a send method, waiting out flood control and retrying network errors."""
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await func(*args, **kwargs)
        except RetryAfter as exc:
            if attempt == SEND_ATTEMPTS:
                raise
            await asyncio.sleep(retry_after_seconds(exc))
        except NetworkError:
            if attempt == SEND_ATTEMPTS:
                raise
            await asyncio.sleep(attempt)
    raise AssertionError("unreachable")


async def deliver(bot: Any, chat_id: int, digest: RenderedDigest) -> int:
    """Send the text, the chart and the spreadsheet; return the text's message id."""
    first = await _call(bot.send_message, chat_id, digest.text, parse_mode="HTML")
    await _call(
        bot.send_photo, chat_id, digest.png, caption=digest.caption, filename=digest.png_name
    )
    await _call(
        bot.send_document, chat_id, digest.xlsx, filename=digest.xlsx_name, caption=digest.caption
    )
    return int(first.message_id)


async def weekly_digest_job(ctx: JobContext) -> dict[str, Any]:
    """Job: send every coordinator the period's digest of each region, once per week."""
    runtime, week = ctx.runtime, ctx.period
    if ctx.bot is None:
        raise RuntimeError("no bot to send with: set telegram.token")
    await ensure_tally(runtime, [shift_week(week, -1), week])
    async with runtime.sessions() as session:
        recipients = await tally_store.coordinator_recipients(session=session)
        done = await tally_store.delivered_keys(session=session, prefix=f"digest:{week}:")
    cache: dict[tuple[str, str], RenderedDigest | None] = {}
    counts: Counter[str] = Counter()
    for person in recipients:
        key = f"digest:{week}:{person.region_code}:{person.chat_id}"
        if key in done:
            counts["skipped"] += 1
            continue
        locale = get_translator(person.language or runtime.settings.i18n.default_locale).locale
        digest = await _rendered(runtime, cache, person.region_code, week, locale)
        if digest is None:
            counts["unknown_region"] += 1
            continue
        state, error, message_id = "sent", None, None
        try:
            message_id = await deliver(ctx.bot, person.chat_id, digest)
        except Forbidden as exc:
            state, error = "blocked", f"Forbidden: {exc.message}"
        except TelegramError as exc:
            state, error = "failed", f"{type(exc).__name__}: {exc.message}"
            log.warning("digest not delivered", extra={"chat_id": person.chat_id, "error": error})
        async with runtime.sessions() as session, session.begin():
            await tally_store.record_delivery(
                session=session,
                chat_id=person.chat_id,
                kind="digest",
                dedupe_key=key,
                state=state,
                now=runtime.now(),
                error=error,
                telegram_message_id=message_id,
                payload={"week": week, "region": person.region_code, "locale": locale},
            )
            if state == "blocked":
                await people_store.mark_unreachable(session=session, telegram_id=person.chat_id)
        counts[state] += 1
    return {"week": week, "recipients": len(recipients), **{k: counts[k] for k in sorted(counts)}}


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
            cache[(region, locale)] = await render(
                get_translator(locale), data, runtime.settings.propagation
            )
    return cache[(region, locale)]


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register /digest."""
    app.add_handler(
        CommandHandler("digest", digest_command, filters=filters.ChatType.PRIVATE), group=0
    )
