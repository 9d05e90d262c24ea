"""Channels: link a Telegram channel to a region, post pushes there, credit and measure them.

A push reaches informants one private message each; a channel post reaches every
subscriber at once. Who may link: admins and curators anywhere, a coordinator only in
regions within theirs. The bot must be an administrator of the channel allowed to post.
A post's reach is the channel's subscriber count, measured once after the send, and it is
its own figure (``storage.figures.channel_reach``), never part of informants' figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import DomainError
from bot.core.regions import level_of, region_contains, region_prefix
from bot.services.access import coordinates, coordinator_regions, is_admin
from storage import audit
from storage import channels as channel_store
from storage import outbox as outbox_store
from storage import people as people_store
from storage.models import Person, ReachChannel, RoleGrant

CHANNEL_POST_KIND = "channel_post"  # one outbox row per channel post (its own deliverer)
LINKERS = frozenset({"admin", "curator", "coordinator"})  # roles that see /channels


class ChannelError(DomainError, area="channel"):
    """Linking or unlinking a channel is refused; ``code`` says why."""


@dataclass(frozen=True)
class BotRights:
    """What getChatMember said about the bot in a chat."""

    chat_type: str
    status: str  # creator | administrator | member | left | kicked | restricted
    can_post_messages: bool


def check_rights(rights: BotRights) -> None:
    """Refuse a chat that is not a channel or where the bot may not post."""
    if rights.chat_type != "channel":
        raise ChannelError("not_channel")
    if rights.status not in ("administrator", "creator"):
        raise ChannelError("not_admin")
    if not rights.can_post_messages:
        raise ChannelError("cannot_post")


def may_link(grants: Iterable[RoleGrant], role_names: Iterable[str], region_code: str) -> bool:
    """Tell whether the person may link or unlink a channel of ``region_code``."""
    grants, roles = list(grants), set(role_names)
    if is_admin(grants) or "admin" in roles or "curator" in roles:
        return True
    return coordinates(grants, region_code)


def scope_prefixes(grants: Iterable[RoleGrant], role_names: Iterable[str]) -> list[str] | None:
    """Return the region prefixes whose channels the person manages (None: everywhere)."""
    grants, roles = list(grants), set(role_names)
    if is_admin(grants) or "admin" in roles or "curator" in roles:
        return None
    return sorted({region_prefix(code) for code in coordinator_regions(grants)})


def parse_reference(text: str) -> int | str | None:
    """Return a channel reference typed by a user: a chat id, or "@username" (t.me links too)."""
    value = text.strip()
    for head in ("https://t.me/", "http://t.me/", "t.me/"):
        if value.lower().startswith(head):
            value = "@" + value[len(head) :].strip("/")
    if value.lstrip("-").isdigit():
        number = int(value)
        return number if number < 0 else None  # channel ids are negative (-100…)
    name = value[1:] if value.startswith("@") else value
    if 5 <= len(name) <= 32 and name.replace("_", "").isalnum() and name.isascii():
        return "@" + name
    return None


async def audit_refusal(
    *,
    session: AsyncSession,
    actor_id: int | None,
    reason: str,
    now: dt.datetime,
    detail: dict[str, Any] | None = None,
    region_code: str | None = None,
) -> None:
    """Audit a refused link (no channel, bot not an admin, out of scope)."""
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="channel.link",
        now=now,
        allowed=False,
        subject_type="channel",
        region_code=region_code,
        reason=reason,
        detail=detail,
    )


async def link(
    *,
    session: AsyncSession,
    chat_id: int,
    region_code: str,
    title: str | None,
    username: str | None,
    invite_link: str | None,
    grants: Sequence[RoleGrant],
    role_names: Iterable[str],
    actor_id: int | None,
    rights: BotRights,
    now: dt.datetime,
) -> ReachChannel:
    """Link a channel to a region after the scope and rights checks; audited either way."""
    roles = set(role_names)
    reason: str | None = None
    if not may_link(grants, roles, region_code):
        reason = "out_of_scope"
    else:
        try:
            check_rights(rights)
        except ChannelError as exc:
            reason = exc.code
    detail = {"chat_id": chat_id, "title": title, "username": username}
    if reason is not None:
        await audit_refusal(
            session=session,
            actor_id=actor_id,
            reason=reason,
            now=now,
            detail=detail,
            region_code=region_code,
        )
        raise ChannelError(reason, region_code=region_code)
    channel = await channel_store.link_channel(
        session=session,
        chat_id=chat_id,
        region_code=region_code,
        title=title,
        username=username,
        invite_link=invite_link,
        linked_by=actor_id,
        now=now,
    )
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="channel.link",
        now=now,
        subject_type="channel",
        subject_id=channel.id,
        region_code=region_code,
        detail=detail,
    )
    return channel


async def unlink(
    *,
    session: AsyncSession,
    channel_id: int,
    grants: Sequence[RoleGrant],
    role_names: Iterable[str],
    actor_id: int | None,
    now: dt.datetime,
) -> ReachChannel:
    """Unlink a channel within the person's scope; audited either way."""
    channel = await channel_store.get_channel_by_id(session=session, channel_id=channel_id)
    if channel is None:
        raise ChannelError("not_found")
    if not may_link(grants, role_names, channel.region_code):
        await audit.record(
            session=session,
            actor_id=actor_id,
            action="channel.unlink",
            now=now,
            allowed=False,
            subject_type="channel",
            subject_id=channel_id,
            region_code=channel.region_code,
            reason="out_of_scope",
        )
        raise ChannelError("out_of_scope", region_code=channel.region_code)
    await channel_store.unlink_channel(session=session, channel_id=channel_id)
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="channel.unlink",
        now=now,
        subject_type="channel",
        subject_id=channel_id,
        region_code=channel.region_code,
        detail={"chat_id": channel.chat_id, "title": channel.title},
    )
    return channel


