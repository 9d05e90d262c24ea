"""Process stored updates exactly once: one transaction per batch, a savepoint per update.

A handler's database writes, its replies (outbox rows, see ``bot.runtime.effects``) and the
row's ``done`` mark commit together, so a crash at any instant either loses the whole batch
(it is processed again, and replies once) or keeps all of it; the replies are handed to the
sender once the batch has committed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop

from bot.runtime.context import Runtime, UpdateScope, current_scope
from bot.runtime.logs import log_context
from bot.runtime.outbox import WORKER_KEY
from storage import dialogs as dialog_store
from storage import inbox as inbox_store
from storage import outbox as outbox_store

log = logging.getLogger(__name__)


# After a batch of fewer than COALESCE_BELOW updates the loop waits COALESCE_WAIT seconds
# before the next claim (only while updates keep coming: an idle processor claims at once).
COALESCE_BELOW = 20
COALESCE_WAIT = 0.005


class HandlerFailed(Exception):
    """A handler raised; the update's savepoint is rolled back."""


# Set-based handlers for update kinds that arrive in floods and need no reply (e.g.
# chosen_inline_result): one call per batch instead of one PTB dispatch per update. A
# feature declares them by the payload key they handle. The handler gets the raw payloads
# and the batch's session; it must apply the same rules as the per-update handler. If it
# raises, its savepoint is rolled back and those updates go one by one instead.
BatchHandler = Callable[[Runtime, AsyncSession, list[dict[str, Any]]], Awaitable[None]]


@dataclass
class BatchResult:
    """What one processing pass did."""

    done: int = 0
    retried: int = 0
    parked: int = 0

    @property
    def total(self) -> int:
        """Return how many updates were touched."""
        return self.done + self.retried + self.parked


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(2**attempts, 300))


async def record_handler_error(update: object, context: Any) -> None:
    """Error handler: remember the failure so the processor rolls the update back.

    Raising ApplicationHandlerStop keeps later handler groups (e.g. the fallback reply)
    from running on an update whose effects are about to be undone.
    """
    scope = current_scope.get()
    if scope is not None and context.error is not None:
        scope.error = context.error
        raise ApplicationHandlerStop


