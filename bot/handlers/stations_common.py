"""What the stations handlers share: error texts, notices and actors."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from telegram import Update
from telegram.error import TelegramError

from bot.core.error_text import error_text as domain_text
from bot.handlers.common import esc, reply
from bot.i18n import Translator
from bot.runtime.context import KepuContext
from bot.services.notices import notice_text
from bot.services.review import Actor
from bot.services.stations import STATE_NAMES, Notice, StationError, describe_missing

log = logging.getLogger(__name__)


def error_text(t: Translator, exc: StationError) -> str:
    """Return the localised sentence for a refusal."""
    params: dict[str, Any] = {k: esc(v) for k, v in exc.params.items()}
    if "state" in exc.params:
        params["state_name"] = t(STATE_NAMES.get(exc.params["state"], exc.params["state"]))
    if exc.code == "incomplete":
        params["missing"] = ("、" if t.locale == "zh_CN" else ", ").join(
            t(msgid, **p) for msgid, p in describe_missing(exc.params.get("missing", []))
        )
    return domain_text(exc, t, params=params)


def actor_of(context: KepuContext) -> Actor:
    """Return the acting person with their grants."""
    person = context.person
    return Actor(person.id if person is not None else None, list(context.scope.roles))


async def send_notices(context: KepuContext, notices: Iterable[Notice]) -> int:
    """Send each notice in its recipient's language; return how many went out."""
    default = context.runtime.settings.i18n.default_locale
    sent = 0
    for notice in notices:
        text = notice_text(notice, default)  # the one rendering (the desk's too)
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
