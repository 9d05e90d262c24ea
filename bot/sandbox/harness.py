"""Run the real kepubot application against a Sandbox: for tests, the demo and `chat`."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import col

from bot.app import FEATURES, build_runtime, run_bot
from bot.config import Settings, load_settings
from bot.handlers.feature import Feature
from bot.runtime.context import Runtime, system_clock
from bot.runtime.inbox import InboxProcessor
from bot.sandbox.sandbox import Sandbox
from storage.models import InboxUpdate, OutboxMessage
from storage.outbox import ORDERED_KINDS

FAST_LIMITS = {
    "global_per_second": 10_000.0,
    "per_chat_per_second": 10_000.0,
    "per_group_per_minute": 1_000_000.0,
}


def sandbox_settings(sandbox: Sandbox, database_url: str, **sections: dict[str, Any]) -> Settings:
    """Return settings that point the bot at ``sandbox`` (fast limits unless overridden)."""
    data: dict[str, dict[str, Any]] = {
        "telegram": {
            "token": sandbox.token,
            "base_url": sandbox.base_url,
            "base_file_url": sandbox.base_file_url,
            "poll_timeout": 1,
            "mode": "polling",
        },
        "database": {"url": database_url},
        "web": {"host": "127.0.0.1", "port": 0},
        "limits": dict(FAST_LIMITS),
        # Scenes and tests run jobs explicitly at scripted times, never on the wall clock.
        "scheduler": {"enabled": False},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return load_settings(None, **data)


PROJECT_ROOT = Path(__file__).resolve().parents[2]


def process_env(sandbox: Sandbox, database_url: str, **settings: str) -> dict[str, str]:
    """Return the environment for a `kepubot run` process pointed at ``sandbox``.

    Fast limits and no scheduler, as for the in-process bot; ``settings`` adds
    ``KEPUBOT_<SECTION>__<KEY>`` overrides, e.g. ``LIMITS__REPLY_BACKLOG="100"``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEPUBOT_")}
    env.update(
        {
            "KEPUBOT_TELEGRAM__TOKEN": sandbox.token,
            "KEPUBOT_TELEGRAM__BASE_URL": sandbox.base_url,
            "KEPUBOT_TELEGRAM__BASE_FILE_URL": sandbox.base_file_url,
            "KEPUBOT_TELEGRAM__POLL_TIMEOUT": "1",
            "KEPUBOT_DATABASE__URL": database_url,
            "KEPUBOT_WEB__PORT": "0",
            "KEPUBOT_SCHEDULER__ENABLED": "false",
            "KEPUBOT_LIMITS__PER_CHAT_PER_SECOND": "1000",
            "KEPUBOT_LIMITS__GLOBAL_PER_SECOND": "1000",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    env.update({f"KEPUBOT_{key}": value for key, value in settings.items()})
    return env


@dataclass
class RunningBot:
    """The bot running in this process against a sandbox."""

    sandbox: Sandbox
    runtime: Runtime
    task: asyncio.Task[None]

    @property
    def processor(self) -> InboxProcessor:
        """Return the inbox processor of the running bot."""
        processor: InboxProcessor = self.runtime.extras["processor"]
        return processor

    @property
    def web_url(self) -> str:
        """Return the base URL of the bot's own web server."""
        return f"http://127.0.0.1:{self.runtime.extras['web_port']}"

    async def pending_updates(self) -> int:
        """Return how many stored updates are still due for processing."""
        async with self.runtime.sessions() as session:
            now = self.runtime.now()
            result = await session.execute(
                select(func.count())
                .select_from(InboxUpdate)
                .where(
                    col(InboxUpdate.status) == "pending",
                    or_(
                        col(InboxUpdate.next_attempt_at).is_(None),
                        col(InboxUpdate.next_attempt_at) <= now,
                    ),
                )
            )
            return int(result.scalar_one())

    async def pending_replies(self) -> int:
        """Return how many replies and notices wait to be sent (first tries, in flight too)."""
        async with self.runtime.sessions() as session:
            result = await session.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    col(OutboxMessage.state) == "pending",
                    # Replies, notices and cards asked for (not pushes, which may wait for
                    # quiet hours), on their first try or in flight.
                    or_(
                        col(OutboxMessage.kind).in_(ORDERED_KINDS),
                        col(OutboxMessage.push_id).is_(None),
                    ),
                    col(OutboxMessage.attempts) == 0,
                )
            )
            return int(result.scalar_one())

    def _quiet(self) -> bool:
        poller = self.runtime.extras.get("poller")
        in_transit = poller.in_transit if poller is not None else 0
        return self.sandbox.pending_updates == 0 and in_transit == 0 and not self.processor.busy

    async def _nothing_left(self) -> bool:
        return await self.pending_updates() == 0 and await self.pending_replies() == 0

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every update is delivered, processed and its replies are sent."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.task.done():
                self.task.result()  # surface a crash of the bot
            await self.sandbox.wait_idle(timeout=max(deadline - loop.time(), 0.1))
            if self._quiet() and await self._nothing_left():
                await self.sandbox.wait_idle(timeout=max(deadline - loop.time(), 0.1))
                if self._quiet() and await self._nothing_left():
                    return
            if loop.time() > deadline:
                raise TimeoutError("the bot did not settle")
            await asyncio.sleep(0.01)


@asynccontextmanager
async def running_bot(
    sandbox: Sandbox,
    settings: Settings,
    *,
    clock: Callable[[], dt.datetime] = system_clock,
    runtime: Runtime | None = None,
    features: Sequence[Feature] = FEATURES,
) -> AsyncIterator[RunningBot]:
    """Start the real application (unchanged) against ``sandbox``; stop it on exit."""
    runtime = runtime or build_runtime(settings, clock=clock)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(
        run_bot(
            settings,
            runtime=runtime,
            stop=stop,
            ready=ready,
            install_signals=False,
            features=features,
        )
    )
    ready_wait = asyncio.create_task(ready.wait())
    await asyncio.wait([task, ready_wait], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        ready_wait.cancel()
        task.result()  # raises the start-up error
    running = RunningBot(sandbox=sandbox, runtime=runtime, task=task)
    try:
        yield running
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
