"""/apply: a future station admin applies with the five-haves evidence (a DB dialog).

Answers are stored as a ``draft`` station as soon as the name and venue type are known,
so a restart or /cancel never loses them: /apply resumes where the applicant stopped.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.handlers.callbacks import (
    APPLY,
    ApplyAction,
    ApplyEdit,
    ApplyRegion,
    ApplyVenue,
    answer_invalid,
)
from bot.handlers.commands import command
from bot.handlers.common import button_rows, esc, lines, reply
from bot.handlers.dialog import (
    Dialog,
    Flow,
    end_dialog,
    get_dialog,
    goto,
    input_hint,
    start_dialog,
)
from bot.handlers.stations_common import error_text, send_notices
from bot.i18n import N_
from bot.runtime.context import KepuContext
from bot.services import regions as region_service
from bot.services import review as review_service
from bot.services import stations as station_service
from bot.services.stations import HAVE_HINTS, HAVE_NAMES, HAVES, VENUE_NAMES, StationError
from storage.models import Station

COMMANDS = (command("apply", N_("Apply to set up a Kepu China e-station"), order=40),)

Markup = InlineKeyboardMarkup


def _person_id(context: KepuContext) -> int:
    person = context.person
    assert person is not None and person.id is not None
    return person.id


# --- prompts ------------------------------------------------------------------------------
async def ask_name(update: Update, context: KepuContext) -> None:
    """Ask for the station's name."""
    await reply(
        update,
        context.t("What is the station's name? (for example 西湖区文化站科普e站)")
        + "\n"
        + input_hint(context),
    )


async def ask_venue(update: Update, context: KepuContext) -> None:
    """Offer the nine venue types of the measures."""
    t = context.t
    buttons = [
        InlineKeyboardButton(t(name), callback_data=ApplyVenue(code).encode())
        for code, name in VENUE_NAMES.items()
    ]
    await reply(
        update, t("Which venue hosts the station?"), reply_markup=Markup(button_rows(buttons, 2))
    )


async def ask_address(update: Update, context: KepuContext) -> None:
    """Ask for the street address."""
    await reply(
        update, context.t("Send the street address of the venue.") + "\n" + input_hint(context)
    )


# The back button under a region's list names the list it goes back to.
BACK_LABELS = {"province": N_("« Back to cities"), "city": N_("« Back to counties")}


async def ask_region(
    update: Update, context: KepuContext, parent: str | None = None, prefix: str = ""
) -> None:
    """Offer regions under ``parent`` as buttons; a county code may be typed instead."""
    t = context.t
    options = await region_service.choices(session=context.session, parent_code=parent)
    if not options and parent is None:
        await reply(
            update,
            t(
                "No regions are loaded yet, so I cannot place the station. "
                "Please ask an administrator. Your draft is kept."
            ),
        )
        return
    buttons = [
        InlineKeyboardButton(o.name, callback_data=ApplyRegion(o.code).encode()) for o in options
    ]
    rows = button_rows(buttons, 3)
    if parent is not None:
        # One level up: the list this one was picked from (a city's counties → the cities).
        up = await region_service.parent_of(session=context.session, code=parent)
        back = BACK_LABELS.get(up.level, N_("« Back")) if up else N_("« Back to provinces")
        target = up.code if up else "top"
        rows.append([InlineKeyboardButton(t(back), callback_data=ApplyRegion(target).encode())])
    where = await region_service.full_name(session=context.session, code=parent)
    text = t("Which county (区/县) is it in? Pick below, or send its 6-digit code.")
    if where:
        text = t("{where} — pick the next level:", where=esc(where))
    await reply(update, lines([prefix, text]), reply_markup=Markup(rows))


