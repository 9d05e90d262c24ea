"""The weekly digest: /digest on demand for coordinators; the tally and digest jobs."""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot import jobs
from bot.core.error_text import error_text as domain_text
from bot.handlers.commands import command
from bot.handlers.common import esc, requires
from bot.handlers.feature import COMMAND_GROUP, Feature, in_group
from bot.i18n import N_, Translator
from bot.reports import campaign as campaign_report
from bot.reports.digest import deliver, render
from bot.runtime.context import KepuContext
from bot.services import digest as digest_service
from bot.services.access import coordinates, coordinator_regions
from bot.services.desk_open import DIGEST_DESK_PAGE, desk_button
from bot.services.tally import (
    TALLY_JOB,
    TallyError,
    check_finished,
    last_full_week,
)
from storage import tally as tally_store

log = logging.getLogger(__name__)

WEEK_ARG = re.compile(r"^(\d{4})-?[Ww](\d{1,2})$")
REGION_ARG = re.compile(r"^\d{6}$")
SEND_ATTEMPTS = 3

COMMANDS = (
    command(
        "digest",
        N_("Weekly digest of your region (optionally: /digest 2026-W48 330106)"),
        "coordinator",
        order=60,
    ),
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
            digest = await render(t, data, runtime.settings.propagation)
            digest = await campaign_report.with_campaigns(
                session=context.session,
                settings=runtime.settings,
                t=t,
                digest=digest,
                region_code=region,
                start=data.start,
                end=data.end,
            )
            rendered.append(digest)
    except TallyError as exc:
        await message.reply_text(error_text(t, exc))
        return
    # /digest answers in private chats only, where Telegram allows the desk's web_app button.
    desk = desk_button(t, runtime.settings, DIGEST_DESK_PAGE)
    for digest in rendered:
        await deliver(context.bot, message.chat_id, digest, desk_button=desk)


FEATURE = Feature(
    name="digest",
    handlers=in_group(
        COMMAND_GROUP,
        CommandHandler("digest", digest_command, filters=filters.ChatType.PRIVATE),
    ),
    commands=COMMANDS,
    jobs=(jobs.WEEKLY_TALLY, jobs.WEEKLY_DIGEST),
)
