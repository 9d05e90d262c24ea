"""Opening the desk from Telegram: the "科普工作台" menu button of everyone holding a role.

A grant or revoke queues a ``desk_menu`` outbox row in its own transaction
(``bot.services.roles`` → ``bot.services.desk_open.queue_menu_refresh``); the sender hands
it to ``MenuButtonDeliverer`` after the commit, which reads the person's roles *then* and
sets the chat's menu button: the desk (a ``web_app`` button) for role holders, the bot's
default (the command list) for everyone else. At start, ``menu_at_start`` queues one row
per role holder whose button is not already the one this configuration gives (a URL or
language change), so existing coordinators see the button without any grant.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import CommandHandler

from bot.handlers.commands import command
from bot.handlers.common import reply, requires
from bot.handlers.desk_buttons import desk_inline_button, ptb_menu_button
from bot.handlers.feature import COMMAND_GROUP, Feature, in_group
from bot.i18n import N_, get_translator
from bot.runtime.context import KepuContext, Runtime
from bot.runtime.outbox import NO_RETRY, Delivery, SenderTools, Undeliverable
from bot.services.desk_open import MENU_KIND, menu_button, start_row
from storage import outbox as outbox_store
from storage import people as people_store
from storage import roles as role_store
from storage.outbox import ClaimedMessage

log = logging.getLogger(__name__)

MENU_QUEUED = "desk_menu_queued"  # runtime.extras key: the start-up rows are queued
DESK_ROLES = ("coordinator", "station_admin", "curator")  # and admin, who sees everything
COMMANDS = (command("desk", N_("Open the science desk"), *DESK_ROLES, order=95),)


async def button_for(runtime: Runtime, telegram_id: int) -> dict[str, Any]:
    """Return the menu button this person's chat should show now."""
    settings = runtime.settings
    async with runtime.sessions() as session:
        person = await people_store.get_person_by_telegram_id(
            session=session, telegram_id=telegram_id
        )
        grants = (
            await role_store.roles_of(session=session, person_id=person.id)
            if person is not None and person.id is not None
            else ()
        )
    language = (person.language if person is not None else None) or settings.i18n.default_locale
    return menu_button(get_translator(language), settings, has_role=bool(grants))


class MenuButtonDeliverer:
    """Outbox rows ``desk_menu``: set one private chat's menu button after the commit."""

    def __init__(self, tools: SenderTools) -> None:
        self.tools = tools

    async def prepare(self, rows: Sequence[ClaimedMessage]) -> None:
        """Nothing to read ahead: each row reads the person's roles when it is sent."""

    async def deliver(self, row: ClaimedMessage) -> Delivery:
        """Set the button; a chat Telegram does not know (never started) is not retried."""
        button = await button_for(self.tools.runtime, row.chat_id)
        try:
            await self.tools.bot.set_chat_menu_button(
                chat_id=row.chat_id,
                menu_button=ptb_menu_button(button),
                rate_limit_args=NO_RETRY,
            )
        except (BadRequest, Forbidden) as exc:  # a menu is a convenience: never mark blocked
            raise Undeliverable("failed", f"{type(exc).__name__}: {exc.message}") from exc
        return Delivery(None)


async def queue_menus_at_start(runtime: Runtime) -> None:
    """Queue the desk button for every role holder whose button this start changes.

    Sets ``runtime.extras[MENU_QUEUED]`` (an asyncio.Event) when done.
    """
    done: asyncio.Event = runtime.extras.setdefault(MENU_QUEUED, asyncio.Event())
    try:
        async with runtime.sessions() as session:
            holders = sorted(
                {p.telegram_id for _grant, p in await role_store.list_grants(session=session)}
            )
        now = runtime.now()
        rows = [start_row(tid, await button_for(runtime, tid), now) for tid in holders]
        if rows:
            async with runtime.sessions() as session, session.begin():
                # A row that failed before (a chat never started) is tried again.
                await outbox_store.forget_ended(session=session, keys=[r.dedupe_key for r in rows])
                await outbox_store.enqueue(session=session, push_id=None, messages=rows, now=now)
    except Exception:  # the menu is a convenience: never stop the bot for it
        log.exception("queueing the desk menu buttons at start failed")
    finally:
        done.set()


def menu_at_start(web_app: web.Application, runtime: Runtime) -> None:
    """Queue the start-up menu rows while the web server starts, before the bot is ready.

    So they are queued before any update or grant of this run can be: a start is then the
    same whatever the timing (the demo's call counts, tests with fixed clocks).
    """

    async def on_startup(_app: web.Application) -> None:
        await queue_menus_at_start(runtime)

    web_app.on_startup.append(on_startup)


@requires(*DESK_ROLES)
async def desk_command(update: Update, context: KepuContext) -> None:
    """Answer /desk with a button opening the desk (in the private chat only)."""
    t, chat = context.t, update.effective_chat
    if chat is None or chat.type != "private":
        # Telegram allows web_app buttons only in the private chat with the bot.
        await reply(update, t("The desk opens in your private chat with me: send /desk there."))
        return
    button = desk_inline_button(t, context.runtime.settings)
    if button is None:
        await reply(
            update,
            t(
                "The desk cannot be opened from Telegram yet: its address must start with "
                "https://. Please tell the administrator."
            ),
        )
        return
    await reply(
        update,
        t("Tap the button to open the science desk (or the menu button next to the input field)."),
        reply_markup=InlineKeyboardMarkup([[button]]),
    )


FEATURE = Feature(
    name="desk_open",
    handlers=in_group(COMMAND_GROUP, CommandHandler("desk", desk_command)),
    commands=COMMANDS,
    web_routes=(menu_at_start,),
    outbox_kinds={MENU_KIND: MenuButtonDeliverer},
)