class InboxProcessor:
    """Claim pending inbox rows and feed them to the PTB application."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        *,
        batch_handlers: Mapping[str, BatchHandler] | None = None,
    ) -> None:
        self.application = application
        self.batch_handlers = dict(batch_handlers or {})
        self.runtime: Runtime = application.bot_data["runtime"]
        self.wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._last_purge: dt.datetime | None = None
        self.busy = False  # a batch is being processed (tests wait for it to settle)
        self.on_parked: list[Any] = []  # async callables(update_payload, error) for alerts

    def notify(self) -> None:
        """Wake the loop: new rows were stored."""
        self.wakeup.set()

    def stop(self) -> None:
        """Finish the current batch, then return from ``run``."""
        self._stopping.set()
        self.wakeup.set()

    async def run(self, *, idle_poll: float = 1.0) -> None:
        """Process until stopped; poll now and then for rows stored by other processes."""
        failures = 0
        while not self._stopping.is_set():
            try:
                result = await self.process_batch()
                failures = 0
            except Exception:
                # A database hiccup (SQLite busy past its timeout, a dropped PostgreSQL
                # connection) rolled the batch back: nothing is lost, try again shortly.
                failures += 1
                log.exception("inbox batch failed", extra={"failures": failures})
                await self._sleep(min(2.0**failures / 4, 30.0))
                continue
            if result.total:
                if result.total < COALESCE_BELOW:
                    # Under a flood, small batches cost a transaction each: let the next
                    # one fill up a little (a few ms) before claiming it.
                    await asyncio.sleep(COALESCE_WAIT)
                continue
            await self._maybe_purge()
            self.wakeup.clear()
            try:
                await asyncio.wait_for(self.wakeup.wait(), timeout=idle_poll)
            except TimeoutError:
                pass

    async def _sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less if asked to stop."""
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass

    async def drain(self) -> BatchResult:
        """Process everything due now (tests, CLI); return the totals."""
        total = BatchResult()
        while True:
            result = await self.process_batch()
            if not result.total:
                return total
            total.done += result.done
            total.retried += result.retried
            total.parked += result.parked

    async def process_batch(self) -> BatchResult:
        """Claim one batch and process it in a single transaction."""
        self.busy = True
        try:
            return await self._process_batch()
        finally:
            self.busy = False

    async def _process_batch(self) -> BatchResult:
        result = BatchResult()
        limits = self.runtime.settings.limits
        parked_payloads: list[tuple[dict[str, Any], BaseException]] = []
        handed: list[Any] = []  # replies of the updates that succeeded, sent after commit
        async with self.runtime.sessions() as session, session.begin():
            now = self.runtime.now()
            rows = await inbox_store.claim_pending(
                session=session,
                now=now,
                limit=limits.inbox_batch_size,
                unordered=tuple(self.batch_handlers),
            )
            done, rows = await self._process_in_bulk(session, rows)
            for row in rows:
                error = await self._process_one(session, row.update_id, row.payload, handed)
                if error is None:
                    done.append(row.update_id)
                    continue
                now = self.runtime.now()
                attempts = row.attempts + 1
                message = f"{type(error).__name__}: {error}"[:2000]
                parked = attempts >= limits.inbox_max_attempts
                await inbox_store.mark_failed(
                    session=session,
                    update_id=row.update_id,
                    attempts=attempts,
                    error=message,
                    now=now,
                    retry_at=None if parked else now + _backoff(attempts),
                )
                extra = {"update_id": row.update_id, "attempts": attempts, "error": message}
                if parked:
                    result.parked += 1
                    parked_payloads.append((row.payload, error))
                    log.error("update parked", extra=extra)
                else:
                    result.retried += 1
                    log.warning("update failed, will retry", extra=extra)
            await inbox_store.mark_done(session=session, update_ids=done, now=self.runtime.now())
            result.done = len(done)
        if handed:
            sender = self.runtime.extras.get(WORKER_KEY)
            if sender is not None:  # else they go when their lease runs out
                sender.send_soon(handed)
        for payload, error in parked_payloads:
            for callback in self.on_parked:
                try:
                    await callback(payload, error)
                except Exception:  # an alert must never stop processing
                    log.exception("parked-update alert failed")
        return result

    async def _process_in_bulk(
        self, session: AsyncSession, rows: Sequence[inbox_store.ClaimedUpdate]
    ) -> tuple[list[int], list[inbox_store.ClaimedUpdate]]:
        """Hand rows of batch-handled kinds to their handlers.

        Return the ids they handled and the rows left for one-by-one processing.
        """
        done = set(
            await self._run_batch_handlers(session, [(r.update_id, r.payload) for r in rows])
        )
        rest = sorted((r for r in rows if r.update_id not in done), key=lambda r: r.update_id)
        return sorted(done), rest

    def handles_in_bulk(self, payload: dict[str, Any]) -> bool:
        """Tell whether ``payload`` is of a kind a batch handler takes."""
        return any(kind in payload for kind in self.batch_handlers)

    async def process_on_arrival(
        self, session: AsyncSession, payloads: Sequence[dict[str, Any]]
    ) -> None:
        """Run the batch handlers on just-stored updates, in the storing transaction.

        Raise what a handler raises: the caller then rolls the transaction back and
        stores the updates for ``run`` instead (``store_and_notify``).
        """
        await self._run_batch_handlers(
            session, [(int(p["update_id"]), p) for p in payloads], isolate=False
        )

    async def _run_batch_handlers(
        self,
        session: AsyncSession,
        items: Sequence[tuple[int, dict[str, Any]]],
        *,
        isolate: bool = True,
    ) -> list[int]:
        """Run each batch-handled kind's handler on its payloads; return the ids handled.

        ``isolate``: each kind in a savepoint, a failing one logged and left out (its
        updates then go one by one); else a failure propagates.
        """
        groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for update_id, payload in items:
            kind = next((k for k in self.batch_handlers if k in payload), None)
            if kind is not None:
                groups.setdefault(kind, []).append((update_id, payload))
        done: list[int] = []
        for kind, members in groups.items():
            handler, payloads = self.batch_handlers[kind], [p for _, p in members]
            if not isolate:
                await handler(self.runtime, session, payloads)
                done.extend(update_id for update_id, _ in members)
                continue
            try:
                async with session.begin_nested():
                    await handler(self.runtime, session, payloads)
            except Exception:
                log.exception(
                    "batch handler failed; processing one by one",
                    extra={"kind": kind, "updates": len(members)},
                )
                continue
            done.extend(update_id for update_id, _ in members)
        return done

    async def _process_one(
        self,
        session: AsyncSession,
        update_id: int,
        payload: dict[str, Any],
        handed: list[Any],
    ) -> BaseException | None:
        user_id = _user_id(payload)
        # Replies and other visible effects go to the outbox in this savepoint and are sent
        # after the batch commits (bot.runtime.effects).
        scope = UpdateScope(
            session=session,
            update_id=update_id,
            runtime=self.runtime,
            user_id=user_id,
            defer_effects=True,
        )
        token = current_scope.set(scope)
        ctx_token = log_context.set({"update_id": update_id, "user_id": user_id})
        try:
            async with session.begin_nested():
                update = Update.de_json(payload, self.application.bot)
                await self.application.process_update(update)
                if scope.error is not None:
                    raise HandlerFailed(str(scope.error)) from scope.error
            handed.extend(scope.deferred)
        except HandlerFailed as exc:
            return exc.__cause__ or exc
        except Exception as exc:  # a broken payload or a DB error outside a handler
            log.exception("update processing failed")
            return exc
        finally:
            current_scope.reset(token)
            log_context.reset(ctx_token)
        return None

    async def _maybe_purge(self) -> None:
        now = self.runtime.now()
        if self._last_purge is not None and now - self._last_purge < dt.timedelta(hours=1):
            return
        self._last_purge = now
        await purge_inbox(self.runtime)


