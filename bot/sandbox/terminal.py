"""Show Telegram's HTML (parse_mode HTML) in a terminal: ANSI styles on a TTY, plain text else."""

from __future__ import annotations

from html.parser import HTMLParser

# SGR codes of the styles Telegram's HTML tags stand for.
STYLES: dict[str, str] = {
    "b": "1",
    "strong": "1",
    "i": "3",
    "em": "3",
    "u": "4",
    "ins": "4",
    "s": "9",
    "strike": "9",
    "del": "9",
    "code": "36",
    "pre": "36",
    "a": "4;34",
    "tg-spoiler": "7",
}
RESET = "\x1b[0m"
QUOTE_MARK = "│ "


class _Renderer(HTMLParser):
    """Collect the text of a Telegram HTML message with styles as ANSI codes."""

    def __init__(self, ansi: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.ansi = ansi
        self.parts: list[str] = []
        self.stack: list[tuple[str, str | None]] = []  # open tag, link target
        self.link_text: list[str] = []
        self.quotes: list[int] = []  # where each open blockquote starts in parts

    def _styles(self) -> str:
        codes = [STYLES[tag] for tag, _ in self.stack if tag in STYLES]
        return RESET + "".join(f"\x1b[{code}m" for code in codes) if self.ansi else ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "span" and values.get("class") == "tg-spoiler":
            tag = "tg-spoiler"
        if tag == "blockquote":
            if self.parts and not "".join(self.parts).endswith("\n"):
                self.parts.append("\n")
            self.quotes.append(len(self.parts))
        self.stack.append((tag, values.get("href") if tag == "a" else None))
        if tag == "a":
            self.link_text = []
        self.parts.append(self._styles())

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            name, href = self.stack[index]
            if name == tag or (tag == "span" and name == "tg-spoiler"):
                del self.stack[index:]
                self.parts.append(self._styles())
                if name == "a" and href and href != "".join(self.link_text).strip():
                    self.parts.append(f" ({href})")
                if name == "blockquote" and self.quotes:
                    start = self.quotes.pop()
                    quoted = "".join(self.parts[start:]).strip("\n")
                    lines = [QUOTE_MARK + line for line in quoted.split("\n")]
                    self.parts[start:] = ["\n".join(lines), "\n"]
                return

    def handle_data(self, data: str) -> None:
        if any(tag == "a" for tag, _ in self.stack):
            self.link_text.append(data)
        self.parts.append(data)

    def text(self) -> str:
        rendered = "".join(self.parts)
        return rendered + RESET if self.ansi and "\x1b[" in rendered else rendered


def render_html(text: str, *, ansi: bool) -> str:
    """Return Telegram HTML as terminal text: styled with ANSI codes, or plain."""
    renderer = _Renderer(ansi)
    renderer.feed(text)
    renderer.close()
    return renderer.text().strip("\n")
