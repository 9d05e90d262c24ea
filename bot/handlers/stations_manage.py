"""/stations and /station ID: dynamic management (rectify, lift, revoke) by coordinators."""

from __future__ import annotations

import logging
from typing import Any, Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.handlers.callbacks import ManageButton, StationsPage, answer_invalid
from bot.handlers.commands import command
from bot.handlers.common import button_rows, esc, is_unchanged, reply, requires
from bot.handlers.stations_common import actor_of, error_text, report_decision
from bot.handlers.stations_review import ask_reason_if_allowed, card_text, review_buttons
from bot.i18n import N_
from bot.runtime.context import KepuContext
from bot.services import review as review_service
from bot.services.access import (
    administered_station_ids,
    coordinator_regions,
    is_admin,
    region_prefix,
)
from bot.services.stations import STATE_NAMES, StationError
from storage import stations as station_store
from storage.models import Station

log = logging.getLogger(__name__)

COMMANDS = (
    command("stations", N_("Stations in your area, by status"), "coordinator", order=51),
    command(
        "station",
        N_("One station's status and actions: /station ID"),
        "coordinator",
        "station_admin",
        order=52,
    ),
)

Markup = InlineKeyboardMarkup
LIST_LIMIT = 20  # station buttons per page of /stations
LISTED_STATES = ("recognised", "rectifying", "submitted", "county_approved")


def _prefixes(context: KepuContext) -> list[str] | None:
    if is_admin(context.scope.roles):
        return None
    return [region_prefix(code) for code in coordinator_regions(context.scope.roles)]


