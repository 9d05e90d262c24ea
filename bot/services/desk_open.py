"""Opening the desk (the coordinators' Mini App) from Telegram: its URL, buttons, menu button.

The desk lives at ``[web] public_base_url`` + ``/desk/``. Telegram opens it from a
``web_app`` button (inline keyboards in private chats only) or the chat's menu button, and
refuses any Web App URL that is not ``https://``. So:

- ``desk_url`` is None when Telegram would refuse the URL: production needs an https
  ``public_base_url``; plain http is used only when both the Bot API and the web server are
  on this machine (the sandbox of tests, ``kepubot chat`` and the demo, which accepts http
  on loopback);
- people holding any role get the desk as their chat's menu button ("科普工作台"), set
  through the outbox after the commit that granted or revoked the role (``MENU_KIND`` rows,
  sent by ``bot.handlers.desk_open``), and once at start for everyone already holding one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import N_, Translator
from storage import outbox as outbox_store
from storage.outbox import NewMessage

DESK_PATH = "/desk/"
# The shell (bot/desk/static/desk.js) opens the fragment ``?p=/desk/p/<page>`` first;
# Telegram keeps a Web App URL's query string and appends the launch data as the hash.
PAGE_PARAM = "p"
FRAGMENT_PREFIX = "/desk/p/"
MENU_KIND = "desk_menu"
# The page the digest's and /pending's buttons open (None: the desk's first page).
DIGEST_DESK_PAGE: str | None = None
REVIEWS_DESK_PAGE = "queues/reviews"
BUTTON_TEXT = N_("Science desk")
# The sender deletes a row carrying this once sent (bot.runtime.effects.ERASE_AFTER_SEND,
# a layer above: tests/desk_open check the two agree).
ERASE_AFTER_SEND = "erase_after_send"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def desk_reachable(settings: Settings) -> bool:
    """Tell whether the desk is on and Telegram (or the local sandbox) will open its URL."""
    if not settings.desk.enabled:
        return False
    base = settings.web.public_base_url
    if base.startswith("https://"):
        return True
    # Plain http: only the sandbox accepts it, and only on loopback on both ends.
    return _host(base) in LOOPBACK and _host(settings.telegram.base_url) in LOOPBACK


def desk_url(settings: Settings, page: str | None = None) -> str | None:
    """Return the desk's Web App URL (opening ``page`` first), or None if Telegram would refuse."""
    if not desk_reachable(settings):
        return None
    url = settings.web.public_base_url.rstrip("/") + DESK_PATH
    if page:
        url += f"?{PAGE_PARAM}={quote(FRAGMENT_PREFIX + page.strip('/'), safe='/')}"
    return url


def desk_button(
    t: Translator, settings: Settings, page: str | None = None
) -> dict[str, Any] | None:
    """Return an inline ``web_app`` button (Bot API dict) opening the desk, or None.

    Only for private chats: Telegram refuses web_app buttons anywhere else.
    """
    url = desk_url(settings, page)
    if url is None:
        return None
    return {"text": t(BUTTON_TEXT), "web_app": {"url": url}}


def menu_button(t: Translator, settings: Settings, *, has_role: bool) -> dict[str, Any]:
    """Return the MenuButton (Bot API dict) a person's private chat should show."""
    url = desk_url(settings) if has_role else None
    if url is None:
        return {"type": "default"}  # the bot's default: the command list
    return {"type": "web_app", "text": t(BUTTON_TEXT), "web_app": {"url": url}}


def menu_fingerprint(button: dict[str, Any]) -> str:
    """Return a short digest of a menu button (start-up rows skip unchanged buttons)."""
    text = f"{button.get('type')}|{button.get('text', '')}|{button.get('web_app', {})}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def queue_menu_refresh(*, session: AsyncSession, telegram_id: int, now: dt.datetime) -> None:
    """Queue a menu button update for this person, sent after the commit.

    The sender reads the person's roles when it sends, so rows can never apply a stale
    state, whatever order they go in; each change gets its own row (a unique key).
    """
    await outbox_store.enqueue_one(
        session=session,
        message=NewMessage(
            chat_id=telegram_id,
            kind=MENU_KIND,
            payload={ERASE_AFTER_SEND: True},  # nothing to keep once Telegram has it
            dedupe_key=f"{MENU_KIND}:{telegram_id}:{uuid.uuid4().hex}",
            due_at=now,
        ),
        now=now,
    )


def start_row(telegram_id: int, button: dict[str, Any], now: dt.datetime) -> NewMessage:
    """Return the start-up row setting an existing role holder's button (once per button)."""
    return NewMessage(
        chat_id=telegram_id,
        kind=MENU_KIND,
        payload={},
        dedupe_key=f"{MENU_KIND}:start:{telegram_id}:{menu_fingerprint(button)}",
        due_at=now,
    )
