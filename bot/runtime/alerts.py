"""When an update is parked: tell its sender something went wrong, and tell the admins.

Both notices go through the outbox, so a network error loses neither and a crash sends
neither twice."""

from __future__ import annotations

import datetime as dt
import html
import logging
from typing import Any

from bot.i18n import get_translator, normalize_locale
from bot.runtime.context import Runtime
from storage import outbox as outbox_store
from storage import people as people_store
from storage import roles as roles_store
from storage.outbox import NewMessage

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
    """Return the processor callback that reports a parked update (through the outbox)."""

    async def alert(payload: dict[str, Any], error: BaseException) -> None:
        chat_id, user_id, language_code = _sender(payload)
        update_id = payload.get("update_id")
        now = runtime.now()
        summary = html.escape(f"{type(error).__name__}: {error}"[:500])
        async with runtime.sessions() as session, session.begin():
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
            messages = []
            if chat_id is not None:
                text = get_translator(locale)(
                    "Sorry, something went wrong with your last message. It has been "
                    "reported; please try again later or send /help."
                )
                messages.append(_notice(chat_id, text, f"parked:{update_id}:sender", now))
            for admin in admins:
                t = get_translator(admin.language or runtime.settings.i18n.default_locale)
                text = t(
                    "An update could not be processed and was parked: update {update_id}, "
                    "user {user_id}.\n{error}",
                    update_id=update_id,
                    user_id=user_id or "-",
                    error=summary,
                )
                key = f"parked:{update_id}:admin:{admin.telegram_id}"
                messages.append(_notice(admin.telegram_id, text, key, now))
            # Written durably and sent by the outbox sender once this commits.
            await outbox_store.enqueue(session=session, push_id=None, messages=messages, now=now)

    return alert


def _notice(chat_id: int, text: str, key: str, now: dt.datetime) -> NewMessage:
    return NewMessage(
        chat_id=chat_id, kind="message", payload={"text": text}, dedupe_key=key, due_at=now
    )
