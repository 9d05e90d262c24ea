"""The sandbox's paid broadcasts: the paid rate, the Stars balance, Telegram's answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import BadRequest, RetryAfter

from bot.runtime.ratelimit import balance_too_low
from bot.sandbox import Limits, Sandbox

TOKEN = "123456:TEST-TOKEN"


@pytest.fixture
async def paid_sandbox() -> AsyncIterator[tuple[Sandbox, Bot]]:
    """Telegram's limits on a stopped clock (one window), a bot holding 1 Star."""
    limits = Limits(global_per_second=3, per_chat_per_second=1, paid_per_second=5)
    async with Sandbox(token=TOKEN, limits=limits, stars=1.0) as sb:
        sb.limiter._clock = lambda: 1000.0  # every send falls in the same second
        bot = Bot(TOKEN, base_url=sb.base_url, base_file_url=sb.base_file_url)
        await bot.initialize()
        try:
            yield sb, bot
        finally:
            await bot.shutdown()


async def test_free_sends_past_the_cap_get_429_paid_ones_go_up_to_the_paid_rate(
    paid_sandbox: tuple[Sandbox, Bot],
) -> None:
    sb, bot = paid_sandbox
    users = [sb.user(f"U{i}", started=True) for i in range(7)]
    for user in users[:3]:
        await bot.send_message(user.id, "free")
    with pytest.raises(RetryAfter):  # a 4th free send in the second: flood control
        await bot.send_message(users[3].id, "free")
    # Paid sends skip the free cap; all sends together stay under the paid rate (5).
    await bot.send_message(users[3].id, "paid", allow_paid_broadcast=True)
    await bot.send_message(users[4].id, "paid", allow_paid_broadcast=True)
    with pytest.raises(RetryAfter):
        await bot.send_message(users[5].id, "paid", allow_paid_broadcast=True)
    assert sb.stats.paid_messages == 2
    assert sb.world.star_nanos == 800_000_000  # 0.1 Stars each, taken on acceptance
    assert [len(u.messages) for u in users] == [1, 1, 1, 1, 1, 0, 0]
    # The per-chat limit holds for paid sends too.
    with pytest.raises(RetryAfter):
        await bot.send_message(users[0].id, "again", allow_paid_broadcast=True)
    assert sb.world.star_nanos == 800_000_000


async def test_a_balance_too_low_is_a_400_and_nothing_is_sent_or_taken(
    paid_sandbox: tuple[Sandbox, Bot],
) -> None:
    sb, bot = paid_sandbox
    sb.world.set_stars(0.05)
    alice = sb.user("Alice", started=True)
    with pytest.raises(BadRequest) as err:
        await bot.send_message(alice.id, "paid", allow_paid_broadcast=True)
    assert balance_too_low(err.value.message)
    assert alice.messages == [] and sb.world.star_nanos == 50_000_000
    assert sb.stats.paid_refused == 1 and sb.stats.paid_messages == 0
    # The same message without the flag goes out free.
    await bot.send_message(alice.id, "free")
    assert len(alice.messages) == 1


async def test_get_my_star_balance_answers_a_star_amount(
    paid_sandbox: tuple[Sandbox, Bot],
) -> None:
    sb, bot = paid_sandbox
    sb.world.set_stars(12.3)
    assert await bot.do_api_request("getMyStarBalance") == {
        "amount": 12,
        "nanostar_amount": 300_000_000,
    }
    sb.world.set_stars(7)
    assert await bot.do_api_request("getMyStarBalance") == {"amount": 7}
