"""A rate limiter for every Bot API request: Telegram's overall, per-chat and group caps.

Two lanes (docs/reach.md): the **free** lane is Telegram's free cap (30 messages a second);
the **paid** lane is what paid broadcasts add on top, up to ``broadcast.paid_per_second`` in
all. A send on the paid lane carries ``allow_paid_broadcast=True`` and costs Stars, so only
a sender that may spend (a push the curator opted in, within its budget) asks for it, and
only when the free lane has no room.

The sender asks for a slot first, ``lane = await limiter.acquire_send(chat_id,
paid_allowed=…)``; the next send request of the same task then goes out in that slot (no
second wait) and, on the paid lane, with ``allow_paid_broadcast=True`` added. Any other send
(a reply, a notice) waits for its own slot on the free lane inside the request.

With PostgreSQL the caps are shared by every process (:class:`SharedBuckets`): the overall
free and paid caps and each chat's limit are token buckets in the database, so N
``kepubot run`` processes together stay under one cap with nothing split by hand. On SQLite
(one process) the in-process windows below do it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from aiolimiter import AsyncLimiter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter

from bot.config import BroadcastSettings, LimitsSettings
from storage import ratelimit as bucket_store

log = logging.getLogger(__name__)

# A shared window's slot taken for a send is held this long past a window unless its
# answer gives it back sooner: the bot's read timeout (bot.app), so a send that has neither
# an answer nor a timeout still holds its slot; a process killed mid-send loses its slots
# for this long.
SLOT_HOLD_SECONDS = 15.0
# Only methods that post into a chat count against Telegram's flood limits.
_SEND_PREFIXES = ("send", "copy", "forward")
PAID_PARAM = "allow_paid_broadcast"

Lane = Literal["free", "paid"]
FREE: Lane = "free"
PAID: Lane = "paid"


def balance_too_low(message: str) -> bool:
    """Tell whether a 400 answer to a paid send says the bot's Stars balance is too low.

    Telegram does not document the wording; the sandbox answers MTProto's error name
    (``Bad Request: BALANCE_TOO_LOW``, docs/reach.md), and any answer naming the balance or
    "not enough stars" counts too.
    """
    text = message.lower()
    return "balance_too_low" in text or "not enough stars" in text or "stars balance" in text


def retry_after_seconds(exc: RetryAfter) -> float:
    """Return the wait a RetryAfter asks for, in seconds."""
    value = exc._retry_after  # a timedelta on every PTB 22 version; the public one varies
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


@dataclass
class _Ticket:
    """A send slot taken by :meth:`KepuRateLimiter.acquire_send`, for the task's next send."""

    lane: Lane
    window: SlidingWindow | None  # the in-process window to release after the answer
    slot: str | None = None  # the shared window's slot to give back after the answer


_TICKET: ContextVar[_Ticket | None] = ContextVar("kepubot_send_ticket", default=None)
# Reserve = "may this send be paid?": called only when a paid slot is free and the free lane
# is full; it counts the message against a budget and answers False when there is none.
Reserve = Callable[[], Awaitable[bool]]
_PAY: ContextVar[Reserve | None] = ContextVar("kepubot_send_pay", default=None)
_LANE: ContextVar[Lane | None] = ContextVar("kepubot_send_lane", default=None)


@contextmanager
def paying(reserve: Reserve | None) -> Iterator[None]:
    """Let the sends of this block (in this task) go on the paid lane, within ``reserve``.

    A send that takes its slot inside the request (no :meth:`KepuRateLimiter.acquire_send`
    before it) uses the paid lane when the free lane has no room and ``reserve()`` says yes.
    """
    token = _PAY.set(reserve)
    _LANE.set(None)
    try:
        yield
    finally:
        _PAY.reset(token)


def last_lane() -> Lane | None:
    """Return the lane of this task's last send request since :func:`paying` (None: none)."""
    return _LANE.get()


