"""Tracked short links: codes, URLs, visitor keys with a rotating salt, preview bots.

A visitor is ``sha256(salt ‖ IP ‖ User-Agent)``; no raw IP or User-Agent is stored.  The salt
is ``HMAC-SHA256(secret, "kepubot-visit-salt:" ‖ period)`` where the period number advances
every ``shares.visit_salt_rotation_hours`` on the local clock of ``scheduler.timezone`` (so
with the default 24 h the salt changes exactly when the visit day does).  The secret is the
bot token: every bot process already has it and it never leaves the server, so several
processes agree on the hash without another table; hashes of different periods cannot be
linked without it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import string

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage import links as link_store

ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 9  # 62**9 ≈ 1.35e16 codes
CODE_RE = re.compile(r"^[A-Za-z0-9]{6,16}$")

# Link-preview fetchers and crawlers (case-insensitive substrings of the User-Agent).
PREVIEW_AGENTS: tuple[str, ...] = (
    "telegrambot",
    "twitterbot",
    "whatsapp",
    "facebookexternalhit",
    "facebot",
    "meta-externalagent",
    "slackbot",
    "slack-imgproxy",
    "discordbot",
    "linkedinbot",
    "skypeuripreview",
    "vkshare",
    "redditbot",
    "pinterest",
    "embedly",
    "iframely",
    "applebot",
    "googlebot",
    "bingbot",
    "yandex",
    "baiduspider",
    "bytespider",
    "sogou",
    "360spider",
    "yisouspider",
    "petalbot",
    "qq-url-manager",
    "mattermost",
    "viber",
    "line-poker",
    "bitlybot",
    "headlesschrome",
    "lighthouse",
    # HTTP libraries and tools: not a person reading the page.
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "aiohttp/",
    "httpx/",
    "go-http-client",
    "okhttp",
    "java/",
    "libwww",
    "node-fetch",
    "axios/",
)
_GENERIC_BOT = re.compile(r"(bot|crawler|spider|preview|fetcher)\b", re.IGNORECASE)
_NOT_BOTS = re.compile(r"cubot", re.IGNORECASE)  # CUBOT phones say "CUBOT" in the UA


def new_code() -> str:
    """Return a fresh random link code."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def link_url(settings: Settings, code: str) -> str:
    """Return the public short URL of a code."""
    return f"{settings.web.public_base_url}/s/{code}"


def is_preview_agent(user_agent: str | None) -> bool:
    """Tell whether a User-Agent is a link-preview bot, crawler or HTTP library."""
    if not user_agent or not user_agent.strip():
        return True
    ua = user_agent.lower()
    if any(token in ua for token in PREVIEW_AGENTS):
        return True
    cleaned = _NOT_BOTS.sub("", user_agent)
    return bool(_GENERIC_BOT.search(cleaned))


def salt_period(now: dt.datetime, rotation_hours: int, tz: dt.tzinfo) -> int:
    """Return the number of the salt period ``now`` falls in (aligned to midnight in ``tz``)."""
    offset = now.astimezone(tz).utcoffset() or dt.timedelta()
    local_seconds = int((now + offset).timestamp())
    return local_seconds // (rotation_hours * 3600)


def visit_salt(secret: str, period: int) -> bytes:
    """Return the salt of one period, derived from ``secret``."""
    return hmac.new(
        secret.encode(), f"kepubot-visit-salt:{period}".encode(), hashlib.sha256
    ).digest()


def visitor_key(salt: bytes, ip: str, user_agent: str) -> str:
    """Return the hashed key of a visitor (64 hex characters)."""
    return hashlib.sha256(salt + b"\x00" + ip.encode() + b"\x00" + user_agent.encode()).hexdigest()


def settings_secret(settings: Settings) -> str:
    """Return the secret the visit salt is derived from (the bot token)."""
    token = settings.telegram.token
    return token.get_secret_value() if token is not None else "kepubot-no-token"


def safe_target(url: str) -> bool:
    """Tell whether a stored catalogue URL may be redirected to (absolute http/https)."""
    return url.startswith(("https://", "http://")) and not any(c in url for c in "\r\n")


async def resolve(*, session: AsyncSession, code: str) -> tuple[int, str] | None:
    """Return (link id, stored catalogue URL) of a code, or None when unknown or unsafe."""
    if not CODE_RE.match(code):
        return None
    found = await link_store.target_of(session=session, code=code)
    if found is None or not safe_target(found[1]):
        return None
    return found


def countable_visitor(
    settings: Settings, *, ip: str | None, user_agent: str | None, now: dt.datetime
) -> str | None:
    """Return the hashed visitor key of a request that counts, or None (bots, no address)."""
    if not ip or is_preview_agent(user_agent):
        return None
    period = salt_period(now, settings.shares.visit_salt_rotation_hours, settings.scheduler.tz)
    salt = visit_salt(settings_secret(settings), period)
    return visitor_key(salt, ip, user_agent or "")
