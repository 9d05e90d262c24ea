"""Long polling that acknowledges an update only after it is stored in the inbox."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.runtime.context import Runtime
from bot.runtime.inbox import InboxProcessor, store_and_notify
from bot.runtime.ratelimit import retry_after_seconds

log = logging.getLogger(__name__)


class Poller:
    """Fetch updates with getUpdates; the next offset is asked for only after storing."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        processor: InboxProcessor | None,
        *,
        timeout: int,
    ) -> None:
        self.application = application
        self.runtime: Runtime = application.bot_data["runtime"]
        self.processor = processor
        self.timeout = timeout
        self.offset: int | None = None
        self.in_transit = 0  # updates fetched but not yet stored (tests wait for 0)
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Stop after the current long poll."""
        self._stopping.set()

    async def poll_once(self) -> int:
        """Fetch one batch, store it, and return how many updates came."""
        updates: tuple[Update, ...] = await self.application.bot.get_updates(
            offset=self.offset, timeout=self.timeout, allowed_updates=Update.ALL_TYPES,
            read_timeout=self.timeout + 10,
        )
        if not updates:
            return 0
        self.in_transit = len(updates)
        try:
            payloads = [update.to_dict() for update in updates]
            await store_and_notify(self.runtime, self.processor, payloads)
        finally:
            self.in_transit = 0
        # Only now may Telegram forget them: the next call carries this offset.
        self.offset = max(update.update_id for update in updates) + 1
        return len(updates)

    async def run(self) -> None:
        """Poll until stopped, backing off on network errors."""
        await self.application.bot.delete_webhook(drop_pending_updates=False)
        delay = 1.0
        while not self._stopping.is_set():
            poll = asyncio.ensure_future(self.poll_once())
            stop = asyncio.ensure_future(self._stopping.wait())
            done, _ = await asyncio.wait({poll, stop}, return_when=asyncio.FIRST_COMPLETED)
            if poll not in done:
                # Stopping: an unfinished long poll has stored nothing; drop it.
                poll.cancel()
                await asyncio.gather(poll, return_exceptions=True)
                break
            stop.cancel()
            try:
                poll.result()
                delay = 1.0
            except InvalidToken:
                log.error("the bot token was refused by the Bot API")
                raise
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc))
            except Conflict:
                log.error("another process is polling with this token, or a webhook is set")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
            except (NetworkError, TimedOut) as exc:
                log.warning("getUpdates failed", extra={"error": str(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
