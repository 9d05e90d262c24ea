"""The desk's Telegram buttons as PTB objects (the dicts come from ``bot.services.desk_open``)."""

from __future__ import annotations

from typing import Any

from telegram import (
    InlineKeyboardButton,
    MenuButton,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)

from bot.config import Settings
from bot.i18n import Translator
from bot.services.desk_open import desk_button, menu_button


def ptb_menu_button(button: dict[str, Any]) -> MenuButton:
    """Return the PTB object of a MenuButton dict."""
    if button.get("type") == "web_app":
        return MenuButtonWebApp(button["text"], WebAppInfo(button["web_app"]["url"]))
    return MenuButtonDefault()


def chat_menu_button(t: Translator, settings: Settings, *, has_role: bool) -> MenuButton:
    """Return the menu button of a private chat: the desk for role holders, else the default."""
    return ptb_menu_button(menu_button(t, settings, has_role=has_role))


def desk_inline_button(
    t: Translator, settings: Settings, page: str | None = None
) -> InlineKeyboardButton | None:
    """Return a web_app button opening the desk at ``page`` (private chats only), or None."""
    button = desk_button(t, settings, page)
    if button is None:
        return None
    return InlineKeyboardButton(button["text"], web_app=WebAppInfo(button["web_app"]["url"]))
