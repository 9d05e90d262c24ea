"""Demo scenes, played in this order. Each module has ``async def play(demo)``."""

from __future__ import annotations

from bot.sandbox.scenes import (
    activities,
    basics,
    content,
    digest,
    evaluation,
    informants,
    shares,
    stations,
)

SCENES = [basics, stations, informants, content, shares, activities, digest, evaluation]