async def visible(
    *, session: AsyncSession, grants: Sequence[RoleGrant], role_names: Iterable[str]
) -> list[ReachChannel]:
    """Return the channels the person manages."""
    return await channel_store.channels_within(
        session=session, prefixes=scope_prefixes(grants, role_names)
    )


async def push_channels(
    *, session: AsyncSession, regions: Sequence[str] | None
) -> list[ReachChannel]:
    """Return the channels a push to ``regions`` posts to: those linked within them.

    A push without regions (everywhere) posts to every channel. A county item does not go
    to its city's or province's channel: it would be noise for the rest of the province.
    """
    prefixes = sorted({region_prefix(code) for code in regions}) if regions else None
    return await channel_store.channels_within(session=session, prefixes=prefixes)


def post_messages(
    channels: Sequence[ReachChannel],
    *,
    content_id: int,
    locale: str,
    due_at: dt.datetime,
) -> list[outbox_store.NewMessage]:
    """Return one outbox row per channel: the item's card, posted once per channel."""
    return [
        outbox_store.NewMessage(
            chat_id=channel.chat_id,
            kind=CHANNEL_POST_KIND,
            payload={
                "content_id": content_id,
                "locale": locale,
                "channel": True,
                "region_code": channel.region_code,
            },
            dedupe_key=f"chpost:{content_id}:{channel.chat_id}",
            due_at=due_at,
        )
        for channel in channels
    ]


def parent_codes(code: str) -> list[str]:
    """Return a region code and the codes of its city and province, nearest first."""
    codes = [code]
    level = level_of(code)
    if level == "county":
        codes.append(code[:4] + "00")
    if level in ("county", "city"):
        codes.append(code[:2] + "0000")
    return codes


async def channel_for_region(
    *, session: AsyncSession, region_code: str | None
) -> ReachChannel | None:
    """Return the nearest channel over a region: its own, else its city's, else province's."""
    if not region_code:
        return None
    codes = parent_codes(region_code)
    found = await channel_store.channels_over(session=session, region_codes=codes)
    found = [c for c in found if region_contains(c.region_code, region_code)]
    found.sort(key=lambda c: codes.index(c.region_code) if c.region_code in codes else 99)
    return found[0] if found else None


def channel_url(channel: ReachChannel) -> str | None:
    """Return the link that opens a channel: t.me/username, else its invite link."""
    if channel.username:
        return f"https://t.me/{channel.username}"
    return channel.invite_link


async def content_of_post(
    *, session: AsyncSession, channel_chat_id: int, message_id: int
) -> int | None:
    """Return the item a forwarded channel post shows, if the bot posted it."""
    post = await channel_store.post_of(
        session=session, channel_chat_id=channel_chat_id, message_id=message_id
    )
    return post.content_id if post is not None else None


async def record_post(
    *,
    session: AsyncSession,
    channel_chat_id: int,
    region_code: str,
    content_id: int,
    push_id: int | None,
    message_id: int,
    subscribers: int | None,
    now: dt.datetime,
) -> bool:
    """Record a sent post and its reach once (a redelivered send changes nothing)."""
    return await channel_store.record_post(
        session=session,
        channel_chat_id=channel_chat_id,
        region_code=region_code,
        content_id=content_id,
        push_id=push_id,
        message_id=message_id,
        subscribers=subscribers,
        now=now,
    )


async def linked_with_linker(
    *, session: AsyncSession, chat_id: int
) -> tuple[ReachChannel, Person | None] | None:
    """Return a linked channel and the person who linked it (None when not linked)."""
    channel = await channel_store.get_channel(session=session, chat_id=chat_id)
    if channel is None:
        return None
    person = (
        await people_store.get_person(session=session, person_id=channel.linked_by)
        if channel.linked_by is not None
        else None
    )
    return channel, person
