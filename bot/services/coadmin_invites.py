"""One-time co-admin invite links: a station admin (or a coordinator of the station's region)
makes a ``t.me/<bot>?start=a_…`` link; whoever opens it and confirms becomes station admin.

The links are informant invite links (``invite_link``) with ``purpose = "coadmin"`` and
``max_uses = 1``; the grant goes through ``bot.services.roles.grant_as`` with the inviter as
the actor, so the delegation rule is checked again when the link is used (an inviter who lost
the role meanwhile cannot hand it on), the grant is audited and both people are told through
the outbox after the commit.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import DomainError
from bot.i18n import N_, Translator, get_translator
from bot.services import roles as role_service
from bot.services.access import audit_refusal
from bot.services.invites import invite_link, invite_status
from bot.services.roles import Actor, Delegation, GrantResult, RoleError
from storage import audit, people
from storage import invites as invite_store
from storage import roles as role_store
from storage.models import InviteLink, Person, Station
from storage.outbox import NewMessage, enqueue

PURPOSE = "coadmin"
PAYLOAD_PREFIX = "a_"
# token_urlsafe(16): 128 random bits in 22 characters of [A-Za-z0-9_-].
PAYLOAD_RE = re.compile(r"^a_[A-Za-z0-9_-]{22}$")

ACCEPTED_NOTICE = N_("✅ {name} accepted your co-admin invite and is now an admin of {station}.")


class CoadminInviteError(DomainError, area="coadmin_invite"):
    """A co-admin invite cannot be made or used; ``code`` says why (bot.core.error_text)."""


@dataclass(frozen=True)
class CoadminInvite:
    """A co-admin invite link and its station."""

    invite_id: int
    station_id: int
    station_name: str
    payload: str
    link: str
    expires_at: dt.datetime
    created_by: int | None


def expiry_text(t: Translator, expires_at: dt.datetime, tz: dt.tzinfo) -> str:
    """Return when a link stops working, the glossary's way: 2026年11月26日 10:00."""
    local = expires_at.astimezone(tz)
    return f"{t.date(local.date())} {local:%H:%M}"


def looks_like_coadmin_invite(payload: str) -> bool:
    """Tell whether a /start payload is meant to be a co-admin invite."""
    return payload.startswith(PAYLOAD_PREFIX)


def _info(invite: InviteLink, station: Station, bot_username: str) -> CoadminInvite:
    assert invite.id is not None and station.id is not None and invite.expires_at is not None
    return CoadminInvite(
        invite_id=invite.id,
        station_id=station.id,
        station_name=station.name,
        payload=invite.payload,
        link=invite_link(bot_username, invite.payload),
        expires_at=invite.expires_at,
        created_by=invite.created_by,
    )


async def _station(session: AsyncSession, station_id: int) -> Station:
    station = await session.get(Station, station_id)
    if station is None:
        raise CoadminInviteError("unknown_station")
    return station


async def create(
    *,
    session: AsyncSession,
    actor: Actor,
    station_id: int,
    bot_username: str,
    now: dt.datetime,
    hours: int,
    via: str,
) -> CoadminInvite:
    """Make a one-time co-admin invite for a station the actor may appoint co-admins of.

    A refusal is audited (``coadmin_invite.create``, ``allowed=False``) and raised as
    RoleError; the caller answers it without rolling the transaction back.
    """
    station = await _station(session, station_id)
    request = Delegation("station_admin", None, station_id)
    reason = role_service.may_delegate(actor.grants, request, station.region_code)
    if reason is not None:
        await audit_refusal(
            session=session,
            actor_id=actor.person_id,
            action="coadmin_invite.create",
            reason=reason,
            now=now,
            subject_type="station",
            subject_id=station_id,
            region_code=station.region_code,
            detail={"via": via},
        )
        raise RoleError(reason, role="station_admin")
    expires_at = now + dt.timedelta(hours=hours)
    invite = await invite_store.create_invite(
        session=session,
        station_id=station_id,
        payload=PAYLOAD_PREFIX + secrets.token_urlsafe(16),
        created_by=actor.person_id,
        now=now,
        expires_at=expires_at,
        max_uses=1,
        purpose=PURPOSE,
    )
    await audit.record(
        session=session,
        actor_id=actor.person_id,
        action="coadmin_invite.create",
        now=now,
        subject_type="station",
        subject_id=station_id,
        region_code=station.region_code,
        detail={"invite_id": invite.id, "expires_at": expires_at.isoformat(), "via": via},
    )
    return _info(invite, station, bot_username)


async def open_invite(
    *, session: AsyncSession, payload: str, now: dt.datetime, bot_username: str
) -> CoadminInvite:
    """Return the invite if it may be used now, else raise why not."""
    invite = await invite_store.get_by_payload(session=session, payload=payload)
    if invite is None or invite.purpose != PURPOSE:
        raise CoadminInviteError("unknown")
    status = invite_status(invite, now)
    if status != "active":
        raise CoadminInviteError(status)
    station = await session.get(Station, invite.station_id)
    if station is None:
        raise CoadminInviteError("unknown")
    return _info(invite, station, bot_username)


