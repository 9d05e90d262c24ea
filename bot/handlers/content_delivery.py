"""Content in the outbox: cards rendered at send time, and curators' push progress.

The sender (``bot.runtime.outbox``) knows no content. The content feature declares a
deliverer for ``content`` rows — it re-reads the item, refuses retired or expired ones,
renders the card with every feature's buttons and keeps the uploaded file's id — and an
observer that edits the curator's progress message and reports a finished push once.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message

from bot.content.cards import (
    Card,
    CardRecipient,
    build_card,
    progress_text,
    report_text,
    send_card,
    sent_file_id,
    uploads_file,
)
from bot.content.catalogue import item_state
from bot.content.taxonomy import Taxonomy
from bot.handlers.feature import assembly_of
from bot.i18n import Translator, get_translator
from bot.reports.push_report import reasons_text, retry_rows
from bot.runtime.effects import API_KIND
from bot.runtime.outbox import NO_RETRY, Delivery, SenderTools, Undeliverable
from bot.services import broadcast as broadcast_service
from bot.services import campaigns as campaign_service
from bot.services import push as push_service
from storage import broadcast as broadcast_store
from storage import content as content_store
from storage import outbox as outbox_store
from storage.models import ContentItem, Push
from storage.outbox import ClaimedMessage, NewMessage

log = logging.getLogger(__name__)


class ContentDeliverer:
    """Send ``content`` rows as cards with every feature's buttons."""

    def __init__(self, tools: SenderTools) -> None:
        self.tools = tools
        self._providers = assembly_of(tools.application).card_providers(tools.runtime)
        self._items: dict[int, ContentItem] = {}
        self._item_read_at: dict[int, float] = {}
        self._file_ids: dict[int, str] = {}
        # Campaign names for the cards (issue #19): config and curators' campaigns, read
        # once and again only when an item names a campaign not read yet, or every
        # ``item_recheck`` seconds — never a query per card.
        self._taxonomy: Taxonomy | None = None
        self._taxonomy_at = -math.inf
        self._unknown: set[str] = set()

    async def prepare(self, rows: Sequence[ClaimedMessage]) -> None:
        """Read the batch's items in one query (and the campaigns they name, if new)."""
        content_ids = {int(r.payload["content_id"]) for r in rows}
        async with self.tools.runtime.sessions() as session:
            items = await content_store.get_items(session=session, content_ids=content_ids)
        self._items.update(items)
        now = asyncio.get_running_loop().time()
        self._item_read_at.update(dict.fromkeys(content_ids, now))
        await self._read_campaigns(items.values())

    async def _read_campaigns(self, items: Iterable[ContentItem]) -> None:
        """Read the campaigns' taxonomy when ``items`` name one it lacks, or it is old."""
        codes = {item.campaign for item in items if item.campaign}
        if not codes:
            return
        loop = asyncio.get_running_loop()
        fresh = loop.time() - self._taxonomy_at < self.tools.options.item_recheck
        known = self._taxonomy
        if fresh and known is not None:
            missing = {c for c in codes if known.get_campaign(c) is None}
            if missing <= self._unknown:  # already looked for them: no line, no new read
                return
        async with self.tools.runtime.sessions() as session:
            self._taxonomy = await campaign_service.taxonomy_with_campaigns(
                session=session, settings=self.tools.runtime.settings
            )
        self._taxonomy_at = loop.time()
        self._unknown = {c for c in codes if self._taxonomy.get_campaign(c) is None}

    async def deliver(self, row: ClaimedMessage) -> Delivery:
        """Send the card of a row's item, unless it was retired or expired meanwhile."""
        item = await self._current_item(int(row.payload["content_id"]))
        if item is None:
            raise Undeliverable("failed", "content_missing")
        state = item_state(item, self.tools.runtime.now())
        if state in ("retired", "expired"):
            raise Undeliverable("failed", f"content_{state}")
        if item.id in self._file_ids and not item.media_file_id:
            item.media_file_id = self._file_ids[item.id]
        await self._read_campaigns([item])  # a re-read item may name another campaign
        card = await self._card(row, item)
        message = await send_card(self.tools.bot, row.chat_id, card, rate_limit_args=NO_RETRY)
        if not uploads_file(card):
            return Delivery(message.message_id)
        return Delivery(message.message_id, after=self._keeper(item, message))

    def _keeper(
        self, item: ContentItem, message: Message
    ) -> Callable[[AsyncSession], Awaitable[None]]:
        """Return the write that keeps the uploaded file's id, so later sends reuse it."""

        async def keep_file_id(session: AsyncSession) -> None:
            file_id = sent_file_id(message)
            if item.id is not None and file_id and item.id not in self._file_ids:
                self._file_ids[item.id] = file_id
                await content_store.set_media_file_id(
                    session=session, content_id=item.id, file_id=file_id
                )

        return keep_file_id

    async def _current_item(self, content_id: int) -> ContentItem | None:
        """Return the item, re-read at most every ``item_recheck`` seconds."""
        loop = asyncio.get_running_loop()
        last = self._item_read_at.get(content_id, -math.inf)
        if loop.time() - last >= self.tools.options.item_recheck:
            self._item_read_at[content_id] = loop.time()
            async with self.tools.runtime.sessions() as session:
                fresh = await content_store.get_item(session=session, content_id=content_id)
            if fresh is None:
                self._items.pop(content_id, None)
            else:
                self._items[content_id] = fresh
        return self._items.get(content_id)

    async def _card(self, row: ClaimedMessage, item: ContentItem) -> Card:
        """Render the card; other features' button providers run in their own transaction.

        What providers write (tracked links) commits before the send: a crash in between
        leaves an unused link, never a message without its link.
        """
        payload = row.payload
        async with self.tools.runtime.sessions() as session:
            recipient = CardRecipient(
                session=session,
                item=item,
                chat_id=row.chat_id,
                locale=str(payload.get("locale") or "zh_CN"),
                informant_id=payload.get("informant_id"),
                station_admin=bool(payload.get("station_admin")),
            )
            if not self._providers:
                return await build_card(recipient, self._providers, taxonomy=self._taxonomy)
            await self.tools.gate()
            async with session.begin():
                # Write first (the row itself): SQLite then waits for the lock, not fails.
                await outbox_store.touch(session=session, message_id=row.id)
                return await build_card(recipient, self._providers, taxonomy=self._taxonomy)


