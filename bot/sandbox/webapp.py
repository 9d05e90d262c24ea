"""Sign Mini App initData as Telegram does, and build the URL Telegram opens the desk with.

Used by the sandbox, ``kepubot chat`` and tests. Telegram passes the data to the page in the
URL fragment: ``#tgWebAppData=<urlencoded initData>&tgWebAppVersion=…&tgWebAppPlatform=…
&tgWebAppThemeParams=<urlencoded JSON>`` (https://core.telegram.org/bots/webapps).

The signature is computed here, from Telegram's published recipe, and deliberately not by
the library the desk validates with (``init-data-py`` in ``bot.desk.auth``): the sandbox
plays Telegram, and a test only proves something when signer and checker are written
independently.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

# The theme Telegram's light Android client sends (keys as in ThemeParams).
LIGHT_THEME: dict[str, str] = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#999999",
    "link_color": "#2481cc",
    "button_color": "#2481cc",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#f1f1f1",
    "header_bg_color": "#ffffff",
    "accent_text_color": "#2481cc",
    "section_bg_color": "#ffffff",
    "section_header_text_color": "#6d6d72",
    "subtitle_text_color": "#999999",
    "destructive_text_color": "#ff3b30",
}


def compute_hash(fields: Mapping[str, str], bot_token: str) -> str:
    """Return the hex ``hash`` Telegram puts in initData with these ``fields``.

    Key: HMAC-SHA256 of the bot token keyed with ``WebAppData``; message: every field but
    ``hash`` as ``key=value`` lines, sorted, joined by line feeds.
    """
    key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "hash")
    return hmac.new(key, check.encode(), hashlib.sha256).hexdigest()


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def sign_init_data(
    bot_token: str,
    user: Mapping[str, Any],
    *,
    auth_date: dt.datetime | int,
    query_id: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> str:
    """Return initData for ``user`` signed with ``bot_token``, as Telegram builds it."""
    stamp = auth_date if isinstance(auth_date, int) else int(auth_date.timestamp())
    fields: dict[str, str] = {}
    if query_id is not None:
        fields["query_id"] = query_id
    fields["user"] = _compact(dict(user))
    fields["auth_date"] = str(stamp)
    fields.update(extra or {})
    fields["hash"] = compute_hash(fields, bot_token)
    return urlencode(fields, quote_via=quote)


def desk_url(
    base_url: str,
    init_data: str,
    theme: Mapping[str, str] | None = None,
    *,
    platform: str = "android",
    version: str = "8.0",
) -> str:
    """Return the desk URL with the launch parameters in the fragment, as Telegram does."""
    params = {
        "tgWebAppData": init_data,
        "tgWebAppVersion": version,
        "tgWebAppPlatform": platform,
        "tgWebAppThemeParams": _compact(dict(theme if theme is not None else LIGHT_THEME)),
    }
    return f"{base_url.rstrip('/')}/desk/#{urlencode(params, quote_via=quote)}"
