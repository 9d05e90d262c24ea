"""Checks Telegram applies to message text, captions and keyboards."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from bot.sandbox import miniapp
from bot.sandbox.models import bad_request

_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip


class _TagChecker(HTMLParser):
    """Reject what Telegram's HTML parser rejects: unknown or unbalanced tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise bad_request(f'can\'t parse entities: Unsupported start tag "{tag}"')
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise bad_request(
                f"can't parse entities: Can't find end tag corresponding to start tag \"{tag}\""
            )
        self.stack.pop()


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class _TextCollector(HTMLParser):
    """Collect the text Telegram shows once it has parsed the HTML entities."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def shown_text(text: str, parse_mode: str | None) -> str:
    """Return the text as Telegram shows it (tags gone, entities decoded)."""
    if not parse_mode or parse_mode.lower() != "html":
        return text
    collector = _TextCollector()
    collector.feed(text)
    collector.close()
    return "".join(collector.parts)


def check_text(text: str | None, parse_mode: str | None, *, caption: bool = False) -> None:
    """Raise the 400 Telegram answers for empty, too long or badly marked-up text."""
    limit = 1024 if caption else 4096
    if text is None:
        return
    if not caption and not text.strip():
        raise bad_request("message text is empty")
    if parse_mode and parse_mode.lower() == "html":
        check_html(text)
    # Telegram measures after parsing entities, in UTF-16 code units.
    if _utf16(shown_text(text, parse_mode)) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")


def check_html(text: str) -> None:
    """Raise "can't parse entities" for HTML Telegram would refuse."""
    # A bare "<" that is not markup is the classic unescaped-user-input bug.
    for match in re.finditer(r"<", text):
        nxt = text[match.start() + 1 : match.start() + 2]
        if not (nxt.isalpha() or nxt == "/"):
            raise bad_request("can't parse entities: Unexpected end of name token")
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    if checker.stack:
        raise bad_request(
            "can't parse entities: Can't find end tag corresponding to start tag "
            f'"{checker.stack[-1]}"'
        )


def check_inline_keyboard(markup: dict[str, Any]) -> None:
    """Raise the 400 Telegram answers for malformed inline keyboards."""
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardMarkup expected")
    for row in rows:
        for button in row:
            if not button.get("text"):
                raise bad_request("can't parse inline keyboard button: Text buttons are unallowed")
            if sum(1 for key in _BUTTON_ACTIONS if key in button) != 1:
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Exactly one of the optional fields must be used"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")


def check_web_app_buttons(markup: dict[str, Any], chat_type: str) -> None:
    """Raise what Telegram answers for Mini App buttons it does not allow.

    One rule for the sandbox, in ``bot.sandbox.miniapp``: private chats only, https only
    (plain http on loopback, the sandbox's own web server, excepted).
    """
    miniapp.check_web_app_buttons(markup, private=chat_type == "private")
