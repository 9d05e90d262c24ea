"""`kepubot station invite`: invite links from the command line (being built)."""

from __future__ import annotations

import argparse


def add_to(station_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `kepubot station invite …` to the `station` command group."""
