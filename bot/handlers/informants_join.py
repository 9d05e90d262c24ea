"""Joining a station: /start <invite>, consent, real name, phone, topics, confirmation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from bot.content.taxonomy import default_taxonomy
from bot.core.callback_data import CallbackData
from bot.core.error_text import error_text as domain_text
from bot.handlers.basics import LANGUAGE_NAMES
from bot.handlers.callbacks import (
    JOIN,
    JoinConfirm,
    JoinConsent,
    JoinEdit,
    JoinLanguage,
    JoinTopic,
    JoinTopicsDone,
    JoinTransfer,
    answer_invalid,
)
from bot.handlers.channels_common import join_line
from bot.handlers.common import (
    PRIVATE_JOIN_HINT,
    button_rows,
    esc,
    in_private,
    refuse_outside_private,
    reply,
    role_names,
    sync_command_menu,
)
from bot.handlers.dialog import (
    Dialog,
    Flow,
    end_dialog,
    get_dialog,
    goto,
    input_hint,
    start_dialog,
)
from bot.i18n import N_, SUPPORTED_LOCALES, Translator, get_translator
from bot.runtime.context import KepuContext
from bot.services import informants as informant_service
from bot.services import invites as invite_service
from bot.services import shares as share_service
from bot.services.informants import InformantError
from bot.services.invites import InviteError
from storage import people as people_store

FLOW = "join"

PRIVACY_NOTICE = N_(
    "<b>Join {station} as a Kepu China informant</b>\n\n"
    "🔒 <b>Privacy notice</b> (version {version})\n"
    "• <b>Purpose:</b> register you as an informant of this station and count the science "
    "content you pass on.\n"
    "• <b>What we store:</b> your real name, your phone number (from your Telegram "
    "contact), the topics you choose, your station, and the shares you record.\n"
    "• <b>Who sees it:</b> your station's administrators and the science associations "
    "(科协) supervising your region.\n"
    "• <b>How long:</b> while you are an informant. /forget erases your name, phone and "
    "topics at once; your past shares then stay only as anonymous totals.\n"
    "• <b>Your rights:</b> /mydata sends you everything stored about you, /settings "
    "changes your choices, /forget erases your data.\n\n"
    "Do you agree?"
)


def invite_error_text(t: Translator, exc: InviteError) -> str:
    """Return the localised explanation of a refused invite."""
    return domain_text(exc, t)


# --- screens -----------------------------------------------------------------------------


def _consent_screen(t: Translator, station: str) -> tuple[str, InlineKeyboardMarkup]:
    text = t(PRIVACY_NOTICE, station=esc(station), version=informant_service.CONSENT_VERSION)
    other = [code for code in SUPPORTED_LOCALES if code != t.locale]
    buttons = [
        [
            InlineKeyboardButton(t("✅ Agree"), callback_data=JoinConsent("agree").encode()),
            InlineKeyboardButton(t("Decline"), callback_data=JoinConsent("decline").encode()),
        ],
        [
            InlineKeyboardButton(
                "🌐 " + LANGUAGE_NAMES[code], callback_data=JoinLanguage(code).encode()
            )
            for code in other
        ],
    ]
    return text, InlineKeyboardMarkup(buttons)


def _phone_keyboard(t: Translator) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(t("📱 Share my phone number"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def topics_markup(
    t: Translator,
    chosen: list[str],
    toggle: Callable[[str], CallbackData],
    done: CallbackData | None,
) -> InlineKeyboardMarkup:
    """Return a multi-select keyboard of the content categories."""
    buttons = [
        InlineKeyboardButton(
            ("✅ " if term.code in chosen else "") + term.label(t.locale),
            callback_data=toggle(term.code).encode(),
        )
        for term in default_taxonomy().categories
    ]
    rows = button_rows(buttons, 2)
    if done is not None:
        rows.append([InlineKeyboardButton(t("Done ✔"), callback_data=done.encode())])
    return InlineKeyboardMarkup(rows)


def topic_names(t: Translator, codes: list[str]) -> str:
    """Return the localised names of interest codes, comma separated."""
    taxonomy = default_taxonomy()
    separator = ", " if t.locale == "en" else "、"
    return separator.join(taxonomy.name(code, t.locale) for code in codes) or "—"


async def _ask_name(update: Update, context: KepuContext) -> None:
    await reply(
        update,
        context.t(
            "Step 1 of 3: please send your <b>real name</b> (2–30 Chinese or Latin letters). "
            "Your station uses it to recognise you."
        )
        + "\n"
        + input_hint(context),
    )


async def _ask_phone(update: Update, context: KepuContext) -> None:
    t = context.t
    await reply(
        update,
        t(
            "Step 2 of 3: tap the button below to share your phone number from Telegram. "
            "Only your own number is accepted."
        ),
        reply_markup=_phone_keyboard(t),
    )


async def _ask_topics(update: Update, context: KepuContext, dialog: Dialog) -> None:
    t = context.t
    await reply(
        update,
        t("Step 3 of 3: which topics interest you? Tap one or more, then tap Done."),
        reply_markup=topics_markup(
            t, dialog.data.get("interests", []), JoinTopic, JoinTopicsDone()
        ),
    )


async def _show_confirm(update: Update, context: KepuContext, dialog: Dialog) -> None:
    t = context.t
    data = dialog.data
    text = t(
        "Please check your registration:\n\n"
        "Station: <b>{station}</b>\nName: <b>{name}</b>\nPhone: <b>{phone}</b>\n"
        "Topics: {topics}\n\nIs everything right?",
        station=esc(data["station"]),
        name=esc(data["name"]),
        phone=esc(data["phone"]),
        topics=esc(topic_names(t, data["interests"])),
    )
    buttons = [
        [
            InlineKeyboardButton(t("✏️ Name"), callback_data=JoinEdit("name").encode()),
            InlineKeyboardButton(t("✏️ Phone"), callback_data=JoinEdit("phone").encode()),
            InlineKeyboardButton(t("✏️ Topics"), callback_data=JoinEdit("topics").encode()),
        ],
        [InlineKeyboardButton(t("✅ Confirm and join"), callback_data=JoinConfirm().encode())],
    ]
    await reply(update, text, reply_markup=InlineKeyboardMarkup(buttons))


# --- /start <payload> ----------------------------------------------------------------------


async def on_start_payload(update: Update, context: KepuContext, payload: str) -> bool:
    """Open an invite link: explain a bad one, or begin joining / transferring."""
    if not invite_service.looks_like_invite(payload):
        return False
    if not in_private(update):  # the steps ask for a real name and a phone number
        valid = invite_service.PAYLOAD_RE.fullmatch(payload) is not None
        await refuse_outside_private(
            update, context, hint=PRIVATE_JOIN_HINT, payload=payload if valid else None
        )
        return True
    t = context.t
    person = context.person
    if person is None or person.id is None:
        return False
    try:
        plan = await informant_service.plan_join(
            session=context.session,
            person_id=person.id,
            payload=payload,
            now=context.runtime.now(),
        )
    except InviteError as exc:
        await reply(update, invite_error_text(t, exc))
        return True
    if plan.kind == "same":
        await end_dialog(update, context)
        await reply(
            update,
            t(
                "You are already registered with {station}. Send /me to see your profile.",
                station=esc(plan.station_name),
            ),
        )
        return True
    if plan.kind == "transfer":
        current = plan.current_station_name or ""
        await start_dialog(
            update,
            context,
            FLOW,
            "transfer",
            payload=payload,
            station=plan.station_name,
            current=current,
        )
        buttons = [
            [
                InlineKeyboardButton(
                    t("Move to the new station"), callback_data=JoinTransfer("move").encode()
                ),
                InlineKeyboardButton(t("Stay"), callback_data=JoinTransfer("stay").encode()),
            ]
        ]
        await reply(
            update,
            t(
                "You are already an informant of <b>{current}</b>. Move to <b>{station}</b>? "
                "Your name, phone and topics stay the same; the shares you made so far keep "
                "counting for {current}.",
                current=esc(current),
                station=esc(plan.station_name),
            ),
            reply_markup=InlineKeyboardMarkup(buttons),
        )
        return True
    await start_dialog(
        update, context, FLOW, "consent", payload=payload, station=plan.station_name
    )
    text, markup = _consent_screen(t, plan.station_name)
    await reply(update, text, reply_markup=markup)
    return True


# --- message steps -----------------------------------------------------------------------


async def step_consent(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Typed text while the privacy notice waits for a button."""
    await reply(update, context.t("Please tap Agree or Decline under the privacy notice above."))


