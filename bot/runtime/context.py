"""Per-update scope and the typed CallbackContext handlers receive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import Settings
from bot.i18n import Translator, get_translator

if TYPE_CHECKING:
    from storage.models import Person, RoleGrant


def system_clock() -> dt.datetime:
    """Return the current time in UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Runtime:
    """Long-lived objects shared by every update: settings, database, clock."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], dt.datetime] = system_clock
    bot_username: str = "kepubot"
    extras: dict[str, Any] = field(default_factory=dict)

    def now(self) -> dt.datetime:
        """Return the current time (fixed in tests)."""
        return self.clock()

    def today(self) -> dt.date:
        """Return today's date in the configured timezone."""
        return self.clock().astimezone(self.settings.scheduler.tz).date()


@dataclass
class UpdateScope:
    """What belongs to the update being processed: its session, person and language."""

    session: AsyncSession
    update_id: int | None = None
    runtime: Runtime | None = None
    user_id: int | None = None
    # While True, Bot API calls with visible effects go to the outbox (bot.runtime.effects).
    defer_effects: bool = False
    effects: int = 0  # effects deferred so far (numbers their dedupe keys)
    # The outbox rows those effects became, leased to this process: once the batch has
    # committed, the processor hands them to the sender to go out at once.
    deferred: list[Any] = field(default_factory=list)
    # Set by /forget: this update's replies are deleted from the outbox once sent.
    erase_replies: bool = False
    # The dialog a command or report of this update left (bot.handlers.dialog): /cancel
    # reads it to say what leaving it did.
    left_dialog: Any = None
    person: Person | None = None
    roles: list[RoleGrant] = field(default_factory=list)
    role_names: frozenset[str] = frozenset()
    translator: Translator = field(default_factory=get_translator)
    error: BaseException | None = None


current_scope: ContextVar[UpdateScope | None] = ContextVar("kepubot_scope", default=None)


class NoScopeError(RuntimeError):
    """A handler ran outside the inbox processor (no session for it)."""


class KepuContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The context every kepubot handler receives."""

    @property
    def runtime(self) -> Runtime:
        """Return the shared runtime."""
        runtime: Runtime = self.application.bot_data["runtime"]
        return runtime

    @property
    def scope(self) -> UpdateScope:
        """Return the scope of the update being handled."""
        scope = current_scope.get()
        if scope is None:
            raise NoScopeError("handler ran outside the inbox processor")
        return scope

    @property
    def session(self) -> AsyncSession:
        """Return this update's database session (committed by the processor)."""
        return self.scope.session

    @property
    def t(self) -> Translator:
        """Return the translator for this user's language."""
        return self.scope.translator

    @property
    def person(self) -> Person | None:
        """Return the person who sent this update, if any."""
        return self.scope.person

    def has_role(self, *roles: str) -> bool:
        """Tell whether the user holds any of ``roles`` (anywhere)."""
        return any(grant.role in roles for grant in self.scope.roles)


def runtime_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Runtime:
    """Return the runtime stored on an application."""
    runtime: Runtime = application.bot_data["runtime"]
    return runtime
