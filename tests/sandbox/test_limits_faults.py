"""Flood limits answer 429 with retry_after; faults are seeded and reproducible."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter

from bot.sandbox import Faults, Limits, Sandbox

TOKEN = "123456:TEST-TOKEN"


async def _bot(sb: Sandbox) -> Bot:
    """Return an initialised PTB bot for `sb`."""
    bot = Bot(TOKEN, base_url=sb.base_url, base_file_url=sb.base_file_url)
    await bot.initialize()
    return bot


@pytest.fixture
async def limited() -> AsyncIterator[tuple[Sandbox, Bot]]:
    """Yield a sandbox with the real limits and a bot."""
    async with Sandbox(token=TOKEN, limits=Limits()) as sb:
        bot = await _bot(sb)
        yield sb, bot
        await bot.shutdown()


async def test_per_chat_limit(limited: tuple[Sandbox, Bot]) -> None:
    sb, bot = limited
    alice = sb.user("Alice", started=True)
    await bot.send_message(alice.id, "one")
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(alice.id, "two")
    assert err.value.retry_after == 1
    assert sb.stats.rate_limited == 1 and len(alice.messages) == 1


async def test_global_limit(limited: tuple[Sandbox, Bot]) -> None:
    sb, bot = limited
    users = [sb.user(f"U{i}", started=True) for i in range(31)]
    for user in users[:30]:
        await bot.send_message(user.id, "push")
    with pytest.raises(RetryAfter):
        await bot.send_message(users[30].id, "push")
    assert sb.stats.sent_messages == 30


async def test_group_limit_scaled_and_recovers() -> None:
    # scale=0.05: a minute lasts 3 s, so 21 sends in a burst certainly exceed 20/min.
    limits = Limits(per_chat_per_second=None, scale=0.05)
    async with Sandbox(token=TOKEN, limits=limits) as sb:
        bot = await _bot(sb)
        alice = sb.user("Alice")
        grp = sb.group("G", members=[alice])
        await alice.add_bot_to(grp)
        for i in range(20):
            await bot.send_message(grp.id, f"m{i}")
        with pytest.raises(RetryAfter) as err:
            await bot.send_message(grp.id, "m20")
        retry = err.value.retry_after
        assert isinstance(retry, float) and 0 < retry <= 3.0
        await bot.shutdown()


async def test_retry_after_wait_then_succeeds() -> None:
    async with Sandbox(token=TOKEN, limits=Limits(scale=0.05)) as sb:
        bot = await _bot(sb)
        alice = sb.user("Alice", started=True)
        await bot.send_message(alice.id, "one")
        with pytest.raises(RetryAfter) as err:
            await bot.send_message(alice.id, "two")
        await asyncio.sleep(float(err.value.retry_after) + 0.01)
        assert (await bot.send_message(alice.id, "two")).text == "two"
        await bot.shutdown()


async def test_error_rate_is_seeded() -> None:
    faults = Faults(error_rate=0.05, seed=7)
    counts = []
    for _ in range(2):
        async with Sandbox(token=TOKEN, faults=faults) as sb:
            bot = await _bot(sb)
            alice = sb.user("Alice", started=True)
            errors = 0
            for i in range(120):
                try:
                    await bot.send_message(alice.id, f"m{i}")
                except NetworkError as exc:
                    assert "Bad Gateway" in str(exc)
                    errors += 1
            assert sb.stats.faults["error"] == errors == 120 - len(alice.messages)
            counts.append(errors)
            await bot.shutdown()
    assert counts[0] == counts[1] and 1 <= counts[0] <= 15


@pytest.mark.parametrize("after", [False, True])
async def test_drop_raises_network_error(after: bool) -> None:
    faults = Faults(drop_rate=1.0, drop_after_apply=after)
    async with Sandbox(token=TOKEN, faults=faults) as sb:
        bot = await _bot(sb)
        alice = sb.user("Alice", started=True)
        with pytest.raises(NetworkError):
            await bot.send_message(alice.id, "lost?")
        # The knob decides whether the message reached the chat before the connection died.
        assert len(alice.messages) == (1 if after else 0)
        assert sb.stats.faults["drop"] == 1
        assert (await bot.get_me()).id == bot.id  # other methods are not faulted
        await bot.shutdown()


async def test_latency_is_added() -> None:
    async with Sandbox(token=TOKEN, faults=Faults(latency=0.2)) as sb:
        bot = await _bot(sb)
        alice = sb.user("Alice", started=True)
        start = time.monotonic()
        await bot.send_message(alice.id, "slow")
        assert time.monotonic() - start >= 0.2
        await bot.shutdown()
