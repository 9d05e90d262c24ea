"""`kepubot chat`: talk to the real bot in a terminal, through the local sandbox.

Lines you type are sent as messages, digits included (the bot asks for region codes);
``#N`` — a ``#`` and digits only — presses button N of the bot's newest message that
has buttons (inline buttons first, then reply-keyboard buttons), so ``#活动 …`` stays a
message; lines starting with ``:`` are chat commands (``:help`` lists them). Pop-ups and
alerts of button presses are shown; HTML is shown with terminal styles (plain text off a
TTY).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shlex
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TextIO

from bot.i18n import N_, Translator, get_translator
from bot.sandbox.chat_world import ROLES, seed_chat_world
from bot.sandbox.harness import running_bot, sandbox_settings
from bot.sandbox.models import Button, SimMessage
from bot.sandbox.sandbox import Sandbox
from bot.sandbox.terminal import render_html
from bot.sandbox.world import SimUser
from storage.db import create_nullpool_engine
from storage.migrate import upgrade

BUTTON_PREFIX = "#"
DEFAULT_PHONE = "+8613800138000"
ROLE_NAMES = {
    "informant": N_("informant"),
    "station-admin": N_("station admin"),
    "coordinator": N_("county coordinator"),
    "curator": N_("content curator"),
}

__all__ = ["BUTTON_PREFIX", "ROLES", "run_chat", "stdin_lines"]


async def stdin_lines() -> AsyncIterator[str]:
    """Yield lines typed on standard input until EOF."""
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        yield line.rstrip("\n")


def _numbered(message: SimMessage) -> list[Button]:
    buttons = [b for row in message.buttons for b in row]
    return buttons + [b for row in message.keyboard for b in row]


def button_number(line: str) -> int | None:
    """Return N when the line is ``#N`` (a ``#`` and digits only), else None."""
    rest = line[len(BUTTON_PREFIX) :]
    if line.startswith(BUTTON_PREFIX) and rest.isascii() and rest.isdigit():
        return int(rest)
    return None


class Screen:
    """What the person sees: the bot's messages, pop-ups and notes, styled on a TTY."""

    def __init__(self, out: TextIO, save_dir: Path, t: Translator, ansi: bool) -> None:
        self.out = out
        self.save_dir = save_dir
        self.t = t
        self.ansi = ansi

    def note(self, text: str) -> None:
        """Print a line of the chat itself (not from the bot)."""
        print(text, file=self.out)

    def body(self, message: SimMessage) -> str:
        """Return a message's text or caption as the apps would show it."""
        body = (message.text or message.caption or "").strip()
        if message.parse_mode and message.parse_mode.upper() == "HTML":
            return render_html(body, ansi=self.ansi)
        return body

    def message(self, message: SimMessage, edited: bool) -> None:
        """Print one bot message with its numbered buttons."""
        t = self.t
        body = self.body(message)
        if message.photo:
            body = t("[photo]") + " " + body
        if message.document:
            data = message.document_bytes()
            path = self.save_dir / Path(message.filename or f"file-{message.message_id}").name
            if data is not None:
                path.write_bytes(data)
            body = t("[file {path}]", path=path) + " " + body
        prefix = t("(edited)") + " " if edited else ""
        print(f"{prefix}🤖 {body}", file=self.out)
        for number, button in enumerate(_numbered(message), start=1):
            extra = f" → {button.url}" if button.url else ""
            print(f"   #{number} [{button.text}]{extra}", file=self.out)

    def answer(self, answer: dict[str, object] | None) -> None:
        """Print the pop-up (toast) or alert a button press was answered with."""
        text = str((answer or {}).get("text") or "").strip()
        if not text:
            return
        if (answer or {}).get("show_alert"):
            self.note(self.t("⚠ Alert: {text}", text=text))
        else:
            self.note(self.t("💬 Pop-up: {text}", text=text))


async def _press(user: SimUser, number: int, last: SimMessage | None, screen: Screen) -> None:
    """Press button ``number`` of the bot's last message."""
    t = screen.t
    buttons = _numbered(last) if last is not None else []
    if not 1 <= number <= len(buttons):
        screen.note(t("There is no button {n}.", n=number))
        return
    assert last is not None
    button = buttons[number - 1]
    if button.callback_data is not None:
        screen.answer(await user.press(last, data=button.callback_data))
    elif button.request_contact:
        await user.send_contact(phone=DEFAULT_PHONE)
    elif button.url:
        screen.note(t("(a link: {url})", url=button.url))
    elif button.switch_inline_query is not None:
        screen.note(t("(inline mode: @bot {query})", query=button.switch_inline_query))
    else:
        await user.send(button.text)