async def step_transfer(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Typed text while the transfer question waits for a button."""
    await reply(update, context.t("Please answer with the buttons above: move or stay."))


async def step_name(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the real name, or re-ask."""
    message = update.effective_message
    try:
        name = informant_service.clean_name(message.text if message and message.text else "")
    except InformantError:
        await reply(
            update,
            context.t(
                "That does not look like a real name. Please send 2–30 Chinese or Latin letters; "
                "a middle dot (·) or spaces between parts are fine, digits and symbols are not."
            ),
        )
        return
    if dialog.data.get("editing"):
        await goto(context, dialog, "confirm", name=name, editing=False)
        await _show_confirm(update, context, dialog)
        return
    await goto(context, dialog, "phone", name=name)
    await _ask_phone(update, context)


async def step_phone(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the sender's own contact, or re-ask."""
    t = context.t
    message = update.effective_message
    contact = message.contact if message is not None else None
    user = update.effective_user
    if contact is None:
        await reply(
            update,
            t(
                "Please use the button below to share your number — a typed "
                "number cannot be checked."
            ),
            reply_markup=_phone_keyboard(t),
        )
        return
    if user is None or contact.user_id != user.id:
        await reply(
            update,
            t(
                "That is someone else's contact. Please share your own number "
                "with the button below."
            ),
            reply_markup=_phone_keyboard(t),
        )
        return
    try:
        phone = informant_service.clean_phone(contact.phone_number)
    except InformantError as exc:
        await reply(
            update,
            domain_text(exc, t),
            reply_markup=_phone_keyboard(t),
        )
        return
    await reply(update, t("Thank you, phone number received."), reply_markup=ReplyKeyboardRemove())
    if dialog.data.get("editing"):
        await goto(context, dialog, "confirm", phone=phone, editing=False)
        await _show_confirm(update, context, dialog)
        return
    await goto(context, dialog, "topics", phone=phone, interests=[])
    await _ask_topics(update, context, dialog)


async def step_topics(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Typed text while the topic list waits for taps."""
    await reply(update, context.t("Please tap topics in the list above, then tap Done."))


async def step_confirm(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Typed text while the confirmation screen waits for a button."""
    await reply(update, context.t("Please use the buttons above: confirm, or edit a detail."))


FLOWS: dict[str, Flow] = {
    FLOW: Flow.of(
        {
            "consent": step_consent,
            "transfer": step_transfer,
            "name": step_name,
            "phone": step_phone,
            "topics": step_topics,
            "confirm": step_confirm,
        },
        N_("Left joining the station; nothing was saved. Open the invite link again to join."),
        # The invite link (/start j_…) starts joining afresh.
        commands=("start",),
    ),
}


# --- buttons -----------------------------------------------------------------------------

# Which dialog step each button belongs to.
_BUTTON_STEPS: dict[type[CallbackData], str] = {
    JoinConsent: "consent",
    JoinLanguage: "consent",
    JoinTransfer: "transfer",
    JoinTopic: "topics",
    JoinTopicsDone: "topics",
    JoinEdit: "confirm",
    JoinConfirm: "confirm",
}


async def on_join_button(update: Update, context: KepuContext) -> None:
    """Handle every button of the joining dialog."""
    query = update.callback_query
    assert query is not None
    t = context.t
    button = JOIN.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    dialog = await get_dialog(update, context)
    if dialog is None or dialog.flow != FLOW or dialog.step != _BUTTON_STEPS[type(button)]:
        await query.answer(t("This button is no longer active."), show_alert=True)
        return
    match button:
        case JoinLanguage(locale=code):
            await _lang(update, context, dialog, code)
        case JoinConsent(answer="agree"):
            await _agree(update, context, dialog)
        case JoinConsent():
            await _decline(update, context, dialog)
        case JoinTransfer(answer="move"):
            await _move(update, context, dialog)
        case JoinTransfer():
            await _stay(update, context, dialog)
        case JoinTopic(code=code):
            await _toggle(update, context, dialog, code)
        case JoinTopicsDone():
            await _done(update, context, dialog)
        case JoinEdit(what=what):
            await _edit(update, context, dialog, what)
        case JoinConfirm():
            await _confirm(update, context, dialog)


async def _lang(update: Update, context: KepuContext, dialog: Dialog, code: str) -> None:
    query = update.callback_query
    assert query is not None
    person = context.person
    if code not in SUPPORTED_LOCALES or person is None or person.id is None:
        await query.answer()
        return
    await people_store.set_language(session=context.session, person_id=person.id, language=code)
    context.scope.translator = get_translator(code)
    await query.answer()
    text, markup = _consent_screen(context.t, dialog.data["station"])
    await query.edit_message_text(text, reply_markup=markup, parse_mode="HTML")
    await sync_command_menu(update, context)


async def _agree(update: Update, context: KepuContext, dialog: Dialog) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(context.t("Thank you!"))
    await query.edit_message_reply_markup(None)
    await goto(context, dialog, "name", consent_at=context.runtime.now().isoformat())
    await _ask_name(update, context)


async def _decline(update: Update, context: KepuContext, dialog: Dialog) -> None:
    query = update.callback_query
    assert query is not None
    await end_dialog(update, context)
    await query.answer()
    await query.edit_message_reply_markup(None)
    await reply(
        update,
        context.t(
            "No problem — you have not joined, and nothing about you was stored. If you change "
            "your mind, open the invite link again."
        ),
    )


async def _move(update: Update, context: KepuContext, dialog: Dialog) -> None:
    query = update.callback_query
    assert query is not None and context.person is not None and context.person.id is not None
    t = context.t
    await end_dialog(update, context)
    await query.answer()
    await query.edit_message_reply_markup(None)
    try:
        await informant_service.transfer(
            session=context.session,
            person_id=context.person.id,
            payload=dialog.data["payload"],
            now=context.runtime.now(),
        )
    except InviteError as exc:
        await reply(update, invite_error_text(t, exc))
        return
    except InformantError:
        await reply(update, t("Nothing to move: open the invite link again to join."))
        return
    await reply(
        update,
        t(
            "Done! You are now an informant of <b>{station}</b>.",
            station=esc(dialog.data["station"]),
        ),
    )


async def _stay(update: Update, context: KepuContext, dialog: Dialog) -> None:
    query = update.callback_query
    assert query is not None
    await end_dialog(update, context)
    await query.answer()
    await query.edit_message_reply_markup(None)
    await reply(
        update,
        context.t("OK, you stay with <b>{station}</b>.", station=esc(dialog.data["current"])),
    )


async def _toggle(update: Update, context: KepuContext, dialog: Dialog, code: str) -> None:
    query = update.callback_query
    assert query is not None
    chosen: list[str] = list(dialog.data.get("interests", []))
    if default_taxonomy().get(code) is None:
        await query.answer()
        return
    if code in chosen:
        chosen.remove(code)
    else:
        chosen.append(code)
    await goto(context, dialog, "topics", interests=chosen)
    await query.answer()
    await query.edit_message_reply_markup(
        topics_markup(context.t, chosen, JoinTopic, JoinTopicsDone())
    )


async def _done(update: Update, context: KepuContext, dialog: Dialog) -> None:
    query = update.callback_query
    assert query is not None
    t = context.t
    try:
        chosen = informant_service.clean_interests(dialog.data.get("interests", []))
    except InformantError as exc:
        await query.answer(domain_text(exc, t), show_alert=True)
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    await goto(context, dialog, "confirm", interests=chosen, editing=False)
    await _show_confirm(update, context, dialog)


async def _edit(update: Update, context: KepuContext, dialog: Dialog, what: str) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    if what == "name":
        await goto(context, dialog, "name", editing=True)
        await _ask_name(update, context)
    elif what == "phone":
        await goto(context, dialog, "phone", editing=True)
        await _ask_phone(update, context)
    else:
        await goto(context, dialog, "topics", editing=True)
        await _ask_topics(update, context, dialog)


async def _confirm(update: Update, context: KepuContext, dialog: Dialog) -> None:
    query = update.callback_query
    assert query is not None and context.person is not None and context.person.id is not None
    t = context.t
    data = dialog.data
    await end_dialog(update, context)
    await query.answer()
    await query.edit_message_reply_markup(None)
    try:
        await informant_service.register(
            session=context.session,
            person_id=context.person.id,
            payload=data["payload"],
            real_name=data["name"],
            phone=data["phone"],
            interests=data["interests"],
            consent_at=dt.datetime.fromisoformat(data["consent_at"]),
            now=context.runtime.now(),
        )
    except InviteError as exc:
        await reply(update, invite_error_text(t, exc))
        return
    except InformantError:
        await reply(update, t("You are already registered. Send /me to see your profile."))
        return
    if context.person.language is None:  # pushes and notices need the language later
        await people_store.set_language(
            session=context.session, person_id=context.person.id, language=t.locale
        )
    context.scope.role_names = role_names(context) | {"informant"}
    welcome = t(
        "🎉 Welcome to <b>{station}</b>, {name}! You are now a Kepu China informant.\n\n"
        "I will send you good science content on your topics — pass it on to the people "
        "around you. /me shows your profile, /settings your choices, /help everything "
        "I can do.",
        station=esc(data["station"]),
        name=esc(data["name"]),
    )
    # The region's (or a parent region's) channel, if one is linked (channels_1).
    joined = await share_service.informant_for(
        session=context.session, person_id=context.person.id
    )
    channel = await join_line(context.session, t, joined.region_code if joined else None)
    await reply(update, welcome + (f"\n\n{channel}" if channel else ""))
    await sync_command_menu(update, context)