class PushProgress:
    """Edit curators' progress messages and report each finished push once."""

    def __init__(self, tools: SenderTools) -> None:
        self.tools = tools
        self._progress_at: dict[int, float] = {}
        self._edits = 0  # numbers this sender's progress edits (their dedupe keys)

    async def when_idle(self) -> None:
        """Finish and report pushes left with nothing pending by others (e.g. a retire).

        ``after_batch`` only sees pushes whose rows this sender handled; retiring an item
        fails its queued rows without a send, and a push's last full batch can end
        between two progress passes. Runs between batches, when this sender has no send
        in flight, and only reads unless a push is to be finished (``finish_push`` lets
        one process report it).
        """
        try:
            async with self.tools.runtime.sessions() as session:
                push_ids = await outbox_store.settled_pushes(session=session)
            await self.after_batch(set(push_ids), final_check=True)
        except Exception:  # a report is a courtesy; never stop the sender for it
            log.exception("finishing settled pushes failed")

    async def after_batch(self, push_ids: set[int], *, final_check: bool) -> None:
        """Edit curators' progress messages now and then; report finished pushes once."""
        if not push_ids:
            return
        loop = asyncio.get_running_loop()
        for push_id in sorted(push_ids):
            last = self._progress_at.get(push_id)
            due = last is None or loop.time() - last >= self.tools.options.progress_every
            if not (due or final_check):
                continue
            self._progress_at[push_id] = loop.time()
            async with self.tools.runtime.sessions() as session:
                push = await outbox_store.get_push(session=session, push_id=push_id)
                counts = await outbox_store.counts(session=session, push_id=push_id)
                item = (
                    await content_store.get_item(session=session, content_id=push.content_id)
                    if push is not None and push.content_id is not None
                    else None
                )
            if push is None or push.finished_at is not None:
                continue
            if counts["pending"] == 0:
                await self.tools.gate()
                async with self.tools.runtime.sessions() as session, session.begin():
                    won = await outbox_store.finish_push(
                        session=session, push_id=push_id, now=self.tools.runtime.now()
                    )
                if won:
                    self._progress_at.pop(push_id, None)
                    await self._report(push, counts, item, final=True)
            else:
                await self._report(push, counts, item, final=False)

    async def _report(
        self, push: Push, counts: dict[str, int], item: ContentItem | None, *, final: bool
    ) -> None:
        """Queue the edit of the curator's progress message, and the final report once.

        Both go through the outbox as conversation rows, so they reach the curator after
        the replies written before them (the progress message itself among them).
        """
        targeting = push.targeting or {}
        chat_id = targeting.get("report_chat")
        if final:
            log.info("push finished", extra={"push_id": push.id, **counts})
        if not isinstance(chat_id, int):
            return
        t = get_translator(str(targeting.get("report_locale") or "zh_CN"))
        title = item.title if item is not None else "—"
        now = self.tools.runtime.now()
        rows: list[NewMessage] = []
        progress_id = targeting.get("progress_message_id")
        if isinstance(progress_id, int) and progress_id != 0:
            self._edits += 1
            rows.append(
                NewMessage(
                    chat_id=chat_id,
                    kind=API_KIND,
                    payload={
                        "method": "editMessageText",
                        "params": {
                            "chat_id": chat_id,
                            "message_id": progress_id,
                            "text": progress_text(t, push, counts, title, final=final),
                            "parse_mode": "HTML",
                        },
                    },
                    dedupe_key=f"progress:{push.id}:{now.timestamp()}:{self._edits}",
                    due_at=now,
                )
            )
        if final:
            assert push.id is not None
            async with self.tools.runtime.sessions() as session:
                failures = await push_service.failure_summary(session=session, push_id=push.id)
                # A paid push's retry goes paid too, within what is left of its budget;
                # channel posts are never paid, so a retry of those alone is not either.
                paid_retry = (
                    self.tools.runtime.settings.broadcast.enabled
                    and failures.retryable_messages > 0
                    and await broadcast_service.retry_budget(session=session, push_id=push.id)
                    is not None
                )
            reasons = reasons_text(t, failures)
            text = report_text(t, push, counts, title) + (f"\n{reasons}" if reasons else "")
            rows.append(
                NewMessage(
                    chat_id=chat_id,
                    kind="message",
                    payload={
                        "text": text,
                        "rows": retry_rows(t, push.id, failures, paid=paid_retry),
                    },
                    dedupe_key=f"push-report:{push.id}",
                    due_at=now,
                )
            )
        await self._add_paid_note(push, t, rows)  # reach: the Stars a paid push spent
        await self.tools.gate()
        async with self.tools.runtime.sessions() as session, session.begin():
            await outbox_store.enqueue(session=session, push_id=None, messages=rows, now=now)

    async def _add_paid_note(self, push: Push, t: Translator, rows: list[NewMessage]) -> None:
        """Add the paid-broadcast line (messages, Stars spent, why it stopped) to the texts."""
        if push.id is None or not rows:
            return
        async with self.tools.runtime.sessions() as session:
            paid = await broadcast_store.get_broadcast(session=session, push_id=push.id)
        if paid is None:
            return
        note = "\n" + broadcast_service.paid_note(t, paid)
        chat_id = (push.targeting or {}).get("report_chat")
        if paid.state == broadcast_store.BALANCE and isinstance(chat_id, int):
            # Telegram refused paid sends for want of Stars: tell the curator, once.
            rows.append(
                NewMessage(
                    chat_id=chat_id,
                    kind="message",
                    payload={"text": broadcast_service.balance_warning(t, push.id)},
                    dedupe_key=f"paid-balance:{push.id}",
                    due_at=self.tools.runtime.now(),
                )
            )
        for row in rows:
            params = row.payload.get("params")
            if isinstance(params, dict) and isinstance(params.get("text"), str):
                params["text"] += note
            elif isinstance(row.payload.get("text"), str) and row.dedupe_key.startswith(
                "push-report:"
            ):
                row.payload["text"] += note
