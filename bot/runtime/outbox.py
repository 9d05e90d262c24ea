"""The outbox sender: works through due outbox rows at Telegram's pace and records each outcome.

It sends ``message`` rows (notices) and ``api`` rows (the Bot API calls handlers made while an
update was processed, see ``bot.runtime.effects``) itself, and hands every other kind to the
deliverer a feature declared (``content`` cards, group member counts …). It knows no feature.

Guarantees (see docs/architecture.md and docs/content.md):
- no gap: a row leaves ``pending`` only after Telegram accepted it (``sent``) or refused it
  for good (``blocked``, ``failed``); a crashed sender's rows are claimed again when their
  lease runs out;
- no duplicate, except in one unavoidable window: the process dies after Telegram accepted
  a message and before the row's ``sent`` commit; each row commits right after its send;
- a chat's conversation rows (``api``, ``message``) go out in the order they were written,
  and a chat at its per-chat limit is put off instead of holding up the others.

Replies of a just-committed batch are handed over by the inbox processor (``send_soon``):
one queue per chat, sent at once, no claim needed. Pace comes from the app's rate limiter
(``bot.runtime.ratelimit``); the sender sends with ``max_retries=0`` so a RetryAfter reaches
it: the rest of the batch is given back and the sender pauses.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ExtBot
from telegram.warnings import PTBUserWarning

from bot.runtime.context import Runtime, runtime_of
from bot.runtime.effects import API_KIND, ERASE_AFTER_SEND, decode_call
from bot.runtime.ratelimit import (
    PAID,
    KepuRateLimiter,
    Reserve,
    balance_too_low,
    last_lane,
    paying,
    retry_after_seconds,
)
from storage import broadcast as broadcast_store
from storage import outbox as outbox_store
from storage import people as people_store
from storage.outbox import ClaimedMessage

log = logging.getLogger(__name__)
# Deferred calls are stored as method + JSON and sent with do_api_request on purpose; PTB
# warns that a typed method exists for each (the poller filters its getUpdates likewise).
warnings.filterwarnings(
    "ignore", message=r"Please use 'Bot\.\w+' instead of", category=PTBUserWarning
)

OPTIONS_KEY = "outbox_options"
WAKEUP_KEY = "outbox_wakeup"
WORKER_KEY = "outbox_worker"
NO_RETRY = {"max_retries": 0}
# One update's effects go out in the order written, except the chat's command menu, which
# no one waits for: it goes after the replies.
HANDOVER_RANK = {"setMyCommands": 2, "setChatMenuButton": 2}
BUSY_PAUSE = 0.1  # seconds to wait when every due row's chat is at its per-chat limit


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


class Undeliverable(Exception):
    """The row cannot be sent, now or later (a deliverer raises it)."""

    def __init__(self, state: str, error: str) -> None:
        super().__init__(error)
        self.state = state
        self.error = error


@dataclass(frozen=True)
class Delivery:
    """What a deliverer sent, and what to write in the transaction that marks it sent."""

    message_id: int | None  # the Telegram message it created, if any
    after: Callable[[AsyncSession], Awaitable[None]] | None = None


class Deliverer(Protocol):
    """Sends the rows of one kind (``outbox_message.kind``) that features declare."""

    async def prepare(self, rows: Sequence[ClaimedMessage]) -> None:
        """Read what the claimed rows of this kind need, once per batch."""

    async def deliver(self, row: ClaimedMessage) -> Delivery:
        """Send one row; raise ``Undeliverable`` when it can never be sent."""


class SenderObserver(Protocol):
    """Follows the sender's progress (e.g. a push's progress report)."""

    async def after_batch(self, push_ids: set[int], *, final_check: bool) -> None:
        """React to a batch that touched rows of ``push_ids``."""

    async def when_idle(self) -> None:
        """Look around while the sender has nothing to send."""


@dataclass(frozen=True)
class SenderTools:
    """What deliverers and observers work with: the app, its bot, the runtime, the gate."""

    application: Application[Any, Any, Any, Any, Any, Any]
    bot: ExtBot[Any]
    runtime: Runtime
    options: OutboxOptions
    gate: Callable[[], Awaitable[None]]


DelivererFactory = Callable[[SenderTools], Deliverer]
ObserverFactory = Callable[[SenderTools], SenderObserver]


def notify_outbox(runtime: Runtime) -> None:
    """Wake the sender of this process: rows were (or are about to be) enqueued."""
    _wake(runtime.extras)


def _wake(extras: dict[str, Any]) -> None:
    event = extras.get(WAKEUP_KEY)
    if event is not None:
        event.set()


def wake_on_commit(extras: dict[str, Any]) -> Callable[[Session], None]:
    """Return the after-commit hook that wakes the sender when a commit enqueued rows.

    The sender is woken at the commit itself, not at its next poll, and never before the
    rows are visible to it. ``extras`` is the runtime's (the sender keeps its event there).
    """

    def wake(session: Session) -> None:
        if session.info.pop(outbox_store.ENQUEUED, False):
            _wake(extras)

    return wake


def _buttons(rows: Any) -> InlineKeyboardMarkup | None:
    """Rebuild an inline keyboard stored in a payload as [[{text, url|callback_data}]]."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(**button) for button in row] for row in rows]
    )


