"""Local Bot API emulator and simulated Telegram world for tests, demo and benchmarks."""

from bot.sandbox.limits import EDIT_METHODS, SEND_METHODS, Faults, Limits
from bot.sandbox.models import ApiError, Button, SimMessage, Stats
from bot.sandbox.sandbox import Sandbox
from bot.sandbox.world import SimChannel, SimChat, SimGroup, SimUser

__all__ = [
    "EDIT_METHODS",
    "SEND_METHODS",
    "ApiError",
    "Button",
    "Faults",
    "Limits",
    "Sandbox",
    "SimChannel",
    "SimChat",
    "SimGroup",
    "SimMessage",
    "SimUser",
    "Stats",
]
