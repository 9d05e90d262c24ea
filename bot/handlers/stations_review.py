"""/pending and the two-stage review: county (material + on-site check), city (recognise).

Also the reason dialog shared by every decision that needs one (reject, send back,
rectify, revoke).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.core.error_text import error_text as domain_text
from bot.core.zh_dates import DateError, find_bad_date, parse_date, read_date
from bot.handlers.callbacks import ReviewButton, answer_invalid
from bot.handlers.commands import command
from bot.handlers.common import button_rows, esc, reply, requires
from bot.handlers.desk_buttons import desk_inline_button
from bot.handlers.dialog import (
    Dialog,
    Flow,
    end_dialog,
    get_dialog,
    goto,
    input_hint,
    start_dialog,
)
from bot.handlers.findings import station_card_lines
from bot.handlers.stations_common import (
    actor_of,
    error_text,
    report_decision,
    send_notices,
)
from bot.i18n import N_
from bot.runtime.context import KepuContext
from bot.services import regions as region_service
from bot.services import review as review_service
from bot.services import stations as station_service
from bot.services.desk_open import REVIEWS_DESK_PAGE
from bot.services.stations import HAVE_NAMES, STATE_NAMES, VENUE_NAMES, StationError
from storage import stations as station_store
from storage.models import Station

COMMANDS = (
    command(
        "pending", N_("Station applications waiting for your review"), "coordinator", order=50
    ),
)

Markup = InlineKeyboardMarkup
INSPECTOR_MAX = 64
NOTE_MAX = 1000

REASON_PROMPTS = {
    "county_reject": N_(
        "Why is the application rejected? Send the reason; the applicant will read it."
    ),
    "city_send_back": N_("Why is it sent back? Send the reason; the applicant will read it."),
    "rectify": N_("What must the station rectify? Send the reason."),
    "revoke": N_("Why is the station revoked? Send the reason."),
}


async def pending(update: Update, context: KepuContext) -> None:
    """List the applications this coordinator may review now."""
    t = context.t
    stations = await review_service.pending_for(
        session=context.session, grants=context.scope.roles
    )
    if not stations:
        await reply(update, t("Nothing is waiting for your review."))
        return
    lines = [t("<b>Waiting for your review</b>")]
    buttons = []
    for station in stations:
        assert station.id is not None
        where = await region_service.full_name(session=context.session, code=station.region_code)
        lines.append(
            t(
                "#{id} {name} — {where} — {state}",
                id=station.id,
                name=esc(station.name),
                where=esc(where),
                state=t(STATE_NAMES[station.status]),
            )
        )
        buttons.append(
            InlineKeyboardButton(
                f"#{station.id} {station.name}"[:40],
                callback_data=ReviewButton("open", station.id).encode(),
            )
        )
    rows = button_rows(buttons, 1)
    chat = update.effective_chat
    desk = desk_inline_button(t, context.runtime.settings, REVIEWS_DESK_PAGE)
    if desk is not None and chat is not None and chat.type == "private":
        rows.append([desk])  # web_app buttons: private chats only (Telegram refuses others)
    await reply(update, "\n".join(lines), reply_markup=Markup(rows))


async def send_evidence(update: Update, context: KepuContext, station_id: int) -> None:
    """Send the application's photos, grouped by have."""
    chat = update.effective_chat
    assert chat is not None
    t = context.t
    for item in await station_service.evidence_summary(
        session=context.session, station_id=station_id
    ):
        photos = item.photos[:10]
        caption = t(HAVE_NAMES[item.have])
        try:
            if len(photos) == 1:
                await context.bot.send_photo(chat.id, photos[0], caption=caption)
            elif photos:
                media = [
                    InputMediaPhoto(p, caption=caption if i == 0 else None)
                    for i, p in enumerate(photos)
                ]
                await context.bot.send_media_group(chat.id, media)
        except TelegramError:  # a lost photo must not block the review card
            await reply(update, t("(Some photos of {have} could not be shown.)", have=caption))


