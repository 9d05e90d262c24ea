"""Demo scenes, played in this order. Each module has ``async def play(demo)``."""

from __future__ import annotations

from types import ModuleType

from bot.sandbox.scenes import (
    activities,
    basics,
    campaigns,
    content,
    desk,
    digest,
    evaluation,
    informants,
    shares,
    stations,
)

Scene = ModuleType  # a module with ``async def play(demo)``

SCENES: list[Scene] = [
    basics,
    stations,
    informants,
    content,
    campaigns,
    shares,
    activities,
    digest,
    evaluation,
    desk,
]
