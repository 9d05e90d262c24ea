"""Informants: joining a station, profile, settings, roster and privacy rights."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.taxonomy import default_taxonomy
from bot.core.errors import DomainError
from bot.services import invites as invite_service
from bot.services.access import audit_refusal, can_admin_station
from bot.services.desk_open import queue_menu_refresh
from storage import audit
from storage import dialogs as dialog_store
from storage import inbox as inbox_store
from storage import informants as informant_store
from storage import links as links_store
from storage import outbox as outbox_store
from storage import people as people_store
from storage import roles as roles_store
from storage.models import Informant, Person, RoleGrant, Station

# Bump when the privacy notice text changes; stored with each consent.
CONSENT_VERSION = "2026-1"
NAME_MIN, NAME_MAX = 2, 30
ROSTER_PAGE_SIZE = 10

_LETTER = r"A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F\u3400-\u4DBF\u4E00-\u9FFF"
_NAME_RE = re.compile(rf"^[{_LETTER}](?:[{_LETTER}·・ ]*[{_LETTER}])?$")


class InformantError(DomainError, area="informant"):
    """A request about an informant is refused; ``code`` says why."""


# --- validation --------------------------------------------------------------------------


def clean_name(text: str) -> str:
    """Return the normalised real name, or raise InformantError("bad_name")."""
    name = unicodedata.normalize("NFKC", text or "").strip()
    name = re.sub(r"\s+", " ", name).replace("•", "·").replace("・", "·")
    name = name.replace("．", "·").replace("‧", "·")
    if not NAME_MIN <= len(name) <= NAME_MAX or not _NAME_RE.match(name):
        raise InformantError("bad_name")
    return name


def clean_phone(phone: str) -> str:
    """Return the phone number as +digits."""
    digits = re.sub(r"[^\d]", "", phone or "")
    if not 5 <= len(digits) <= 20:
        raise InformantError("bad_phone")
    return "+" + digits


def clean_interests(codes: Sequence[str]) -> list[str]:
    """Return the known category codes among ``codes``, in taxonomy order."""
    wanted = set(codes)
    chosen = [code for code in default_taxonomy().codes if code in wanted]
    if not chosen:
        raise InformantError("no_interests")
    return chosen


# --- joining -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JoinPlan:
    """What opening an invite link means for this person."""

    kind: str  # new | rejoin | same | transfer
    station_id: int
    station_name: str
    current_station_name: str | None = None


async def plan_join(
    *, session: AsyncSession, person_id: int, payload: str, now: dt.datetime
) -> JoinPlan:
    """Check the invite and the person's current station (InviteError if the link is bad)."""
    _invite, station = await invite_service.resolve(session=session, payload=payload, now=now)
    assert station.id is not None
    existing = await informant_store.get_by_person(session=session, person_id=person_id)
    if existing is None:
        return JoinPlan("new", station.id, station.name)
    if existing.removed_at is not None:
        return JoinPlan("rejoin", station.id, station.name)
    if existing.station_id == station.id:
        return JoinPlan("same", station.id, station.name)
    current = await session.get(Station, existing.station_id)
    return JoinPlan("transfer", station.id, station.name, current.name if current else None)


async def register(
    *,
    session: AsyncSession,
    person_id: int,
    payload: str,
    real_name: str,
    phone: str,
    interests: Sequence[str],
    consent_at: dt.datetime,
    now: dt.datetime,
) -> Informant:
    """Write the informant at confirmation and count the invite use, audited."""
    invite, station = await invite_service.resolve(session=session, payload=payload, now=now)
    name, number, chosen = clean_name(real_name), clean_phone(phone), clean_interests(interests)
    existing = await informant_store.get_by_person(session=session, person_id=person_id)
    if existing is not None and existing.removed_at is None:
        raise InformantError("already_registered")
    # Count the use first: if the limit was reached meanwhile nothing else is written.
    await invite_service.count_use(session=session, invite=invite)
    values: dict[str, Any] = dict(
        station_id=station.id,
        real_name=name,
        phone=number,
        interests=chosen,
        consent_at=consent_at,
        consent_version=CONSENT_VERSION,
        paused=False,
        joined_at=now,
        last_active_at=now,
        removed_at=None,
        forgotten_at=None,
    )
    if existing is None:
        informant = await informant_store.add_informant(
            session=session, informant=Informant(person_id=person_id, **values)
        )
    else:
        assert existing.id is not None
        await informant_store.update_informant(session=session, informant_id=existing.id, **values)
        reloaded = await informant_store.get_informant(session=session, informant_id=existing.id)
        assert reloaded is not None
        informant = reloaded
    await audit.record(
        session=session,
        actor_id=person_id,
        action="informant.join",
        now=now,
        subject_type="informant",
        subject_id=informant.id,
        region_code=station.region_code,
        detail={
            "station_id": station.id,
            "invite_id": invite.id,
            "consent_version": CONSENT_VERSION,
            "rejoin": existing is not None,
        },
    )
    return informant