async def card_text(context: KepuContext, station: Station) -> str:
    """Return the review card: the application, evidence texts and past decisions."""
    t = context.t
    assert station.id is not None
    where = await region_service.full_name(session=context.session, code=station.region_code)
    parts = [
        t("<b>#{id} {name}</b>", id=station.id, name=esc(station.name)),
        t("Status: {state}", state=t(STATE_NAMES[station.status])),
        t("Venue: {venue}", venue=t(VENUE_NAMES.get(station.venue_type, station.venue_type))),
        t("Address: {address}", address=esc(station.address or "—")),
        t("County: {where}", where=esc(where or "—")),
    ]
    if station.status_reason:
        parts.append(t("Reason: {reason}", reason=esc(station.status_reason)))
    if station.rectify_deadline:
        parts.append(t("Rectify by: {date}", date=t.date(station.rectify_deadline)))
    for item in await station_service.evidence_summary(
        session=context.session, station_id=station.id
    ):
        texts = "；".join(esc(x) for x in item.texts) or "—"
        parts.append(
            t(
                "{have} ({photos} photos): {texts}",
                have=t(HAVE_NAMES[item.have]),
                photos=len(item.photos),
                texts=texts,
            )
        )
    for review in await station_store.reviews_of(session=context.session, station_id=station.id):
        if review.onsite_date is not None:
            parts.append(
                t(
                    "On-site check {date} by {inspector}: {note}",
                    date=t.date(review.onsite_date),
                    inspector=esc(review.inspector),
                    note=esc(review.note or "—"),
                )
            )
    parts += await station_card_lines(context, station)  # coordinators of its region only
    return "\n".join(parts)


# The review decisions (state machine actions) as buttons: label and callback tag.
REVIEW_ROWS = (("county_approve", "county_reject"), ("city_recognise", "city_send_back"))
REVIEW_LABELS = {
    "county_approve": N_("✅ Approve (on-site check)"),
    "county_reject": N_("❌ Reject"),
    "city_recognise": N_("🏅 Recognise"),
    "city_send_back": N_("↩ Send back"),
}
REVIEW_TAGS: dict[str, Literal["ok", "no", "rec", "back"]] = {
    "county_approve": "ok",
    "county_reject": "no",
    "city_recognise": "rec",
    "city_send_back": "back",
}


def review_buttons(context: KepuContext, station: Station) -> list[list[InlineKeyboardButton]]:
    """Return the review decisions this person may take on the station now."""
    sid = station.id
    assert sid is not None
    allowed = review_service.available_actions(context.scope.roles, station)
    rows: list[list[InlineKeyboardButton]] = []
    for stage in REVIEW_ROWS:  # one row per review stage: decide, or refuse
        row = [
            InlineKeyboardButton(
                context.t(REVIEW_LABELS[action]),
                callback_data=ReviewButton(REVIEW_TAGS[action], sid).encode(),
            )
            for action in stage
            if action in allowed
        ]
        if row:
            rows.append(row)
    return rows


async def open_card(update: Update, context: KepuContext, station_id: int) -> None:
    """Send the evidence and the review card (a refusal raises before the press is answered)."""
    station = await review_service.authorise(
        session=context.session,
        actor=actor_of(context),
        action="view",
        station_id=station_id,
        now=context.runtime.now(),
    )
    assert station.id is not None
    if update.callback_query is not None:
        await update.callback_query.answer()
    await send_evidence(update, context, station.id)
    buttons = review_buttons(context, station)
    await reply(
        update,
        await card_text(context, station),
        reply_markup=Markup(buttons) if buttons else None,
    )


# --- buttons ------------------------------------------------------------------------------
async def on_button(update: Update, context: KepuContext) -> None:
    """Handle REV:… buttons: open a card, start a decision."""
    query = update.callback_query
    assert query is not None
    button = ReviewButton.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    action, station_id = button.action, button.station_id
    actor, now = actor_of(context), context.runtime.now()
    try:
        if action == "open":
            await open_card(update, context, station_id)
        elif action == "ok":
            await review_service.authorise(
                session=context.session,
                actor=actor,
                action="county_approve",
                station_id=station_id,
                now=now,
            )
            await query.answer()
            await start_dialog(update, context, "onsite", "date", station_id=station_id)
            await ask_date(update, context)
        elif action in ("no", "back"):
            decision = "county_reject" if action == "no" else "city_send_back"
            await ask_reason_if_allowed(update, context, decision, station_id)
        elif action == "rec":
            outcome = await review_service.city_recognise(
                session=context.session, station_id=station_id, actor=actor, now=now
            )
            text = context.t(
                "🏅 {name} is now recognised and counted in the statistics.",
                name=esc(outcome.station.name),
            )
            await report_decision(update, context, text, outcome.notices)
        elif action in ("today", "yday"):
            await _date_button(update, context, station_id, action)
        else:
            await query.answer()
    except StationError as exc:
        await query.answer(error_text(context.t, exc)[:190], show_alert=True)


