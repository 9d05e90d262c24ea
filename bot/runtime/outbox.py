"""The outbox sender: works through due outbox rows at Telegram's pace, one send at a time.

Guarantees (see docs/content.md):
- no gap: a row leaves ``pending`` only after Telegram accepted the message (``sent``) or
  refused it for good (``blocked``, ``failed``); a crashed sender's claimed rows are claimed
  again when their lease runs out;
- no duplicate, except in one unavoidable window: the process dies after Telegram accepted
  a message and before the row's ``sent`` commit. Sends are strictly sequential and each
  row commits right after its send, so a crash repeats at most that one message.

Pace comes from the app's rate limiter (``bot.runtime.ratelimit``): a sliding window shared
by every send of the process lets exactly as many sends through as Telegram's window allows,
and ``content.sender_concurrency`` sends in flight keep it full. The sender sends with
``max_retries=0`` so a RetryAfter reaches it: the row (and the rest of the claimed batch)
is rescheduled and the sender pauses; the window slows down.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.content.cards import (
    CARD_BUTTON_PROVIDERS,
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
from bot.i18n import get_translator
from bot.runtime.context import Runtime, runtime_of
from bot.runtime.ratelimit import retry_after_seconds
from storage import content as content_store
from storage import outbox as outbox_store
from storage import people as people_store
from storage.models import ContentItem, Push

log = logging.getLogger(__name__)

OPTIONS_KEY = "outbox_options"
WAKEUP_KEY = "outbox_wakeup"
WORKER_KEY = "outbox_worker"
NO_RETRY = {"max_retries": 0}


@dataclass
class OutboxOptions:
    """How the sender works; defaults suit production."""

    batch_size: int = 50
    lease: dt.timedelta = dt.timedelta(seconds=30)
    max_attempts: int = 5
    backoff_base: float = 2.0  # seconds before the first retry of a transient failure
    backoff_max: float = 300.0
    idle_poll: float = 1.0  # how often to look for rows other processes enqueued
    hot_poll: float = 0.05  # poll interval right after a wake-up (the enqueue may commit late)
    hot_period: float = 2.0
    progress_every: float = 2.0  # seconds between progress edits of one push
    # Sends in flight at once. 1 = strictly sequential: a crash repeats at most one message.
    # Raise it when the round trip to the Bot API is long (at 30 msg/s and 100 ms RTT, 3-4
    # are needed to reach the cap); a crash may then repeat up to that many messages.
    concurrency: int = 1
    # Seconds between re-reads of an item while its rows are being sent: a retire or an
    # expiry stops the rest of a claimed batch within this long, not at the next claim.
    item_recheck: float = 1.0


@dataclass
class SenderStats:
    """What a sender did since it started."""

    sent: int = 0
    failed: int = 0
    blocked: int = 0
    retried: int = 0
    rate_limited: int = 0
    claimed: int = 0
    errors: dict[str, int] = field(default_factory=dict)


class _Abandon(Exception):
    """Stop at once, leaving claimed rows leased (``drain(max_sends=…)`` simulates a crash)."""


class _Final(Exception):
    """The row cannot be sent, now or later."""

    def __init__(self, state: str, error: str) -> None:
        super().__init__(error)
        self.state = state
        self.error = error


def notify_outbox(runtime: Runtime) -> None:
    """Wake the sender of this process: rows were (or are about to be) enqueued."""
    event = runtime.extras.get(WAKEUP_KEY)
    if event is not None:
        event.set()


def _buttons(rows: Any) -> InlineKeyboardMarkup | None:
    """Rebuild an inline keyboard stored in a payload as [[{text, url|callback_data}]]."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(**button) for button in row] for row in rows]
    )


