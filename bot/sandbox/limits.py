"""Flood limits and fault injection of the Bot API sandbox."""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

# Methods that Telegram counts against the flood limits: every one posts a new message.
SEND_METHODS: frozenset[str] = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendMediaGroup",
        "sendLocation",
        "sendContact",
        "forwardMessage",
        "copyMessage",
    }
)
EDIT_METHODS: frozenset[str] = frozenset(
    {"editMessageText", "editMessageCaption", "editMessageReplyMarkup"}
)


@dataclass(frozen=True)
class Limits:
    """Flood limits; a `None` limit is not enforced."""

    global_per_second: int | None = 30
    per_chat_per_second: int | None = 1
    per_group_per_minute: int | None = 20
    # Paid broadcasts: sends with allow_paid_broadcast skip the free global cap; all sends
    # together stay under this many a second (Telegram: 1,000).
    paid_per_second: int | None = 1000
    # Time scale: windows and retry_after are multiplied by it (0.01 makes a minute 0.6 s).
    scale: float = 1.0
    methods: frozenset[str] = SEND_METHODS

    @classmethod
    def off(cls) -> Limits:
        """Return limits that never trigger."""
        return cls(
            global_per_second=None,
            per_chat_per_second=None,
            per_group_per_minute=None,
            paid_per_second=None,
        )


@dataclass(frozen=True)
class Faults:
    """Seeded fault injection: 5xx answers, dropped connections and added latency."""

    error_rate: float = 0.0
    drop_rate: float = 0.0
    latency: float = 0.0
    latency_jitter: float = 0.0
    seed: int = 0
    methods: frozenset[str] = SEND_METHODS | EDIT_METHODS
    # True: the method is applied (message stored) and then the connection is dropped, as
    # happens on a real network; False: dropped before anything is applied.
    drop_after_apply: bool = False
    error_code: int = 502
    error_description: str = "Bad Gateway"


@dataclass
class _Window:
    """Timestamps of accepted sends inside one sliding window."""

    length: float
    capacity: int
    stamps: deque[float] = field(default_factory=deque)

    def wait_time(self, now: float, cost: int) -> float:
        """Return how long until `cost` more sends fit, 0 if they fit now."""
        while self.stamps and self.stamps[0] <= now - self.length:
            self.stamps.popleft()
        if cost > self.capacity:
            cost = self.capacity  # an album bigger than the limit may still go when empty
        excess = len(self.stamps) + cost - self.capacity
        if excess <= 0:
            return 0.0
        return self.stamps[excess - 1] + self.length - now

    def add(self, now: float, cost: int) -> None:
        """Record `cost` accepted sends."""
        self.stamps.extend([now] * cost)


class RateLimiter:
    """Sliding-window flood control keyed by chat and chat type."""

    def __init__(self, limits: Limits | None, clock: Callable[[], float] | None = None) -> None:
        self.limits = limits
        self._clock = clock or time.monotonic
        self._global: _Window | None = None
        self._paid: _Window | None = None  # every send, free or paid, under the paid rate
        self._chats: dict[int, _Window] = {}
        self._groups: dict[int, _Window] = {}
        if limits and limits.global_per_second:
            self._global = _Window(1.0 * limits.scale, limits.global_per_second)
        if limits and limits.paid_per_second:
            self._paid = _Window(1.0 * limits.scale, limits.paid_per_second)

    def applies_to(self, method: str) -> bool:
        """Tell whether `method` is counted."""
        return self.limits is not None and method in self.limits.methods

    def check(
        self, chat_id: int, is_group: bool, cost: int = 1, *, paid: bool = False
    ) -> float | int | None:
        """Record a send or return the retry_after to answer with.

        A paid send (``allow_paid_broadcast``) is not counted against the free global cap,
        only against the paid rate; a free one against both.
        """
        lim = self.limits
        if lim is None:
            return None
        now = self._clock()
        windows: list[_Window] = []
        if self._global is not None and not paid:
            windows.append(self._global)
        if self._paid is not None:
            windows.append(self._paid)
        if lim.per_chat_per_second:
            windows.append(
                self._chats.setdefault(chat_id, _Window(1.0 * lim.scale, lim.per_chat_per_second))
            )
        if is_group and lim.per_group_per_minute:
            windows.append(
                self._groups.setdefault(
                    chat_id, _Window(60.0 * lim.scale, lim.per_group_per_minute)
                )
            )
        wait = max((w.wait_time(now, cost) for w in windows), default=0.0)
        if wait > 0:
            return self.retry_after(wait)
        for w in windows:
            w.add(now, cost)
        return None

    def retry_after(self, wait: float) -> float | int:
        """Express a wait as Telegram does: whole seconds; scaled time keeps a fraction."""
        assert self.limits is not None
        if self.limits.scale >= 1.0:
            return max(1, math.ceil(wait))
        # PTB accepts a float retry_after; it must be > 0 or PTB ignores the parameter.
        return max(0.001, round(wait, 3))


class FaultInjector:
    """Draw faults from one seeded RNG so that a run is reproducible."""

    def __init__(self, faults: Faults | None) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed if faults else 0)

    def applies_to(self, method: str) -> bool:
        """Tell whether `method` may be faulted."""
        return self.faults is not None and method in self.faults.methods

    def latency(self) -> float:
        """Return the delay to add to one request."""
        f = self.faults
        if f is None or (f.latency <= 0 and f.latency_jitter <= 0):
            return 0.0
        return f.latency + (self._rng.random() * f.latency_jitter if f.latency_jitter else 0.0)

    def draw(self) -> str | None:
        """Return "error", "drop" or None for one request."""
        f = self.faults
        if f is None or (f.error_rate <= 0 and f.drop_rate <= 0):
            return None
        u = self._rng.random()
        if u < f.error_rate:
            return "error"
        if u < f.error_rate + f.drop_rate:
            return "drop"
        return None
