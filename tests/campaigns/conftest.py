"""Fixtures of the campaign tests: the bot with a config campaign running on FIXED_NOW."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.config import CampaignSettings
from bot.sandbox import Sandbox
from bot.sandbox.harness import RunningBot, running_bot, sandbox_settings
from tests.conftest import FixedClock

# FIXED_NOW is Monday 23 November 2026, 10:00 in Shanghai: the campaign runs.
SCIENCE_DAY = CampaignSettings(
    key="science_day",
    name_zh="2026年全国科普日",
    name_en="National Science Day 2026",
    start=dt.date(2026, 11, 20),
    end=dt.date(2026, 11, 29),
    regions=["330100"],  # Hangzhou only; Ningbo (330203) is outside
)


@pytest.fixture
async def campaign_bot(
    sandbox: Sandbox, sqlite_url: str, clock: FixedClock
) -> AsyncIterator[RunningBot]:
    """The real bot against the sandbox, with ``[[campaigns]]`` science_day in its config."""
    settings = sandbox_settings(sandbox, sqlite_url, web={"public_base_url": "http://kepu.test"})
    settings = settings.model_copy(update={"campaigns": [SCIENCE_DAY]})
    async with running_bot(sandbox, settings, clock=clock) as running:
        yield running