async def _act(user: SimUser, line: str, last: SimMessage | None, screen: Screen) -> bool:
    """Perform one typed line; return False to quit."""
    t = screen.t
    number = button_number(line)
    if number is not None:
        await _press(user, number, last, screen)
        return True
    if not line.startswith(":"):
        if line.strip():
            await user.send(line)
        return True
    try:
        words = shlex.split(line[1:])
    except ValueError:
        words = line[1:].split()
    verb, args = (words[0] if words else ""), words[1:]
    if verb in ("quit", "q", "exit"):
        return False
    if verb == "contact":
        await user.send_contact(phone=args[0] if args else DEFAULT_PHONE)
    elif verb == "photo" and args:
        path = Path(args[0])
        if not path.is_file():
            screen.note(t("No such file: {path}", path=path))
            return True
        await user.send_photo(path, caption=" ".join(args[1:]) or None)
    elif verb == "location" and len(args) == 2:
        try:
            await user.send_location(float(args[0]), float(args[1]))
        except ValueError:
            screen.note(t("Usage: :location LATITUDE LONGITUDE"))
    else:
        screen.note(
            t(
                "#N — press button N of the bot's newest message with buttons "
                "(digits alone are text)\n"
                ":contact [PHONE] — share your phone number\n"
                ":photo PATH [CAPTION] — send a photo\n"
                ":location LAT LON — share a location\n"
                ":quit — leave"
            )
        )
    return True


async def run_chat(
    *,
    role: str,
    lines: AsyncIterator[str],
    out: TextIO,
    work_dir: Path,
    lang: str = "zh_CN",
    ansi: bool | None = None,
    stars: float | None = None,
) -> int:
    """Run an interactive chat as ``role`` until the input ends or ``:quit``.

    ``ansi`` styles HTML with terminal codes; by default only when ``out`` is a TTY.
    ``stars``: the bot's Stars balance in the sandbox, with paid broadcasts enabled.
    """
    t = get_translator(lang)
    screen = Screen(out, work_dir, t, out.isatty() if ansi is None else ansi)
    work_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S%f")
    database_url = f"sqlite+aiosqlite:///{work_dir / f'chat-{stamp}.db'}"
    engine = create_nullpool_engine(database_url)
    await upgrade(engine)
    await engine.dispose()
    async with Sandbox(
        token="123456:CHAT-TOKEN", bot_username="kepubot_chat_bot", stars=stars or 0.0
    ) as sandbox:
        paid: dict[str, Any] = {"enabled": True} if stars is not None else {}
        settings = sandbox_settings(
            sandbox, database_url, i18n={"default_locale": lang}, broadcast=paid
        )
        async with running_bot(sandbox, settings) as bot:
            user = sandbox.user(
                "我" if lang == "zh_CN" else "Me",
                language_code="zh-hans" if lang == "zh_CN" else "en",
            )
            world = await seed_chat_world(bot, user, role, t)
            screen.note(
                t(
                    "Chatting with kepubot as {role} (sandbox, database {db}).",
                    role=t(ROLE_NAMES.get(role, role)),
                    db=work_dir / f"chat-{stamp}.db",
                )
            )
            screen.note(t("Type a message or /command; #N presses button N; :help for more."))
            for hint in world.hints:
                screen.note("  " + hint)
            last: SimMessage | None = None
            shown: dict[int, tuple[str | None, int]] = {}  # id -> (text, edits) printed
            async for line in lines:
                try:
                    if not await _act(user, line.strip(), last, screen):
                        break
                    await bot.settle()
                except Exception as exc:  # noqa: BLE001 — one bad line never ends the session
                    screen.note(t("(that did not work: {error})", error=type(exc).__name__))
                    continue
                for message in user.messages:
                    state = (message.text or message.caption, len(message.edits))
                    if message.deleted or shown.get(message.message_id) == state:
                        continue
                    edited = message.message_id in shown
                    shown[message.message_id] = state
                    screen.message(message, edited)
                # As in the apps, the buttons of an earlier message stay pressable: #N goes
                # to the newest message that still has buttons.
                with_buttons = [m for m in user.messages if not m.deleted and _numbered(m)]
                last = with_buttons[-1] if with_buttons else None
            out.flush()
    return 0