class OutboxWorker:
    """Claim due rows, send them one by one, and record each outcome right away."""

    def __init__(
        self, bot: ExtBot[Any], runtime: Runtime, options: OutboxOptions | None = None
    ) -> None:
        self.bot = bot
        self.runtime = runtime
        self.options = (
            options
            or runtime.extras.get(OPTIONS_KEY)
            or OutboxOptions(concurrency=runtime.settings.content.sender_concurrency)
        )
        self.wakeup: asyncio.Event = runtime.extras.setdefault(WAKEUP_KEY, asyncio.Event())
        self.stats = SenderStats()
        self.busy = False
        self._stop = asyncio.Event()
        self._file_ids: dict[int, str] = {}
        self._progress_at: dict[int, float] = {}
        self._item_read_at: dict[int, float] = {}
        self._sweep_at = 0.0  # when an idle sender next looks for settled pushes
        self._sqlite = runtime.engine.dialect.name == "sqlite"

    # --- loop -------------------------------------------------------------------------
    def stop(self) -> None:
        """Finish the current message, give back the rest of the batch, then return."""
        self._stop.set()
        self.wakeup.set()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Send until stopped; wake on ``notify_outbox`` or when rows fall due."""
        loop = asyncio.get_running_loop()
        hot_until = loop.time() + self.options.hot_period
        watcher = asyncio.create_task(self._watch(stop)) if stop is not None else None
        try:
            while not self._stop.is_set():
                try:
                    handled = await self.process_batch()
                except Exception:  # a DB hiccup must not kill the sender; try again soon
                    log.exception("outbox batch failed")
                    handled = 0
                    await asyncio.sleep(1.0)
                if handled:
                    continue
                hot = loop.time() < hot_until
                if hot or loop.time() >= self._sweep_at:
                    await self._finish_settled()
                    self._sweep_at = loop.time() + self.options.progress_every
                wait = await self._idle_wait(hot)
                self.wakeup.clear()
                try:
                    await asyncio.wait_for(self.wakeup.wait(), timeout=wait)
                    hot_until = loop.time() + self.options.hot_period
                except TimeoutError:
                    pass
        finally:
            if watcher is not None:
                watcher.cancel()

    async def _watch(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self.stop()

    async def _idle_wait(self, hot: bool) -> float:
        """Return how long to sleep: until the next row is due, within the poll bounds."""
        ceiling = self.options.hot_poll if hot else self.options.idle_poll
        async with self.runtime.sessions() as session:
            due = await outbox_store.next_due_at(session=session)
        if due is None:
            return ceiling
        return min(max((due - self.runtime.now()).total_seconds(), 0.01), ceiling)

    async def drain(self, *, max_sends: int | None = None, timeout: float = 60.0) -> SenderStats:
        """Send everything due now (tests, benchmarks, CLI); return the stats.

        With ``max_sends`` the sender stops right after that many sends and leaves its
        other claimed rows leased, exactly as a crashed process would.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._max_sends = max_sends
        try:
            while loop.time() < deadline:
                if not await self.process_batch():
                    async with self.runtime.sessions() as session:
                        due = await outbox_store.count_due(session=session, now=self.runtime.now())
                    if not due:
                        break
                    await asyncio.sleep(0.01)
        except _Abandon:
            pass
        finally:
            self._max_sends = None
        return self.stats

    _max_sends: int | None = None

    # --- one batch --------------------------------------------------------------------
    async def process_batch(self) -> int:
        """Claim one batch and send it; return how many rows were handled."""
        self.busy = True
        try:
            return await self._process_batch()
        finally:
            self.busy = False

    async def _process_batch(self) -> int:
        now = self.runtime.now()
        # Look first in a read-only session: an idle sender never takes the write lock
        # (on SQLite a held lock makes other connections' read-then-write transactions fail).
        async with self.runtime.sessions() as session:
            if not await outbox_store.any_due(session=session, now=now):
                return 0
        await self._gate()
        async with self.runtime.sessions() as session, session.begin():
            rows = await outbox_store.claim_due(
                session=session,
                now=now,
                lease_until=now + self.options.lease,
                limit=self.options.batch_size,
            )
        if not rows:
            return 0
        self.stats.claimed += len(rows)
        content_ids = {int(r.payload["content_id"]) for r in rows if r.kind == "content"}
        async with self.runtime.sessions() as session:
            items = await content_store.get_items(session=session, content_ids=content_ids)
        loop = asyncio.get_running_loop()
        self._item_read_at.update(dict.fromkeys(content_ids, loop.time()))
        touched = {row.push_id for row in rows if row.push_id is not None}
        lease_end = loop.time() + self.options.lease.total_seconds() * 0.8
        # Up to ``concurrency`` sends overlap (network latency); each still commits its own
        # outcome right after its send, so a crash repeats at most ``concurrency`` messages.
        slots = asyncio.Semaphore(max(1, self.options.concurrency))
        flood: list[float] = []
        unsent: list[int] = []

        async def one(row: outbox_store.ClaimedMessage) -> None:
            async with slots:
                if flood or self._stop.is_set() or loop.time() > lease_end:
                    unsent.append(row.id)
                    return
                wait = await self._send_one(row, items)
                if wait is not None:
                    flood.append(wait)

        if self.options.concurrency <= 1:
            for row in rows:
                await one(row)
        else:
            results = await asyncio.gather(*(one(row) for row in rows), return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    raise result
        handled = len(rows) - len(unsent)
        if flood:  # flood control: give the rest back and pause the whole sender
            wait = max(flood)
            await self._release(unsent, self.runtime.now() + dt.timedelta(seconds=wait))
            await asyncio.sleep(wait)
        elif unsent:
            await self._release(unsent, self.runtime.now())
        await self._progress(touched, final_check=len(rows) < self.options.batch_size)
        return handled

    async def _release(self, ids: list[int], due_at: dt.datetime) -> None:
        if not ids:
            return
        await self._gate()
        async with self.runtime.sessions() as session, session.begin():
            await outbox_store.release(session=session, ids=ids, due_at=due_at)

    async def _gate(self) -> None:
        """On SQLite, commit only between inbox batches.

        A SQLite transaction that read first cannot write after another connection
        committed (WAL snapshot); the inbox processor reads, then writes, in each batch.
        """
        if not self._sqlite:
            return
        processor = self.runtime.extras.get("processor")
        for _ in range(400):
            if processor is None or not getattr(processor, "busy", False):
                return
            await asyncio.sleep(0.005)

    async def _send_one(
        self, row: outbox_store.ClaimedMessage, items: dict[int, ContentItem]
    ) -> float | None:
        """Send one row and record the outcome; return a flood wait in seconds, if any."""
        attempts = row.attempts + 1
        if self._max_sends is not None and self.stats.sent >= self._max_sends:
            raise _Abandon
        try:
            message, item = await self._deliver(row, items)
            await self._gate()
            async with self.runtime.sessions() as session, session.begin():
                await outbox_store.mark_sent(
                    session=session,
                    message_id=row.id,
                    now=self.runtime.now(),
                    telegram_message_id=message.message_id,
                    attempts=attempts,
                )
                if item is not None and item.id is not None:
                    file_id = sent_file_id(message)
                    if file_id and item.id not in self._file_ids:
                        self._file_ids[item.id] = file_id
                        await content_store.set_media_file_id(
                            session=session, content_id=item.id, file_id=file_id
                        )
            self.stats.sent += 1
            return None
        except _Abandon:
            raise
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            self.stats.rate_limited += 1
            await self._release([row.id], self.runtime.now() + dt.timedelta(seconds=wait))
            log.warning("outbox flood control", extra={"retry_after": wait})
            return wait
        except Forbidden as exc:
            await self._finish(
                row, "blocked", f"Forbidden: {exc.message}", attempts, unreachable=True
            )
        except BadRequest as exc:
            await self._finish(row, "failed", f"BadRequest: {exc.message}", attempts)
        except NetworkError as exc:  # timeouts, 5xx, dropped connections
            await self._retry(row, f"{type(exc).__name__}: {exc.message}", attempts)
        except _Final as exc:
            await self._finish(row, exc.state, exc.error, attempts)
        except TelegramError as exc:
            await self._finish(row, "failed", f"{type(exc).__name__}: {exc.message}", attempts)
        except (OSError, ValueError, KeyError, TypeError) as exc:  # unreadable media, payload
            await self._finish(row, "failed", f"{type(exc).__name__}: {exc}", attempts)
        return None

    async def _deliver(
        self, row: outbox_store.ClaimedMessage, items: dict[int, ContentItem]
    ) -> tuple[Message, ContentItem | None]:
        """Send the message a row describes; no database lock is held while sending."""
        payload = row.payload
        if row.kind == "content":
            item = await self._current_item(int(payload["content_id"]), items)
            if item is None:
                raise _Final("failed", "content_missing")
            state = item_state(item, self.runtime.now())
            if state in ("retired", "expired"):
                raise _Final("failed", f"content_{state}")
            if item.id in self._file_ids and not item.media_file_id:
                item.media_file_id = self._file_ids[item.id]
            card = await self._card(row, item)
            message = await send_card(self.bot, row.chat_id, card, rate_limit_args=NO_RETRY)
            return message, (item if uploads_file(card) else None)
        if row.kind == "message":
            message = await self.bot.send_message(
                row.chat_id,
                payload["text"],
                parse_mode="HTML",
                reply_markup=_buttons(payload.get("rows")),
                rate_limit_args=NO_RETRY,
            )
            return message, None
        raise _Final("failed", f"unknown_kind:{row.kind}")

    async def _current_item(
        self, content_id: int, items: dict[int, ContentItem]
    ) -> ContentItem | None:
        """Return the item, re-read at most every ``item_recheck`` seconds."""
        loop = asyncio.get_running_loop()
        last = self._item_read_at.get(content_id, -math.inf)
        if loop.time() - last >= self.options.item_recheck:
            self._item_read_at[content_id] = loop.time()
            async with self.runtime.sessions() as session:
                fresh = await content_store.get_item(session=session, content_id=content_id)
            if fresh is None:
                items.pop(content_id, None)
            else:
                items[content_id] = fresh
        return items.get(content_id)

    async def _card(self, row: outbox_store.ClaimedMessage, item: ContentItem) -> Card:
        """Render the card; other features' button providers run in their own transaction.

        What providers write (tracked links) commits before the send: a crash in between
        leaves an unused link, never a message without its link.
        """
        payload = row.payload
        async with self.runtime.sessions() as session:
            recipient = CardRecipient(
                session=session,
                item=item,
                chat_id=row.chat_id,
                locale=str(payload.get("locale") or "zh_CN"),
                informant_id=payload.get("informant_id"),
                station_admin=bool(payload.get("station_admin")),
            )
            if not CARD_BUTTON_PROVIDERS:
                return await build_card(recipient)
            await self._gate()
            async with session.begin():
                # Write first (the row itself): SQLite then waits for the lock, not fails.
                await outbox_store.touch(session=session, message_id=row.id)
                return await build_card(recipient)

    async def _finish(
        self,
        row: outbox_store.ClaimedMessage,
        state: str,
        error: str,
        attempts: int,
        *,
        unreachable: bool = False,
    ) -> None:
        await self._gate()
        async with self.runtime.sessions() as session, session.begin():
            await outbox_store.mark_final(
                session=session, message_id=row.id, state=state, error=error, attempts=attempts
            )
            if unreachable:
                await people_store.mark_unreachable(session=session, telegram_id=row.chat_id)
        if state == "blocked":
            self.stats.blocked += 1
        else:
            self.stats.failed += 1
        key = error.split(":")[0]
        self.stats.errors[key] = self.stats.errors.get(key, 0) + 1

    async def _retry(self, row: outbox_store.ClaimedMessage, error: str, attempts: int) -> None:
        if attempts >= self.options.max_attempts:
            await self._finish(row, "failed", error, attempts)
            return
        delay = min(self.options.backoff_base * 2 ** (attempts - 1), self.options.backoff_max)
        await self._gate()
        async with self.runtime.sessions() as session, session.begin():
            await outbox_store.mark_retry(
                session=session,
                message_id=row.id,
                due_at=self.runtime.now() + dt.timedelta(seconds=delay),
                error=error,
                attempts=attempts,
            )
        self.stats.retried += 1

    # --- progress ---------------------------------------------------------------------
    async def _finish_settled(self) -> None:
        """Finish and report pushes left with nothing pending by others (e.g. a retire).

        ``_progress`` only sees pushes whose rows this sender handled; retiring an item
        fails its queued rows without a send, and a push's last full batch can end
        between two progress passes. Runs between batches, when this sender has no send
        in flight, and only reads unless a push is to be finished (``finish_push`` lets
        one process report it).
        """
        try:
            async with self.runtime.sessions() as session:
                push_ids = await outbox_store.settled_pushes(session=session)
            await self._progress(set(push_ids), final_check=True)
        except Exception:  # a report is a courtesy; never stop the sender for it
            log.exception("finishing settled pushes failed")

    async def _progress(self, push_ids: set[int], *, final_check: bool) -> None:
        """Edit curators' progress messages now and then; report finished pushes once."""
        if not push_ids:
            return
        loop = asyncio.get_running_loop()
        for push_id in sorted(push_ids):
            last = self._progress_at.get(push_id)
            due = last is None or loop.time() - last >= self.options.progress_every
            if not (due or final_check):
                continue
            self._progress_at[push_id] = loop.time()
            async with self.runtime.sessions() as session:
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
                await self._gate()
                async with self.runtime.sessions() as session, session.begin():
                    won = await outbox_store.finish_push(
                        session=session, push_id=push_id, now=self.runtime.now()
                    )
                if won:
                    self._progress_at.pop(push_id, None)
                    await self._report(push, counts, item, final=True)
            else:
                await self._report(push, counts, item, final=False)

    async def _report(
        self, push: Push, counts: dict[str, int], item: ContentItem | None, *, final: bool
    ) -> None:
        """Edit the curator's progress message; send the final report as a new message."""
        targeting = push.targeting or {}
        chat_id = targeting.get("report_chat")
        if final:
            log.info("push finished", extra={"push_id": push.id, **counts})
        if chat_id is None:
            return
        t = get_translator(str(targeting.get("report_locale") or "zh_CN"))
        title = item.title if item is not None else "—"
        try:
            message_id = targeting.get("progress_message_id")
            if message_id is not None:
                await self.bot.edit_message_text(
                    progress_text(t, push, counts, title, final=final),
                    chat_id=chat_id,
                    message_id=int(message_id),
                    parse_mode="HTML",
                )
            if final:
                await self.bot.send_message(
                    chat_id, report_text(t, push, counts, title), parse_mode="HTML"
                )
        except TelegramError as exc:  # a report is a courtesy; never stop sending for it
            log.warning("push report failed", extra={"push_id": push.id, "error": str(exc)})


async def start_outbox(app: Any, stop: asyncio.Event) -> None:
    """Service starter for ``kepubot run``: run this process's sender until ``stop``."""
    runtime = runtime_of(app)
    worker = OutboxWorker(app.bot, runtime)
    runtime.extras[WORKER_KEY] = worker
    await worker.run(stop)
