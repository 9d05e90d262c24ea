"""Serve a built application: inbox processor, poller or webhook, web server, background
services (scheduler, outbox sender); stop cleanly. What to serve comes from ``bot.app``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.runtime.alerts import parked_alert
from bot.runtime.context import Runtime, runtime_of
from bot.runtime.inbox import BatchHandler, InboxProcessor
from bot.runtime.poller import Poller
from bot.runtime.web import RouteInstaller, build_web_app, start_site
from storage.migrate import current_revision, head_revision

log = logging.getLogger(__name__)

# A background service: ``async def service(app, stop)`` runs until ``stop`` is set.
ServiceStarter = Callable[[Any, asyncio.Event], Coroutine[Any, Any, None]]


class NotMigrated(Exception):
    """The database schema is older than this code (``current`` None: no tables yet)."""

    def __init__(self, message: str, *, current: str | None = None, head: str = "") -> None:
        super().__init__(message)
        self.current = current
        self.head = head


async def ensure_migrated(runtime: Runtime) -> None:
    """Refuse to start on a database that is not at the newest migration."""
    current = await current_revision(runtime.engine)
    head = head_revision()
    if current != head:
        raise NotMigrated(
            f"database is at revision {current or 'none'}, this version needs {head}: "
            "run 'kepubot db upgrade' first",
            current=current,
            head=head,
        )


async def serve(
    app: Application[Any, Any, Any, Any, Any, Any],
    *,
    services: Iterable[ServiceStarter] = (),
    web_routes: Iterable[RouteInstaller] = (),
    batch_handlers: Mapping[str, BatchHandler] | None = None,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
    install_signals: bool = True,
) -> None:
    """Serve ``app`` until ``stop`` is set or SIGTERM/SIGINT arrives."""
    runtime = runtime_of(app)
    settings = runtime.settings
    await ensure_migrated(runtime)
    stop = stop or asyncio.Event()
    if install_signals:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    processor = InboxProcessor(app, batch_handlers=batch_handlers)
    processor.on_parked.append(parked_alert(runtime, app.bot))
    runtime.extras["processor"] = processor
    webhook = settings.telegram.mode == "webhook"
    web_app = build_web_app(runtime, processor, webhook=webhook, installers=list(web_routes))
    web_runner, port = await start_site(web_app, settings.web.host, settings.web.port)
    runtime.extras["web_port"] = port
    tasks: list[asyncio.Task[Any]] = [asyncio.create_task(processor.run(), name="inbox")]
    poller: Poller | None = None
    if webhook:
        secret = settings.telegram.webhook_secret
        await app.bot.set_webhook(
            url=settings.telegram.webhook_url or "",
            secret_token=secret.get_secret_value() if secret else None,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        poller = Poller(app, processor, timeout=settings.telegram.poll_timeout)
        runtime.extras["poller"] = poller
        tasks.append(asyncio.create_task(poller.run(), name="poller"))
    for starter in services:
        name = getattr(starter, "__name__", "service")
        tasks.append(asyncio.create_task(starter(app, stop), name=name))
    log.info("kepubot running", extra={"mode": settings.telegram.mode, "web_port": port})
    if ready is not None:
        ready.set()
    stopper = asyncio.create_task(stop.wait())
    watching: set[asyncio.Task[Any]] = {stopper, *tasks}
    failed: list[asyncio.Task[Any]] = []
    # A service may finish early on purpose (e.g. the scheduler when disabled); only a
    # stop request or a crashed task ends the run.
    while not stop.is_set() and not failed:
        done, watching = await asyncio.wait(watching, return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in done if t is not stopper and not t.cancelled() and t.exception()]
    stopper.cancel()
    stop.set()
    log.info("kepubot stopping")
    if poller is not None:
        poller.stop()
    processor.stop()
    done, pending = await asyncio.wait(tasks, timeout=30)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await web_runner.cleanup()
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)
    log.info("kepubot stopped")
    if failed:
        raise failed[0].exception()  # type: ignore[misc]
