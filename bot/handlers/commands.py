"""The command catalogue: who may see which command in /help and the command menu."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.i18n import N_, Translator

EVERYONE = "everyone"


@dataclass(frozen=True)
class CommandSpec:
    """A bot command, its one-line description (msgid) and the roles that see it."""

    name: str
    description: str
    roles: frozenset[str]
    order: int = 100


_COMMANDS: dict[str, CommandSpec] = {}


def command(name: str, description: str, *roles: str, order: int = 100) -> CommandSpec:
    """Declare a command; handler modules call this at import time."""
    spec = CommandSpec(name, description, frozenset(roles or (EVERYONE,)), order)
    _COMMANDS[name] = spec
    return spec


def visible_commands(role_names: Iterable[str]) -> list[CommandSpec]:
    """Return the commands a user with ``role_names`` may use, in menu order."""
    held = set(role_names) | {EVERYONE}
    if "admin" in held:  # admins see everything
        return sorted(_COMMANDS.values(), key=lambda c: (c.order, c.name))
    return sorted(
        (c for c in _COMMANDS.values() if c.roles & held), key=lambda c: (c.order, c.name)
    )


def describe(spec: CommandSpec, t: Translator) -> str:
    """Return the localised description of a command."""
    return t(spec.description)


command("start", N_("Start, or join a station with its invite link"), order=0)
command("help", N_("What I can do for you"), order=1)
command("language", N_("Change language"), order=90)
command("cancel", N_("Leave the current step without saving"), order=99)