async def transfer(
    *, session: AsyncSession, person_id: int, payload: str, now: dt.datetime
) -> tuple[Informant, int]:
    """Move an active informant to the invite's station; return it and the old station id."""
    invite, station = await invite_service.resolve(session=session, payload=payload, now=now)
    informant = await informant_store.get_by_person(session=session, person_id=person_id)
    if informant is None or informant.removed_at is not None:
        raise InformantError("not_informant")
    if informant.station_id == station.id:
        raise InformantError("already_registered")
    assert informant.id is not None
    old_station_id = informant.station_id
    await invite_service.count_use(session=session, invite=invite)
    await informant_store.update_informant(
        session=session, informant_id=informant.id, station_id=station.id, last_active_at=now
    )
    await audit.record(
        session=session,
        actor_id=person_id,
        action="informant.transfer",
        now=now,
        subject_type="informant",
        subject_id=informant.id,
        region_code=station.region_code,
        detail={
            "from_station_id": old_station_id,
            "to_station_id": station.id,
            "invite_id": invite.id,
        },
    )
    moved = await informant_store.get_informant(session=session, informant_id=informant.id)
    assert moved is not None
    return moved, old_station_id


# --- profile and settings ------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileStat:
    """One figure on /me: a message id for the label (with {placeholders}) and its values."""

    label: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """What /me shows about an informant."""

    informant_id: int
    real_name: str
    phone: str
    station_id: int
    station_name: str
    joined_at: dt.datetime
    interests: list[str]
    paused: bool
    quiet_start: dt.time | None
    quiet_end: dt.time | None
    stats: list[ProfileStat] = field(default_factory=list)


# Figures other features add to /me (``Feature.profile_stats``): ``async def provider(*,
# session, informant_id, now)`` returning ProfileStat items (shares this month, reach, rank).
ProfileStatsProvider = Callable[..., Awaitable[Sequence[ProfileStat]]]


async def active_informant(*, session: AsyncSession, person_id: int) -> Informant | None:
    """Return the person's informant row if they are registered now."""
    informant = await informant_store.get_by_person(session=session, person_id=person_id)
    return informant if informant is not None and informant.removed_at is None else None


async def profile(
    *,
    session: AsyncSession,
    person_id: int,
    now: dt.datetime,
    providers: Sequence[ProfileStatsProvider] = (),
) -> Profile | None:
    """Return the profile of a registered informant, with the figures of ``providers``."""
    informant = await active_informant(session=session, person_id=person_id)
    if informant is None or informant.id is None:
        return None
    station = await session.get(Station, informant.station_id)
    stats: list[ProfileStat] = []
    for provider in providers:
        stats.extend(await provider(session=session, informant_id=informant.id, now=now))
    return Profile(
        informant_id=informant.id,
        real_name=informant.real_name or "",
        phone=informant.phone or "",
        station_id=informant.station_id,
        station_name=station.name if station else "",
        joined_at=informant.joined_at,
        interests=list(informant.interests),
        paused=informant.paused,
        quiet_start=informant.quiet_start,
        quiet_end=informant.quiet_end,
        stats=stats,
    )


async def _require(session: AsyncSession, person_id: int) -> Informant:
    informant = await active_informant(session=session, person_id=person_id)
    if informant is None or informant.id is None:
        raise InformantError("not_informant")
    return informant


