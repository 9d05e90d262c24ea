"""`kepubot station …`, `kepubot stations …`, `kepubot regions …`, `kepubot audit` (being built)."""

from __future__ import annotations

import argparse

from bot.cli import invites


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the station, stations, regions and audit command groups."""
    station = sub.add_parser("station", help="one station: add, invite links",
                             description="Manage one station.")
    station_sub = station.add_subparsers(dest="station_command", required=True,
                                         metavar="COMMAND")
    invites.add_to(station_sub)
