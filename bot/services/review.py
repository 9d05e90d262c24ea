"""Submitting, reviewing and managing stations: every move checks role, region and state.

Each function authorises the actor (``bot.services.access``), checks the state machine
(``bot.services.stations.next_state``), writes the change and an audit entry, and returns
the notices to send.  A refused attempt is audited with ``allowed=False`` and raised as a
``StationError`` with a code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import StationsSettings
from bot.i18n import N_
from bot.services import roles as role_service
from bot.services.access import (
    audit_refusal,
    can_act_on_station,
    coordinator_grants,
    is_admin,
)
from bot.services.stations import (
    REASON_REQUIRED,
    STAGES,
    TRANSITIONS,
    Notice,
    StationError,
    legal_actions,
    missing_parts,
    next_state,
)
from storage import audit, people, roles
from storage import regions as region_store
from storage import stations as store
from storage.models import IntegrityFlag, Person, RoleGrant, Station, StationReview

REASON_MAX = 1000


@dataclass(frozen=True)
class Actor:
    """Who acts: their person id and role grants (empty for the command line)."""

    person_id: int | None
    grants: Sequence[RoleGrant] = ()


@dataclass(frozen=True)
class OnsiteCheck:
    """The county's on-site check record: date, inspector, note and a photo or location."""

    date: dt.date
    inspector: str
    note: str
    photo_file_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class Outcome:
    """What a transition did, and whom to tell."""

    station: Station
    notices: list[Notice] = field(default_factory=list)
    flag: IntegrityFlag | None = None


def city_code_of(county_code: str) -> str:
    """Return the city code above a county (xx90xx counties sit under xx9000)."""
    return county_code[:4] + "00"


def _notices(people_: Iterable[Person], message: str, **params: Any) -> list[Notice]:
    seen: set[int] = set()
    out = []
    for person in people_:
        if person.telegram_id in seen:
            continue
        seen.add(person.telegram_id)
        out.append(Notice(person.telegram_id, person.language, message, dict(params)))
    return out


def available_actions(grants: Iterable[RoleGrant], station: Station) -> list[str]:
    """Return what this person may do to the station now: legal in its state and in their role."""
    return [
        action
        for action in legal_actions(station.status)
        if can_act_on_station(grants, action, station.region_code, station.id)
    ]


async def _coordinators(session: AsyncSession, codes: Sequence[str]) -> Sequence[Person]:
    return await roles.holders_of(session=session, role="coordinator", region_codes=codes)


async def _applicant(session: AsyncSession, station: Station) -> list[Person]:
    if station.applicant_id is None:
        return []
    person = await people.get_person(session=session, person_id=station.applicant_id)
    return [person] if person is not None else []


async def _get(session: AsyncSession, station_id: int) -> Station:
    station = await store.get_station(session=session, station_id=station_id)
    if station is None:
        raise StationError("not_found", station_id=station_id)
    return station


async def _refuse(
    session: AsyncSession,
    actor: Actor,
    action: str,
    station: Station,
    now: dt.datetime,
    code: str,
    **params: Any,
) -> StationError:
    await audit_refusal(
        session=session,
        actor_id=actor.person_id,
        action=f"station.{action}",
        now=now,
        subject_type="station",
        subject_id=station.id,
        region_code=station.region_code,
        reason=code,
        detail={"state": station.status, **{k: str(v) for k, v in params.items()}},
    )
    return StationError(code, state=station.status, action=action, **params)


async def authorise(
    *, session: AsyncSession, actor: Actor, action: str, station_id: int, now: dt.datetime
) -> Station:
    """Return the station if ``actor`` may take ``action`` on it now; audit a refusal."""
    station = await _get(session, station_id)
    if not can_act_on_station(actor.grants, action, station.region_code, station.id):
        raise await _refuse(session, actor, action, station, now, "not_allowed")
    if action != "view" and (station.status, action) not in _LEGAL:
        raise await _refuse(session, actor, action, station, now, "illegal_transition")
    return station


