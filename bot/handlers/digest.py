"""Handlers for the digest feature (being built; registers nothing yet)."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register this feature's handlers."""
