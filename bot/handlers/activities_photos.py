"""The photo hasher: download evidence photos through the Bot API and hash them (pHash).

A follow-up step after an activity or an application is saved, so that no database
transaction waits on the network: one short read finds photos not hashed yet, the
downloads run with no session open, one short transaction stores the hashes and raises
the near-duplicate findings (``bot.services.findings_auto.record_photo_hashes``). A photo
that cannot be downloaded or read is stored with an empty hash: it stays compared by
``file_unique_id`` only, as it was when it was saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import Bot
from telegram.error import TelegramError
from telegram.ext import Application

from bot.runtime.context import Runtime, runtime_of
from bot.services import detection, findings_auto

log = logging.getLogger(__name__)


async def download_hash(bot: Bot, file_id: str) -> str:
    """Return the pHash of a Telegram file, or '' when it cannot be downloaded or read."""
    try:
        file = await bot.get_file(file_id)
        data = await file.download_as_bytearray()
    except (TelegramError, OSError) as exc:
        log.warning("photo not downloaded", extra={"file_id": file_id, "error": str(exc)})
        return ""
    return detection.photo_hash(bytes(data)) or ""


async def hash_pending_photos(runtime: Runtime, bot: Bot) -> dict[str, Any]:
    """Hash one batch of photos not hashed yet; return a summary."""
    integrity = runtime.settings.integrity
    async with runtime.sessions() as session:
        todo = await findings_auto.photos_to_hash(
            session=session, limit=integrity.photo_hash_batch
        )
    if not todo:
        return {"hashed": 0, "failed": 0, "raised": 0}
    hashes: dict[str, dict[int, str]] = {}
    for item in todo:  # no session is open while downloading
        hashes.setdefault(item.table, {})[item.row_id] = await download_hash(bot, item.file_id)
    raised = 0
    async with runtime.sessions() as session, session.begin():
        for table, rows in hashes.items():
            result = await findings_auto.record_photo_hashes(
                session=session, table=table, hashes=rows, integrity=integrity, now=runtime.now()
            )
            raised += len(result.raised)
    failed = sum(1 for rows in hashes.values() for h in rows.values() if not h)
    summary = {"hashed": len(todo) - failed, "failed": failed, "raised": raised}
    log.info("photos hashed", extra=summary)
    return summary


async def photo_hasher(
    app: Application[Any, Any, Any, Any, Any, Any], stop: asyncio.Event
) -> None:
    """Run ``hash_pending_photos`` every ``integrity.photo_hash_seconds`` until stopped."""
    runtime = runtime_of(app)
    every = runtime.settings.integrity.photo_hash_seconds
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        if stop.is_set():
            return
        try:
            await hash_pending_photos(runtime, app.bot)
        except Exception:  # a bad pass must not stop the bot; the next pass retries
            log.exception("photo hasher pass failed")
