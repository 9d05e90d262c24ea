"""When an update is parked: tell its sender something went wrong, and tell the admins."""

from __future__ import annotations

import html
import logging
from typing import Any

from telegram.error import TelegramError

from bot.i18n import get_translator, normalize_locale
from bot.runtime.context import Runtime
from storage import people as people_store
from storage import roles as roles_store

log = logging.getLogger(__name__)


def _sender(payload: dict[str, Any]) -> tuple[int | None, int | None, str | None]:
    """Return (chat id, user id, language code) of a raw update, where it has them."""
    for value in payload.values():
        if not isinstance(value, dict):
            continue
        user = value.get("from") or {}
        chat = value.get("chat") or (value.get("message") or {}).get("chat") or {}
        if user:
            return chat.get("id") or user.get("id"), user.get("id"), user.get("language_code")
    return None, None, None


def parked_alert(runtime: Runtime, bot: Any) -> Any:
    """Return the processor callback that reports a parked update."""

    async def alert(payload: dict[str, Any], error: BaseException) -> None:
        chat_id, user_id, language_code = _sender(payload)
        async with runtime.sessions() as session:
            person = (
                await people_store.get_person_by_telegram_id(session=session, telegram_id=user_id)
                if user_id
                else None
            )
            admins = [p for g, p in await roles_store.list_grants(session=session, role="admin")]
        locale = (
            person.language
            if person and person.language
            else normalize_locale(language_code, runtime.settings.i18n.default_locale)
        )
        if chat_id is not None:
            t = get_translator(locale)
            try:
                await bot.send_message(
                    chat_id,
                    t(
                        "Sorry, something went wrong with your last message. It has been "
                        "reported; please try again later or send /help."
                    ),
                )
            except TelegramError as exc:
                log.warning("could not tell the sender", extra={"error": str(exc)})
        summary = html.escape(f"{type(error).__name__}: {error}"[:500])
        for admin in admins:
            t = get_translator(admin.language or runtime.settings.i18n.default_locale)
            try:
                await bot.send_message(
                    admin.telegram_id,
                    t(
                        "An update could not be processed and was parked: update {update_id}, "
                        "user {user_id}.\n{error}",
                        update_id=payload.get("update_id"),
                        user_id=user_id or "-",
                        error=summary,
                    ),
                )
            except TelegramError as exc:
                log.warning("could not alert an admin", extra={"error": str(exc)})

    return alert
