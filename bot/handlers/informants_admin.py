"""Station admins: /invite (link + QR poster) and /informants (roster, removal)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest, TelegramError

from bot.core.callback_data import CallbackData
from bot.core.error_text import error_text as domain_text
from bot.core.text_fit import fit_text
from bot.handlers.callbacks import (
    ROSTER,
    InviteButton,
    RosterPage,
    RosterPick,
    RosterRemove,
    answer_invalid,
)
from bot.handlers.common import esc, is_unchanged, refuse, reply, requires
from bot.i18n import Translator, get_translator
from bot.reports.poster import render_invite_poster
from bot.runtime.context import KepuContext
from bot.services import informants as informant_service
from bot.services import invites as invite_service
from bot.services.informants import InformantError
from bot.services.invites import InviteError

log = logging.getLogger(__name__)


async def _stations(context: KepuContext) -> list[tuple[int, str]]:
    person = context.person
    if person is None or person.id is None:
        return []
    return await informant_service.administered_stations(
        session=context.session, person_id=person.id
    )


async def _pick_station(
    update: Update, context: KepuContext, pick: Callable[[int], CallbackData]
) -> int | None:
    """Return the only administered station, or offer a choice and return None."""
    t = context.t
    stations = await _stations(context)
    if not stations:
        await reply(
            update,
            t(
                "You do not administer any station. An operator can make an "
                "invite link with: kepubot station invite ID"
            ),
        )
        return None
    if len(stations) == 1:
        return stations[0][0]
    buttons = [
        [InlineKeyboardButton(name, callback_data=pick(sid).encode())] for sid, name in stations
    ]
    await reply(update, t("Which station?"), reply_markup=InlineKeyboardMarkup(buttons))
    return None


async def _authorised(update: Update, context: KepuContext, station_id: int, action: str) -> bool:
    """Tell whether the person administers the station; else answer the refusal (audited)."""
    person = context.person
    try:
        await informant_service.authorise_station(
            session=context.session,
            grants=context.scope.roles,
            actor_id=person.id if person else None,
            station_id=station_id,
            action=action,
            now=context.runtime.now(),
        )
    except InformantError as exc:
        assert update.callback_query is not None
        await update.callback_query.answer(domain_text(exc, context.t), show_alert=True)
        return False
    return True


# --- /invite -------------------------------------------------------------------------------


def poster_texts(t: Translator) -> dict[str, object]:
    """Return the localised texts of the invite poster."""
    return {
        "heading": t("Become a Kepu China informant"),
        "instructions": [
            t("Scan the QR code with your phone camera or Telegram."),
            t("Tap Start, read the privacy notice and agree."),
            t("Register your real name and phone number, and choose your topics."),
        ],
        "footer": t(
            "科普中国e站 · Kepu China e-station. Your data is used only for the "
            "informant network; send /forget to erase it."
        ),
    }


async def send_invite(
    update: Update, context: KepuContext, station_id: int, *, renew: bool = False
) -> None:
    """Send the station's invite link and its printable QR poster."""
    t = context.t
    person = context.person
    try:
        info = await invite_service.current_invite(
            session=context.session,
            station_id=station_id,
            bot_username=context.runtime.bot_username,
            actor_id=person.id if person else None,
            now=context.runtime.now(),
            renew=renew,
        )
    except InviteError as exc:
        params = {"station": esc(exc.params["station"])} if "station" in exc.params else {}
        await reply(update, domain_text(exc, t, params=params))
        return
    count = await informant_service.count_informants(
        session=context.session, station_id=station_id
    )
    # Posters are printed for a Chinese-speaking public: always Chinese.
    zh = get_translator("zh_CN")
    png = await asyncio.to_thread(
        render_invite_poster,
        station_name=info.station_name,
        link=info.link,
        **poster_texts(zh),  # type: ignore[arg-type]
    )
    buttons = [
        [
            InlineKeyboardButton(
                t("🔄 New link (the old one stops working)"),
                callback_data=InviteButton("new", station_id).encode(),
            )
        ]
    ]
    await reply(
        update,
        t(
            "Invite link of <b>{station}</b>:\n{link}\n\nShare it, or print the poster below "
            "for your notice board. Informants so far: {n}.",
            station=esc(info.station_name),
            link=info.link,
            n=t.number(count),
        ),
        reply_markup=InlineKeyboardMarkup(buttons),
    )
    await context.bot.send_document(
        update.effective_chat.id if update.effective_chat else 0,
        InputFile(png, filename=f"invite-poster-{station_id}.png"),
        caption=t("Printable invite poster (A4) for {station}", station=esc(info.station_name)),
    )


@requires("station_admin")
async def invite(update: Update, context: KepuContext) -> None:
    """Give a station admin the invite link and QR poster."""
    station_id = await _pick_station(update, context, lambda sid: InviteButton("s", sid))
    if station_id is not None:
        await send_invite(update, context, station_id)


@requires("station_admin")
async def on_invite_button(update: Update, context: KepuContext) -> None:
    """A station was chosen, or a new link asked for."""
    query = update.callback_query
    assert query is not None
    button = InviteButton.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    action = "invite.renew" if button.action == "new" else "invite.show"
    if not await _authorised(update, context, button.station_id, action):
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    await send_invite(update, context, button.station_id, renew=button.action == "new")


# --- /informants -----------------------------------------------------------------------------


