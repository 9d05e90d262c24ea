"""Telegram Mini App initData: the desk's only credential.

Telegram signs the data it hands a Mini App (https://core.telegram.org/bots/webapps,
"Validating data received via the Mini App"): the data-check-string is every received
field except ``hash``, as ``key=value`` with the URL-decoded value, sorted and joined by
line feeds; the secret key is HMAC-SHA256 of the bot token keyed with the constant
``WebAppData``; ``hash`` is the hex HMAC-SHA256 of the data-check-string under that key.
Only the bot's own token makes a valid hash, so data signed for another bot, edited in the
browser, or made up is refused.

The parsing and the hash check are the maintained library ``init-data-py``
(``validate_by_hash``: strict query parsing, duplicate fields refused, constant-time
compare, typed errors; no dependencies). Its own expiry check runs *before* the hash check
and has no bound for dates ahead of ours, so it is switched off (``expires_in=0``) and the
freshness is checked here, after authenticity, against the desk's clock: a forged string is
always ``bad_hash``, whatever date it claims. Each library error maps onto one of our
reason codes (audited and answered with a localised 401 by ``bot.desk.web``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import init_data_py
from init_data_py import errors as tma

# A clock a little ahead of ours is tolerated; data "from the future" beyond that is not.
FUTURE_SKEW = dt.timedelta(minutes=5)
MAX_LENGTH = 8192


class InitDataRefused(Exception):
    """The initData is missing, malformed, forged or stale; ``reason`` says which.

    Data signed with another bot's token is ``bad_hash``: an HMAC cannot tell it from a
    forgery (only the token's owner could).
    """

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


def _reason(error: tma.InvalidInitDataError) -> str:
    """Our reason code for one of the library's refusals."""
    if isinstance(error, tma.HashMissingError | tma.HashInvalidError):
        return "bad_hash"
    if isinstance(error, tma.MissingFieldError | tma.MalformedFieldError):
        if error.field == "hash":
            return "bad_hash"  # not 64 hex digits: no hash of ours
        if error.field.startswith("user."):
            return "no_user"  # a user without a numeric id or a name
    return "malformed"


def validate_init_data(
    raw: str | None, *, bot_token: str, now: dt.datetime, max_age: dt.timedelta
) -> InitData:
    """Check ``raw`` initData was signed with ``bot_token`` and is fresh; return its fields."""
    if not raw:
        raise InitDataRefused("missing")
    if len(raw) > MAX_LENGTH:
        raise InitDataRefused("malformed")
    try:
        data = init_data_py.validate_by_hash(raw, bot_token, expires_in=0)
    except tma.InvalidInitDataError as exc:
        raise InitDataRefused(_reason(exc)) from exc
    auth_date = data.issued_at
    if now - auth_date > max_age:
        raise InitDataRefused("stale")
    if auth_date - now > FUTURE_SKEW:
        raise InitDataRefused("future")
    user = data.user
    if user is None or user.is_bot:
        raise InitDataRefused("no_user")
    return InitData(
        user_id=user.id,
        first_name=user.first_name,
        last_name=user.last_name or None,
        username=user.username or None,
        language_code=user.language_code or None,
        auth_date=auth_date,
        query_id=data.query_id,
        start_param=data.start_param,
        chat_type=data.chat_type,
        fields=dict(data.pairs),
    )
