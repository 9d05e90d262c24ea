"""The sliding flood window: never more than the server's window allows, whatever the latency."""

from __future__ import annotations

import asyncio
import heapq
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.runtime.ratelimit import SlidingWindow
from bot.sandbox.limits import _Window as ServerWindow


def _simulate(
    window: SlidingWindow,
    latencies: list[tuple[float, float]],
    *,
    concurrency: int,
    refused: set[int] = frozenset(),  # type: ignore[assignment]
    server: ServerWindow | None = None,
) -> tuple[int, float]:
    """Send len(latencies) messages through ``window`` in simulated time.

    Each send reaches the server ``up`` seconds after it starts and is answered ``down``
    seconds later; the server counts it in its own sliding window on arrival (sends in
    ``refused`` are answered with an error and not counted). Returns (server rejections,
    time of the last answer).
    """
    events: list[tuple[float, int, str, int]] = []  # (time, seq, kind, send index)
    seq = 0
    now = 0.0
    started = 0
    inflight = 0
    flooded: set[int] = set()
    last = 0.0
    while started < len(latencies) or events:
        if started < len(latencies) and inflight < concurrency:
            wait = window.wait_time(now)
            if wait == 0.0:
                window.start()
                up, down = latencies[started]
                heapq.heappush(events, (now + up, seq, "arrive", started))
                heapq.heappush(events, (now + up + down, seq + 1, "answer", started))
                seq += 2
                started += 1
                inflight += 1
                continue
            if wait is not None and (not events or now + wait < events[0][0]):
                # Step past float rounding: now + wait may land a hair before the expiry.
                now = now + wait if now + wait > now else math.nextafter(now, math.inf)
                continue
        at, _, kind, index = heapq.heappop(events)
        now = at
        if kind == "arrive":
            if server is not None and index not in refused:
                if server.wait_time(now, 1) > 0:
                    flooded.add(index)
                else:
                    server.add(now, 1)
        else:
            window.finish(now, accepted=index not in refused and index not in flooded)
            if index in flooded:
                window.slow_down()  # as KepuRateLimiter does on a 429
            inflight -= 1
            last = now
    return len(flooded), last


latency = st.tuples(
    st.floats(min_value=0.0, max_value=0.3, allow_nan=False),
    st.floats(min_value=0.0, max_value=0.3, allow_nan=False),
)


@settings(max_examples=150, deadline=None)
@given(
    latencies=st.lists(latency, min_size=1, max_size=300),
    concurrency=st.integers(min_value=1, max_value=12),
    capacity=st.integers(min_value=1, max_value=30),
    refused=st.sets(st.integers(min_value=0, max_value=299), max_size=30),
)
def test_the_server_never_refuses_a_send_the_window_let_through(
    latencies: list[tuple[float, float]], concurrency: int, capacity: int, refused: set[int]
) -> None:
    window = SlidingWindow(capacity, 1.0)
    server = ServerWindow(1.0, capacity)
    rejected, _ = _simulate(
        window, latencies, concurrency=concurrency, refused=refused, server=server
    )
    assert rejected == 0


def test_the_window_reaches_the_cap_with_a_short_round_trip() -> None:
    window = SlidingWindow(30, 1.0)
    server = ServerWindow(1.0, 30)
    rejected, last = _simulate(window, [(0.004, 0.004)] * 3000, concurrency=2, server=server)
    assert rejected == 0
    # 3,000 sends at 30/s need 99 s after the first burst of 30; the round trip costs ~1 %.
    assert 99.0 <= last <= 101.5


def test_after_a_pause_the_window_catches_up_at_once() -> None:
    window = SlidingWindow(30, 1.0)
    for _ in range(30):
        window.start()
        window.finish(0.0, accepted=True)
    assert window.wait_time(0.5) == 0.5
    assert window.wait_time(5.0) == 0.0  # a long pause: the next 30 may go at once
    for _ in range(30):
        assert window.wait_time(5.0) == 0.0
        window.start()
    assert window.wait_time(5.0) is None  # only an answer can make room now


def test_refused_sends_do_not_count() -> None:
    window = SlidingWindow(2, 1.0)
    window.start()
    window.finish(0.0, accepted=False)
    window.start()
    window.finish(0.0, accepted=False)
    assert window.wait_time(0.0) == 0.0
    window.start()
    window.finish(0.0, accepted=True)
    window.start()
    window.finish(0.1, accepted=True)
    assert window.wait_time(0.2) == 0.8


def test_a_flood_answer_cuts_the_capacity_and_it_grows_back_only_below_that_level() -> None:
    window = SlidingWindow(31, 1.0)  # configured above a real cap of 30
    window.slow_down()
    assert window.capacity == 29  # 5 % less, at least one
    t = 0.0

    def clean(count: int) -> None:
        nonlocal t
        for _ in range(count):
            window.start()
            t += 0.04
            window.finish(t, accepted=True)

    clean(1000)
    assert window.capacity == 30  # grew back, but not to the level that drew the 429
    clean(4000)
    assert window.capacity == 30
    clean(100)
    assert window.capacity == 31  # the remembered ceiling relaxed after 5,000 clean sends
    for _ in range(50):
        window.slow_down()
    assert window.capacity == 15  # never below half the configured rate


def test_after_a_flood_answer_a_burst_fits_the_real_cap() -> None:
    """Configured 5 % above the server's cap, the window settles at the server's cap."""
    window = SlidingWindow(31.5, 1.0)
    server = ServerWindow(1.0, 30)
    rejected, _ = _simulate(window, [(0.002, 0.002)] * 3000, concurrency=2, server=server)
    assert rejected == 1  # the 31st send of the first burst; then 29, growing back to 30
    assert window.capacity == 30


def test_acquire_waits_for_the_window_in_real_time() -> None:
    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        window = SlidingWindow(2, 0.05)
        began = loop.time()
        for _ in range(3):
            await window.acquire()
            window.release(accepted=True)
        return loop.time() - began

    assert asyncio.run(scenario()) >= 0.05
