"""Mini App buttons as Telegram checks them: web_app buttons and the chat menu button.

Telegram refuses a ``web_app`` button outside a private chat between a user and the bot
(``BUTTON_TYPE_INVALID``) and a Web App URL that is not ``https://`` ("Only HTTPS links are
allowed"). The sandbox applies both rules with one difference, on purpose: it accepts
``http://`` on a loopback host (127.0.0.1, ::1, localhost), because the bot's web server in
tests, ``kepubot chat`` and the demo listens there without TLS. Production therefore needs
an ``https://`` ``[web] public_base_url``; the bot itself never offers a desk button it
knows Telegram would refuse (``bot.services.desk_open.desk_url``).

The menu button (setChatMenuButton) is one of ``MenuButtonCommands`` (``{"type":
"commands"}``), ``MenuButtonWebApp`` (``{"type": "web_app", "text", "web_app": {"url"}}``)
or ``MenuButtonDefault`` (``{"type": "default"}``: no specific button, the bot's default
applies).
"""

from __future__ import annotations

import copy
import datetime as dt
import socket
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from bot.sandbox.models import bad_request
from bot.sandbox.webapp import desk_url, sign_init_data

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
MENU_BUTTON_TYPES = ("commands", "web_app", "default")
COMMANDS_BUTTON: dict[str, Any] = {"type": "commands"}


def web_app_url_problem(url: object) -> str | None:
    """Return why Telegram would refuse ``url`` as a Web App URL (None when it is fine)."""
    if not isinstance(url, str) or not url:
        return "URL must be non-empty"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "Wrong URL"
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS:
        return None  # sandbox only: the local web server has no TLS (see the module doc)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Wrong URL"
    return "Only HTTPS links are allowed"


def _check_url(where: str, web_app: object) -> None:
    url = web_app.get("url") if isinstance(web_app, dict) else None
    problem = web_app_url_problem(url)
    if problem is not None:
        raise bad_request(f"{where} Web App URL '{url or ''}' is invalid: {problem}")


def check_web_app_buttons(markup: dict[str, Any], *, private: bool) -> None:
    """Raise the 400 Telegram answers for web_app buttons a chat may not carry.

    ``markup`` is an inline keyboard (already checked by ``check_inline_keyboard``) or a
    reply keyboard; ``private`` tells whether it goes to a private chat with the bot.
    """
    for name, where in (
        ("inline_keyboard", "inline keyboard button"),
        ("keyboard", "keyboard button"),
    ):
        for row in markup.get(name) or []:
            for button in row if isinstance(row, list) else []:
                if not isinstance(button, dict) or "web_app" not in button:
                    continue
                if not private:
                    raise bad_request("BUTTON_TYPE_INVALID")
                _check_url(where, button["web_app"])


def menu_button(value: object) -> dict[str, Any]:
    """Return the MenuButton a setChatMenuButton call gives, or raise Telegram's 400."""
    if value is None:
        return {"type": "default"}
    if not isinstance(value, dict):
        raise bad_request("can't parse menu button: MenuButton must be an Object")
    kind = value.get("type")
    if kind not in MENU_BUTTON_TYPES:
        raise bad_request("can't parse menu button: unsupported menu button type")
    if kind != "web_app":
        return {"type": kind}
    text = value.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("can't parse menu button: text must be non-empty")
    _check_url("menu button", value.get("web_app"))
    return {"type": "web_app", "text": text, "web_app": {"url": value["web_app"]["url"]}}


def effective_menu_button(
    chat_button: dict[str, Any] | None, default_button: dict[str, Any] | None
) -> dict[str, Any]:
    """Return the button a private chat shows: its own, else the bot's default, else commands."""
    for button in (chat_button, default_button):
        if button and button.get("type") != "default":
            return copy.deepcopy(button)
    return dict(COMMANDS_BUTTON)


def web_app_user(user: Mapping[str, Any]) -> dict[str, Any]:
    """Return the WebAppUser Telegram puts in initData for a Bot API ``User``."""
    profile: dict[str, Any] = {"id": user["id"], "first_name": user.get("first_name", "")}
    for key in ("last_name", "username", "language_code"):
        if user.get(key):
            profile[key] = user[key]
    profile["allows_write_to_pm"] = True  # the user has a private chat with the bot
    return profile


def launch_url(
    url: str,
    *,
    bot_token: str,
    user: Mapping[str, Any],
    query_id: str,
    auth_date: dt.datetime | int | None = None,
    theme: Mapping[str, str] | None = None,
) -> str:
    """Return ``url`` as a Telegram app opens it: signed launch data in the hash.

    The web_app URL keeps its path and query (``?p=…``); the fragment carries
    ``tgWebAppData`` (initData signed with the bot's token), the version, the platform and
    the theme, built by ``bot.sandbox.webapp`` exactly as the desk reads them.
    """
    init_data = sign_init_data(
        bot_token,
        web_app_user(user),
        auth_date=int(time.time()) if auth_date is None else auth_date,
        query_id=query_id,
    )
    fragment = desk_url("", init_data, theme).split("#", 1)[1]
    return url.split("#", 1)[0] + "#" + fragment


def loopback_port() -> int:
    """Return a free TCP port on 127.0.0.1 (the desk's address must be known before start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