async def _list_page(context: KepuContext, page: int) -> tuple[str, Markup | None]:
    """Render the status counts and one page of station buttons (the page is clamped)."""
    t = context.t
    prefixes = _prefixes(context)  # from the roles loaded for this update, never the message
    counts = await station_store.status_counts(session=context.session, region_prefixes=prefixes)
    counts.pop("draft", None)  # drafts are the applicants' own business
    if not counts:
        return t("No stations in your area yet."), None
    lines = [t("<b>Stations in your area</b>")]
    lines += [
        t("{state}: {n}", state=t(STATE_NAMES[s]), n=t.number(n))
        for s, n in sorted(counts.items())
        if s in STATE_NAMES
    ]
    total = sum(counts.get(state, 0) for state in LISTED_STATES)  # the same region filter
    pages = max(1, -(-total // LIST_LIMIT))
    page = min(max(page, 0), pages - 1)  # an old message may ask for a page that is gone
    stations = await station_store.list_stations(
        session=context.session,
        statuses=LISTED_STATES,
        region_prefixes=prefixes,
        offset=page * LIST_LIMIT,
        limit=LIST_LIMIT,
    )
    buttons = [
        InlineKeyboardButton(
            f"#{s.id} {s.name}"[:40], callback_data=ManageButton("open", s.id).encode()
        )
        for s in stations
        if s.id is not None
    ]
    rows = button_rows(buttons, 1)
    if pages > 1:
        first = page * LIST_LIMIT + 1
        lines.append(
            t(
                "Listed below: {first}–{last} of {total}.",
                first=t.number(first),
                last=t.number(first + len(stations) - 1),
                total=t.number(total),
            )
        )
        nav: list[InlineKeyboardButton] = []
        if page > 0:
            nav.append(
                InlineKeyboardButton(
                    t("‹ Previous"), callback_data=StationsPage(page - 1).encode()
                )
            )
        nav.append(  # pressing it reloads the page
            InlineKeyboardButton(
                t("Page {page}/{pages}", page=page + 1, pages=pages),
                callback_data=StationsPage(page).encode(),
            )
        )
        if page + 1 < pages:
            nav.append(
                InlineKeyboardButton(t("Next ›"), callback_data=StationsPage(page + 1).encode())
            )
        rows.append(nav)
    return "\n".join(lines), Markup(rows) if rows else None


async def stations_list(update: Update, context: KepuContext) -> None:
    """Count stations by status in the coordinator's regions and list the first page."""
    text, markup = await _list_page(context, 0)
    await reply(update, text, reply_markup=markup)


async def stations_page(update: Update, context: KepuContext) -> None:
    """Show another page of /stations in the same message (MGT:page:N)."""
    query = update.callback_query
    assert query is not None
    button = StationsPage.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    await query.answer()
    text, markup = await _list_page(context, button.page)
    try:
        await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)
    except BadRequest as exc:
        if is_unchanged(exc):  # the current page pressed again
            return
        log.info("stations page not edited, sent anew", extra={"error": str(exc)})
        await reply(update, text, reply_markup=markup)


# Dynamic management (state machine actions) as buttons: label and callback tag.
MANAGE_BUTTONS: dict[str, tuple[str, Literal["rect", "lift", "revoke"]]] = {
    "rectify": (N_("⚠ Order rectification"), "rect"),
    "lift": (N_("✔ Lift rectification"), "lift"),
    "revoke": (N_("✖ Revoke"), "revoke"),
}


def manage_buttons(context: KepuContext, station: Station) -> list[list[InlineKeyboardButton]]:
    """Return the management actions this person may take on the station now."""
    sid = station.id
    assert sid is not None
    allowed = review_service.available_actions(context.scope.roles, station)
    row = [
        InlineKeyboardButton(context.t(label), callback_data=ManageButton(tag, sid).encode())
        for action, (label, tag) in MANAGE_BUTTONS.items()
        if action in allowed
    ]
    return review_buttons(context, station) + ([row] if row else [])


async def show_station(update: Update, context: KepuContext, station_id: int) -> None:
    """Show a station's card with its actions (a refusal raises before a press is answered)."""
    station = await review_service.authorise(
        session=context.session,
        actor=actor_of(context),
        action="view",
        station_id=station_id,
        now=context.runtime.now(),
    )
    if update.callback_query is not None:
        await update.callback_query.answer()
    buttons = manage_buttons(context, station)
    await reply(
        update,
        await card_text(context, station),
        reply_markup=Markup(buttons) if buttons else None,
    )


async def station_command(update: Update, context: KepuContext) -> None:
    """/station ID (a station admin may leave the ID out)."""
    t = context.t
    args = context.args or []
    if args and args[0].lstrip("#").isdigit():
        station_id = int(args[0].lstrip("#"))
    else:
        own = administered_station_ids(context.scope.roles)
        if len(own) != 1 or args:
            await reply(
                update, t("Send /station followed by the station number, e.g. /station 12.")
            )
            return
        station_id = own[0]
    try:
        await show_station(update, context, station_id)
    except StationError as exc:
        await reply(update, error_text(t, exc))


async def on_button(update: Update, context: KepuContext) -> None:
    """Handle MGT:… buttons."""
    query = update.callback_query
    assert query is not None
    button = ManageButton.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    action, station_id = button.action, button.station_id
    try:
        if action == "open":
            await show_station(update, context, station_id)
        elif action in ("rect", "revoke"):
            decision = "rectify" if action == "rect" else "revoke"
            await ask_reason_if_allowed(update, context, decision, station_id)
        elif action == "lift":
            outcome = await review_service.lift(
                session=context.session,
                station_id=station_id,
                actor=actor_of(context),
                now=context.runtime.now(),
            )
            text = context.t(
                "Done: {name} is now {state}.",
                name=esc(outcome.station.name),
                state=context.t(STATE_NAMES[outcome.station.status]),
            )
            await report_decision(update, context, text, outcome.notices)
        else:
            await query.answer()
    except StationError as exc:
        await query.answer(error_text(context.t, exc)[:190], show_alert=True)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Return /stations (and its pages), /station and the management buttons."""
    return [
        CommandHandler("stations", requires("coordinator")(stations_list)),
        CommandHandler("station", requires("coordinator", "station_admin")(station_command)),
        # Pages of /stations before the other MGT: buttons; the role is checked on every press.
        CallbackQueryHandler(requires("coordinator")(stations_page), pattern=StationsPage.pattern),
        CallbackQueryHandler(on_button, pattern=ManageButton.pattern),
    ]
