"""Stations: apply (/apply), review (/pending), manage (/stations, /station ID).

The feature is split by audience: ``stations_apply`` (future station admins),
``stations_review`` (county and city coordinators), ``stations_manage`` (dynamic
management).  This module holds what they share and registers them all.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler

from bot.handlers.common import esc, reply
from bot.handlers.dialog import end_dialog, get_dialog
from bot.i18n import N_, Translator, get_translator
from bot.runtime.context import KepuContext
from bot.services.review import Actor
from bot.services.stations import STATE_NAMES, Notice, StationError, describe_missing

log = logging.getLogger(__name__)

# Flows whose answers are already stored as a draft: /cancel keeps them.
DRAFT_FLOWS = ("apply",)

ERRORS: dict[str, str] = {
    "illegal_transition": N_("That is not possible now: the station is {state_name}."),
    "not_allowed": N_(
        "Sorry, this station is outside your area or your role does not allow that."
    ),
    "not_found": N_("Station #{station_id} was not found."),
    "not_editable": N_("This application can no longer be edited: it is {state_name}."),
    "reason_required": N_("Please give a reason."),
    "bad_name": N_("A station name has {min}–{max} characters. Please send the name again."),
    "bad_address": N_("Please send the address in one message (up to {max} characters)."),
    "bad_venue": N_("Please pick the venue type with the buttons."),
    "bad_region_code": N_(
        "“{value}” is not a region code. Send a 6-digit county code such "
        "as 330106, or pick with the buttons."
    ),
    "unknown_region": N_(
        "There is no region with code {code}. Check the code, or pick with the buttons."
    ),
    "not_county": N_(
        "{code} is {name}, not a county. Pick one of its counties, or send a county code."
    ),
    "region_required": N_("Please choose the county first."),
    "incomplete": N_("The application is not complete yet. Still missing: {missing}."),
    "empty_evidence": N_("Please send a photo or a description."),
    "onsite_date_future": N_("The on-site check date cannot be in the future."),
    "onsite_inspector_required": N_("Please send the inspector's name."),
    "onsite_proof_required": N_("Please send a photo taken on site or share the location."),
    "deadline_not_future": N_("The deadline must be after today. Send a date such as 2027-01-31."),
}


def error_text(t: Translator, exc: StationError) -> str:
    """Return the localised sentence for a refusal."""
    params: dict[str, Any] = {k: esc(v) for k, v in exc.params.items()}
    if "state" in exc.params:
        params["state_name"] = t(STATE_NAMES.get(exc.params["state"], exc.params["state"]))
    if exc.code == "incomplete":
        params["missing"] = ("、" if t.locale == "zh_CN" else ", ").join(
            t(msgid, **p) for msgid, p in describe_missing(exc.params.get("missing", []))
        )
    template = ERRORS.get(exc.code, N_("Sorry, that did not work ({code})."))
    return t(template, **{"code": exc.code, **params})


def actor_of(context: KepuContext) -> Actor:
    """Return the acting person with their grants."""
    person = context.person
    return Actor(person.id if person is not None else None, list(context.scope.roles))


def _format(t: Translator, value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return t.date(value)
    if isinstance(value, str):
        return esc(value)
    return value


async def send_notices(context: KepuContext, notices: Iterable[Notice]) -> int:
    """Send each notice in its recipient's language; return how many went out."""
    default = context.runtime.settings.i18n.default_locale
    sent = 0
    for notice in notices:
        t = get_translator(notice.language or default)
        text = t(notice.message, **{k: _format(t, v) for k, v in notice.params.items()})
        try:
            await context.bot.send_message(notice.telegram_id, text, parse_mode="HTML")
            sent += 1
        except TelegramError as exc:  # a notice is best effort: the decision is stored
            log.warning(
                "notice not delivered",
                extra={"telegram_id": notice.telegram_id, "error": str(exc)},
            )
    return sent


async def report_decision(
    update: Update, context: KepuContext, text: str, notices: Iterable[Notice]
) -> None:
    """A button's decision is taken: close its buttons, say so, notify the people concerned."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    await reply(update, text)
    await send_notices(context, notices)


async def cancel_keeping_draft(update: Update, context: KepuContext) -> None:
    """/cancel during an application: stop asking, but say the draft is kept."""
    dialog = await get_dialog(update, context)
    if dialog is None or dialog.flow not in DRAFT_FLOWS or "station_id" not in dialog.data:
        return  # the ordinary /cancel answers
    await end_dialog(update, context)
    await reply(
        update,
        context.t("Paused. Your draft application is kept: send /apply any time to continue."),
        reply_markup=None,
    )
    raise ApplicationHandlerStop


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register the stations handlers (apply, review, manage)."""
    from bot.handlers import stations_apply, stations_manage, stations_review

    # Before the shared /cancel (group 0), which would say nothing was saved.
    app.add_handler(CommandHandler("cancel", cancel_keeping_draft), group=-1)
    stations_apply.register(app)
    stations_review.register(app)
    stations_manage.register(app)
