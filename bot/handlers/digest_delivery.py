"""Sending a rendered digest: its text, the chart and the spreadsheet, to one chat."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Message
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError

from bot.reports.digest import RenderedDigest
from bot.runtime.ratelimit import retry_after_seconds

SEND_ATTEMPTS = 3

__all__ = ["DigestDelivery", "RenderedDigest", "deliver"]


@dataclass(frozen=True)
class DigestDelivery:
    """How one delivery ended: sent, blocked or failed, and the text's message id."""

    state: str
    error: str | None = None
    message_id: int | None = None


async def _call(func: Callable[..., Awaitable[Message]], *args: Any, **kwargs: Any) -> Message:
    """Call a send method, waiting out flood control and retrying network errors."""
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await func(*args, **kwargs)
        except RetryAfter as exc:
            if attempt == SEND_ATTEMPTS:
                raise
            await asyncio.sleep(retry_after_seconds(exc))
        except NetworkError:
            if attempt == SEND_ATTEMPTS:
                raise
            await asyncio.sleep(attempt)
    raise AssertionError("unreachable")


async def deliver(bot: Any, chat_id: int, digest: RenderedDigest) -> DigestDelivery:
    """Send the text, the chart and the spreadsheet; tell how it ended."""
    try:
        first = await _call(bot.send_message, chat_id, digest.text, parse_mode="HTML")
        await _call(
            bot.send_photo, chat_id, digest.png, caption=digest.caption, filename=digest.png_name
        )
        await _call(
            bot.send_document,
            chat_id,
            digest.xlsx,
            filename=digest.xlsx_name,
            caption=digest.caption,
        )
    except Forbidden as exc:
        return DigestDelivery("blocked", f"Forbidden: {exc.message}")
    except TelegramError as exc:
        return DigestDelivery("failed", f"{type(exc).__name__}: {exc.message}")
    return DigestDelivery("sent", message_id=int(first.message_id))