def _clean_reason(action: str, reason: str | None) -> str | None:
    reason = " ".join((reason or "").split()) or None
    if action in REASON_REQUIRED and not reason:
        raise StationError("reason_required", action=action)
    return reason[:REASON_MAX] if reason else None


async def _move(
    session: AsyncSession,
    actor: Actor,
    action: str,
    station_id: int,
    now: dt.datetime,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Station:
    reason = _clean_reason(action, reason)
    station = await authorise(
        session=session, actor=actor, action=action, station_id=station_id, now=now
    )
    before = station.status
    station.status = next_state(before, action)
    station.status_reason = reason
    station.updated_at = now
    await audit.record(
        session=session,
        actor_id=actor.person_id,
        action=f"station.{action}",
        now=now,
        subject_type="station",
        subject_id=station.id,
        region_code=station.region_code,
        reason=reason,
        detail={"from": before, "to": station.status, **(detail or {})},
    )
    return station


async def _review_row(
    session: AsyncSession,
    station: Station,
    actor: Actor,
    action: str,
    now: dt.datetime,
    reason: str | None = None,
    onsite: OnsiteCheck | None = None,
) -> None:
    assert station.id is not None
    review = StationReview(
        station_id=station.id,
        stage=STAGES.get(action, "management"),
        decision=action,
        reason=reason,
        reviewer_id=actor.person_id,
        created_at=now,
    )
    if onsite is not None:
        review.onsite_date = onsite.date
        review.inspector = onsite.inspector
        review.note = onsite.note
        review.photo_file_id = onsite.photo_file_id
        review.latitude = onsite.latitude
        review.longitude = onsite.longitude
    await store.add_review(session=session, review=review)


_LEGAL = frozenset(TRANSITIONS)


# --- submit and the formalism alarm -------------------------------------------------------
async def submit(
    *,
    session: AsyncSession,
    station_id: int,
    applicant_id: int,
    now: dt.datetime,
    stations: StationsSettings,
) -> Outcome:
    """Submit a complete application to the county; raise the burst alarm if due."""
    station = await _get(session, station_id)
    actor = Actor(applicant_id)
    if station.applicant_id != applicant_id:
        raise await _refuse(session, actor, "submit", station, now, "not_allowed")
    if (station.status, "submit") not in _LEGAL:
        raise await _refuse(session, actor, "submit", station, now, "illegal_transition")
    missing = await missing_parts(session=session, station=station)
    if missing:
        raise StationError("incomplete", missing=missing)
    before = station.status
    station.status = next_state(before, "submit")
    station.status_reason = None
    station.submitted_at = now
    station.updated_at = now
    await audit.record(
        session=session,
        actor_id=applicant_id,
        action="station.submit",
        now=now,
        subject_type="station",
        subject_id=station.id,
        region_code=station.region_code,
        detail={"from": before, "to": station.status},
    )
    assert station.region_code is not None
    outcome = Outcome(station)
    outcome.notices += _notices(
        await _coordinators(session, [station.region_code]),
        N_("New station application to review: {name} (#{id}). Send /pending to review it."),
        name=station.name,
        id=station.id,
    )
    outcome.flag, flag_notices = await _burst_check(session, station, now, stations)
    outcome.notices += flag_notices
    return outcome


async def _burst_check(
    session: AsyncSession, station: Station, now: dt.datetime, stations: StationsSettings
) -> tuple[IntegrityFlag | None, list[Notice]]:
    window, threshold = stations.burst_window_hours, stations.burst_threshold
    since = now - dt.timedelta(hours=window)
    assert station.region_code is not None
    ids = await store.submissions_since(
        session=session, region_code=station.region_code, since=since
    )
    if len(ids) <= threshold:
        return None, []
    if await store.recent_flag(
        session=session, kind="application_burst", region_code=station.region_code, since=since
    ):
        return None, []  # already flagged in this window; one alarm is enough
    flag = await store.add_flag(
        session=session,
        flag=IntegrityFlag(
            kind="application_burst",
            station_id=station.id,
            region_code=station.region_code,
            subject_type="region",
            detail={
                "count": len(ids),
                "window_hours": window,
                "threshold": threshold,
                "station_ids": ids,
            },
            created_at=now,
        ),
    )
    await audit.record(
        session=session,
        actor_id=None,
        action="flag.application_burst",
        now=now,
        subject_type="integrity_flag",
        subject_id=flag.id,
        region_code=station.region_code,
        detail=dict(flag.detail),
    )
    city = await _coordinators(session, [city_code_of(station.region_code)])
    return flag, _notices(
        city,
        N_(
            "Formalism alarm: {n} station applications were submitted in county {county} "
            "within {hours} hours (threshold {threshold}). Please look at them closely."
        ),
        n=len(ids),
        county=await _region_name(session, station.region_code),
        hours=window,
        threshold=threshold,
    )


async def _region_name(session: AsyncSession, code: str | None) -> str:
    """Return a region's name for a person to read (the code only if it is unknown)."""
    region = await region_store.get_region(session=session, code=code) if code else None
    return region.name if region is not None else (code or "—")


# --- county review ------------------------------------------------------------------------
def check_onsite(onsite: OnsiteCheck, today: dt.date) -> None:
    """Refuse an incomplete or impossible on-site check record."""
    if onsite.date > today:
        raise StationError("onsite_date_future")
    if not onsite.inspector.strip():
        raise StationError("onsite_inspector_required")
    if onsite.photo_file_id is None and (onsite.latitude is None or onsite.longitude is None):
        raise StationError("onsite_proof_required")


async def county_approve(
    *,
    session: AsyncSession,
    station_id: int,
    actor: Actor,
    onsite: OnsiteCheck,
    today: dt.date,
    now: dt.datetime,
) -> Outcome:
    """Approve at county level with the on-site check record."""
    check_onsite(onsite, today)
    station = await _move(
        session,
        actor,
        "county_approve",
        station_id,
        now,
        detail={"onsite_date": onsite.date.isoformat(), "inspector": onsite.inspector},
    )
    await _review_row(session, station, actor, "county_approve", now, onsite=onsite)
    assert station.region_code is not None
    outcome = Outcome(station)
    outcome.notices += _notices(
        await _applicant(session, station),
        N_(
            "Good news: the county approved your application {name} after the on-site "
            "check. The city will now re-verify it."
        ),
        name=station.name,
    )
    outcome.notices += _notices(
        await _coordinators(session, [city_code_of(station.region_code)]),
        N_(
            "A county-approved station awaits your re-verification: {name} (#{id}). Send /pending."
        ),
        name=station.name,
        id=station.id,
    )
    return outcome


async def reject(
    *,
    session: AsyncSession,
    station_id: int,
    actor: Actor,
    action: str,
    reason: str,
    now: dt.datetime,
) -> Outcome:
    """Reject at the county (``county_reject``) or send back at the city (``city_send_back``)."""
    if action not in ("county_reject", "city_send_back"):
        raise ValueError(action)
    station = await _move(session, actor, action, station_id, now, reason=reason)
    await _review_row(session, station, actor, action, now, reason=station.status_reason)
    return Outcome(
        station,
        _notices(
            await _applicant(session, station),
            N_(
                "Your station application {name} was sent back. Reason: {reason}\n"
                "Send /apply to edit it and submit it again."
            ),
            name=station.name,
            reason=station.status_reason,
        ),
    )


# --- city re-verification -----------------------------------------------------------------
async def city_recognise(
    *, session: AsyncSession, station_id: int, actor: Actor, now: dt.datetime
) -> Outcome:
    """Recognise the station; its applicant becomes its station admin (audited)."""
    station = await _move(session, actor, "city_recognise", station_id, now)
    station.recognised_at = now
    await _review_row(session, station, actor, "city_recognise", now)
    applicant = await _applicant(session, station)
    for person in applicant:
        await role_service.grant(
            session=session,
            telegram_id=person.telegram_id,
            role="station_admin",
            station_id=station.id,
            actor_id=actor.person_id,
            now=now,
        )
    return Outcome(
        station,
        _notices(
            applicant,
            N_(
                "Congratulations! {name} is now a recognised Kepu China e-station (#{id}). "
                "You are its station admin: send /help to see what you can do."
            ),
            name=station.name,
            id=station.id,
        ),
    )


# --- dynamic management -------------------------------------------------------------------
async def _station_people(session: AsyncSession, station: Station) -> list[Person]:
    assert station.id is not None
    admins = list(await store.station_admins(session=session, station_id=station.id))
    return admins + await _applicant(session, station)


async def rectify(
    *,
    session: AsyncSession,
    station_id: int,
    actor: Actor,
    reason: str,
    deadline: dt.date,
    today: dt.date,
    now: dt.datetime,
) -> Outcome:
    """Order rectification by ``deadline``; the station admins are told."""
    _clean_reason("rectify", reason)
    if deadline <= today:
        raise StationError("deadline_not_future")
    station = await _move(
        session,
        actor,
        "rectify",
        station_id,
        now,
        reason=reason,
        detail={"deadline": deadline.isoformat()},
    )
    station.rectify_deadline = deadline
    await _review_row(session, station, actor, "rectify", now, reason=station.status_reason)
    return Outcome(
        station,
        _notices(
            await _station_people(session, station),
            N_("Your station {name} has been ordered to rectify by {deadline}. Reason: {reason}"),
            name=station.name,
            deadline=deadline,
            reason=station.status_reason,
        ),
    )


async def lift(
    *,
    session: AsyncSession,
    station_id: int,
    actor: Actor,
    now: dt.datetime,
    reason: str | None = None,
) -> Outcome:
    """Lift a rectification order: the station is recognised again."""
    station = await _move(session, actor, "lift", station_id, now, reason=reason)
    station.rectify_deadline = None
    await _review_row(session, station, actor, "lift", now, reason=station.status_reason)
    return Outcome(
        station,
        _notices(
            await _station_people(session, station),
            N_("The rectification order for your station {name} was lifted. Thank you!"),
            name=station.name,
        ),
    )


async def revoke(
    *, session: AsyncSession, station_id: int, actor: Actor, reason: str, now: dt.datetime
) -> Outcome:
    """Revoke a station under rectification (final)."""
    station = await _move(session, actor, "revoke", station_id, now, reason=reason)
    station.rectify_deadline = None
    await _review_row(session, station, actor, "revoke", now, reason=station.status_reason)
    return Outcome(
        station,
        _notices(
            await _station_people(session, station),
            N_("Your station {name} has been revoked. Reason: {reason}"),
            name=station.name,
            reason=station.status_reason,
        ),
    )


@dataclass(frozen=True)
class DueRectification:
    """A station whose rectification deadline has passed or is near."""

    station_id: int
    name: str
    region_code: str | None
    deadline: dt.date
    days_left: int  # negative when overdue

    @property
    def overdue(self) -> bool:
        """Tell whether the deadline has passed."""
        return self.days_left < 0


async def due_rectifications(
    session: AsyncSession, today: dt.date, within_days: int
) -> list[DueRectification]:
    """Return stations in rectification whose deadline passed or is within ``within_days``."""
    rows = await store.rectifications_due(
        session=session, until=today + dt.timedelta(days=within_days)
    )
    return [
        DueRectification(
            s.id or 0, s.name, s.region_code, s.rectify_deadline, (s.rectify_deadline - today).days
        )
        for s in rows
        if s.rectify_deadline is not None
    ]


# --- queues -------------------------------------------------------------------------------
async def pending_for(
    *, session: AsyncSession, grants: Sequence[RoleGrant], limit: int = 20
) -> list[Station]:
    """Return applications the person may review now: county stage, then city stage."""

    if is_admin(grants):
        return list(
            await store.list_stations(
                session=session, statuses=["submitted", "county_approved"], limit=limit
            )
        )
    counties = coordinator_grants(grants, ["county"])
    cities = [code[:4] for code in coordinator_grants(grants, ["city"])]
    out = (
        list(
            await store.list_stations(
                session=session, statuses=["submitted"], region_codes=counties, limit=limit
            )
        )
        if counties
        else []
    )
    if cities:
        out += await store.list_stations(
            session=session, statuses=["county_approved"], region_prefixes=cities, limit=limit
        )
    return out[:limit]