async def toggle_interest(*, session: AsyncSession, person_id: int, code: str) -> list[str]:
    """Add or remove one interest (at least one must stay); return the new list."""
    informant = await _require(session, person_id)
    current = list(informant.interests)
    if code in current:
        if len(current) == 1:
            raise InformantError("last_interest")
        current.remove(code)
    elif default_taxonomy().get(code) is None:
        raise InformantError("no_interests")
    else:
        current.append(code)
    chosen = clean_interests(current)
    assert informant.id is not None
    await informant_store.update_informant(
        session=session, informant_id=informant.id, interests=chosen
    )
    return chosen


async def set_paused(*, session: AsyncSession, person_id: int, paused: bool) -> None:
    """Pause or resume content pushes."""
    informant = await _require(session, person_id)
    assert informant.id is not None
    await informant_store.update_informant(
        session=session, informant_id=informant.id, paused=paused
    )


async def set_quiet_hours(
    *, session: AsyncSession, person_id: int, start: dt.time | None, end: dt.time | None
) -> None:
    """Set (or, with None, clear) the hours when no push is sent."""
    informant = await _require(session, person_id)
    if (start is None) != (end is None) or (start is not None and start == end):
        raise InformantError("bad_quiet_hours")
    assert informant.id is not None
    await informant_store.update_informant(
        session=session, informant_id=informant.id, quiet_start=start, quiet_end=end
    )


def in_quiet_hours(informant: Informant, at: dt.datetime, tz: dt.tzinfo) -> bool:
    """Tell whether ``at`` (aware) falls in the informant's quiet hours (local time in ``tz``)."""
    start, end = informant.quiet_start, informant.quiet_end
    if start is None or end is None:
        return False
    local = at.astimezone(tz).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end  # spans midnight, e.g. 22:00–07:00


# --- privacy -------------------------------------------------------------------------------


def _jsonable(value: Any, tz: dt.tzinfo) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(tz).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v, tz) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v, tz) for v in value]
    return value


async def export_data(
    *, session: AsyncSession, person_id: int, now: dt.datetime, tz: dt.tzinfo = dt.UTC
) -> dict[str, Any]:
    """Return everything stored about the person as a JSON-ready document, audited.

    Every row of every table that refers to the person or their informant row, their raw
    updates (``inbox_update``) and the messages to them (``outbox_message``); times in ``tz``.
    """
    person = await people_store.get_person(session=session, person_id=person_id)
    if person is None:
        raise InformantError("unknown_person")
    informant = await informant_store.get_by_person(session=session, person_id=person_id)
    informant_ids = [informant.id] if informant is not None and informant.id else []
    tables = await informant_store.rows_about(
        session=session,
        person_id=person_id,
        informant_ids=informant_ids,
        telegram_id=person.telegram_id,
    )
    updates = await inbox_store.updates_of_user(session=session, user_id=person.telegram_id)
    messages = await outbox_store.messages_to_chat(session=session, chat_id=person.telegram_id)
    for name, rows in (("inbox_update", updates), ("outbox_message", messages)):
        if rows:
            tables[name] = rows
    await audit.record(
        session=session,
        actor_id=person_id,
        action="privacy.export",
        now=now,
        subject_type="person",
        subject_id=person_id,
    )
    return {
        "generated_at": now.astimezone(tz).isoformat(),
        "timezone": str(tz),
        "telegram_id": person.telegram_id,
        "consent_version": informant.consent_version if informant else None,
        "tables": _jsonable(tables, tz),
    }


@dataclass(frozen=True)
class DataOverview:
    """What /mydata says in words: the registration, the station and the share figures."""

    real_name: str | None = None
    phone: str | None = None
    station_name: str | None = None
    joined_at: dt.datetime | None = None
    consent_at: dt.datetime | None = None
    link_visits: int = 0


async def data_overview(*, session: AsyncSession, person_id: int) -> DataOverview:
    """Return the person's registration, station and verified visits to their links."""
    informant = await informant_store.get_by_person(session=session, person_id=person_id)
    if informant is None or informant.id is None:
        return DataOverview()
    station = await session.get(Station, informant.station_id)
    visits = await links_store.visit_count(session=session, informant_id=informant.id)
    return DataOverview(
        real_name=informant.real_name,
        phone=informant.phone,
        station_name=station.name if station is not None else None,
        joined_at=informant.joined_at,
        consent_at=informant.consent_at,
        link_visits=visits,
    )