async def ask_have(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Ask for the evidence of the current have."""
    t = context.t
    index = int(dialog.data.get("have", 0))
    have = HAVES[index]
    text = t(
        "{i}/5 · Has {have}: {hint}\nSend photos and/or a short description, then press Next.",
        i=index + 1,
        have=t(HAVE_NAMES[have]),
        hint=t(HAVE_HINTS[have]),
    )
    await reply(update, text, reply_markup=_have_buttons(context))


def _have_buttons(context: KepuContext) -> InlineKeyboardMarkup:
    t = context.t
    return Markup(
        [
            [
                InlineKeyboardButton(t("Next step ▶"), callback_data=ApplyAction("next").encode()),
                InlineKeyboardButton(
                    t("Clear and redo"), callback_data=ApplyAction("clear").encode()
                ),
            ]
        ]
    )


async def show_summary(update: Update, context: KepuContext, station: Station) -> None:
    """Show the application to check, with submit and edit buttons."""
    t = context.t
    assert station.id is not None
    evidence = await station_service.evidence_summary(
        session=context.session, station_id=station.id
    )
    where = await region_service.full_name(session=context.session, code=station.region_code)
    parts = [
        t("<b>Please check your application</b>"),
        t("Name: {name}", name=esc(station.name)),
        t("Venue: {venue}", venue=t(VENUE_NAMES[station.venue_type])),
        t("Address: {address}", address=esc(station.address or "—")),
        t("County: {where}", where=esc(where or "—")),
    ]
    for item in evidence:
        parts.append(
            t(
                "{have}: {photos} photos, {texts} descriptions",
                have=t(HAVE_NAMES[item.have]),
                photos=len(item.photos),
                texts=len(item.texts),
            )
        )
    if station.status == "rejected" and station.status_reason:
        parts.append(t("Sent back because: {reason}", reason=esc(station.status_reason)))
    buttons = [
        [InlineKeyboardButton(t("✅ Submit"), callback_data=ApplyAction("submit").encode())],
        [
            InlineKeyboardButton(t("Edit name"), callback_data=ApplyEdit("name").encode()),
            InlineKeyboardButton(t("Edit venue"), callback_data=ApplyEdit("venue").encode()),
        ],
        [
            InlineKeyboardButton(t("Edit address"), callback_data=ApplyEdit("address").encode()),
            InlineKeyboardButton(t("Edit county"), callback_data=ApplyEdit("region").encode()),
        ],
        [InlineKeyboardButton(t("Edit evidence"), callback_data=ApplyEdit("have").encode())],
    ]
    await reply(update, "\n".join(parts), reply_markup=Markup(buttons))


# --- moving on ----------------------------------------------------------------------------
async def _station(context: KepuContext, dialog: Dialog) -> Station:
    return await station_service.editable_station(
        context.session, int(dialog.data["station_id"]), _person_id(context)
    )


async def advance(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Go to the next missing part, or to the summary after an edit or when complete."""
    station = await _station(context, dialog)
    missing = await station_service.missing_parts(session=context.session, station=station)
    step, index = (
        ("summary", 0) if dialog.data.get("editing") else station_service.next_part(missing)
    )
    await goto(context, dialog, step, have=index, editing=False)
    await prompt(update, context, dialog, station)


async def prompt(
    update: Update, context: KepuContext, dialog: Dialog, station: Station | None = None
) -> None:
    """Ask what the current step needs."""
    if dialog.step == "name":
        await ask_name(update, context)
    elif dialog.step == "venue":
        await ask_venue(update, context)
    elif dialog.step == "address":
        await ask_address(update, context)
    elif dialog.step == "region":
        await ask_region(update, context)
    elif dialog.step == "have":
        await ask_have(update, context, dialog)
    else:
        await show_summary(update, context, station or await _station(context, dialog))


# --- /apply -------------------------------------------------------------------------------
async def apply(update: Update, context: KepuContext) -> None:
    """Start a new application or resume the open one."""
    t = context.t
    current = await station_service.current_application(
        session=context.session, applicant_id=_person_id(context)
    )
    if current is not None and current.status in ("submitted", "county_approved"):
        await end_dialog(update, context)
        await reply(
            update,
            t(
                "Your application {name} is {state}. I will tell you when there is news.",
                name=esc(current.name),
                state=t(station_service.STATE_NAMES[current.status]),
            ),
        )
        return
    if current is not None:
        assert current.id is not None
        missing = await station_service.missing_parts(session=context.session, station=current)
        step, index = (
            ("summary", 0) if current.status == "rejected" else station_service.next_part(missing)
        )
        dialog = await start_dialog(
            update, context, "apply", step, station_id=current.id, have=index
        )
        await reply(
            update,
            t("Welcome back! Let us continue your application {name}.", name=esc(current.name)),
        )
        await prompt(update, context, dialog, current)
        return
    await start_dialog(update, context, "apply", "name")
    await reply(
        update,
        t(
            "Let us apply for a Kepu China e-station. A station needs the five haves: network, "
            "personnel, venue, activities and terminals; I will ask for evidence of each "
            "(photos and/or a short description). Your answers are kept as a draft, so you "
            "can stop any time (/cancel) and continue later with /apply."
        ),
    )
    await ask_name(update, context)


# --- steps (messages) ---------------------------------------------------------------------
def _text(update: Update) -> str | None:
    message = update.effective_message
    return message.text if message is not None and message.text else None


async def step_name(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the name (stored at once if the draft exists)."""
    text = _text(update)
    try:
        name = station_service.clean_name(text or "")
    except StationError as exc:
        await reply(update, error_text(context.t, exc))
        return
    if "station_id" in dialog.data:
        await station_service.update_draft(
            session=context.session,
            station_id=int(dialog.data["station_id"]),
            applicant_id=_person_id(context),
            now=context.runtime.now(),
            name=name,
        )
        await advance(update, context, dialog)
        return
    await goto(context, dialog, "venue", name=name)
    await ask_venue(update, context)


async def step_buttons_only(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """A message where a button is expected: explain and ask again."""
    await reply(update, context.t("Please use the buttons below."))
    await prompt(update, context, dialog)


async def step_address(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the address."""
    try:
        await station_service.update_draft(
            session=context.session,
            station_id=int(dialog.data["station_id"]),
            applicant_id=_person_id(context),
            now=context.runtime.now(),
            address=_text(update) or "",
        )
    except StationError as exc:
        await reply(update, error_text(context.t, exc))
        return
    await advance(update, context, dialog)


async def step_region(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take a typed county code; a bad or unknown one gets a clear re-ask."""
    try:
        region = await region_service.resolve_county(
            session=context.session, text=_text(update) or ""
        )
    except StationError as exc:
        parent = exc.params.get("code") if exc.code == "not_county" else None
        await ask_region(update, context, parent, prefix=error_text(context.t, exc))
        return
    await _set_region(update, context, dialog, region.code)


async def _set_region(update: Update, context: KepuContext, dialog: Dialog, code: str) -> None:
    await station_service.update_draft(
        session=context.session,
        station_id=int(dialog.data["station_id"]),
        applicant_id=_person_id(context),
        now=context.runtime.now(),
        region_code=code,
    )
    where = await region_service.full_name(session=context.session, code=code)
    await reply(update, context.t("County: {where} ✓", where=esc(where)))
    await advance(update, context, dialog)


async def step_have(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Keep a photo and/or text as evidence for the current have."""
    message = update.effective_message
    assert message is not None
    t = context.t
    have = HAVES[int(dialog.data.get("have", 0))]
    file_id = unique = None
    if message.photo:
        largest = message.photo[-1]
        file_id, unique = largest.file_id, largest.file_unique_id
    text = message.caption if message.photo else message.text
    if file_id is None and not (text or "").strip():
        await reply(
            update,
            t("Please send a photo or a short description."),
            reply_markup=_have_buttons(context),
        )
        return
    station_id = int(dialog.data["station_id"])
    await station_service.add_draft_evidence(
        session=context.session,
        station_id=station_id,
        applicant_id=_person_id(context),
        have=have,
        text=text,
        file_id=file_id,
        file_unique_id=unique,
        now=context.runtime.now(),
    )
    summary = await station_service.evidence_summary(
        session=context.session, station_id=station_id
    )
    item = summary[HAVES.index(have)]
    await reply(
        update,
        t(
            "Saved ✓ {have}: {photos} photos, {texts} descriptions. Send more, or press Next.",
            have=t(HAVE_NAMES[have]),
            photos=len(item.photos),
            texts=len(item.texts),
        ),
        reply_markup=_have_buttons(context),
    )


def _left(dialog: Dialog) -> str:
    if "station_id" in dialog.data:  # the draft exists: every answer is stored already
        return N_("Paused. Your draft application is kept: send /apply any time to continue.")
    return N_("Left the application; nothing was saved yet. Send /apply to start again.")


FLOWS: dict[str, Flow] = {
    "apply": Flow.of(
        {
            "name": step_name,
            "venue": step_buttons_only,
            "address": step_address,
            "region": step_region,
            "have": step_have,
            "summary": step_buttons_only,
        },
        _left,
        commands=("apply",),
    ),
}


# --- buttons ------------------------------------------------------------------------------
async def on_button(update: Update, context: KepuContext) -> None:
    """Handle the application's buttons (APP:…)."""
    query = update.callback_query
    assert query is not None
    t = context.t
    button = APPLY.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    dialog = await get_dialog(update, context)
    if dialog is None or dialog.flow != "apply" or context.person is None:
        await query.answer(t("This form is closed. Send /apply to continue."), show_alert=True)
        return
    try:
        await _button(update, context, dialog, button)
    except StationError as exc:
        await query.answer()
        await reply(update, error_text(t, exc))
        if exc.code in ("not_editable", "not_found"):
            await end_dialog(update, context)


async def _button(
    update: Update,
    context: KepuContext,
    dialog: Dialog,
    button: ApplyAction | ApplyVenue | ApplyRegion | ApplyEdit,
) -> None:
    query = update.callback_query
    assert query is not None
    t = context.t
    now = context.runtime.now()
    if isinstance(button, ApplyVenue) and dialog.step == "venue":
        await query.answer()
        venue = station_service.check_venue(button.code)
        await query.edit_message_reply_markup(None)
        await reply(update, t("Venue: {venue} ✓", venue=t(VENUE_NAMES[venue])))
        if "station_id" in dialog.data:
            await station_service.update_draft(
                session=context.session,
                station_id=int(dialog.data["station_id"]),
                applicant_id=_person_id(context),
                now=now,
                venue_type=venue,
            )
        else:
            station = await station_service.start_draft(
                session=context.session,
                applicant_id=_person_id(context),
                name=str(dialog.data.get("name", "")),
                venue_type=venue,
                now=now,
            )
            dialog.data["station_id"] = station.id
        await advance(update, context, dialog)
    elif isinstance(button, ApplyRegion) and dialog.step == "region":
        await query.answer()
        arg = button.code
        if arg == "top":
            await ask_region(update, context)
            return
        region = await region_service.choices(session=context.session, parent_code=arg)
        if region:
            await ask_region(update, context, arg)
            return
        county = await region_service.resolve_county(session=context.session, text=arg)
        await query.edit_message_reply_markup(None)
        await _set_region(update, context, dialog, county.code)
    elif button == ApplyAction("next") and dialog.step == "have":
        have = HAVES[int(dialog.data.get("have", 0))]
        summary = await station_service.evidence_summary(
            session=context.session, station_id=int(dialog.data["station_id"])
        )
        if summary[HAVES.index(have)].empty:
            await query.answer(
                t("Please send a photo or a short description first."), show_alert=True
            )
            return
        await query.answer()
        await query.edit_message_reply_markup(None)
        editing = dialog.data.get("editing_haves")
        if editing and HAVES.index(have) < len(HAVES) - 1:
            await goto(context, dialog, "have", have=HAVES.index(have) + 1)
            await ask_have(update, context, dialog)
            return
        dialog.data.pop("editing_haves", None)
        await advance(update, context, dialog)
    elif button == ApplyAction("clear") and dialog.step == "have":
        have = HAVES[int(dialog.data.get("have", 0))]
        await station_service.clear_draft_evidence(
            session=context.session,
            station_id=int(dialog.data["station_id"]),
            applicant_id=_person_id(context),
            have=have,
            now=context.runtime.now(),
        )
        await query.answer(t("Cleared. Send the evidence again."))
        await ask_have(update, context, dialog)
    elif isinstance(button, ApplyEdit) and dialog.step == "summary":
        await query.answer()
        await query.edit_message_reply_markup(None)
        extra: dict[str, Any] = {"editing": button.part != "have", "have": 0}
        if button.part == "have":
            extra["editing_haves"] = True
        await goto(context, dialog, button.part, **extra)
        await prompt(update, context, dialog)
    elif button == ApplyAction("submit") and dialog.step == "summary":
        await _submit(update, context, dialog)
    else:
        await query.answer(t("That button is from an earlier step."), show_alert=False)


async def _submit(update: Update, context: KepuContext, dialog: Dialog) -> None:
    query = update.callback_query
    assert query is not None
    t = context.t
    try:
        outcome = await review_service.submit(
            session=context.session,
            station_id=int(dialog.data["station_id"]),
            applicant_id=_person_id(context),
            now=context.runtime.now(),
            stations=context.runtime.settings.stations,
        )
    except StationError as exc:
        await query.answer()
        await reply(update, error_text(t, exc))
        if exc.code == "incomplete":
            await advance(update, context, dialog)
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    await end_dialog(update, context)
    await reply(
        update,
        t(
            "Submitted! The county science association will check your "
            "materials and visit the venue. I will tell you the result. "
            "(application #{id})",
            id=outcome.station.id,
        ),
    )
    await send_notices(context, outcome.notices)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Return /apply and its buttons (command group)."""
    return [
        CommandHandler("apply", apply, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(on_button, pattern=APPLY.pattern),
    ]