async def check_usable_by(
    *, session: AsyncSession, invite: CoadminInvite, person: Person | None
) -> None:
    """Refuse the inviter's own link and a person who already administers the station."""
    if person is None or person.id is None:
        return
    if invite.created_by == person.id:
        raise CoadminInviteError("self_invite")
    for grant in await role_store.roles_of(session=session, person_id=person.id):
        if grant.role == "station_admin" and grant.station_id == invite.station_id:
            raise CoadminInviteError("already_admin", station=invite.station_name)


async def accept(
    *,
    session: AsyncSession,
    payload: str,
    telegram_id: int,
    now: dt.datetime,
    bot_username: str,
    default_locale: str = "zh_CN",
) -> tuple[CoadminInvite, GrantResult]:
    """Use the link: grant station_admin as the inviter would, once; tell the inviter.

    Raises CoadminInviteError (unusable link) or RoleError (the inviter may no longer give
    the role: audited by the role service).
    """
    invite = await open_invite(
        session=session, payload=payload, now=now, bot_username=bot_username
    )
    person = await people.ensure_person(session=session, telegram_id=telegram_id, now=now)
    await check_usable_by(session=session, invite=invite, person=person)
    inviter = (
        await people.get_person(session=session, person_id=invite.created_by)
        if invite.created_by is not None
        else None
    )
    grants = (
        tuple(await role_store.roles_of(session=session, person_id=inviter.id))
        if inviter is not None and inviter.id is not None
        else ()
    )
    # The single use is taken first: two racing confirmations cannot both grant.
    if not await invite_store.count_use(session=session, invite_id=invite.invite_id):
        raise CoadminInviteError("used_up")
    result = await role_service.grant_as(
        session=session,
        actor=Actor(inviter.id if inviter is not None else None, grants),
        telegram_id=telegram_id,
        request=Delegation("station_admin", None, invite.station_id),
        now=now,
        via="invite",
        default_locale=default_locale,
        notify_grantee=False,  # the accepting person is answered at once
    )
    await audit.record(
        session=session,
        actor_id=person.id,
        action="coadmin_invite.use",
        now=now,
        subject_type="station",
        subject_id=invite.station_id,
        detail={"invite_id": invite.invite_id, "inviter_id": invite.created_by},
    )
    if inviter is not None and inviter.telegram_id > 0:
        t = get_translator(inviter.language or default_locale)
        await enqueue(
            session=session,
            push_id=None,
            messages=[
                NewMessage(
                    chat_id=inviter.telegram_id,
                    kind="message",
                    payload={
                        "text": t(
                            ACCEPTED_NOTICE,
                            name=html.escape(role_service.person_label(person), quote=False),
                            station=html.escape(invite.station_name, quote=False),
                        )
                    },
                    dedupe_key=f"coadmin_invite:used:{invite.invite_id}",
                    due_at=now,
                )
            ],
            now=now,
        )
    return invite, result


async def active_invites(
    *,
    session: AsyncSession,
    station_ids: Sequence[int],
    now: dt.datetime,
    bot_username: str,
) -> list[CoadminInvite]:
    """Return the working co-admin invites of these stations, newest first."""
    rows = await invite_store.active_for_stations(
        session=session, station_ids=station_ids, now=now, purpose=PURPOSE
    )
    out = []
    for row in rows:
        station = await session.get(Station, row.station_id)
        if station is not None:
            out.append(_info(row, station, bot_username))
    return out


async def revoke(
    *, session: AsyncSession, actor: Actor, invite_id: int, now: dt.datetime, via: str
) -> CoadminInvite:
    """Withdraw a co-admin invite the actor may make, audited; refusals audited too."""
    row = await session.get(InviteLink, invite_id)
    if row is None or row.purpose != PURPOSE:
        raise CoadminInviteError("unknown")
    station = await _station(session, row.station_id)
    reason = role_service.may_delegate(
        actor.grants, Delegation("station_admin", None, row.station_id), station.region_code
    )
    if reason is not None:
        await audit_refusal(
            session=session,
            actor_id=actor.person_id,
            action="coadmin_invite.revoke",
            reason=reason,
            now=now,
            subject_type="station",
            subject_id=row.station_id,
            region_code=station.region_code,
            detail={"invite_id": invite_id, "via": via},
        )
        raise RoleError(reason, role="station_admin")
    if not await invite_store.revoke(session=session, invite_id=invite_id, now=now):
        raise CoadminInviteError("already_revoked")
    await audit.record(
        session=session,
        actor_id=actor.person_id,
        action="coadmin_invite.revoke",
        now=now,
        subject_type="station",
        subject_id=row.station_id,
        region_code=station.region_code,
        detail={"invite_id": invite_id, "via": via},
    )
    return _info(row, station, bot_username="")
