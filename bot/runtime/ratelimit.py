"""A rate limiter for every Bot API request: Telegram's overall, per-chat and group caps."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter, TelegramError, TimedOut
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

    The overall cap is a :class:`SlidingWindow` shared by every send of the process (pushes
    and replies alike), so together they stay under Telegram's cap.

    Pass ``rate_limit_args={"max_retries": 0}`` to get RetryAfter raised to the caller (the
    outbox sender does, to reschedule one recipient instead of stalling every request).
    """

    def __init__(self, limits: LimitsSettings) -> None:
        self._limits = limits
        self.window = SlidingWindow(limits.global_per_second, limits.flood_window_seconds)
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

    def chat_ready(self, chat_id: int | str) -> bool:
        """Tell whether a send to ``chat_id`` would go out now (not wait on its chat limit)."""
        limiter = self._chats.get(chat_id)
        return limiter is None or limiter.has_capacity()

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
            if not counted:
                return await callback(*args, **kwargs)
            try:
                return await self._counted(callback, args, kwargs, chat_id)
            except RetryAfter as exc:
                self.window.slow_down()
                if attempt >= max_retries:
                    raise
                attempt += 1
                wait = retry_after_seconds(exc)
                # A flood answer is about the bot as a whole: hold every request.
                self._paused_until = max(self._paused_until, loop.time() + wait)
                log.warning("flood control", extra={"endpoint": endpoint, "retry_after": wait})

    async def _counted(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        chat_id: int | str | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send one message inside the per-chat and overall limits."""
        if chat_id is not None:
            await self._chat_limiter(chat_id).acquire()
        await self.window.acquire()
        accepted = True  # unless the server answered with a refusal
        try:
            return await callback(*args, **kwargs)
        except TelegramError as exc:
            # An error answer was not taken; a timeout (or a cancelled request) may have been.
            accepted = isinstance(exc, TimedOut)
            raise
        finally:
            self.window.release(accepted=accepted)


class SlidingWindow:
    """At most ``capacity`` accepted sends in any ``length`` seconds, whatever the latency.

    Telegram (and the sandbox) count a send when it arrives, some time between the moment the
    bot sends it and the moment the answer comes back. This window counts every send from its
    start until ``length`` after its answer, so it never lets more through than the server
    allows, with no headroom to guess; and after a pause (a claim, a slow commit) it lets the
    sender catch up as far as the window allows instead of losing the time for good.

    Sends the server refused (answered with an error) do not count; sends whose fate is
    unknown (a timeout) do. A flood answer (429) means the real cap is lower than ours, or
    someone else shares the bot: :meth:`slow_down` cuts the capacity by 5 % (at least one
    send, never below half) and remembers one under the level that drew it; the capacity
    grows back one send per 100 accepted, up to that ceiling, and the ceiling itself rises
    by one every 5,000 clean sends. Capacity, not the window's length, adapts: after a pause
    a whole window's worth may go at once, and that burst must fit the server's window too.

    The bookkeeping takes explicit times (:meth:`wait_time`, :meth:`start`, :meth:`finish`)
    so it can be checked against a model of the server; :meth:`acquire` and
    :meth:`release` are the asyncio face.
    """

    def __init__(self, rate: float, length: float = 1.0) -> None:
        self.length = length
        self.base_capacity = max(1, int(rate * length + 1e-9))
        self.capacity = self.base_capacity
        self._ceiling = self.base_capacity  # capacity grows back up to this
        self._answers: deque[float] = deque()  # answer times of accepted sends, ascending
        self._inflight = 0
        self._accepted = 0
        self._clean = 0
        self._released = asyncio.Event()

    # --- bookkeeping with explicit times ---------------------------------------------
    def wait_time(self, now: float) -> float | None:
        """Return 0 if a send may start at ``now``, the seconds to wait, or None if only an
        answer to a send in flight can make room."""
        cutoff = now - self.length
        answers = self._answers
        while answers and answers[0] <= cutoff:
            answers.popleft()
        excess = len(answers) + self._inflight + 1 - self.capacity
        if excess <= 0:
            return 0.0
        if excess > len(answers):
            return None
        return answers[excess - 1] - cutoff

    def start(self) -> None:
        """Count a send that starts now (call only when :meth:`wait_time` said 0)."""
        self._inflight += 1

    def finish(self, now: float, *, accepted: bool) -> None:
        """Record the answer to a send started with :meth:`start`."""
        self._inflight -= 1
        if accepted:
            if self._answers and now < self._answers[-1]:
                now = self._answers[-1]  # keep the deque sorted whatever the clock did
            self._answers.append(now)
            self._accepted += 1
            self._clean += 1
            if self._accepted % 100 == 0 and self.capacity < self._ceiling:
                self.capacity += 1
            if self._clean % 5000 == 0 and self._ceiling < self.base_capacity:
                self._ceiling += 1
        self._released.set()

    def slow_down(self) -> None:
        """A flood answer arrived: cut the capacity, and do not grow back as far."""
        lowest = max(1, self.base_capacity // 2)
        self._ceiling = max(lowest, min(self._ceiling, self.capacity - 1))
        self.capacity = max(lowest, min(self.capacity - 1, int(self.capacity * 0.95)))
        self._clean = 0

    @property
    def rate(self) -> float:
        """Sends per second the window allows now."""
        return self.capacity / self.length

    # --- asyncio ----------------------------------------------------------------------
    async def acquire(self) -> None:
        """Wait until a send may start, and count it."""
        loop = asyncio.get_running_loop()
        while True:
            wait = self.wait_time(loop.time())
            if wait == 0.0:
                self.start()
                return
            if wait is None:
                self._released.clear()
                await self._released.wait()
            else:
                await asyncio.sleep(wait)

    def release(self, *, accepted: bool) -> None:
        """Record the answer to the send :meth:`acquire` let through."""
        self.finish(asyncio.get_running_loop().time(), accepted=accepted)
