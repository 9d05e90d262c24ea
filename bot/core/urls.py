"""What a stored link may look like: an absolute http(s) URL with no hidden characters.

Catalogue URLs end up in a ``Location`` header and in button URLs, so a control character
(NUL, DEL, VT, a C1 code) or an invisible format character (a bidi override, a zero-width
space) must never get in: it breaks the response or hides where the link really goes.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

URL_MAX = 2048
# Unicode categories never allowed in a stored URL: controls, format characters,
# line and paragraph separators, lone surrogates.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def has_hidden_characters(url: str) -> bool:
    """Tell whether ``url`` holds a control or invisible format character."""
    return any(unicodedata.category(char) in _HIDDEN for char in url)


def url_problem(url: str) -> str | None:
    """Return why ``url`` may not be stored (``url_control`` or ``bad_url``), or None."""
    if has_hidden_characters(url):
        return "url_control"
    if not url or len(url) > URL_MAX or any(char.isspace() for char in url):
        return "bad_url"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "bad_url"
    if parts.scheme.lower() not in ("http", "https") or not host:
        return "bad_url"
    return None


def show_hidden(url: str, limit: int = 200) -> str:
    """Return the start of ``url`` with hidden characters written out (``\\x00``, ``\\u202e``)."""
    shown = "".join(
        (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        if unicodedata.category(c) in _HIDDEN
        else c
        for c in url[:limit]
    )
    return shown


def is_http_url(url: str) -> bool:
    """Return whether ``url`` is an absolute http(s) URL with a host and nothing hidden."""
    return url_problem(url) is None
