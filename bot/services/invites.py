"""Station invite links: unguessable deep-link payloads, expiry, use limits, revocation."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import DomainError
from storage import audit
from storage import invites as invite_store
from storage.models import InviteLink, Station

PAYLOAD_PREFIX = "j_"
# token_urlsafe(16): 128 random bits in 22 characters of [A-Za-z0-9_-].
PAYLOAD_RE = re.compile(r"^j_[A-Za-z0-9_-]{22}$")
# Stations that accept new informants.
OPEN_STATES = frozenset({"recognised", "rectifying"})


class InviteError(DomainError, area="invite"):
    """An invite cannot be made or used; ``code`` says why, ``params`` fill the message."""


@dataclass(frozen=True)
class InviteInfo:
    """An invite link and the station it belongs to."""

    invite_id: int
    station_id: int
    station_name: str
    payload: str
    link: str
    expires_at: dt.datetime | None
    max_uses: int | None
    uses: int
    revoked_at: dt.datetime | None

    def status(self, now: dt.datetime) -> str:
        """Return active, revoked, expired or used_up."""
        return invite_status(self, now)


def new_payload() -> str:
    """Return a fresh, unguessable payload (prefix + 128 random bits)."""
    return PAYLOAD_PREFIX + secrets.token_urlsafe(16)


def looks_like_invite(payload: str) -> bool:
    """Tell whether a /start payload is meant to be an invite (it may still be unknown)."""
    return payload.startswith(PAYLOAD_PREFIX)


def invite_link(bot_username: str, payload: str) -> str:
    """Return the t.me deep link for a payload."""
    return f"https://t.me/{bot_username}?start={payload}"


def invite_status(invite: InviteLink | InviteInfo, now: dt.datetime) -> str:
    """Return active, revoked, expired or used_up."""
    if invite.revoked_at is not None:
        return "revoked"
    if invite.expires_at is not None and invite.expires_at <= now:
        return "expired"
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        return "used_up"
    return "active"


def _info(invite: InviteLink, station: Station, bot_username: str) -> InviteInfo:
    assert invite.id is not None and station.id is not None
    return InviteInfo(
        invite_id=invite.id,
        station_id=station.id,
        station_name=station.name,
        payload=invite.payload,
        link=invite_link(bot_username, invite.payload),
        expires_at=invite.expires_at,
        max_uses=invite.max_uses,
        uses=invite.uses,
        revoked_at=invite.revoked_at,
    )


async def _open_station(session: AsyncSession, station_id: int) -> Station:
    station = await session.get(Station, station_id)
    if station is None:
        raise InviteError("unknown_station", station_id=station_id)
    if station.status not in OPEN_STATES:
        raise InviteError("station_not_open", station=station.name, status=station.status)
    return station


async def create_invite(
    *,
    session: AsyncSession,
    station_id: int,
    bot_username: str,
    actor_id: int | None,
    now: dt.datetime,
    expires_days: int | None = None,
    max_uses: int | None = None,
) -> InviteInfo:
    """Make a new invite link for an open station, audited."""
    station = await _open_station(session, station_id)
    if expires_days is not None and expires_days <= 0:
        raise InviteError("bad_expiry")
    if max_uses is not None and max_uses <= 0:
        raise InviteError("bad_max_uses")
    expires_at = now + dt.timedelta(days=expires_days) if expires_days else None
    invite = await invite_store.create_invite(
        session=session,
        station_id=station_id,
        payload=new_payload(),
        created_by=actor_id,
        now=now,
        expires_at=expires_at,
        max_uses=max_uses,
    )
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="invite.create",
        now=now,
        subject_type="station",
        subject_id=station_id,
        region_code=station.region_code,
        detail={
            "invite_id": invite.id,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "max_uses": max_uses,
        },
    )
    return _info(invite, station, bot_username)


async def current_invite(
    *,
    session: AsyncSession,
    station_id: int,
    bot_username: str,
    actor_id: int | None,
    now: dt.datetime,
    renew: bool = False,
) -> InviteInfo:
    """Return the station's working link (so printed posters stay valid), or make one.

    With ``renew`` every active link is revoked first and a new one is made.
    """
    station = await _open_station(session, station_id)
    if renew:
        revoked = await invite_store.revoke_station_invites(
            session=session, station_id=station_id, now=now
        )
        if revoked:
            await audit.record(
                session=session,
                actor_id=actor_id,
                action="invite.revoke",
                now=now,
                subject_type="station",
                subject_id=station_id,
                region_code=station.region_code,
                detail={"count": revoked},
            )
    else:
        invite = await invite_store.usable_invite(session=session, station_id=station_id, now=now)
        if invite is not None:
            return _info(invite, station, bot_username)
    return await create_invite(
        session=session,
        station_id=station_id,
        bot_username=bot_username,
        actor_id=actor_id,
        now=now,
    )


async def list_invites(
    *, session: AsyncSession, station_id: int, bot_username: str
) -> Sequence[InviteInfo]:
    """Return every invite of a station, newest first."""
    station = await session.get(Station, station_id)
    if station is None:
        raise InviteError("unknown_station", station_id=station_id)
    rows = await invite_store.list_for_station(session=session, station_id=station_id)
    return [_info(row, station, bot_username) for row in rows]


async def revoke_invite(
    *,
    session: AsyncSession,
    payload: str,
    actor_id: int | None,
    now: dt.datetime,
    station_id: int | None = None,
) -> InviteLink:
    """Revoke one invite by payload, audited; refuse if it belongs to another station."""
    invite = await invite_store.get_by_payload(session=session, payload=payload)
    if invite is None or (station_id is not None and invite.station_id != station_id):
        raise InviteError("unknown_invite", payload=payload)
    assert invite.id is not None
    if not await invite_store.revoke(session=session, invite_id=invite.id, now=now):
        raise InviteError("already_revoked", payload=payload)
    station = await session.get(Station, invite.station_id)
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="invite.revoke",
        now=now,
        subject_type="station",
        subject_id=invite.station_id,
        region_code=station.region_code if station else None,
        detail={"invite_id": invite.id},
    )
    return invite


async def resolve(
    *, session: AsyncSession, payload: str, now: dt.datetime
) -> tuple[InviteLink, Station]:
    """Return the invite and its station if the link may be used to join now."""
    invite = await invite_store.get_by_payload(session=session, payload=payload)
    if invite is None or invite.purpose != "informant":
        raise InviteError("unknown_invite")
    status = invite_status(invite, now)
    if status != "active":
        raise InviteError(status)
    station = await session.get(Station, invite.station_id)
    if station is None:
        raise InviteError("unknown_invite")
    if station.status not in OPEN_STATES:
        raise InviteError("station_closed", station=station.name)
    return invite, station


async def count_use(*, session: AsyncSession, invite: InviteLink) -> None:
    """Count a completed registration on the invite, or refuse if it is used up."""
    assert invite.id is not None
    if not await invite_store.count_use(session=session, invite_id=invite.id):
        raise InviteError("used_up")
