"""The demo's stage: its clock and the ``Demo`` that scenes drive and narrate through."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.i18n import Translator
from bot.sandbox.harness import RunningBot
from bot.sandbox.models import SimMessage
from bot.sandbox.sandbox import Sandbox
from bot.sandbox.world import SimChat, SimUser

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
# The scripted week: Monday 23 November 2026, 09:00 in Shanghai.
DEMO_START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


_TAG = re.compile(r"<[^>]+>")


def _plain(text: str) -> str:
    """Drop HTML tags and unescape entities, as a phone would show the message."""
    return html.unescape(_TAG.sub("", text))


def button_label(message: SimMessage, data: str | None) -> str:
    """Return the label of the button in ``message`` whose callback data is ``data``."""
    for row in message.buttons:
        for button in row:
            if data is not None and button.callback_data == data:
                return button.text
    raise LookupError(f"no button with callback data {data!r} in {message!r}")


class DemoClock:
    """The demo's own time: starts on the scripted Monday and moves when scenes say so."""

    def __init__(self, start: dt.datetime = DEMO_START) -> None:
        self.current = start.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        """Move time forward."""
        self.current += dt.timedelta(**delta)

    def set_local(self, value: dt.datetime) -> None:
        """Jump to a wall-clock time in Shanghai (never backwards)."""
        target = value.astimezone(dt.UTC)
        self.current = max(self.current, target)


@dataclass
class Demo:
    """What a scene works with: the sandbox, the running bot, the clock and the transcript."""

    sandbox: Sandbox
    bot: RunningBot
    clock: DemoClock
    out_dir: Path
    t: Translator
    lang: str
    out: TextIO
    transcript: list[str] = field(default_factory=list)
    users: dict[str, SimUser] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    quiet: bool = False

    # --- transcript -------------------------------------------------------------------
    def line(self, text: str = "") -> None:
        """Print one transcript line (and keep it for transcript.txt)."""
        self.transcript.append(text)
        if not self.quiet:
            print(text, file=self.out, flush=True)

    def scene(self, title: str) -> None:
        """Start a scene with a heading."""
        self.line()
        self.line(f"━━ {title} ━━")

    def narrate(self, text: str) -> None:
        """Explain what is about to happen."""
        self.line(f"  · {text}")

    def show(self, who: str, message: SimMessage) -> None:
        """Print a bot message as the user sees it (HTML rendered as plain text)."""
        body = _plain(message.text or message.caption or "")
        if message.photo:
            body = "🖼 " + body
        if message.document:
            body = f"📎 {message.filename or ''} " + body
        first, *rest = (body.strip() or "…").splitlines() or ["…"]
        colon = "：" if self.lang == "zh_CN" else ": "  # full-width after a Chinese name
        self.line(f"    🤖 → {who}{colon}{first}")
        for extra in rest[:12]:
            self.line(f"         {extra}")
        if len(rest) > 12:
            self.line("         …")
        labels = [b.text for row in message.buttons for b in row]
        if labels:
            self.line("         [" + "] [".join(labels) + "]")

    def user_says(self, who: str, text: str) -> None:
        """Print what a user sends."""
        self.line(f"    {who} ▶ {text}")

    # --- acting -----------------------------------------------------------------------
    def user(self, key: str, first_name: str, **kwargs: Any) -> SimUser:
        """Create (once) a simulated user known to scenes by ``key``."""
        if key not in self.users:
            kwargs.setdefault("language_code", "zh-hans" if self.lang == "zh_CN" else "en")
            self.users[key] = self.sandbox.user(first_name, **kwargs)
        return self.users[key]

    async def settle(self) -> None:
        """Wait until the bot has handled everything sent so far."""
        await self.bot.settle(timeout=30)

    def new_messages(self, chat: SimChat) -> list[SimMessage]:
        """Return bot messages in ``chat`` not shown yet, and mark them shown."""
        shown: set[int] = self.state.setdefault("_shown", {}).setdefault(chat.id, set())
        fresh = [m for m in chat.messages if m.message_id not in shown and not m.deleted]
        shown.update(m.message_id for m in fresh)
        return fresh

    async def replies(self, user: SimUser, *, show: bool = True) -> list[SimMessage]:
        """Settle, then return (and print) the bot's new messages to ``user``."""
        await self.settle()
        fresh = self.new_messages(user)
        if show:
            for message in fresh:
                self.show(user.first_name, message)
        return fresh

    async def say(self, user: SimUser, text: str, *, show: bool = True) -> list[SimMessage]:
        """The user sends ``text``; return the bot's replies."""
        if show:
            self.user_says(user.first_name, text)
        await user.send(text)
        return await self.replies(user, show=show)

    async def command(
        self, user: SimUser, name: str, payload: str | None = None, *, show: bool = True
    ) -> list[SimMessage]:
        """The user sends a command; return the bot's replies."""
        if show:
            self.user_says(user.first_name, f"/{name}" + (f" {payload}" if payload else ""))
        await user.command(name, payload)
        return await self.replies(user, show=show)

    async def press(
        self,
        user: SimUser,
        message: SimMessage,
        text: str | None = None,
        *,
        data: str | None = None,
        show: bool = True,
    ) -> list[SimMessage]:
        """The user presses a button; return the bot's new messages (edits are shown too).

        The transcript shows the button's label, never its callback data; when the press
        changes the pressed message (a prompt closed with the answer given), that edit is
        shown first, where the user sees it, then the messages sent after it.
        """
        if show:
            self.user_says(user.first_name, f"[{text or button_label(message, data)}]")
        before = message.text
        await user.press(message, text, data=data)
        await self.settle()
        edited = message.text != before
        fresh = self.new_messages(user)
        if show:
            if edited and message not in fresh:
                self.show(user.first_name, message)
            for reply in fresh:
                self.show(user.first_name, reply)
        return fresh

    def save_file(self, name: str, data: bytes) -> Path:
        """Write a file coordinators would receive into the output folder."""
        path = self.out_dir / name
        path.write_bytes(data)
        self.files.append(path)
        return path
