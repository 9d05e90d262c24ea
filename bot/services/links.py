"""Tracked short links: codes, URLs, visitor keys with a rotating salt, preview bots.

A visitor is ``sha256(salt ‖ address)``, the address being the IPv4 address or the IPv6 /64
(one subscriber's network): the User-Agent only tells people from preview bots, so a client
that rotates its agent is still one visitor.  No raw address is stored.  The salt
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
import ipaddress
import re
import secrets
import string

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.core.urls import is_http_url
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


def visitor_address(ip: str) -> str:
    """Return what identifies a visitor: the IPv4 address, or the /64 of an IPv6 one."""
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return ip  # not an address (a unix socket peer): itself
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        # A subscriber gets a whole /64 and may pick any address in it.
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def visitor_key(salt: bytes, address: str) -> str:
    """Return the hashed key of a visitor (64 hex characters)."""
    return hashlib.sha256(salt + b"\x00" + address.encode()).hexdigest()


def settings_secret(settings: Settings) -> str:
    """Return the secret the visit salt is derived from (the bot token)."""
    token = settings.telegram.token
    return token.get_secret_value() if token is not None else "kepubot-no-token"


def safe_target(url: str) -> bool:
    """Tell whether a stored catalogue URL may be redirected to (what import would accept)."""
    return is_http_url(url)


async def resolve(*, session: AsyncSession, code: str) -> tuple[int, str] | None:
    """Return (link id, stored catalogue URL) of a code, or None when unknown."""
    if not CODE_RE.match(code):
        return None
    return await link_store.target_of(session=session, code=code)


def countable_visitor(
    settings: Settings, *, ip: str | None, user_agent: str | None, now: dt.datetime
) -> str | None:
    """Return the hashed visitor key of a request that counts, or None (bots, no address)."""
    if not ip or is_preview_agent(user_agent):
        return None
    period = salt_period(now, settings.shares.visit_salt_rotation_hours, settings.scheduler.tz)
    salt = visit_salt(settings_secret(settings), period)
    return visitor_key(salt, visitor_address(ip))
