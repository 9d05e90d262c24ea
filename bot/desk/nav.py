"""The desk's menu: each entry is shown only to the roles that can use its page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.i18n import N_

COORDINATING = frozenset({"coordinator", "admin"})


@dataclass(frozen=True)
class NavEntry:
    """One menu entry: its page path (under ``/desk/p/``), label and who sees it."""

    path: str
    label: str
    roles: frozenset[str]


NAV: tuple[NavEntry, ...] = (
    NavEntry("dashboard", N_("desk menu: Overview"), COORDINATING),
    NavEntry(
        "stations", N_("desk menu: Stations"), frozenset({"coordinator", "admin", "station_admin"})
    ),
    NavEntry(
        "campaigns",
        N_("desk menu: Campaigns"),
        frozenset({"coordinator", "admin", "curator"}),
    ),
    NavEntry("queues/reviews", N_("desk menu: Reviews"), COORDINATING),
    NavEntry("queues/findings", N_("desk menu: Findings"), COORDINATING),
    NavEntry("queues/proposals", N_("desk menu: Proposals"), COORDINATING),
    # Station admins export their own stations and invite co-admins (issue #18).
    NavEntry("exports", N_("desk menu: Exports"), COORDINATING | {"station_admin"}),
    NavEntry("people", N_("desk menu: People"), COORDINATING | {"station_admin"}),
    NavEntry(
        "home",
        N_("desk menu: Me"),
        frozenset({"coordinator", "admin", "station_admin", "curator"}),
    ),
)


def entries_for(roles: Iterable[str]) -> list[NavEntry]:
    """Return the menu entries a holder of ``roles`` sees, in menu order."""
    held = frozenset(roles)
    return [entry for entry in NAV if entry.roles & held]


def start_page(roles: Iterable[str]) -> str:
    """Return the page the desk opens on for ``roles`` (the first menu entry)."""
    shown = entries_for(roles)
    return shown[0].path if shown else "home"
