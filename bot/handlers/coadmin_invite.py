"""One-time co-admin invite links in the bot: made from /grant, opened with /start a_….

A station admin (or a coordinator of the station's region) picks "invite link" in /grant
instead of naming a known person; the bot answers with the ``t.me`` link, its expiry, a
withdraw button and the link's QR code. Whoever opens the link sees the station and a
confirm button; confirming makes them station admin through the role service
(``bot.services.coadmin_invites.accept``). The wiring is part of the ``grant`` feature.

Buttons: ``CAI:y:<payload>`` (accept: the secret payload, never a guessable id),
``CAI:n`` (decline), ``CAI:x:<invite id>`` (the inviter withdraws the link).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update

from bot.core.callback_data import CallbackData, Family
from bot.core.error_text import error_text
from bot.handlers.callbacks import answer_invalid
from bot.handlers.common import esc, in_private, reply
from bot.i18n import N_, Translator
from bot.reports.qr import qr_png
from bot.runtime.context import KepuContext
from bot.services import coadmin_invites as invite_service
from bot.services import roles as role_service
from bot.services.coadmin_invites import CoadminInvite, CoadminInviteError
from bot.services.roles import Actor, RoleError
from storage import people as person_store

OPEN_IN_PRIVATE = N_("Please open the co-admin invite link in your private chat with the bot.")


@dataclass(frozen=True)
class InviteAccept(CallbackData, prefix="CAI:y"):
    """Accept the co-admin invite with this payload."""

    payload: str


@dataclass(frozen=True)
class InviteDecline(CallbackData, prefix="CAI:n"):
    """Decline the invite (nothing changes)."""


@dataclass(frozen=True)
class InviteWithdraw(CallbackData, prefix="CAI:x"):
    """The inviter withdraws a link."""

    invite_id: int


INVITE_BUTTONS: Family[InviteAccept | InviteDecline | InviteWithdraw] = Family(
    "CAI", InviteAccept, InviteDecline, InviteWithdraw
)


def _actor(context: KepuContext) -> Actor:
    person = context.person
    return Actor(person.id if person is not None else None, tuple(context.scope.roles))


def _expiry(context: KepuContext, t: Translator, invite: CoadminInvite) -> str:
    return invite_service.expiry_text(t, invite.expires_at, context.runtime.settings.scheduler.tz)


def _invite_error(t: Translator, exc: CoadminInviteError) -> str:
    return error_text(exc, t, params={k: esc(str(v)) for k, v in exc.params.items()})


async def send_coadmin_invite(update: Update, context: KepuContext, station_id: int) -> None:
    """Make a one-time co-admin invite for the station and send it with its QR code."""
    t = context.t
    settings = context.runtime.settings
    try:
        invite = await invite_service.create(
            session=context.session,
            actor=_actor(context),
            station_id=station_id,
            bot_username=context.runtime.bot_username,
            now=context.runtime.now(),
            hours=settings.stations.coadmin_invite_hours,
            via="bot",
        )
    except RoleError as exc:  # audited by the service
        await reply(update, error_text(exc, t))
        return
    except CoadminInviteError as exc:
        await reply(update, _invite_error(t, exc))
        return
    button = InlineKeyboardButton(
        t("Withdraw this link"), callback_data=InviteWithdraw(invite.invite_id).encode()
    )
    await reply(
        update,
        t(
            "Co-admin invite link of <b>{station}</b>:\n{link}\n\nIt works once, until {until}. "
            "Send it only to the person who should become co-admin: whoever opens it and "
            "confirms becomes an admin of the station. I will tell you when it is used.",
            station=esc(invite.station_name),
            link=invite.link,
            until=_expiry(context, t, invite),
        ),
        reply_markup=InlineKeyboardMarkup([[button]]),
    )
    png = await asyncio.to_thread(qr_png, invite.link)
    await context.bot.send_photo(
        update.effective_chat.id if update.effective_chat else 0,
        InputFile(png, filename=f"coadmin-invite-{station_id}.png"),
        caption=t(
            "QR code of the co-admin invite for {station}", station=esc(invite.station_name)
        ),
    )


async def on_start_payload(update: Update, context: KepuContext, payload: str) -> bool:
    """Open a co-admin invite link: show the station and a confirm button, or why not."""
    if not invite_service.looks_like_coadmin_invite(payload):
        return False
    t = context.t
    if not in_private(update):
        await reply(update, t(OPEN_IN_PRIVATE))
        return True
    try:
        invite = await invite_service.open_invite(
            session=context.session,
            payload=payload,
            now=context.runtime.now(),
            bot_username=context.runtime.bot_username,
        )
        await invite_service.check_usable_by(
            session=context.session, invite=invite, person=context.person
        )
    except CoadminInviteError as exc:
        await reply(update, _invite_error(t, exc))
        return True
    inviter = (
        await person_store.get_person(session=context.session, person_id=invite.created_by)
        if invite.created_by is not None
        else None
    )
    buttons = [
        InlineKeyboardButton(
            t("✅ Become co-admin"), callback_data=InviteAccept(invite.payload).encode()
        ),
        InlineKeyboardButton(t("No, thanks"), callback_data=InviteDecline().encode()),
    ]
    await reply(
        update,
        t(
            "{inviter} invites you to become an admin (co-admin) of <b>{station}</b>.\n\n"
            "A station admin records the station's activities, invites informants and sees "
            "their names and phone numbers. Do you accept?",
            inviter=esc(role_service.person_label(inviter)) if inviter else t("A coordinator"),
            station=esc(invite.station_name),
        ),
        reply_markup=InlineKeyboardMarkup([buttons]),
    )
    return True


async def on_invite_button(update: Update, context: KepuContext) -> None:
    """Accept, decline or withdraw a co-admin invite."""
    query = update.callback_query
    assert query is not None
    t = context.t
    button = INVITE_BUTTONS.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    await query.answer()
    if isinstance(button, InviteDecline):
        await reply(update, t("All right: you did not become a co-admin. Nothing changed."))
        return
    if isinstance(button, InviteWithdraw):
        try:
            invite = await invite_service.revoke(
                session=context.session,
                actor=_actor(context),
                invite_id=button.invite_id,
                now=context.runtime.now(),
                via="bot",
            )
        except RoleError as exc:
            await reply(update, error_text(exc, t))
            return
        except CoadminInviteError as exc:
            await reply(update, _invite_error(t, exc))
            return
        await reply(
            update,
            t(
                "The co-admin invite link of {station} was withdrawn: it no longer works.",
                station=esc(invite.station_name),
            ),
        )
        return
    user = update.effective_user
    assert user is not None
    try:
        invite, _result = await invite_service.accept(
            session=context.session,
            payload=button.payload,
            telegram_id=user.id,
            now=context.runtime.now(),
            bot_username=context.runtime.bot_username,
            default_locale=context.runtime.settings.i18n.default_locale,
        )
    except CoadminInviteError as exc:
        await reply(update, _invite_error(t, exc))
        return
    except RoleError as exc:  # the inviter may no longer give the role: audited
        await reply(update, error_text(exc, t))
        return
    await reply(
        update,
        t(
            "✅ You are now an admin of <b>{station}</b>. Send /help to see what you can do.",
            station=esc(invite.station_name),
        ),
    )
