"""The Sandbox facade: one emulated Bot API plus the simulated world around it."""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any

from bot.sandbox.api import BotApi
from bot.sandbox.emulator import Emulator
from bot.sandbox.limits import FaultInjector, Faults, Limits, RateLimiter
from bot.sandbox.models import SimMessage, Stats
from bot.sandbox.state import ChatState, World
from bot.sandbox.world import SimChannel, SimGroup, SimUser

_FIRST_USER_ID = 100_000_001
_FIRST_GROUP_ID = -1_001_000_000_001
_FIRST_CHANNEL_ID = -1_002_000_000_001  # channels count down from here, apart from groups


class Sandbox:
    """A local Telegram for one bot: start it, point PTB's base_url at it, drive users."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "kepubot_bot",
        *,
        limits: Limits | None = None,
        faults: Faults | None = None,
        privacy_mode: bool = False,
        inline_feedback: bool = True,
        bot_first_name: str = "Kepu Bot",
        host: str = "127.0.0.1",
        port: int = 0,
        quiet: float = 0.03,
        stars: float = 0.0,
    ) -> None:
        self.world = World(token, bot_username, bot_first_name)
        self.world.set_stars(stars)  # the bot's Stars balance, for paid broadcasts
        self.world.privacy_mode = privacy_mode
        self.world.inline_feedback = inline_feedback
        self.limiter = RateLimiter(limits)
        self.faults = FaultInjector(faults)
        self.api = BotApi(self.world, self.limiter)
        self.emulator = Emulator(self.world, self.api, self.faults)
        self.host = host
        self.port = port
        self.quiet = quiet
        self._next_user = _FIRST_USER_ID
        self._next_group = _FIRST_GROUP_ID
        self.users: dict[int, SimUser] = {}
        self.groups: dict[int, SimGroup] = {}

    # --- lifecycle --------------------------------------------------------------------
    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port (or the one given)."""
        await self.emulator.start(self.host, self.port)
        self.port = self.emulator.port

    async def stop(self) -> None:
        """Shut the server down."""
        await self.emulator.stop()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def token(self) -> str:
        """Return the bot token the sandbox accepts."""
        return self.world.token

    @property
    def base_url(self) -> str:
        """Return the value for ApplicationBuilder.base_url (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Return the value for ApplicationBuilder.base_file_url."""
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        """Return the bot's User object."""
        return dict(self.world.bot_user)

    @property
    def stats(self) -> Stats:
        """Return the live counters."""
        return self.world.stats

    @property
    def privacy_mode(self) -> bool:
        """Tell whether group privacy mode is on."""
        return self.world.privacy_mode

    @privacy_mode.setter
    def privacy_mode(self, value: bool) -> None:
        self.world.privacy_mode = value

    # --- world building ---------------------------------------------------------------
    def user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        user_id: int | None = None,
        started: bool = False,
    ) -> SimUser:
        """Create a user; its private chat id equals its user id."""
        if user_id is None:
            user_id = self._next_user
            self._next_user += 1
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        chat = ChatState(
            id=user_id, type="private", user=user, bot_status="member", started=started
        )
        self.world.users[user_id] = user
        self.world.chats[user_id] = chat
        sim = SimUser(self, user, chat)
        self.users[user_id] = sim
        return sim

    def group(
        self,
        title: str,
        *,
        members: list[SimUser] | None = None,
        extra_members: int = 0,
        kind: str = "supergroup",
        username: str | None = None,
        chat_id: int | None = None,
    ) -> SimGroup:
        """Create a group (the bot is not in it until a user adds it)."""
        if chat_id is None:
            chat_id = self._next_group
            self._next_group -= 1
        chat = ChatState(
            id=chat_id,
            type=kind,
            title=title,
            username=username,
            member_ids=[m.id for m in members or []],
            extra_members=extra_members,
        )
        self.world.chats[chat_id] = chat
        sim = SimGroup(self, chat)
        self.groups[chat_id] = sim
        return sim

    def channel(
        self,
        title: str,
        *,
        username: str | None = None,
        subscribers: int = 0,
        owner: SimUser | None = None,
        bot_admin: bool = False,
        can_post: bool = True,
        chat_id: int | None = None,
    ) -> SimChannel:
        """Create a channel (ids -100…); the bot is an administrator only if asked."""
        if chat_id is None:
            chat_id = _FIRST_CHANNEL_ID - len(
                [c for c in self.world.chats.values() if c.is_channel]
            )
        chat = ChatState(
            id=chat_id,
            type="channel",
            title=title,
            username=username,
            extra_members=subscribers,
            bot_status="administrator" if bot_admin else "left",
            can_post=can_post,
            owner_id=owner.id if owner is not None else None,
        )
        if owner is not None:
            chat.member_ids.append(owner.id)
        self.world.chats[chat_id] = chat
        return SimChannel(self, chat)

    def chat_messages(self, chat_id: int) -> list[SimMessage]:
        """Return the bot's messages in a chat."""
        chat = self.world.chats.get(chat_id)
        if chat is None:
            return []
        return [m for m in chat.messages.values() if self.world.is_bot_message(m)]

    def commands(self, scope: str = "default", language_code: str = "") -> list[dict[str, Any]]:
        """Return the commands set for a scope key ("default", "chat:<id>", …)."""
        return list(self.world.commands.get((scope, language_code), []))

    @property
    def pending_updates(self) -> int:
        """Return how many updates are queued and not yet confirmed."""
        return len(self.world.updates)

    async def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update of any type."""
        return await self.world.push_update(kind, payload)

    async def push_updates(self, kind: str, payloads: list[dict[str, Any]]) -> int:
        """Queue a backlog of raw updates of one type at once; return the last update_id."""
        return await self.world.push_updates(kind, payloads)

    # --- synchronisation --------------------------------------------------------------
    async def wait_idle(self, timeout: float = 10.0, quiet: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until the bot fetched every update and made no request for `quiet` seconds.

        The quiet window (default 30 ms) covers a handler that is still computing between
        two API calls; everything else is event driven.
        """
        w = self.world
        quiet = self.quiet if quiet is None else quiet
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"sandbox not idle: {len(w.updates)} queued, {w.inflight} in flight"
                )
            await w.wait_for(lambda: w.all_fetched() and w.inflight == 0, remaining)
            mark = w.last_activity
            await asyncio.sleep(quiet)
            if w.last_activity == mark and w.all_fetched() and w.inflight == 0:
                return