class SharedBuckets:
    """The send caps as token buckets in the database, shared by every process on it.

    Each :meth:`take` is one short transaction of one statement (``storage.ratelimit``); a
    caller told to wait sleeps outside any transaction. ``clock`` is seconds on a clock
    every process shares (the wall clock); tests pass a fake one with a matching ``sleep``.
    """

    PRUNE_EVERY = 10.0  # seconds between deletions of idle chat buckets (by each process)
    EPOCH = 1_767_225_600.0  # 2026-01-01 UTC: stamps count from here, for float precision

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.sessions = sessions
        self.clock = clock or (lambda: time.time() - self.EPOCH)
        self.sleep = sleep
        self.takes = 0  # statements run (benchmarks)
        self._pruned_at = self.clock()
        self._windows: dict[str, int] = {}  # slot windows this process has created

    @asynccontextmanager
    async def _statement(self) -> AsyncIterator[AsyncSession]:
        """A session for one statement: autocommit on PostgreSQL (one round trip, the row
        locked only while the statement runs), else a transaction committed at once."""
        async with self.sessions() as session:
            bind = session.bind
            if bind is not None and bind.dialect.name == "postgresql":
                await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
                yield session
            else:
                async with session.begin():
                    yield session

    async def take(self, name: str, *, rate: float, capacity: float) -> bucket_store.Take:
        """Take one token from bucket ``name`` or say how long until one is back."""
        now = self.clock()
        async with self._statement() as session:
            answer = await bucket_store.take(
                session=session, name=name, rate=rate, capacity=capacity, now=now
            )
        self.takes += 1
        if now - self._pruned_at >= self.PRUNE_EVERY:
            self._pruned_at = now
            await self.prune(now)
        return answer

    async def take_slot(self, prefix: str, *, slots: int, hold: float) -> str | float:
        """Take a slot of the window ``prefix`` (``slots`` of them), held for ``hold``
        seconds unless given back sooner; return its name, or the seconds until one frees.
        """
        if self._windows.get(prefix) != slots:
            async with self._statement() as session:
                await bucket_store.ensure_slots(session=session, prefix=prefix, count=slots)
            self._windows[prefix] = slots
        now = self.clock()
        async with self._statement() as session:
            name = await bucket_store.take_slot(
                session=session, prefix=prefix, now=now, hold_until=now + hold
            )
        self.takes += 1
        if name is not None:
            return name
        async with self._statement() as session:
            free_at = await bucket_store.next_slot_free(session=session, prefix=prefix)
        return max((free_at if free_at is not None else now) - now, 0.0)

    async def release_slot(self, name: str, *, after: float) -> None:
        """Give a slot back, free again ``after`` seconds from now."""
        async with self._statement() as session:
            await bucket_store.release_slot(
                session=session, name=name, free_at=self.clock() + after
            )

    async def prune(self, now: float) -> None:
        """Forget chat buckets idle long enough to be full again (a missing one is full)."""
        try:
            async with self.sessions() as session, session.begin():
                await bucket_store.prune(
                    session=session, prefix="c:", idle_before=now - self.PRUNE_EVERY
                )
        except Exception:  # pruning is housekeeping; a failure must not stop a send
            log.exception("pruning rate buckets failed")


def shared_buckets(
    limits: LimitsSettings, sessions: async_sessionmaker[AsyncSession], dialect: str
) -> SharedBuckets | None:
    """Return the shared buckets if ``limits.shared`` says so (unset: on PostgreSQL)."""
    shared = limits.shared if limits.shared is not None else dialect == "postgresql"
    return SharedBuckets(sessions) if shared else None


def _bucket_shape(rate: float, window: float, headroom: float) -> tuple[float, float]:
    """Return (refill rate, capacity) of a bucket that lets at most ``rate × window``
    through in any ``window`` seconds: the burst is the share ``1 − headroom`` of it (at
    least one token), the refill the rest."""
    cap = rate * window
    capacity = max(1.0, cap * (1.0 - headroom))
    refill = max(cap - capacity, cap * 0.5) / window
    return refill, capacity


class KepuRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """Pace sends at 30/s overall, 1/s per private chat, 20/min per group; honour RetryAfter.

    The overall cap is a :class:`SlidingWindow` shared by every send of the process (pushes
    and replies alike), so together they stay under Telegram's cap; with ``shared`` the
    caps are :class:`SharedBuckets` in the database instead, shared by every process.
    With ``broadcast`` a paid lane (:meth:`acquire_send`) adds up to
    ``broadcast.paid_per_second`` minus the free cap.

    Pass ``rate_limit_args={"max_retries": 0}`` to get RetryAfter raised to the caller (the
    outbox sender does, to reschedule one recipient instead of stalling every request).
    """

    def __init__(
        self,
        limits: LimitsSettings,
        broadcast: BroadcastSettings | None = None,
        *,
        shared: SharedBuckets | None = None,
    ) -> None:
        self._limits = limits
        self.window = SlidingWindow(limits.global_per_second, limits.flood_window_seconds)
        paid_rate = (broadcast.paid_per_second if broadcast else 0.0) - limits.global_per_second
        self.paid_rate = max(paid_rate, 0.0)
        self.paid_window = (
            SlidingWindow(self.paid_rate, limits.flood_window_seconds) if self.paid_rate else None
        )
        self.shared = shared
        self._chats: dict[int | str, AsyncLimiter] = {}
        self._chat_taken: dict[int | str, float] = {}  # shared mode: when this process took
        self._paused_until = 0.0
        self.lanes: dict[str, int] = {FREE: 0, PAID: 0}  # slots handed out, per lane
        self._releases: set[asyncio.Task[None]] = set()  # unused slots being given back

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    @staticmethod
    def _is_group(chat_id: int | str) -> bool:
        return not isinstance(chat_id, int) or chat_id < 0

    def _chat_limiter(self, chat_id: int | str) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            if len(self._chats) > 50_000:  # bound memory on very large pushes
                self._chats.clear()
            limiter = (
                AsyncLimiter(self._limits.per_group_per_minute, 60)
                if self._is_group(chat_id)
                else AsyncLimiter(self._limits.per_chat_per_second, 1)
            )
            self._chats[chat_id] = limiter
        return limiter

    def _chat_rate(self, chat_id: int | str) -> float:
        if self._is_group(chat_id):
            return self._limits.per_group_per_minute / 60.0
        return self._limits.per_chat_per_second

    def chat_ready(self, chat_id: int | str) -> bool:
        """Tell whether a send to ``chat_id`` would go out now (not wait on its chat limit).

        Shared caps: as far as this process knows (another process may have just sent).
        """
        if self.shared is not None:
            taken = self._chat_taken.get(chat_id)
            return taken is None or time.monotonic() - taken >= 1.0 / self._chat_rate(chat_id)
        limiter = self._chats.get(chat_id)
        return limiter is None or limiter.has_capacity()

    # --- the send slot ------------------------------------------------------------------
    async def acquire_send(
        self, chat_id: int | str | None, *, paid_allowed: bool, reserve: Reserve | None = None
    ) -> Lane:
        """Wait for a slot to send one message to ``chat_id``; return its lane.

        The free lane first; the paid lane only with ``paid_allowed`` and when the free lane
        has no room now (and ``reserve()``, if given, says the budget allows it). The slot
        is for the calling task's next send request, which goes out without waiting again
        (and with ``allow_paid_broadcast=True`` on the paid lane); call :meth:`end_send`
        after it, sent or not.
        """
        self.end_send()  # a slot left unused by an earlier send of this task
        paid_allowed = paid_allowed and self.paid_rate > 0
        if self.shared is not None:
            lane, slot = await self._acquire_shared(chat_id, paid_allowed, reserve)
            _TICKET.set(_Ticket(lane, None, slot))
        else:
            if chat_id is not None:
                await self._chat_limiter(chat_id).acquire()
            lane, window = await self._acquire_local(paid_allowed, reserve)
            _TICKET.set(_Ticket(lane, window))
        self.lanes[lane] += 1
        return lane

    def end_send(self) -> None:
        """Give back a slot :meth:`acquire_send` took that no request used."""
        ticket = _TICKET.get()
        if ticket is not None:
            _TICKET.set(None)
            if ticket.window is not None:
                ticket.window.release(accepted=False)
            if ticket.slot is not None:
                task = asyncio.get_running_loop().create_task(
                    self._give_back(ticket.slot, accepted=False)
                )
                self._releases.add(task)
                task.add_done_callback(self._releases.discard)

    async def _acquire_local(
        self, paid_allowed: bool, reserve: Reserve | None
    ) -> tuple[Lane, SlidingWindow]:
        loop = asyncio.get_running_loop()
        paid = self.paid_window if paid_allowed else None
        while True:
            now = loop.time()
            wait = self.window.wait_time(now)
            if wait == 0.0:
                self.window.start()
                return FREE, self.window
            paid_wait = paid.wait_time(now) if paid is not None else None
            if paid is not None and paid_wait == 0.0:
                paid.start()
                if reserve is None or await reserve():
                    return PAID, paid
                paid.finish(loop.time(), accepted=False)  # no budget: the free lane only
                paid = None
                continue
            waits = [w for w in (wait, paid_wait) if w is not None]
            if waits:
                await asyncio.sleep(min(waits))
            else:  # only an answer to a send in flight makes room
                self.window._released.clear()
                try:
                    await asyncio.wait_for(self.window._released.wait(), timeout=0.05)
                except TimeoutError:
                    pass

    async def _acquire_shared(
        self, chat_id: int | str | None, paid_allowed: bool, reserve: Reserve | None
    ) -> tuple[Lane, str | None]:
        shared = self.shared
        assert shared is not None
        limits = self._limits
        if chat_id is not None:
            if self._is_group(chat_id):  # 20 a minute: a small burst, the rest spaced out
                rate, capacity = _bucket_shape(
                    limits.per_group_per_minute / 60.0, 60.0, limits.shared_headroom
                )
            else:  # one a second, no burst
                rate, capacity = self._chat_rate(chat_id), 1.0
            while True:
                answer = await shared.take(f"c:{chat_id}", rate=rate, capacity=capacity)
                if answer.granted:
                    break
                await shared.sleep(answer.wait)
            if len(self._chat_taken) > 50_000:
                self._chat_taken.clear()
            self._chat_taken[chat_id] = time.monotonic()
        # The free cap is a shared window of slots (``storage.ratelimit``): a slot is held
        # from the take until ``window`` after the answer, like the in-process
        # SlidingWindow, so the cap is used to the full with no headroom to guess. The
        # paid lane, far wider, is a token bucket: a burst of C refilled at r lets C + r·L
        # through in any L seconds, so it keeps ``headroom`` of the paid rate.
        window = limits.flood_window_seconds
        slots = max(1, int(limits.global_per_second * window + 1e-9))
        paid_rate, paid_capacity = _bucket_shape(self.paid_rate, window, limits.shared_headroom)
        while True:
            free = await shared.take_slot(
                f"w:free:{slots}:", slots=slots, hold=window + SLOT_HOLD_SECONDS
            )
            if isinstance(free, str):
                return FREE, free
            # A slot held by a send in flight frees at its answer: look again soon.
            wait = min(free, window / slots)
            if paid_allowed:
                paid = await shared.take("paid", rate=paid_rate, capacity=paid_capacity)
                if paid.granted:
                    if reserve is None or await reserve():
                        return PAID, None
                    paid_allowed = False  # no budget: the free lane only (the token is lost)
                    continue
                wait = min(wait, paid.wait)
            await shared.sleep(wait)

    async def _give_back(self, slot: str, *, accepted: bool) -> None:
        """Give a shared window's slot back: a window after the answer if the send counted."""
        assert self.shared is not None
        try:
            await self.shared.release_slot(
                slot, after=self._limits.flood_window_seconds if accepted else 0.0
            )
        except Exception:  # the slot frees itself when its hold ends
            log.exception("giving back a send slot failed")

    # --- PTB's hook -----------------------------------------------------------------------
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
            ticket = _TICKET.get()
            if ticket is None:  # a send nobody took a slot for: take one now
                reserve = _PAY.get()
                await self.acquire_send(chat_id, paid_allowed=reserve is not None, reserve=reserve)
                ticket = _TICKET.get()
                assert ticket is not None
            _TICKET.set(None)
            _LANE.set(ticket.lane)
            if ticket.lane == PAID:
                data[PAID_PARAM] = True
            else:
                data.pop(PAID_PARAM, None)
            try:
                return await self._counted(callback, args, kwargs, ticket)
            except RetryAfter as exc:
                window = ticket.window or self.window
                window.slow_down()
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
        ticket: _Ticket,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send one message in the slot taken for it; release the slot at the answer."""
        accepted = True  # unless the server answered with a refusal
        try:
            return await callback(*args, **kwargs)
        except TelegramError as exc:
            # An error answer was not taken; a timeout (or a cancelled request) may have been.
            accepted = isinstance(exc, TimedOut)
            raise
        finally:
            if ticket.window is not None:
                ticket.window.release(accepted=accepted)
            if ticket.slot is not None:
                await self._give_back(ticket.slot, accepted=accepted)


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
