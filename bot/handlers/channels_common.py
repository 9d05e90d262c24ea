"""What other features show of channels: the push targets' labels, the join message's line.

Kept apart from ``bot.handlers.channels`` so the push confirmation (``push_confirm``) can
offer the choice (信息员私信 / 频道 / 两者) and the join flow can name the region's channel
without importing the channels feature.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.callback_data import CallbackData
from bot.i18n import N_, Translator
from bot.services import channels as channel_service

PushTo = Literal["informants", "channels", "both"]
TARGET_LABELS: dict[str, str] = {
    "informants": N_("📨 Informants (private messages)"),
    "channels": N_("📢 Channels"),
    "both": N_("📨+📢 Both"),
}

NOTHING_NEW_FOR_CHANNELS = N_(
    "Nothing new to send: the linked channels already have this item, and no informant "
    "asked for is waiting for it."
)


PushWay = Literal["free", "paid"]


@dataclass(frozen=True)
class PushTarget(CallbackData, prefix="PUSHTO"):
    """A push confirmation's choice: who gets the item, and whether it may go paid."""

    to: PushTo
    way: PushWay
    content_id: int


@dataclass(frozen=True)
class PushTargetAt(CallbackData, prefix="PUSHAT"):
    """The same choice for an item saved to publish later: the push waits for its time."""

    to: PushTo
    way: PushWay
    content_id: int


def flags(to: str) -> tuple[bool, bool]:
    """Return (informants, channels) for a push target."""
    return to in ("informants", "both"), to in ("channels", "both")


async def join_line(session: AsyncSession, t: Translator, region_code: str | None) -> str:
    """Return the welcome line naming the region's channel, or "" when it has none."""
    channel = await channel_service.channel_for_region(session=session, region_code=region_code)
    url = channel_service.channel_url(channel) if channel is not None else None
    if channel is None or url is None:
        return ""
    return t(
        '📢 Your region\'s channel: <a href="{url}">{title}</a> — join it to see every '
        "item as soon as it is out.",
        url=html.escape(url),
        title=html.escape(channel.title or url),
    )