@dataclass(frozen=True)
class Erasure:
    """What /forget did: counts only, nothing that names the person."""

    informant_id: int | None
    inbox_deleted: int = 0
    inbox_scrubbed: int = 0
    outbox_erased: int = 0
    roles_revoked: int = 0
    dialogs_ended: int = 0
    audit_unlinked: int = 0
    person_deleted: bool = False

    def detail(self) -> dict[str, Any]:
        """Return the counts for the audit entry."""
        return {
            "inbox_deleted": self.inbox_deleted,
            "inbox_scrubbed": self.inbox_scrubbed,
            "outbox_erased": self.outbox_erased,
            "roles_revoked": self.roles_revoked,
            "dialogs_ended": self.dialogs_ended,
            "audit_unlinked": self.audit_unlinked,
            "person_deleted": self.person_deleted,
        }


async def forget(
    *,
    session: AsyncSession,
    person: Person,
    now: dt.datetime,
    through_update_id: int | None = None,
) -> Erasure:
    """Erase every row that identifies the person; keep anonymous rows for the totals.

    The informant row loses its personal data and its link to the person; its share rows,
    tracked links and groups keep pointing at it and still count for the station. The
    person's raw updates up to ``through_update_id`` (the one being handled) are deleted
    and they are scrubbed from other people's; the messages to them are made anonymous;
    their roles end; audit entries no longer tie them to the informant row; the person row
    is deleted, or made anonymous if other rows (duties they did) point at it.
    """
    assert person.id is not None
    person_id, telegram_id = person.id, person.telegram_id
    informant = await informant_store.get_by_person(session=session, person_id=person_id)
    informant_id = informant.id if informant is not None else None
    if informant_id is not None:
        assert informant is not None
        await informant_store.update_informant(
            session=session,
            informant_id=informant_id,
            person_id=None,
            real_name=None,
            phone=None,
            interests=[],
            quiet_start=None,
            quiet_end=None,
            paused=True,
            forgotten_at=now,
            removed_at=informant.removed_at or now,
        )
    dialogs = await dialog_store.clear_user_dialogs(session=session, user_id=telegram_id)
    deleted = await inbox_store.delete_user_updates(
        session=session, user_id=telegram_id, through_update_id=through_update_id
    )
    scrubbed = await inbox_store.scrub_user_mentions(
        session=session, user_id=telegram_id, through_update_id=through_update_id
    )
    erased = await outbox_store.erase_chat(session=session, chat_id=telegram_id)
    roles = await roles_store.revoke_all(session=session, person_id=person_id)
    if roles:  # a former role holder's desk button goes back to the default one
        await queue_menu_refresh(session=session, telegram_id=telegram_id, now=now)
    unlinked = await audit.unlink_person(
        session=session,
        person_id=person_id,
        informant_ids=[informant_id] if informant_id is not None else [],
        telegram_id=telegram_id,
    )
    person_deleted = await people_store.erase_person(session=session, person_id=person_id)
    erasure = Erasure(
        informant_id=informant_id,
        inbox_deleted=deleted,
        inbox_scrubbed=scrubbed,
        outbox_erased=erased,
        roles_revoked=roles,
        dialogs_ended=dialogs,
        audit_unlinked=unlinked,
        person_deleted=person_deleted,
    )
    # No actor and no subject: the entry records that an erasure happened, not whose.
    await audit.record(
        session=session, actor_id=None, action="privacy.forget", now=now, detail=erasure.detail()
    )
    return erasure


# --- station admin ---------------------------------------------------------------------------


async def authorise_station(
    *,
    session: AsyncSession,
    grants: Sequence[RoleGrant],
    actor_id: int | None,
    station_id: int,
    action: str,
    now: dt.datetime,
) -> None:
    """Refuse (audited, InformantError) unless the person administers ``station_id``."""
    if can_admin_station(grants, station_id):
        return
    station = await session.get(Station, station_id)
    await audit_refusal(
        session=session,
        actor_id=actor_id,
        action=action,
        reason="not_station_admin",
        now=now,
        subject_type="station",
        subject_id=station_id,
        region_code=station.region_code if station else None,
    )
    raise InformantError("not_station_admin")


