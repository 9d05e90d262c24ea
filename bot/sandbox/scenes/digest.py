"""Demo scene for the digest feature (being built; plays nothing yet)."""

from __future__ import annotations

from bot.sandbox.demo import Demo


async def play(demo: Demo) -> None:
    """Play the scene."""
