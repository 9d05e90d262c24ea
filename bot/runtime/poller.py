"""Long polling that acknowledges an update only after it is stored in the inbox."""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application
from telegram.warnings import PTBUserWarning

from bot.runtime.context import Runtime
from bot.runtime.inbox import InboxProcessor, store_and_notify
from bot.runtime.ratelimit import retry_after_seconds

log = logging.getLogger(__name__)

# The poller asks for getUpdates through do_api_request on purpose (raw JSON, see
# poll_once); PTB suggests its typed method for known endpoints.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)

ALL_TYPES = list(Update.ALL_TYPES)


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
        """Fetch one batch, store it, and return how many updates came.

        Updates are fetched as raw JSON and stored as Telegram sent them: no Update objects
        are built here (the processor builds one when it needs it), which also keeps fields
        this library version does not know.
        """
        api_kwargs: dict[str, Any] = {"timeout": self.timeout, "allowed_updates": ALL_TYPES}
        if self.offset is not None:
            api_kwargs["offset"] = self.offset
        payloads: list[dict[str, Any]] = await self.application.bot.do_api_request(
            "getUpdates", api_kwargs=api_kwargs, read_timeout=self.timeout + 10
        )
        if not payloads:
            return 0
        self.in_transit = len(payloads)
        try:
            await store_and_notify(self.runtime, self.processor, payloads)
        finally:
            self.in_transit = 0
        # Only now may Telegram forget them: the next call carries this offset.
        self.offset = max(int(p["update_id"]) for p in payloads) + 1
        return len(payloads)

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
            except Exception:
                # The inbox could not store the batch (a database error): nothing was
                # acknowledged, so Telegram sends it again on the next poll.
                log.exception("storing polled updates failed")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