def _roster_screen(
    t: Translator, page: informant_service.RosterPage, tz: dt.tzinfo
) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        t(
            "👥 <b>{station}</b> — {n} informants",
            station=esc(page.station_name),
            n=t.number(page.total),
        )
    ]
    buttons: list[list[InlineKeyboardButton]] = []
    if not page.entries:
        lines += ["", t("No informants yet. Send /invite for the link and the QR poster.")]
    first = page.page * informant_service.ROSTER_PAGE_SIZE
    for number, entry in enumerate(page.entries, start=first + 1):
        joined = t.date(entry.joined_at.astimezone(tz).date())
        seen = t.date(entry.last_active_at.astimezone(tz).date()) if entry.last_active_at else "—"
        lines.append(
            t(
                "{i}. <b>{name}</b> · joined {joined} · last active {seen} · "
                "{shares} shares this month",
                i=number,
                name=esc(entry.name),
                joined=joined,
                seen=seen,
                shares=t.number(entry.shares_this_month),
            )
        )
        buttons.append(
            [
                InlineKeyboardButton(
                    t("Remove {name}", name=entry.name),
                    callback_data=RosterRemove(
                        "rm", page.station_id, entry.informant_id, page.page
                    ).encode(),
                )
            ]
        )
    nav = []
    if page.page > 0:
        nav.append(
            InlineKeyboardButton(
                t("◀ Prev"), callback_data=RosterPage(page.station_id, page.page - 1).encode()
            )
        )
    if page.pages > 1:
        nav.append(
            InlineKeyboardButton(
                f"{page.page + 1}/{page.pages}",
                callback_data=RosterPage(page.station_id, page.page).encode(),
            )
        )
    if page.page + 1 < page.pages:
        nav.append(
            InlineKeyboardButton(
                t("Next ▶"), callback_data=RosterPage(page.station_id, page.page + 1).encode()
            )
        )
    if nav:
        buttons.append(nav)
    # Edited in place on page turns, so not through reply(): fit it here.
    return fit_text("\n".join(lines)), InlineKeyboardMarkup(buttons)


async def _roster(
    context: KepuContext, station_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    roster = await informant_service.roster_page(
        session=context.session, station_id=station_id, page=page, today=context.runtime.today()
    )
    return _roster_screen(context.t, roster, context.runtime.settings.scheduler.tz)


@requires("station_admin")
async def informants(update: Update, context: KepuContext) -> None:
    """Show the first page of the station's roster."""
    station_id = await _pick_station(update, context, RosterPick)
    if station_id is None:
        return
    text, markup = await _roster(context, station_id, 0)
    await reply(update, text, reply_markup=markup)


@requires("station_admin")
async def on_roster_button(update: Update, context: KepuContext) -> None:
    """Page through the roster; remove an informant after confirmation."""
    query = update.callback_query
    assert query is not None
    t = context.t
    button = ROSTER.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    action = "informant.remove" if isinstance(button, RosterRemove) else "informant.roster"
    if not await _authorised(update, context, button.station_id, action):
        return
    station_id = button.station_id
    page = 0 if isinstance(button, RosterPick) else button.page
    if isinstance(button, RosterRemove) and button.action == "rm":
        informant_id = button.informant_id
        informant = next(
            (
                e
                for e in (
                    await informant_service.roster_page(
                        session=context.session,
                        station_id=station_id,
                        page=page,
                        today=context.runtime.today(),
                    )
                ).entries
                if e.informant_id == informant_id
            ),
            None,
        )
        if informant is None:
            await refuse(
                update,
                context,
                t("That informant is no longer in the roster."),
                reason="not_in_station",
                action="informant.remove",
                subject_type="informant",
                subject_id=informant_id,
                detail={"station_id": station_id},
            )
        else:
            buttons = [
                [
                    InlineKeyboardButton(
                        t("Yes, remove"),
                        callback_data=RosterRemove("rmy", station_id, informant_id, page).encode(),
                    ),
                    InlineKeyboardButton(
                        t("No"), callback_data=RosterPage(station_id, page).encode()
                    ),
                ]
            ]
            await query.answer()
            await query.edit_message_text(
                t(
                    "Remove <b>{name}</b> from the station? Their past shares stay in the totals.",
                    name=esc(informant.name),
                ),
                reply_markup=InlineKeyboardMarkup(buttons),
            )
            return
    elif isinstance(button, RosterRemove):  # rmy: removal confirmed
        person = context.person
        try:
            removal = await informant_service.remove(
                session=context.session,
                station_id=station_id,
                informant_id=button.informant_id,
                actor_id=person.id if person else None,
                now=context.runtime.now(),
            )
        except InformantError as exc:
            await query.answer(domain_text(exc, t), show_alert=True)
        else:
            await query.answer(t("{name} was removed.", name=removal.name), show_alert=True)
            await _tell_removed(context, removal)
    else:
        await query.answer()
    text, markup = await _roster(context, station_id, page)
    try:
        await query.edit_message_text(text, reply_markup=markup, parse_mode="HTML")
    except BadRequest as exc:
        if not is_unchanged(exc):  # a refused press on the roster itself leaves it as it is
            raise


async def _tell_removed(context: KepuContext, removal: informant_service.Removal) -> None:
    """Tell the removed informant, politely, in their language."""
    if removal.telegram_id is None:
        return
    t = get_translator(removal.language)
    try:
        await context.bot.send_message(
            removal.telegram_id,
            t(
                "You are no longer registered as an informant of {station}. Thank you for "
                "everything you shared! To join a station again, open its invite link.",
                station=esc(removal.station_name),
            ),
        )
    except TelegramError as exc:  # the user may have blocked the bot; removal stands
        log.info("could not tell removed informant", extra={"error": str(exc)})
