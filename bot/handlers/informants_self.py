"""Self-service for informants: /me, /settings, /mydata and /forget."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update

from bot.config import Settings
from bot.handlers.basics import LANGUAGE_NAMES
from bot.handlers.callbacks import (
    SETTINGS,
    ForgetAnswer,
    QuietEnd,
    QuietStart,
    SettingsAction,
    SettingsLanguage,
    SettingsTopic,
    answer_invalid,
)
from bot.handlers.common import button_rows, esc, reply, sync_command_menu
from bot.handlers.feature import assembly_of
from bot.handlers.informants_join import topic_names, topics_markup
from bot.i18n import N_, SUPPORTED_LOCALES, Translator, get_translator
from bot.runtime.context import KepuContext
from bot.services import informants as informant_service
from bot.services.informants import InformantError, Profile
from storage import people as people_store
from storage.models import Informant

QUIET_STARTS = (20, 21, 22, 23, 0)
QUIET_ENDS = (5, 6, 7, 8, 9)


def _hhmm(value: dt.time) -> str:
    return value.strftime("%H:%M")


def quiet_text(t: Translator, start: dt.time | None, end: dt.time | None) -> str:
    """Return the quiet hours as text, or 'none'."""
    if start is None or end is None:
        return t("none")
    return f"{_hhmm(start)}–{_hhmm(end)}"


def _not_joined(t: Translator) -> str:
    return t(
        "You have not joined a station yet. Open your station's invite link or scan the "
        "QR code on its notice board."
    )


# --- /me ---------------------------------------------------------------------------------


def render_profile(t: Translator, prof: Profile, tz: dt.tzinfo) -> str:
    """Return the /me text for a profile (stats from the share feature included)."""
    parts = [
        t("👤 <b>{name}</b>", name=esc(prof.real_name)),
        t("Station: {station}", station=esc(prof.station_name)),
        t(
            "Joined: {date}",
            date=t.date(prof.joined_at.astimezone(tz).date()),
        ),
        t("Phone: {phone}", phone=esc(prof.phone)),
        t("Topics: {topics}", topics=esc(topic_names(t, prof.interests))),
        t("Pushes: {state}", state=t("paused") if prof.paused else t("on")),
        t("Quiet hours: {hours}", hours=quiet_text(t, prof.quiet_start, prof.quiet_end)),
    ]
    if prof.stats:
        parts.append("")
        parts.extend(t(stat.label, **stat.params) for stat in prof.stats)
    parts += [
        "",
        t("Change these with /settings. /mydata sends you all your data; /forget erases it."),
    ]
    return "\n".join(parts)


async def me(update: Update, context: KepuContext) -> None:
    """Show the informant's profile."""
    person = context.person
    if person is None or person.id is None:
        return
    prof = await informant_service.profile(
        session=context.session,
        person_id=person.id,
        now=context.runtime.now(),
        providers=assembly_of(context.application).profile_providers(context.runtime.settings),
    )
    if prof is None:
        await reply(update, _not_joined(context.t))
        return
    await reply(update, render_profile(context.t, prof, context.runtime.settings.scheduler.tz))


# --- /settings -----------------------------------------------------------------------------


async def _informant(context: KepuContext) -> Informant | None:
    person = context.person
    if person is None or person.id is None:
        return None
    return await informant_service.active_informant(session=context.session, person_id=person.id)


