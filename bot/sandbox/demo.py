"""`kepubot demo`: the real bot against the sandbox, playing a scripted week in one region.

Each capability adds a scene module to ``bot/sandbox/scenes`` (listed in ``SCENES``).  A
scene drives simulated users through ``Demo`` (``bot.sandbox.stage``) and narrates what
happens; the transcript is printed and saved, and files coordinators receive are written to
the output folder.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.i18n import get_translator
from bot.sandbox.harness import running_bot, sandbox_settings
from bot.sandbox.sandbox import Sandbox
from bot.sandbox.scenes import SCENES, Scene
from bot.sandbox.stage import SHANGHAI, Demo, DemoClock
from storage.db import create_nullpool_engine
from storage.migrate import upgrade

__all__ = ["SHANGHAI", "Demo", "DemoClock", "run_demo"]


async def run_demo(
    *,
    out_dir: Path,
    lang: str = "zh_CN",
    out: TextIO = sys.stdout,
    quiet: bool = False,
    scenes: Sequence[Scene] = SCENES,
) -> Demo:
    """Play ``scenes`` (every scene) on a fresh database in ``out_dir``; return the demo."""

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    database_url = f"sqlite+aiosqlite:///{out_dir / 'demo.db'}"
    engine = create_nullpool_engine(database_url)
    await upgrade(engine)
    await engine.dispose()
    clock = DemoClock()
    started = time.monotonic()
    t = get_translator(lang)
    async with Sandbox(token="123456:DEMO-TOKEN", bot_username="kepubot_demo_bot") as sandbox:
        settings = sandbox_settings(
            sandbox,
            database_url,
            # Link visits arrive through a local proxy that names each phone's address.
            web={"public_base_url": "http://127.0.0.1:8080", "trusted_proxies": ["127.0.0.1/32"]},
            i18n={"default_locale": lang},
            # The evaluation scene hashes the photos itself before its sweep: no timer pass
            # mid-scene, so every run shows the same findings.
            integrity={"photo_hash_seconds": 3600},
        )
        async with running_bot(sandbox, settings, clock=clock) as bot:
            demo = Demo(
                sandbox=sandbox,
                bot=bot,
                clock=clock,
                out_dir=out_dir,
                t=t,
                lang=lang,
                out=out,
                quiet=quiet,
            )
            demo.line(t("kepubot demo — the real bot against the local Bot API sandbox"))
            demo.line(t("Database: {path}", path=out_dir / "demo.db"))
            for scene in scenes:
                await scene.play(demo)
            await demo.settle()
    demo.scene(t("Done"))
    stats = sandbox.stats
    seconds = f"{time.monotonic() - started:.1f}"
    demo.narrate(
        t(
            "{n} Bot API calls, {m} messages sent by the bot, in {s} seconds.",
            n=sum(stats.calls.values()),
            m=stats.sent_messages,
            s=seconds,
        )
    )
    transcript = out_dir / "transcript.txt"
    transcript.write_text("\n".join(demo.transcript) + "\n", encoding="utf-8")
    demo.files.append(transcript)
    demo.narrate(t("Files written to {path}:", path=out_dir))
    for path in demo.files:
        demo.line(f"    {path.name}")
    return demo
