"""Notices to other people about a decision: one rendering, for the bot and the desk.

A service returns ``Notice``s (a msgid, its parameters, whom and in which language); this
module renders each in its recipient's language (dates the locale's way, text escaped for
Telegram's HTML) and, for callers outside an update (the desk), makes the outbox rows the
sender delivers once the decision's transaction commits.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable
from typing import Any

from bot.i18n import Translator, get_translator
from bot.services.stations import Notice
from storage.outbox import NewMessage


def _format(t: Translator, value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return t.date(value)
    if isinstance(value, str):
        return html.escape(value, quote=False)
    return value


def notice_text(notice: Notice, default_locale: str) -> str:
    """Return the notice's text in its recipient's language (HTML-safe)."""
    t = get_translator(notice.language or default_locale)
    return t(notice.message, **{k: _format(t, v) for k, v in notice.params.items()})


def notice_messages(
    notices: Iterable[Notice], *, key: str, default_locale: str, now: dt.datetime
) -> list[NewMessage]:
    """Return the outbox rows of ``notices``; ``key`` names the decision (unique per call)."""
    return [
        NewMessage(
            chat_id=notice.telegram_id,
            kind="message",
            payload={"text": notice_text(notice, default_locale)},
            dedupe_key=f"notice:{key}:{i}:{notice.telegram_id}",
            due_at=now,
        )
        for i, notice in enumerate(notices)
    ]
