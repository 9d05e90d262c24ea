"""Fixtures of the originals tests: the real bot on either backend (``any_bot``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.sandbox import Sandbox
from bot.sandbox.harness import RunningBot, running_bot, sandbox_settings
from tests.conftest import FixedClock


@pytest.fixture
async def any_bot(sandbox: Sandbox, db_url: str, clock: FixedClock) -> AsyncIterator[RunningBot]:
    """The real application against the sandbox, on SQLite and (marked) on PostgreSQL."""
    settings = sandbox_settings(sandbox, db_url, web={"public_base_url": "http://kepu.test"})
    async with running_bot(sandbox, settings, clock=clock) as running:
        yield running
