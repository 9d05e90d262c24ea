"""Fixtures for the sandbox tests: a running Sandbox and an initialised PTB Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.sandbox import Sandbox

TOKEN = "123456:TEST-TOKEN"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """Yield a started sandbox without limits or faults."""
    async with Sandbox(token=TOKEN, bot_username="kepubot_bot") as sb:
        yield sb


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    """Yield a PTB Bot talking to the sandbox."""
    tg = Bot(TOKEN, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url)
    await tg.initialize()
    try:
        yield tg
    finally:
        await tg.shutdown()