async def purge_inbox(runtime: Runtime) -> dict[str, int]:
    """Delete raw updates past their retention (``[privacy]``); return the rows per state."""
    privacy, now = runtime.settings.privacy, runtime.now()
    async with runtime.sessions() as session, session.begin():
        purged = await inbox_store.purge_finished(
            session=session,
            done_before=now - privacy.processed_update_retention,
            parked_before=now - privacy.parked_update_retention,
        )
        purged["replies"] = await outbox_store.purge_conversation(
            session=session, before=now - dt.timedelta(days=privacy.sent_message_days)
        )
        # A dialog idle that long timed out long ago; its answers (a name, a phone) go too.
        purged["dialogs"] = await dialog_store.purge_idle(
            session=session, before=now - dt.timedelta(days=privacy.sent_message_days)
        )
    if any(purged.values()):
        log.info("inbox purged", extra={"rows": purged})
    return purged


def _user_id(payload: dict[str, Any]) -> int | None:
    for value in payload.values():
        if isinstance(value, dict) and isinstance(value.get("from"), dict):
            user_id = value["from"].get("id")
            return int(user_id) if user_id is not None else None
    return None


async def store_and_notify(
    runtime: Runtime, processor: InboxProcessor | None, payloads: list[dict[str, Any]]
) -> int:
    """Store updates durably (committed), then wake the processor; return how many were new.

    Updates of the kinds the processor handles set-based (shares chosen inline: no order,
    no reply) are processed in the storing transaction and stored as done: a flood of them
    costs one transaction per burst, not two plus a claim. If their handler fails, that
    transaction is rolled back and they are stored for the processor's loop, which runs
    them again (one by one if the batch fails there too).
    """
    bulk = (
        {int(p["update_id"]) for p in payloads if processor.handles_in_bulk(p)}
        if processor is not None
        else set()
    )
    if bulk:
        assert processor is not None
        try:
            return await _store(runtime, processor, payloads, bulk)
        except Exception:
            log.exception("processing on arrival failed; stored for the processor")
    return await _store(runtime, processor, payloads, set())


async def _store(
    runtime: Runtime,
    processor: InboxProcessor | None,
    payloads: list[dict[str, Any]],
    bulk: set[int],
) -> int:
    async with runtime.sessions() as session, session.begin():
        new = await inbox_store.store_new_updates(
            session=session, payloads=payloads, now=runtime.now(), done=bulk
        )
        fresh = set(new) & bulk
        if processor is not None and fresh:
            # Once each: a burst may carry Telegram's repeat of an update.
            first = {int(p["update_id"]): p for p in payloads if int(p["update_id"]) in fresh}
            await processor.process_on_arrival(session, list(first.values()))
    if processor is not None and len(new) > len(fresh):
        processor.notify()
    return len(new)