def _menu(t: Translator, informant: Informant | None) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        t("⚙️ <b>Settings</b>"),
        t("Language: {language}", language=LANGUAGE_NAMES.get(t.locale, t.locale)),
    ]
    buttons = [
        [InlineKeyboardButton(t("🌐 Language"), callback_data=SettingsAction("lang").encode())]
    ]
    if informant is None:
        lines += ["", _not_joined(t)]
        return "\n".join(lines), InlineKeyboardMarkup(buttons)
    lines += [
        t("Topics: {topics}", topics=esc(topic_names(t, list(informant.interests)))),
        t("Pushes: {state}", state=t("paused") if informant.paused else t("on")),
        t("Quiet hours: {hours}", hours=quiet_text(t, informant.quiet_start, informant.quiet_end)),
    ]
    pause = (
        InlineKeyboardButton(t("▶️ Resume pushes"), callback_data=SettingsAction("resume").encode())
        if informant.paused
        else InlineKeyboardButton(
            t("⏸ Pause pushes"), callback_data=SettingsAction("pause").encode()
        )
    )
    buttons[0].append(
        InlineKeyboardButton(t("📚 Topics"), callback_data=SettingsAction("topics").encode())
    )
    buttons.append(
        [
            pause,
            InlineKeyboardButton(
                t("🌙 Quiet hours"), callback_data=SettingsAction("quiet").encode()
            ),
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


async def settings(update: Update, context: KepuContext) -> None:
    """Show the settings menu."""
    text, markup = _menu(context.t, await _informant(context))
    await reply(update, text, reply_markup=markup)


async def on_settings_button(update: Update, context: KepuContext) -> None:
    """Handle every button of the settings menu (the message is edited in place)."""
    query = update.callback_query
    assert query is not None
    button = SETTINGS.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    t = context.t
    person = context.person
    if person is None or person.id is None:
        await query.answer()
        return
    informant = await _informant(context)
    if isinstance(button, SettingsLanguage) or button == SettingsAction("lang"):
        if isinstance(button, SettingsLanguage) and button.locale in SUPPORTED_LOCALES:
            await people_store.set_language(
                session=context.session, person_id=person.id, language=button.locale
            )
            context.scope.translator = get_translator(button.locale)
            await sync_command_menu(update, context)
        else:
            buttons = [
                InlineKeyboardButton(LANGUAGE_NAMES[c], callback_data=SettingsLanguage(c).encode())
                for c in SUPPORTED_LOCALES
            ]
            await query.answer()
            await query.edit_message_text(
                t("Choose your language:"), reply_markup=InlineKeyboardMarkup([buttons])
            )
            return
    elif informant is None:
        await query.answer(_not_joined(t), show_alert=True)
        return
    elif button == SettingsAction("topics"):
        await query.answer()
        await query.edit_message_text(
            t("Tap a topic to add or remove it, then tap Done."),
            reply_markup=topics_markup(
                t, list(informant.interests), SettingsTopic, SettingsAction("menu")
            ),
        )
        return
    elif isinstance(button, SettingsTopic):
        try:
            chosen = await informant_service.toggle_interest(
                session=context.session, person_id=person.id, code=button.code
            )
        except InformantError:
            await query.answer(t("Keep at least one topic."), show_alert=True)
            return
        await query.answer()
        await query.edit_message_reply_markup(
            topics_markup(t, chosen, SettingsTopic, SettingsAction("menu"))
        )
        return
    elif isinstance(button, SettingsAction) and button.action in ("pause", "resume"):
        await informant_service.set_paused(
            session=context.session, person_id=person.id, paused=button.action == "pause"
        )
    elif button == SettingsAction("quiet"):
        starts = [
            InlineKeyboardButton(f"{h:02d}:00", callback_data=QuietStart(h).encode())
            for h in QUIET_STARTS
        ]
        rows = button_rows(starts, 5)
        rows.append(
            [
                InlineKeyboardButton(
                    t("No quiet hours"), callback_data=SettingsAction("qoff").encode()
                )
            ]
        )
        await query.answer()
        await query.edit_message_text(
            t("🌙 From when should I stay quiet?"), reply_markup=InlineKeyboardMarkup(rows)
        )
        return
    elif isinstance(button, QuietStart):
        ends = [
            InlineKeyboardButton(f"{h:02d}:00", callback_data=QuietEnd(button.hour, h).encode())
            for h in QUIET_ENDS
        ]
        start_text = f"{button.hour:02d}:00"
        await query.answer()
        await query.edit_message_text(
            t("🌙 Quiet from {start} until when?", start=start_text),
            reply_markup=InlineKeyboardMarkup(button_rows(ends, 5)),
        )
        return
    elif isinstance(button, QuietEnd) or button == SettingsAction("qoff"):
        quiet = button if isinstance(button, QuietEnd) else None
        try:
            start = dt.time(quiet.start % 24) if quiet is not None else None
            end = dt.time(quiet.end % 24) if quiet is not None else None
            await informant_service.set_quiet_hours(
                session=context.session, person_id=person.id, start=start, end=end
            )
        except (InformantError, ValueError):
            await query.answer(t("Those hours do not work. Please choose again."), show_alert=True)
            return
    # Back to the menu, showing the saved state.
    text, markup = _menu(context.t, await _informant(context))
    await query.answer(context.t("Saved."))
    await query.edit_message_text(text, reply_markup=markup, parse_mode="HTML")


# --- /mydata and /forget ---------------------------------------------------------------------


# Sections of the /mydata file and message, by table: a readable name, the table in brackets.
SECTION_NAMES = {
    "person": N_("Profile"),
    "informant": N_("Informant registration"),
    "share_event": N_("Share records"),
    "tracked_link": N_("Tracked links"),
    "group_chat": N_("Groups"),
    "role_grant": N_("Roles"),
    "dialog_state": N_("Conversation in progress"),
    "audit_log": N_("Audit log"),
    "inbox_update": N_("Messages you sent the bot"),
    "outbox_message": N_("Messages the bot sent you"),
}


def _count(document: dict[str, Any], *tables: str) -> int:
    rows: dict[str, list[Any]] = document["tables"]
    return sum(len(rows.get(name, [])) for name in tables)


def local_time(t: Translator, value: dt.datetime, tz: dt.tzinfo) -> str:
    """Return ``value`` as the reader writes it: 2026年11月30日 14:05 in the configured zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(tz)
    return f"{t.date(local.date())} {local:%H:%M}"


def render_data_summary(
    t: Translator,
    document: dict[str, Any],
    overview: informant_service.DataOverview,
    settings: Settings,
    now: dt.datetime,
) -> str:
    """Return the /mydata message: what is held, grouped; why; for how long; how to erase."""
    tz, privacy = settings.scheduler.tz, settings.privacy
    lines = [t("📦 <b>Your data</b> (as of {date})", date=local_time(t, now, tz)), ""]
    lines.append(
        t(
            "• <b>Profile</b>: your Telegram account (id, name, username) and language, to "
            "know you and answer you. Kept until you send /forget."
        )
    )
    if _count(document, "informant"):
        lines.append(
            t(
                "• <b>Informant registration</b>: real name {name}, phone {phone}, your topics "
                "and your consent ({consented}), to register you as an informant. Kept while "
                "you are one, or until /forget.",
                name=esc(overview.real_name or "—"),
                phone=esc(overview.phone or "—"),
                consented=local_time(t, overview.consent_at, tz) if overview.consent_at else "—",
            )
        )
    if overview.station_name:
        lines.append(
            t(
                "• <b>Your station</b>: {station} (joined {joined}), so that your shares "
                "count for it.",
                station=esc(overview.station_name),
                joined=local_time(t, overview.joined_at, tz) if overview.joined_at else "—",
            )
        )
    shares = _count(document, "share_event")
    if shares or _count(document, "tracked_link", "group_chat"):
        lines.append(
            t(
                "• <b>Shares</b>: {shares} shares, {links} tracked links, {groups} groups; "
                "{visits} link visits. They count your station's propagation volume; after "
                "/forget they stay only as anonymous totals.",
                shares=t.number(shares),
                links=t.number(_count(document, "tracked_link")),
                groups=t.number(_count(document, "group_chat")),
                visits=t.number(overview.link_visits),
            )
        )
    lines.append(
        t(
            "• <b>Messages you sent the bot</b> ({n}, as received), to process each one "
            "reliably. Deleted {days} days after processing ({parked} days if processing "
            "failed).",
            n=_count(document, "inbox_update"),
            days=privacy.processed_update_days,
            parked=privacy.parked_update_days,
        )
    )
    sent = _count(document, "outbox_message")
    if sent:
        lines.append(
            t(
                "• <b>Messages the bot sent you</b> ({n}), to deliver each once and in order. "
                "Replies are deleted {days} days after sending; content cards stay as delivery "
                "records for the push statistics until /forget.",
                n=sent,
                days=privacy.sent_message_days,
            )
        )
    if _count(document, "role_grant"):
        lines.append(
            t(
                "• <b>Roles</b> (station admin, coordinator…), to decide what you may do. "
                "Kept until revoked or /forget."
            )
        )
    if _count(document, "dialog_state"):
        lines.append(
            t(
                "• <b>Conversation in progress</b>, to continue where you left off. It ends "
                "with any command or after {n} minutes without an answer.",
                n=settings.conversations.timeout_minutes,
            )
        )
    lines.append(
        t(
            "• <b>Audit log</b> ({n} entries), for accountability. It never holds your name "
            "or phone; after /forget it no longer points to you.",
            n=_count(document, "audit_log"),
        )
    )
    lines += [
        "",
        t(
            "The attached JSON file holds all of it (times in {zone}, with the offset). To "
            "erase it, send /forget.",
            zone=str(tz),
        ),
    ]
    return "\n".join(lines)


def readable_document(t: Translator, document: dict[str, Any]) -> dict[str, Any]:
    """Return the export with readable keys: each table under its section name."""
    sections = {
        t("{section} ({table})", section=t(SECTION_NAMES[name]), table=name)
        if name in SECTION_NAMES
        else name: rows
        for name, rows in document["tables"].items()
    }
    return {
        t("About"): t(
            "Everything kepubot stores about you. Times are local, with their offset from UTC."
        ),
        t("Generated at"): document["generated_at"],
        t("Time zone"): document["timezone"],
        "Telegram ID": document["telegram_id"],
        t("Privacy notice version agreed"): document["consent_version"],
        t("Data"): sections,
    }


async def mydata(update: Update, context: KepuContext) -> None:
    """Send a readable summary of everything stored about the user, and all of it as JSON."""
    person = context.person
    message = update.effective_message
    if person is None or person.id is None or message is None:
        return
    settings = context.runtime.settings
    now = context.runtime.now()
    document = await informant_service.export_data(
        session=context.session, person_id=person.id, now=now, tz=settings.scheduler.tz
    )
    overview = await informant_service.data_overview(session=context.session, person_id=person.id)
    t = context.t
    readable = readable_document(t, document)
    data = await asyncio.to_thread(
        lambda: json.dumps(readable, ensure_ascii=False, indent=2, default=str).encode()
    )
    today = context.runtime.today()
    await reply(update, render_data_summary(t, document, overview, settings, now))
    await message.reply_document(
        InputFile(data, filename=f"kepubot-mydata-{today.isoformat()}.json"),
        caption=t(
            "Everything I store about you, as of {date}. To erase it, send /forget.",
            date=local_time(t, now, settings.scheduler.tz),
        ),
    )


async def forget(update: Update, context: KepuContext) -> None:
    """Ask for confirmation before erasing personal data."""
    t = context.t
    buttons = [
        [
            InlineKeyboardButton(
                t("Yes, erase my data"), callback_data=ForgetAnswer("yes").encode()
            ),
            InlineKeyboardButton(t("No, keep it"), callback_data=ForgetAnswer("no").encode()),
        ]
    ]
    await reply(
        update,
        t(
            "⚠️ This erases your real name, phone number and topics, your Telegram id and name, "
            "the messages you sent the bot and any roles you hold, and ends your registration "
            "with your station. Your past shares stay only as anonymous numbers in the totals. "
            "This cannot be undone.\n\nErase now?"
        ),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def on_forget_button(update: Update, context: KepuContext) -> None:
    """Erase (or not) after the user's answer."""
    query = update.callback_query
    assert query is not None
    button = ForgetAnswer.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    t = context.t
    person = context.person
    if button.answer == "yes":
        # The answers to this press are the last messages to them: no copy is kept.
        context.scope.erase_replies = True
    await query.answer()
    if button.answer != "yes" or person is None or person.id is None:
        await query.edit_message_text(t("Nothing was erased."))
        return
    await informant_service.forget(
        session=context.session,
        person=person,
        now=context.runtime.now(),
        through_update_id=context.scope.update_id,
    )
    # Every role ended with the person row.
    context.scope.roles = []
    context.scope.role_names = frozenset()
    await query.edit_message_text(
        t(
            "Your personal data has been erased and you are no longer an informant. Thank you "
            "for your help! You can join again at any time with an invite link."
        )
    )
    await sync_command_menu(update, context)
