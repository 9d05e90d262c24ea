"""The command catalogue: who may see which command in /help and the command menu."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.i18n import Translator

EVERYONE = "everyone"


@dataclass(frozen=True)
class CommandSpec:
    """A bot command, its one-line description (msgid) and the roles that see it."""

    name: str
    description: str
    roles: frozenset[str]
    order: int = 100


def command(name: str, description: str, *roles: str, order: int = 100) -> CommandSpec:
    """Describe a command for a feature's declaration (no roles: everyone sees it)."""
    return CommandSpec(name, description, frozenset(roles or (EVERYONE,)), order)


def visible_commands(
    commands: Iterable[CommandSpec], role_names: Iterable[str]
) -> list[CommandSpec]:
    """Return the commands a user with ``role_names`` may use, in menu order."""
    held = set(role_names) | {EVERYONE}
    shown = [c for c in commands if "admin" in held or c.roles & held]  # admins see all
    return sorted(shown, key=lambda c: (c.order, c.name))


def describe(spec: CommandSpec, t: Translator) -> str:
    """Return the localised description of a command."""
    return t(spec.description)
