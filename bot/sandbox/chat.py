"""`kepubot chat`: talk to the real bot in a terminal, through the local sandbox.

Lines you type are sent as messages; a number presses that button of the bot's last
message (inline buttons first, then reply-keyboard buttons); lines starting with ``:`` are
chat commands (``:help`` lists them).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shlex
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

from bot.core.regions_csv import parse_regions_csv
from bot.data import REGIONS_SAMPLE_CSV
from bot.i18n import Translator, get_translator
from bot.sandbox.factories import make_region, make_station
from bot.sandbox.harness import RunningBot, running_bot, sandbox_settings
from bot.sandbox.models import Button, SimMessage
from bot.sandbox.sandbox import Sandbox
from bot.sandbox.world import SimUser
from storage import roles as roles_store
from storage.db import create_nullpool_engine
from storage.migrate import upgrade
from storage.people import ensure_person

ROLES = ("informant", "station-admin", "coordinator")
SAMPLE_COUNTY = "330106"  # 西湖区, Hangzhou, from the bundled regions sample


async def stdin_lines() -> AsyncIterator[str]:
    """Yield lines typed on standard input until EOF."""
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        yield line.rstrip("\n")


async def _seed(bot: RunningBot, user: SimUser, role: str) -> list[str]:
    """Give the chat user a sample region, station and role; return hint lines."""

    runtime = bot.runtime
    now = runtime.now()
    parsed = parse_regions_csv(Path(REGIONS_SAMPLE_CSV).read_text(encoding="utf-8"))
    async with runtime.sessions() as session, session.begin():
        for row in parsed.rows:
            await make_region(
                session,
                code=row.code,
                name=row.name,
                name_en=row.name_en,
                level=row.level,
                parent_code=row.parent_code,
            )
        station = await make_station(
            session,
            name="西湖区文化馆科普e站",
            county=SAMPLE_COUNTY,
            created_at=now,
            recognised_at=now,
        )
        assert station.id is not None
        person = await ensure_person(session=session, telegram_id=user.id, now=now)
        assert person.id is not None
        if role == "station-admin":
            await roles_store.grant_role(
                session=session,
                person_id=person.id,
                role="station_admin",
                station_id=station.id,
                now=now,
            )
        elif role == "coordinator":
            await roles_store.grant_role(
                session=session,
                person_id=person.id,
                role="coordinator",
                region_code=SAMPLE_COUNTY,
                now=now,
            )
    return [f"station_id={station.id}", f"region={SAMPLE_COUNTY}"]


def _numbered(message: SimMessage) -> list[Button]:
    buttons = [b for row in message.buttons for b in row]
    return buttons + [b for row in message.keyboard for b in row]


def _print_message(out: TextIO, message: SimMessage, save_dir: Path) -> None:
    body = (message.text or message.caption or "").strip()
    if message.photo:
        body = "[photo] " + body
    if message.document:
        data = message.document_bytes()
        path = save_dir / (message.filename or f"file-{message.message_id}")
        if data is not None:
            path.write_bytes(data)
        body = f"[file {path}] " + body
    print(f"🤖 {body}", file=out)
    for number, button in enumerate(_numbered(message), start=1):
        extra = f" → {button.url}" if button.url else ""
        print(f"   {number}. [{button.text}]{extra}", file=out)


async def _act(
    user: SimUser, line: str, last: SimMessage | None, t: Translator, out: TextIO
) -> bool:
    """Perform one typed line; return False to quit."""
    if line.isdigit() and last is not None:
        buttons = _numbered(last)
        number = int(line)
        if not 1 <= number <= len(buttons):
            print(t("There is no button {n}.", n=number), file=out)
            return True
        button = buttons[number - 1]
        if button.callback_data is not None:
            await user.press(last, data=button.callback_data)
        elif button.request_contact:
            await user.send_contact(phone="+8613800138000")
        elif button.url:
            print(t("(a link: {url})", url=button.url), file=out)
        else:
            await user.send(button.text)
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
        await user.send_contact(phone=args[0] if args else "+8613800138000")
    elif verb == "photo" and args:
        path = Path(args[0])
        if not path.is_file():
            print(t("No such file: {path}", path=path), file=out)
            return True
        await user.send_photo(path, caption=" ".join(args[1:]) or None)
    elif verb == "location" and len(args) == 2:
        try:
            await user.send_location(float(args[0]), float(args[1]))
        except ValueError:
            print(t("Usage: :location LATITUDE LONGITUDE"), file=out)
    else:
        print(
            t(
                ":contact [PHONE] — share your phone number\n"
                ":photo PATH [CAPTION] — send a photo\n"
                ":location LAT LON — share a location\n"
                "N — press button N of the last message\n"
                ":quit — leave"
            ),
            file=out,
        )
    return True


async def run_chat(
    *,
    role: str,
    lines: AsyncIterator[str],
    out: TextIO,
    work_dir: Path,
    lang: str = "zh_CN",
) -> int:
    """Run an interactive chat as ``role`` until the input ends or ``:quit``."""
    t = get_translator(lang)
    work_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S%f")
    database_url = f"sqlite+aiosqlite:///{work_dir / f'chat-{stamp}.db'}"
    engine = create_nullpool_engine(database_url)
    await upgrade(engine)
    await engine.dispose()
    async with Sandbox(token="123456:CHAT-TOKEN", bot_username="kepubot_chat_bot") as sandbox:
        settings = sandbox_settings(sandbox, database_url, i18n={"default_locale": lang})
        async with running_bot(sandbox, settings) as bot:
            user = sandbox.user(
                "我" if lang == "zh_CN" else "Me",
                language_code="zh-hans" if lang == "zh_CN" else "en",
            )
            hints = await _seed(bot, user, role)
            print(
                t(
                    "Chatting with kepubot as {role} (sandbox, database {db}).",
                    role=role,
                    db=work_dir / f"chat-{stamp}.db",
                ),
                file=out,
            )
            print(
                t("Type a message or /command; a number presses a button; :help for more."),
                file=out,
            )
            print("  " + ", ".join(hints), file=out)
            last: SimMessage | None = None
            shown: dict[int, tuple[str | None, int]] = {}  # id -> (text, edits) printed
            async for line in lines:
                if not await _act(user, line.strip(), last, t, out):
                    break
                await bot.settle()
                for message in user.messages:
                    state = (message.text or message.caption, len(message.edits))
                    if message.deleted or shown.get(message.message_id) == state:
                        continue
                    if message.message_id in shown:
                        print(t("(edited)"), file=out, end=" ")
                    shown[message.message_id] = state
                    _print_message(out, message, work_dir)
                    last = message
            out.flush()
    return 0
