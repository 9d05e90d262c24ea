"""Telegram Mini App initData: the desk's only credential.

Telegram signs the data it hands a Mini App (https://core.telegram.org/bots/webapps,
"Validating data received via the Mini App"): the data-check-string is every received
field except ``hash``, as ``key=value`` with the URL-decoded value, sorted by key and joined
by line feeds; the secret key is HMAC-SHA256 of the bot token keyed with the constant
``WebAppData``; ``hash`` is the hex HMAC-SHA256 of the data-check-string under that key.
Only the bot's own token makes a valid hash, so data signed for another bot, edited in the
browser, or made up is refused; ``auth_date`` must be recent (``desk.init_data_max_age``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

WEB_APP_DATA = b"WebAppData"
# A clock a little ahead of ours is tolerated; data "from the future" beyond that is not.
FUTURE_SKEW = dt.timedelta(minutes=5)
MAX_LENGTH = 8192


class InitDataRefused(Exception):
    """The initData is missing, malformed, forged or stale; ``reason`` says which."""

    REASONS = ("missing", "malformed", "bad_hash", "stale", "future", "no_user")

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class InitData:
    """The validated fields of one initData string."""

    user_id: int
    first_name: str
    auth_date: dt.datetime
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    query_id: str | None = None
    start_param: str | None = None
    chat_type: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


def secret_key(bot_token: str) -> bytes:
    """Return the key initData is signed with: HMAC-SHA256("WebAppData", bot token)."""
    return hmac.new(WEB_APP_DATA, bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: dict[str, str]) -> str:
    """Return Telegram's data-check-string of ``fields`` (``hash`` left out)."""
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def compute_hash(fields: dict[str, str], bot_token: str) -> str:
    """Return the hex hash Telegram puts in initData with these ``fields``."""
    check = data_check_string(fields).encode()
    return hmac.new(secret_key(bot_token), check, hashlib.sha256).hexdigest()


def parse_fields(raw: str) -> dict[str, str]:
    """Split a query string into fields; a repeated key makes it malformed."""
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise InitDataRefused("malformed") from exc
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise InitDataRefused("malformed")
        fields[key] = value
    return fields


def validate_init_data(
    raw: str | None, *, bot_token: str, now: dt.datetime, max_age: dt.timedelta
) -> InitData:
    """Check ``raw`` initData was signed with ``bot_token`` and is fresh; return its fields."""
    if not raw:
        raise InitDataRefused("missing")
    if len(raw) > MAX_LENGTH:
        raise InitDataRefused("malformed")
    fields = parse_fields(raw)
    given = fields.get("hash", "")
    if not given:
        raise InitDataRefused("bad_hash")
    expected = compute_hash(fields, bot_token)
    if not hmac.compare_digest(expected, given.lower()):
        raise InitDataRefused("bad_hash")
    try:
        auth_date = dt.datetime.fromtimestamp(int(fields["auth_date"]), tz=dt.UTC)
    except (KeyError, ValueError, OverflowError, OSError) as exc:
        raise InitDataRefused("malformed") from exc
    if now - auth_date > max_age:
        raise InitDataRefused("stale")
    if auth_date - now > FUTURE_SKEW:
        raise InitDataRefused("future")
    user = _user(fields.get("user"))
    return InitData(
        user_id=user["id"],
        first_name=str(user.get("first_name") or ""),
        last_name=_opt(user.get("last_name")),
        username=_opt(user.get("username")),
        language_code=_opt(user.get("language_code")),
        auth_date=auth_date,
        query_id=fields.get("query_id"),
        start_param=fields.get("start_param"),
        chat_type=fields.get("chat_type"),
        fields=fields,
    )


def _opt(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _user(raw: str | None) -> dict[str, Any]:
    if not raw:
        raise InitDataRefused("no_user")
    try:
        user = json.loads(raw)
    except ValueError as exc:
        raise InitDataRefused("malformed") from exc
    if (
        not isinstance(user, dict)
        or not isinstance(user.get("id"), int)
        or isinstance(user.get("id"), bool)
    ):
        raise InitDataRefused("no_user")
    if user.get("is_bot"):
        raise InitDataRefused("no_user")
    return user
