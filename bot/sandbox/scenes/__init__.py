"""Demo scenes, played in this order. Each module has ``async def play(demo)``."""

from __future__ import annotations

from bot.sandbox.scenes import activities, basics, content, informants, stations

SCENES = [basics, stations, informants, content, activities]
