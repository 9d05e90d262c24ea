"""A rate limiter for every Bot API request: Telegram's overall, per-chat and group caps."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.config import LimitsSettings

log = logging.getLogger(__name__)

# Only methods that post into a chat count against Telegram's flood limits.
_SEND_PREFIXES = ("send", "copy", "forward")


def retry_after_seconds(exc: RetryAfter) -> float:
    """Return the wait a RetryAfter asks for, in seconds."""
    value = exc._retry_after  # a timedelta on every PTB 22 version; the public one varies
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class KepuRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """Pace sends at 30/s overall, 1/s per private chat, 20/min per group; honour RetryAfter.

    Pass ``rate_limit_args={"max_retries": 0}`` to get RetryAfter raised to the caller (the
    outbox sender does, to reschedule one recipient instead of stalling every request).
    """

    def __init__(self, limits: LimitsSettings) -> None:
        self._limits = limits
        self._overall = AsyncLimiter(limits.global_per_second, 1)
        self._chats: dict[int | str, AsyncLimiter] = {}
        self._paused_until = 0.0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    def _chat_limiter(self, chat_id: int | str) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            if len(self._chats) > 50_000:  # bound memory on very large pushes
                self._chats.clear()
            is_group = not isinstance(chat_id, int) or chat_id < 0
            limiter = (
                AsyncLimiter(self._limits.per_group_per_minute, 60)
                if is_group
                else AsyncLimiter(self._limits.per_chat_per_second, 1)
            )
            self._chats[chat_id] = limiter
        return limiter

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for capacity, call the API, and retry after a flood-control answer."""
        max_retries = (rate_limit_args or {}).get("max_retries", self._limits.max_retries)
        counted = endpoint.startswith(_SEND_PREFIXES)
        chat_id = data.get("chat_id")
        attempt = 0
        while True:
            loop = asyncio.get_running_loop()
            pause = self._paused_until - loop.time()
            if pause > 0:
                await asyncio.sleep(pause)
            if counted:
                if chat_id is not None:
                    await self._chat_limiter(chat_id).acquire()
                await self._overall.acquire()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt >= max_retries:
                    raise
                attempt += 1
                wait = retry_after_seconds(exc)
                # A flood answer is about the bot as a whole: hold every request.
                self._paused_until = max(self._paused_until, loop.time() + wait)
                log.warning("flood control", extra={"endpoint": endpoint, "retry_after": wait})
