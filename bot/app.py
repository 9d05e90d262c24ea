"""The assembly: the list of features, and one place that builds the bot and its runtime.

Read top to bottom, this file is the whole wiring. Handler groups run in order and each
may handle an update once (``bot.handlers.feature``):
  -100  load the sender's identity, roles and language into the update scope
   -50  a command or a flow-starting message (#活动 …) leaves the pending dialog
    -1  handlers that must win over a shared command
     0  commands, button presses and other specific handlers of every feature
    10  the active multi-step dialog, if any (stops further groups)
    20  free-form messages no dialog claimed (one-message forms)
    30  the last-resort answer
Within a group, handlers are tried in the order of ``FEATURES``, then of each declaration.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.config import Settings, require_token
from bot.handlers import (
    activities,
    basics,
    channels,
    content,
    digest,
    evaluation,
    findings,
    informants,
    shares,
    stations,
)
from bot.handlers.commands import describe, visible_commands
from bot.handlers.common import load_scope
from bot.handlers.dialog import dialog_router, exit_filter, leave_handler
from bot.handlers.feature import (
    ASSEMBLY_KEY,
    DIALOG_GROUP,
    LEAVE_GROUP,
    SCOPE_GROUP,
    Assembly,
    Feature,
    assembly_of,
)
from bot.i18n import get_translator
from bot.runtime.context import KepuContext, Runtime, runtime_of, system_clock
from bot.runtime.effects import KepuBot
from bot.runtime.inbox import record_handler_error
from bot.runtime.outbox import OutboxOptions, OutboxWorker, outbox_service, wake_on_commit
from bot.runtime.ratelimit import KepuRateLimiter, shared_buckets
from bot.runtime.runner import serve
from bot.runtime.scheduler import scheduler_service
from bot.runtime.web import RouteInstaller
from storage.db import create_engine, session_factory

log = logging.getLogger(__name__)

KepuApplication = Application[Any, KepuContext, Any, Any, Any, Any]

# Every feature of the bot, in the order their handlers are tried within a group. The
# basics (/start, /help, /language, /cancel and the fallback) come last: features' /start
# payloads must be seen first.
FEATURES: tuple[Feature, ...] = (
    informants.FEATURE,
    stations.FEATURE,
    content.FEATURE,
    shares.FEATURE,
    activities.FEATURE,
    digest.FEATURE,
    evaluation.FEATURE,
    findings.FEATURE,
    channels.FEATURE,  # channels_1: /channels, channel posts and their reach
    basics.FEATURE,
)

# The private messages a dialog may claim: plain messages, never commands or inline results.
DIALOG_MESSAGES = filters.ChatType.PRIVATE & ~filters.COMMAND & ~filters.VIA_BOT


async def _post_init(app: KepuApplication) -> None:
    runtime = runtime_of(app)
    me = await app.bot.get_me()
    runtime.bot_username = me.username or runtime.bot_username
    # Default menu (everyone) in both languages; per-chat menus follow each user's roles.
    everyone = visible_commands(assembly_of(app).commands, ())
    for locale, language_code in (("zh_CN", None), ("en", "en")):
        t = get_translator(locale)
        commands = [BotCommand(s.name, describe(s, t)[:256]) for s in everyone]
        await app.bot.set_my_commands(commands, language_code=language_code)


async def _post_shutdown(app: KepuApplication) -> None:
    runtime = runtime_of(app)
    await runtime.engine.dispose()


def build_runtime(
    settings: Settings, *, clock: Callable[[], dt.datetime] = system_clock
) -> Runtime:
    """Create the engine and session factory for ``settings``."""
    engine = create_engine(settings.database.url, echo=settings.database.echo)
    extras: dict[str, Any] = {}
    return Runtime(
        settings=settings,
        engine=engine,
        # A transaction that enqueued outbox rows wakes this process's sender as it commits.
        sessions=session_factory(engine, after_commit=wake_on_commit(extras)),
        clock=clock,
        bot_username=settings.telegram.bot_username or "kepubot",
        extras=extras,
    )


def build_application(
    settings: Settings,
    runtime: Runtime | None = None,
    *,
    features: Sequence[Feature] = FEATURES,
) -> KepuApplication:
    """Build the application from ``features``: one builder chain, our rate limiter."""
    token = require_token(settings)
    runtime = runtime or build_runtime(settings)
    assembly = Assembly.of(features)
    tg = settings.telegram
    # Our bot class: inside an update, visible effects go to the outbox (bot.runtime.effects).
    bot = KepuBot(
        token=token,
        base_url=tg.base_url,
        base_file_url=tg.base_file_url,
        request=HTTPXRequest(connection_pool_size=64, read_timeout=15, write_timeout=30),
        get_updates_request=HTTPXRequest(read_timeout=tg.poll_timeout + 15),
        defaults=Defaults(parse_mode="HTML", tzinfo=settings.scheduler.tz),
        arbitrary_callback_data=False,
        # One send cap for every process on PostgreSQL (docs/reach.md); paid lane if enabled.
        rate_limiter=KepuRateLimiter(
            settings.limits,
            settings.broadcast if settings.broadcast.enabled else None,
            shared=shared_buckets(settings.limits, runtime.sessions, runtime.engine.dialect.name),
        ),
    )
    app: KepuApplication = (
        ApplicationBuilder()
        .bot(bot)
        .updater(None)  # our poller/webhook stores updates in the inbox first
        .context_types(ContextTypes(context=KepuContext))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    app.bot_data["runtime"] = runtime
    app.bot_data[ASSEMBLY_KEY] = assembly
    app.add_handler(TypeHandler(Update, load_scope), group=SCOPE_GROUP)
    # Modes never trap: any command or flow-starting message ends the pending dialog first.
    app.add_handler(
        MessageHandler(exit_filter(assembly.flows), leave_handler(assembly.flows)),
        group=LEAVE_GROUP,
    )
    for group, handler in assembly.handlers:
        app.add_handler(handler, group=group)
    app.add_handler(
        MessageHandler(DIALOG_MESSAGES, dialog_router(assembly.flows)), group=DIALOG_GROUP
    )
    app.add_error_handler(record_handler_error)
    return app


def build_sender(app: KepuApplication, options: OutboxOptions | None = None) -> OutboxWorker:
    """Return an outbox sender for ``app`` with every feature's deliverers (tests, CLI)."""
    assembly = assembly_of(app)
    return OutboxWorker(
        app,
        options,
        deliverers=assembly.outbox_kinds,
        observers=assembly.outbox_observers,
    )


async def run_bot(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
    install_signals: bool = True,
    installers: Iterable[RouteInstaller] = (),
    features: Sequence[Feature] = FEATURES,
) -> None:
    """Build the bot from ``features`` and serve it until stopped (``kepubot run``)."""
    app = build_application(settings, runtime, features=features)
    assembly = assembly_of(app)
    services = (
        scheduler_service(assembly.jobs),
        outbox_service(assembly.outbox_kinds, assembly.outbox_observers),
        *assembly.services,
    )
    await serve(
        app,
        services=services,
        web_routes=(*assembly.web_routes, *installers),
        batch_handlers=assembly.batch_handlers,
        stop=stop,
        ready=ready,
        install_signals=install_signals,
    )
