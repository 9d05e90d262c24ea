"""What each way of sharing earns, told to volunteers: /me lines and the card's ⓘ answer.

An inline share (the card's Share button) carries no audience: Telegram tells the bot which
result was chosen, never which chat it went to nor how many people are there. The inline
query does say the kind of chat it came from (``chat_type``), and the result id carries it
back (``bot.services.shares.inline_result_id``): /me shows how many went into groups. It
does not change the volume: a group of unknown size is not a reach (docs/shares.md).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import N_
from bot.services.informants import ProfileStat, ProfileStatsProvider
from bot.services.share_stats import period_bounds
from bot.services.shares import GROUP_CHAT_TYPES
from storage import shares as share_store

STAT_INLINE_KINDS = N_(
    "📤 Share button this month: {n} (into groups {groups}, private chats {private}, "
    "not said {unknown})"
)
HOW_SHARES_COUNT = N_(
    "ⓘ How shares count: the Share button counts 1 share and no reach, because Telegram "
    "does not tell the bot where it went or how many people saw it. A forward into a group "
    "the bot is in counts that group's members (group member reach). Shares elsewhere "
    "(WeChat, QQ…) count the audience you report (reported reach), and each visit to your "
    "link counts too."
)
# The card's ⓘ button answers with this (a pop-up holds at most 200 characters).
HOW_SHARES_COUNT_SHORT = N_(
    "Share button: 1 share, no reach (Telegram does not tell the bot where it went). "
    "Forward into a group the bot is in: its members count. Elsewhere: the audience you "
    "report, plus visits to your link."
)


def split_by_chat_type(counts: dict[str | None, int]) -> dict[str, int]:
    """Return the inline shares as groups / private / unknown (channels count as unknown)."""
    groups = sum(n for kind, n in counts.items() if kind in GROUP_CHAT_TYPES)
    private = sum(n for kind, n in counts.items() if kind in ("private", "sender"))
    total = sum(counts.values())
    return {"n": total, "groups": groups, "private": private, "unknown": total - groups - private}


def profile_provider(settings: Settings) -> ProfileStatsProvider:
    """Return the /me lines that say how the informant's shares count."""
    zone = ZoneInfo(settings.scheduler.timezone)

    async def share_ways(
        *, session: AsyncSession, informant_id: int, now: dt.datetime
    ) -> list[ProfileStat]:
        start, end = period_bounds(now.astimezone(zone).date(), "month")
        counts = await share_store.inline_chat_types(
            session=session, informant_id=informant_id, start=start, end=end
        )
        lines: list[ProfileStat] = []
        if counts:
            params: dict[str, object] = {**split_by_chat_type(counts)}
            lines.append(ProfileStat(STAT_INLINE_KINDS, params))
        lines.append(ProfileStat(HOW_SHARES_COUNT))
        return lines

    return share_ways
