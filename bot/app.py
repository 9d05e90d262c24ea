"""Build the python-telegram-bot application from settings."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from telegram import BotCommand
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import HTTPXRequest

from bot.config import Settings, require_token
from bot.handlers import register_all
from bot.handlers.commands import describe, visible_commands
from bot.i18n import get_translator
from bot.runtime.context import KepuContext, Runtime, system_clock
from bot.runtime.ratelimit import KepuRateLimiter
from storage.db import create_engine, session_factory

log = logging.getLogger(__name__)

KepuApplication = Application[Any, KepuContext, Any, Any, Any, Any]


async def _post_init(app: KepuApplication) -> None:
    runtime: Runtime = app.bot_data["runtime"]
    me = await app.bot.get_me()
    runtime.bot_username = me.username or runtime.bot_username
    # Default menu (everyone) in both languages; per-chat menus follow each user's roles.
    for locale, language_code in (("zh_CN", None), ("en", "en")):
        t = get_translator(locale)
        commands = [BotCommand(s.name, describe(s, t)[:256]) for s in visible_commands(())]
        await app.bot.set_my_commands(commands, language_code=language_code)


async def _post_shutdown(app: KepuApplication) -> None:
    runtime: Runtime = app.bot_data["runtime"]
    await runtime.engine.dispose()


def build_runtime(
    settings: Settings, *, clock: Callable[[], dt.datetime] = system_clock
) -> Runtime:
    """Create the engine and session factory for ``settings``."""
    engine = create_engine(settings.database.url, echo=settings.database.echo)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        clock=clock,
        bot_username=settings.telegram.bot_username or "kepubot",
    )


def build_application(settings: Settings, runtime: Runtime | None = None) -> KepuApplication:
    """Build the application: one builder chain, our rate limiter, no PTB updater."""
    token = require_token(settings)
    runtime = runtime or build_runtime(settings)
    tg = settings.telegram
    app: KepuApplication = (
        ApplicationBuilder()
        .token(token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .updater(None)  # our poller/webhook stores updates in the inbox first
        .context_types(ContextTypes(context=KepuContext))
        .rate_limiter(KepuRateLimiter(settings.limits))
        .request(HTTPXRequest(connection_pool_size=64, read_timeout=15, write_timeout=30))
        .get_updates_request(HTTPXRequest(read_timeout=tg.poll_timeout + 15))
        .defaults(Defaults(parse_mode="HTML", tzinfo=settings.scheduler.tz))
        .arbitrary_callback_data(False)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    app.bot_data["runtime"] = runtime
    register_all(app)
    return app
