"""Telegram's length limits, measured as Telegram does, and cutting text to fit them.

Telegram counts a message's length after parsing its entities: tags do not count, ``&lt;``
counts as one character, and characters are UTF-16 code units (an emoji outside the Basic
Multilingual Plane counts two). ``fit_text`` cuts only visible text, never inside a tag or
an entity, closes the tags it leaves open, and marks the cut with an ellipsis.
"""

from __future__ import annotations

import html
import re

TEXT_LIMIT = 4096  # sendMessage, editMessageText
CAPTION_LIMIT = 1024  # captions of photos, videos and documents
ELLIPSIS = "…"

# A tag, an entity Telegram understands, a run of plain text, or a lone "&" or "<".
_TOKEN = re.compile(
    r"(?P<tag></?[A-Za-z][^<>]*>)"
    r"|(?P<entity>&(?:lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);)"
    r"|(?P<text>[^<&]+|[<&])"
)
_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)")


def utf16_length(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def visible_length(text: str, *, is_html: bool = True) -> int:
    """Return the length Telegram checks against its limits (entities parsed when HTML)."""
    if not is_html:
        return utf16_length(text)
    total = 0
    for match in _TOKEN.finditer(text):
        if match.lastgroup == "entity":
            total += utf16_length(html.unescape(match.group()))
        elif match.lastgroup == "text":
            total += utf16_length(match.group())
    return total


def _cut_plain(text: str, budget: int) -> tuple[str, int]:
    """Return the longest prefix of ``text`` within ``budget`` units, and its length."""
    used = 0
    for index, char in enumerate(text):
        width = utf16_length(char)
        if used + width > budget:
            return text[:index], used
        used += width
    return text, used


def fit_text(
    text: str, limit: int = TEXT_LIMIT, *, is_html: bool = True, ellipsis: str = ELLIPSIS
) -> str:
    """Return ``text`` unchanged if it fits ``limit``, else cut it with ``ellipsis``."""
    if visible_length(text, is_html=is_html) <= limit:
        return text
    budget = max(limit - utf16_length(ellipsis), 0)
    if not is_html:
        return _cut_plain(text, budget)[0].rstrip() + ellipsis
    out: list[str] = []
    opened: list[tuple[str, int]] = []  # tag name, index of its opening tag in ``out``
    used = 0
    for match in _TOKEN.finditer(text):
        piece, kind = match.group(), match.lastgroup
        if kind == "tag":
            name_match = _TAG_NAME.match(piece)
            name = name_match.group(1).lower() if name_match else ""
            if piece.startswith("</"):
                if opened and opened[-1][0] == name:
                    opened.pop()
            elif not piece.endswith("/>"):
                opened.append((name, len(out)))
            out.append(piece)
            continue
        visible = html.unescape(piece) if kind == "entity" else piece
        width = utf16_length(visible)
        if used + width <= budget:
            out.append(piece)
            used += width
            continue
        if kind == "text":
            head, _ = _cut_plain(piece, budget - used)
            out.append(head.rstrip())
        break
    # Close what the cut left open; drop tags that would enclose nothing.
    for name, index in reversed(opened):
        if index == len(out) - 1 or (index == len(out) - 2 and not out[-1]):
            del out[index:]
        else:
            out.append(f"</{name}>")
    return "".join(out) + ellipsis