# --- county approval: the on-site check record --------------------------------------------
async def ask_date(update: Update, context: KepuContext) -> None:
    """Ask which day the on-site check took place."""
    t = context.t
    buttons = [
        [
            InlineKeyboardButton(t("Today"), callback_data=ReviewButton("today", 0).encode()),
            InlineKeyboardButton(t("Yesterday"), callback_data=ReviewButton("yday", 0).encode()),
        ]
    ]
    await reply(
        update,
        t(
            "On-site check record (1/4): on which day did you visit? Press a "
            "button or send a date such as 2026-11-20 or 11月20日."
        )
        + "\n"
        + input_hint(context),
        reply_markup=Markup(buttons),
    )


async def _date_button(update: Update, context: KepuContext, _station_id: int, which: str) -> None:

    query = update.callback_query
    assert query is not None
    dialog = await get_dialog(update, context)
    if dialog is None or dialog.flow != "onsite" or dialog.step != "date":
        await query.answer(context.t("That button is from an earlier step."))
        return
    await query.answer()
    today = context.runtime.today()
    day = today if which == "today" else today - dt.timedelta(days=1)
    await _take_date(update, context, dialog, day)


async def _take_date(update: Update, context: KepuContext, dialog: Dialog, day: dt.date) -> None:
    t = context.t
    if day > context.runtime.today():
        await reply(update, t("The on-site check date cannot be in the future."))
        return
    await goto(context, dialog, "inspector", date=day.isoformat())
    await reply(
        update,
        t(
            "Date: {date} ✓\nOn-site check record (2/4): who inspected? Send "
            "the inspector's name.",
            date=t.date(day),
        ),
    )


