"""What a feature brings to the bot, and the assembly of every feature's declaration.

Each feature module (``bot.handlers.informants``, ``…stations`` …) exports one ``FEATURE``.
``bot.app`` reads the list of features, checks that no two claim the same name, and wires
everything in one place: handlers in order, flows, commands, jobs, background services, web
routes, card buttons, ``/start`` payloads, batch handlers and ``/me`` figures. Nothing else
fills a registry, so a test builds exactly the assembly it needs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler

from bot.config import Settings
from bot.content.cards import ButtonProvider
from bot.handlers.commands import CommandSpec
from bot.handlers.dialog import Flow
from bot.runtime.context import KepuContext, Runtime
from bot.runtime.inbox import BatchHandler
from bot.runtime.outbox import DelivererFactory, ObserverFactory
from bot.runtime.runner import ServiceStarter
from bot.runtime.scheduler import JobSpec
from bot.runtime.web import RouteInstaller
from bot.services.informants import ProfileStatsProvider

# Handler groups run in this order; each may handle an update once.
SCOPE_GROUP = -100  # load the sender's identity, roles and language into the update scope
LEAVE_GROUP = -50  # a command or a flow-starting message leaves the pending dialog
EARLY_GROUP = -1  # handlers that must win over a shared command
COMMAND_GROUP = 0  # commands, button presses and other specific handlers
DIALOG_GROUP = 10  # the active multi-step dialog, if any (stops further groups)
FREEFORM_GROUP = 20  # free-form messages no dialog claimed (one-message forms)
FALLBACK_GROUP = 30  # the last-resort answer

AnyHandler = BaseHandler[Any, Any, Any]
Registration = tuple[int, AnyHandler]
# ``async def payload(update, context, payload) -> bool``: True when it took the payload.
StartPayloadHandler = Callable[[Update, KepuContext, str], Awaitable[bool]]
CardButtonsFactory = Callable[[Runtime], ButtonProvider]
ProfileStatsFactory = Callable[[Settings], ProfileStatsProvider]


def in_group(group: int, *handlers: AnyHandler) -> tuple[Registration, ...]:
    """Return registrations of ``handlers`` in ``group``, in the order given."""
    return tuple((group, handler) for handler in handlers)


@dataclass(frozen=True)
class Feature:
    """One feature's declaration: everything it adds to the bot and the runtime."""

    name: str
    handlers: tuple[Registration, ...] = ()
    flows: Mapping[str, Flow] = field(default_factory=dict)
    commands: tuple[CommandSpec, ...] = ()
    jobs: tuple[JobSpec, ...] = ()
    services: tuple[ServiceStarter, ...] = ()
    web_routes: tuple[RouteInstaller, ...] = ()
    card_buttons: tuple[CardButtonsFactory, ...] = ()
    start_payloads: tuple[StartPayloadHandler, ...] = ()
    batch_handlers: Mapping[str, BatchHandler] = field(default_factory=dict)
    profile_stats: tuple[ProfileStatsFactory, ...] = ()
    outbox_kinds: Mapping[str, DelivererFactory] = field(default_factory=dict)
    outbox_observers: tuple[ObserverFactory, ...] = ()


class AssemblyError(ValueError):
    """Two features claim the same flow, command, job, batch kind or outbox kind."""


def _merge(kind: str, pairs: Iterable[tuple[str, str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    owner: dict[str, str] = {}
    for feature, key, value in pairs:
        if key in merged:
            raise AssemblyError(f"{kind} {key!r} is declared by {owner[key]} and {feature}")
        merged[key], owner[key] = value, feature
    return merged


@dataclass(frozen=True)
class Assembly:
    """Every feature's declaration, merged in the order of the features."""

    features: tuple[Feature, ...]
    handlers: tuple[Registration, ...]
    flows: Mapping[str, Flow]
    commands: tuple[CommandSpec, ...]
    jobs: Mapping[str, JobSpec]
    services: tuple[ServiceStarter, ...]
    web_routes: tuple[RouteInstaller, ...]
    card_buttons: tuple[CardButtonsFactory, ...]
    start_payloads: tuple[StartPayloadHandler, ...]
    batch_handlers: Mapping[str, BatchHandler]
    profile_stats: tuple[ProfileStatsFactory, ...]
    outbox_kinds: Mapping[str, DelivererFactory]
    outbox_observers: tuple[ObserverFactory, ...]

    @classmethod
    def of(cls, features: Sequence[Feature]) -> Assembly:
        """Merge ``features``; refuse two claims on one name."""
        _merge("feature", ((f.name, f.name, f) for f in features))
        commands = _merge("command", ((f.name, c.name, c) for f in features for c in f.commands))
        return cls(
            features=tuple(features),
            handlers=tuple(r for f in features for r in f.handlers),
            flows=_merge("flow", ((f.name, k, v) for f in features for k, v in f.flows.items())),
            commands=tuple(commands.values()),
            jobs=_merge("job", ((f.name, j.name, j) for f in features for j in f.jobs)),
            services=tuple(s for f in features for s in f.services),
            web_routes=tuple(r for f in features for r in f.web_routes),
            card_buttons=tuple(b for f in features for b in f.card_buttons),
            start_payloads=tuple(p for f in features for p in f.start_payloads),
            batch_handlers=_merge(
                "batch kind",
                ((f.name, k, v) for f in features for k, v in f.batch_handlers.items()),
            ),
            profile_stats=tuple(p for f in features for p in f.profile_stats),
            outbox_kinds=_merge(
                "outbox kind",
                ((f.name, k, v) for f in features for k, v in f.outbox_kinds.items()),
            ),
            outbox_observers=tuple(o for f in features for o in f.outbox_observers),
        )

    def card_providers(self, runtime: Runtime) -> list[ButtonProvider]:
        """Return the card button providers bound to ``runtime``."""
        return [factory(runtime) for factory in self.card_buttons]

    def profile_providers(self, settings: Settings) -> list[ProfileStatsProvider]:
        """Return the ``/me`` figure providers bound to ``settings``."""
        return [factory(settings) for factory in self.profile_stats]


ASSEMBLY_KEY = "assembly"


def assembly_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Assembly:
    """Return the assembly the application was built from."""
    assembly: Assembly = application.bot_data[ASSEMBLY_KEY]
    return assembly