@dataclass(frozen=True)
class RosterEntry:
    """One informant line of the roster."""

    informant_id: int
    name: str
    joined_at: dt.datetime
    last_active_at: dt.datetime | None
    shares_this_month: int


@dataclass(frozen=True)
class RosterPage:
    """One page of a station's roster."""

    station_id: int
    station_name: str
    entries: list[RosterEntry]
    page: int
    pages: int
    total: int


def month_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    """Return the first day of today's month and of the next month."""
    start = today.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


async def count_informants(*, session: AsyncSession, station_id: int) -> int:
    """Return how many informants a station has now."""
    return await informant_store.count_active(session=session, station_id=station_id)


async def roster_page(
    *,
    session: AsyncSession,
    station_id: int,
    page: int,
    today: dt.date,
    page_size: int = ROSTER_PAGE_SIZE,
) -> RosterPage:
    """Return one page of a station's informants (page numbers start at 0)."""
    station = await session.get(Station, station_id)
    if station is None:
        raise InformantError("unknown_station")
    total = await informant_store.count_active(session=session, station_id=station_id)
    pages = max(1, -(-total // page_size))
    page = min(max(page, 0), pages - 1)
    start, end = month_bounds(today)
    rows = await informant_store.roster(
        session=session,
        station_id=station_id,
        month_start=start,
        month_end=end,
        offset=page * page_size,
        limit=page_size,
    )
    entries = []
    for row in rows:
        seen = [t for t in (row.informant.last_active_at, row.last_seen_at) if t is not None]
        assert row.informant.id is not None
        entries.append(
            RosterEntry(
                informant_id=row.informant.id,
                name=row.informant.real_name or "",
                joined_at=row.informant.joined_at,
                last_active_at=max(seen) if seen else None,
                shares_this_month=row.shares,
            )
        )
    assert station.id is not None
    return RosterPage(station.id, station.name, entries, page, pages, total)


@dataclass(frozen=True)
class Removal:
    """An informant removed from a station, and whom to tell."""

    informant_id: int
    name: str
    telegram_id: int | None
    language: str | None
    station_name: str


async def remove(
    *,
    session: AsyncSession,
    station_id: int,
    informant_id: int,
    actor_id: int | None,
    now: dt.datetime,
    reason: str | None = None,
) -> Removal:
    """Remove an informant from a station (their rows stay for totals), audited."""
    informant = await informant_store.get_informant(session=session, informant_id=informant_id)
    station = await session.get(Station, station_id)
    if informant is None or informant.station_id != station_id or informant.removed_at:
        await audit_refusal(
            session=session,
            actor_id=actor_id,
            action="informant.remove",
            reason="not_in_station",
            now=now,
            subject_type="informant",
            subject_id=informant_id,
            region_code=station.region_code if station else None,
            detail={"station_id": station_id},
        )
        raise InformantError("not_in_station")
    await informant_store.update_informant(
        session=session, informant_id=informant_id, removed_at=now
    )
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="informant.remove",
        now=now,
        subject_type="informant",
        subject_id=informant_id,
        region_code=station.region_code if station else None,
        reason=reason,
        detail={"station_id": station_id},
    )
    person = (
        await people_store.get_person(session=session, person_id=informant.person_id)
        if informant.person_id
        else None
    )
    return Removal(
        informant_id=informant_id,
        name=informant.real_name or "",
        telegram_id=person.telegram_id if person else None,
        language=person.language if person else None,
        station_name=station.name if station else "",
    )


async def administered_stations(*, session: AsyncSession, person_id: int) -> list[tuple[int, str]]:
    """Return (id, name) of the stations the person administers."""
    grants = await roles_store.roles_of(session=session, person_id=person_id)
    result = []
    for grant in grants:
        if grant.role == "station_admin" and grant.station_id is not None:
            station = await session.get(Station, grant.station_id)
            if station is not None:
                result.append((grant.station_id, station.name))
    return result