async def step_date(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take a typed date (2026-11-20, 11月20日, 昨天…)."""
    message = update.effective_message
    try:
        found = read_date((message.text or "") if message else "", today=context.runtime.today())
    except DateError as exc:
        await reply(update, domain_text(exc, context.t))
        await ask_date(update, context)
        return
    await _take_date(update, context, dialog, found.value)


async def step_inspector(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the inspector's name."""
    message = update.effective_message
    name = " ".join((message.text or "").split()) if message else ""
    if not 1 <= len(name) <= INSPECTOR_MAX:
        await reply(update, context.t("Please send the inspector's name."))
        return
    await goto(context, dialog, "note", inspector=name)
    await reply(
        update, context.t("On-site check record (3/4): what did you find? Send a short note.")
    )


async def step_note(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the note."""
    message = update.effective_message
    note = (message.text or "").strip() if message else ""
    if not note:
        await reply(update, context.t("Please send a short note as text."))
        return
    await goto(context, dialog, "proof", note=note[:NOTE_MAX])
    await reply(
        update,
        context.t(
            "On-site check record (4/4): send a photo taken on site, "
            "or share the location (📎 → Location)."
        ),
    )


async def step_proof(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take a photo or a location, then approve."""
    message = update.effective_message
    assert message is not None
    photo = message.photo[-1].file_id if message.photo else None
    location = message.location
    if photo is None and location is None:
        await reply(update, context.t("Please send a photo taken on site or share the location."))
        return
    onsite = review_service.OnsiteCheck(
        date=dt.date.fromisoformat(dialog.data["date"]),
        inspector=dialog.data["inspector"],
        note=dialog.data["note"],
        photo_file_id=photo,
        latitude=location.latitude if location else None,
        longitude=location.longitude if location else None,
    )
    try:
        outcome = await review_service.county_approve(
            session=context.session,
            station_id=int(dialog.data["station_id"]),
            actor=actor_of(context),
            onsite=onsite,
            today=context.runtime.today(),
            now=context.runtime.now(),
        )
    except StationError as exc:
        await end_dialog(update, context)
        await reply(update, error_text(context.t, exc))
        return
    await end_dialog(update, context)
    await reply(
        update,
        context.t(
            "✅ Approved {name} with the on-site check record. The city "
            "coordinators have been asked to re-verify it.",
            name=esc(outcome.station.name),
        ),
    )
    await send_notices(context, outcome.notices)


# --- reasons (reject, send back, rectify, revoke) -----------------------------------------
async def start_reason(update: Update, context: KepuContext, action: str, station_id: int) -> None:
    """Ask for the reason of a decision."""
    await start_dialog(
        update, context, "station_reason", "reason", station_id=station_id, action=action
    )
    await reply(
        update,
        context.t(REASON_PROMPTS[action]) + "\n" + input_hint(context),
    )


async def ask_reason_if_allowed(
    update: Update, context: KepuContext, decision: str, station_id: int
) -> None:
    """A decision button: check the person may take it (or raise), then ask the reason."""
    await review_service.authorise(
        session=context.session,
        actor=actor_of(context),
        action=decision,
        station_id=station_id,
        now=context.runtime.now(),
    )
    assert update.callback_query is not None
    await update.callback_query.answer()
    await start_reason(update, context, decision, station_id)


async def step_reason(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the reason; decide, or ask for the deadline of a rectification."""
    message = update.effective_message
    reason = " ".join((message.text or "").split()) if message else ""
    t = context.t
    if not reason:
        await reply(update, t("Please give a reason."))
        return
    action = dialog.data["action"]
    if action == "rectify":
        await goto(context, dialog, "deadline", reason=reason)
        await reply(
            update, t("By when must it be rectified? Send a date such as 2027-01-31 or 1月31日.")
        )
        return
    await decide(update, context, dialog, reason=reason)


async def step_deadline(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the rectification deadline."""
    message = update.effective_message
    today = context.runtime.today()
    text = (message.text or "") if message else ""
    bad = find_bad_date(text) if parse_date(text, today=today) is None else None
    day = _future_date(text, today)
    if day is None:
        if bad is not None:
            refusal = DateError("impossible", written=bad.written)
            await reply(update, domain_text(refusal, context.t))
            return
        await reply(
            update, context.t("I could not read a date there. Send it like 2027-01-31 or 1月31日.")
        )
        return
    await decide(update, context, dialog, reason=dialog.data["reason"], deadline=day)


def _future_date(text: str, today: dt.date) -> dt.date | None:
    """Read a deadline; a month-day without a year means its next occurrence."""
    found = parse_date(text, today=today)
    if found is None:
        return None
    day = found.value
    if day <= today and found.form == "month_day":
        try:
            day = day.replace(year=day.year + 1)
        except ValueError:  # 29 February
            return None
    return day


async def decide(
    update: Update,
    context: KepuContext,
    dialog: Dialog,
    *,
    reason: str,
    deadline: dt.date | None = None,
) -> None:
    """Apply the decision the dialog was about."""
    t = context.t
    action, station_id = dialog.data["action"], int(dialog.data["station_id"])
    actor, now = actor_of(context), context.runtime.now()
    kwargs: dict[str, Any] = {
        "session": context.session,
        "station_id": station_id,
        "actor": actor,
        "now": now,
    }
    try:
        if action in ("county_reject", "city_send_back"):
            outcome = await review_service.reject(action=action, reason=reason, **kwargs)
        elif action == "rectify":
            assert deadline is not None
            outcome = await review_service.rectify(
                reason=reason, deadline=deadline, today=context.runtime.today(), **kwargs
            )
        else:
            outcome = await review_service.revoke(reason=reason, **kwargs)
    except StationError as exc:
        await reply(update, error_text(t, exc))
        if exc.code != "deadline_not_future":
            await end_dialog(update, context)
        return
    await end_dialog(update, context)
    station = outcome.station
    await reply(
        update,
        t(
            "Done: {name} is now {state}.",
            name=esc(station.name),
            state=t(STATE_NAMES[station.status]),
        ),
    )
    await send_notices(context, outcome.notices)


FLOWS: dict[str, Flow] = {
    "onsite": Flow.of(
        {
            "date": step_date,
            "inspector": step_inspector,
            "note": step_note,
            "proof": step_proof,
        },
        N_("Left the on-site check record; the application is not approved yet."),
    ),
    "station_reason": Flow.of(
        {"reason": step_reason, "deadline": step_deadline},
        N_("Left without a decision; the station is unchanged."),
    ),
}


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Return /pending and the review buttons (command group)."""
    return [
        CommandHandler("pending", requires("coordinator")(pending)),
        CallbackQueryHandler(on_button, pattern=ReviewButton.pattern),
    ]