class OutboxWorker:
    """Claim due rows, send them one by one, and record each outcome right away.

    Plain ``message`` rows are sent here; other kinds go to the deliverers features declare.
    """

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        options: OutboxOptions | None = None,
        *,
        deliverers: Mapping[str, DelivererFactory] | None = None,
        observers: Sequence[ObserverFactory] = (),
    ) -> None:
        runtime = runtime_of(application)
        self.bot: ExtBot[Any] = application.bot
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
        self._sweep_at = 0.0  # when an idle sender next lets observers look around
        self.had_busy = False  # the last batch put off rows of chats at their limit
        self._chat_queues: dict[int, list[ClaimedMessage]] = {}
        self._chat_tasks: dict[int, asyncio.Task[None]] = {}
        self._handover_slots = asyncio.Semaphore(max(1, self.options.concurrency))
        self._sqlite = runtime.engine.dialect.name == "sqlite"
        self._paid_on: dict[int, bool] = {}  # push id → may still send paid (docs/reach.md)
        tools = SenderTools(application, self.bot, runtime, self.options, self._gate)
        self._deliverers = {kind: make(tools) for kind, make in (deliverers or {}).items()}
        self._observers = [make(tools) for make in observers]

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
                if self.had_busy:  # only rows of chats at their limit: they are free soon
                    self.had_busy = False
                    await asyncio.sleep(BUSY_PAUSE)
                    continue
                hot = loop.time() < hot_until
                if hot or loop.time() >= self._sweep_at:
                    await self._when_idle()
                    self._sweep_at = loop.time() + self.options.progress_every
                try:
                    wait = await self._idle_wait(hot)
                except Exception:  # e.g. "database is locked": look again a bit later
                    log.exception("outbox idle check failed")
                    wait = self.options.idle_poll
                self.wakeup.clear()
                try:
                    await asyncio.wait_for(self.wakeup.wait(), timeout=wait)
                    hot_until = loop.time() + self.options.hot_period
                except TimeoutError:
                    pass
        finally:
            if watcher is not None:
                watcher.cancel()
            await self._finish_handovers()

    async def _finish_handovers(self) -> None:
        """Let the per-chat queues give their rows back (they see the stop), then return."""
        tasks = list(self._chat_tasks.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=5.0)
        for task in pending:  # their rows stay leased: another sender takes them later
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

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
        await self._load_paid({row.push_id for row in rows if row.push_id is not None})
        for kind, deliverer in self._deliverers.items():
            of_kind = [r for r in rows if r.kind == kind]
            if of_kind:
                await deliverer.prepare(of_kind)
        loop = asyncio.get_running_loop()
        touched = {row.push_id for row in rows if row.push_id is not None}
        lease = _Lease(self, rows, now + self.options.lease, loop.time())
        # Up to ``concurrency`` sends overlap (network latency); each still commits its own
        # outcome right after its send, so a crash repeats at most ``concurrency`` messages.
        slots = asyncio.Semaphore(max(1, self.options.concurrency))
        flood: list[float] = []
        unsent: list[int] = []
        busy: list[int] = []

        async def one(row: ClaimedMessage) -> None:
            if self._chat_busy(row):
                # Its chat had its share of this second: put it off rather than hold a
                # slot, so one user's burst never delays the others.
                busy.append(row.id)
                return
            async with slots:
                if flood or self._stop.is_set() or not await lease.keep():
                    unsent.append(row.id)
                    return
                if row.id in lease.lost:  # taken over by another sender: it sends it
                    lease.done(row.id)
                    return
                wait = await self._send_one(row)
                lease.done(row.id)
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
        handled = len(rows) - len(unsent) - len(busy)
        # A busy chat's row is given back at once; the loop waits a moment before claiming
        # again when nothing else was sent (self.had_busy), so it does not spin.
        self.had_busy = bool(busy)
        held = lease.until
        await self._release(busy + ([] if flood else unsent), self.runtime.now(), held)
        if flood:  # flood control: give the rest back and pause the whole sender
            wait = max(flood)
            later = self.runtime.now() + dt.timedelta(seconds=wait)
            await self._release(unsent, later, held)
            await asyncio.sleep(wait)
        await self._after_batch(touched, final_check=len(rows) < self.options.batch_size)
        return handled

    async def _release(
        self, ids: list[int], due_at: dt.datetime, held_until: dt.datetime | None = None
    ) -> None:
        if not ids:
            return
        await self._gate()
        async with self.runtime.sessions() as session, session.begin():
            await outbox_store.release(
                session=session, ids=ids, due_at=due_at, held_until=held_until
            )

    async def _renew(
        self, ids: set[int], held_until: dt.datetime, lease_until: dt.datetime
    ) -> set[int]:
        """Extend the lease of a batch's unsent rows; return those this sender still holds."""
        await self._gate()
        async with self.runtime.sessions() as session, session.begin():
            return await outbox_store.renew(
                session=session, ids=ids, held_until=held_until, lease_until=lease_until
            )

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

    async def _send_one(self, row: ClaimedMessage) -> float | None:
        """Send one row and record the outcome; return a flood wait in seconds, if any."""
        attempts = row.attempts + 1
        if self._max_sends is not None and self.stats.sent >= self._max_sends:
            raise _Abandon
        reserve = self._reserver(row)
        try:
            with paying(reserve):
                try:
                    delivery = await self._deliver(row)
                finally:
                    lane = last_lane()
            await self._gate()
            async with self.runtime.sessions() as session, session.begin():
                if row.payload.get(ERASE_AFTER_SEND):
                    await outbox_store.delete_row(session=session, message_id=row.id)
                else:
                    await outbox_store.mark_sent(
                        session=session,
                        message_id=row.id,
                        now=self.runtime.now(),
                        telegram_message_id=delivery.message_id,
                        attempts=attempts,
                    )
                if delivery.after is not None:
                    await delivery.after(session)
            self.stats.sent += 1
            return None
        except _Abandon:
            raise
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            await self._refund(row, lane)
            self.stats.rate_limited += 1
            await self._release([row.id], self.runtime.now() + dt.timedelta(seconds=wait))
            log.warning("outbox flood control", extra={"retry_after": wait})
            return wait
        except Forbidden as exc:
            await self._finish(
                row, "blocked", f"Forbidden: {exc.message}", attempts, unreachable=True
            )
        except BadRequest as exc:
            await self._refund(row, lane)
            if lane == PAID and balance_too_low(exc.message):
                # Telegram refused the paid send for want of Stars: this push goes on at the
                # free rate from now on, this row first (not counted as an attempt).
                await self._balance_too_low(row)
                return None
            await self._finish(row, "failed", f"BadRequest: {exc.message}", attempts)
        except NetworkError as exc:  # timeouts, 5xx, dropped connections
            # A timeout may have been taken (and paid): only a refusal gives the Stars back.
            await self._retry(row, f"{type(exc).__name__}: {exc.message}", attempts)
        except Undeliverable as exc:
            await self._finish(row, exc.state, exc.error, attempts)
        except TelegramError as exc:
            await self._refund(row, lane)
            await self._finish(row, "failed", f"{type(exc).__name__}: {exc.message}", attempts)
        except (OSError, ValueError, KeyError, TypeError) as exc:  # unreadable media, payload
            await self._finish(row, "failed", f"{type(exc).__name__}: {exc}", attempts)
        return None

    # --- paid broadcasts (docs/reach.md) -----------------------------------------------
    def _limiter(self) -> KepuRateLimiter | None:
        limiter = self.bot.rate_limiter
        return limiter if isinstance(limiter, KepuRateLimiter) else None

    async def _load_paid(self, push_ids: set[int]) -> None:
        """Read which of the batch's pushes may still send paid (one query per batch)."""
        limiter = self._limiter()
        if not push_ids or limiter is None or limiter.paid_rate <= 0:
            return
        async with self.runtime.sessions() as session:
            rows = await broadcast_store.broadcasts(session=session, push_ids=push_ids)
        for push_id in push_ids:
            row = rows.get(push_id)
            self._paid_on[push_id] = row is not None and row.state == broadcast_store.ON
        if len(self._paid_on) > 10_000:
            self._paid_on = {p: on for p, on in self._paid_on.items() if p in push_ids}

    def _reserver(self, row: ClaimedMessage) -> Reserve | None:
        """Return the budget check that lets this row go paid, or None (free lane only)."""
        push_id = row.push_id
        if push_id is None or not self._paid_on.get(push_id):
            return None

        async def reserve() -> bool:
            await self._gate()
            async with self.runtime.sessions() as session, session.begin():
                ok = await broadcast_store.reserve_paid(
                    session=session, push_id=push_id, now=self.runtime.now()
                )
            if not ok:
                self._paid_on[push_id] = False  # the budget is spent: free from now on
            return ok

        return reserve

    async def _refund(self, row: ClaimedMessage, lane: str | None) -> None:
        """Give a paid reservation back when Telegram did not take the message."""
        if lane != PAID or row.push_id is None:
            return
        await self._gate()
        async with self.runtime.sessions() as session, session.begin():
            await broadcast_store.refund_paid(session=session, push_id=row.push_id)

    async def _balance_too_low(self, row: ClaimedMessage) -> None:
        """Stop paid sends of the row's push, tell its curator once, send the row again."""
        assert row.push_id is not None
        self._paid_on[row.push_id] = False
        await self._gate()
        async with self.runtime.sessions() as session, session.begin():
            # The push's progress report tells the curator (the content feature's observer).
            await broadcast_store.stop(
                session=session,
                push_id=row.push_id,
                state=broadcast_store.BALANCE,
                now=self.runtime.now(),
            )
            await outbox_store.release(session=session, ids=[row.id], due_at=self.runtime.now())
        log.warning("paid broadcast stopped: Stars balance too low", extra={"push": row.push_id})

    async def _deliver(self, row: ClaimedMessage) -> Delivery:
        """Send the message a row describes; no database lock is held while sending."""
        if row.kind == "message":
            message = await self.bot.send_message(
                row.chat_id,
                row.payload["text"],
                parse_mode="HTML",
                reply_markup=_buttons(row.payload.get("rows")),
                rate_limit_args=NO_RETRY,
            )
            return Delivery(message.message_id)
        if row.kind == API_KIND:
            return await self._deliver_call(row)
        deliverer = self._deliverers.get(row.kind)
        if deliverer is None:
            raise Undeliverable("failed", f"unknown_kind:{row.kind}")
        return await deliverer.deliver(row)

    # --- replies handed over by the inbox processor --------------------------------------
    def send_soon(self, rows: Sequence[ClaimedMessage]) -> None:
        """Send rows leased to this process right away, each chat's in order.

        The inbox processor calls this when the transaction that wrote them has committed,
        so a reply needs no claim and no wake-up of its own. Each chat has one queue and at
        most one task draining it, so replies to consecutive updates keep their order.
        """
        for row in rows:
            queue = self._chat_queues.setdefault(row.chat_id, [])
            queue.append(row)
            if row.chat_id not in self._chat_tasks:
                task = asyncio.create_task(self._drain_chat(row.chat_id))
                self._chat_tasks[row.chat_id] = task

    async def _drain_chat(self, chat_id: int) -> None:
        """Send one chat's queued rows in order; give the rest to the sender if it must wait.

        Replies, edits and answers go in the order written; the chat's command menu last.
        """
        try:
            while queue := self._chat_queues.get(chat_id):
                queue.sort(key=lambda r: HANDOVER_RANK.get(str(r.payload.get("method")), 1))
                row = queue[0]
                if self._stop.is_set() or self._chat_busy(row):
                    await self._give_back(queue, self.runtime.now())
                    continue
                async with self._handover_slots:
                    wait = await self._send_one(row)
                queue.pop(0)
                if wait is not None:
                    later = self.runtime.now() + dt.timedelta(seconds=wait)
                    await self._give_back(queue, later)
        except Exception:  # the rows stay leased: the sender takes them when that runs out
            log.exception("handing replies over failed", extra={"chat_id": chat_id})
        finally:
            self._chat_queues.pop(chat_id, None)
            self._chat_tasks.pop(chat_id, None)

    async def _give_back(self, queue: list[ClaimedMessage], due_at: dt.datetime) -> None:
        """Hand the queued rows to the claiming sender (rows queued meanwhile stay)."""
        taken = list(queue)
        del queue[: len(taken)]
        await self._release([r.id for r in taken], due_at)

    async def _deliver_call(self, row: ClaimedMessage) -> Delivery:
        """Send a Bot API call a handler made while its update was processed."""
        method = str(row.payload["method"])
        kwargs = decode_call(row.payload)
        await self._resolve_stand_ins(kwargs)
        result = await self.bot.do_api_request(method, api_kwargs=kwargs, rate_limit_args=NO_RETRY)
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return Delivery(int(message_id) if message_id is not None else None)

    async def _resolve_stand_ins(self, kwargs: dict[str, Any]) -> None:
        """Replace a stand-in message id (minus an outbox row's id) by the one it got."""
        stand_in = kwargs.get("message_id")
        if not isinstance(stand_in, int) or stand_in >= 0:
            return
        async with self.runtime.sessions() as session:
            real = await outbox_store.sent_message_id(session=session, row_id=-stand_in)
        if real is None:
            raise Undeliverable("failed", "stand_in_not_sent")
        kwargs["message_id"] = real

    def _chat_busy(self, row: ClaimedMessage) -> bool:
        """Tell whether a conversation row would wait on its chat's limit right now."""
        limiter = self.bot.rate_limiter
        if row.kind not in outbox_store.ORDERED_KINDS or not isinstance(limiter, KepuRateLimiter):
            return False
        return not limiter.chat_ready(row.chat_id)

    async def _after_batch(self, push_ids: set[int], *, final_check: bool) -> None:
        for observer in self._observers:
            await observer.after_batch(push_ids, final_check=final_check)

    async def _when_idle(self) -> None:
        for observer in self._observers:
            try:
                await observer.when_idle()
            except Exception:  # looking around is a courtesy; never stop the sender for it
                log.exception("outbox observer failed")

    async def _finish(
        self,
        row: ClaimedMessage,
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

    async def _retry(self, row: ClaimedMessage, error: str, attempts: int) -> None:
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


class _Lease:
    """The lease on one claimed batch: renewed while the batch is worked through.

    Halfway through the lease the sender extends it for the rows it has not sent yet; rows
    another sender took over meanwhile (this one stalled past its lease) come back as
    ``lost`` and are not sent here. A renewal that fails (the database is away) stops the
    batch once the lease is four-fifths gone: the rest is given back, as before.
    """

    def __init__(
        self, worker: OutboxWorker, rows: Sequence[ClaimedMessage], until: dt.datetime, t0: float
    ) -> None:
        self.worker = worker
        self.until = until
        self.length = worker.options.lease
        seconds = self.length.total_seconds()
        self.renew_at = t0 + seconds / 2
        self.expires_at = t0 + seconds * 0.8
        self.unsent = {row.id for row in rows}
        self.lost: set[int] = set()
        self._lock = asyncio.Lock()

    def done(self, row_id: int) -> None:
        """Forget a row that was sent (or left to its new owner)."""
        self.unsent.discard(row_id)

    async def keep(self) -> bool:
        """Renew the lease if it is due; return False when it can no longer be trusted."""
        loop = asyncio.get_running_loop()
        if loop.time() < self.renew_at:
            return True
        async with self._lock:
            if loop.time() < self.renew_at:
                return True
            ask = self.unsent - self.lost
            new_until = self.worker.runtime.now() + self.length
            try:
                held = await self.worker._renew(ask, self.until, new_until) if ask else set()
            except Exception:  # keep the old lease; stop before it runs out
                log.exception("outbox lease renewal failed")
                return loop.time() < self.expires_at
            self.lost |= ask - held
            if ask - held:
                log.warning("outbox rows taken over", extra={"rows": len(ask - held)})
            self.until = new_until
            seconds = self.length.total_seconds()
            self.renew_at = loop.time() + seconds / 2
            self.expires_at = loop.time() + seconds * 0.8
            return True


def outbox_service(
    deliverers: Mapping[str, DelivererFactory], observers: Sequence[ObserverFactory]
) -> Callable[[Any, asyncio.Event], Coroutine[Any, Any, None]]:
    """Return the service that runs this process's sender until ``stop``."""

    async def outbox_sender(app: Any, stop: asyncio.Event) -> None:
        worker = OutboxWorker(app, deliverers=deliverers, observers=observers)
        runtime_of(app).extras[WORKER_KEY] = worker
        await worker.run(stop)

    return outbox_sender
