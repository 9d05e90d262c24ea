"""Activities a station ran: the rules for registering, editing and flagging them.

Plain values in, plain values out. Refusals raise ``ActivityError`` with a ``code`` the
handlers localise. Nothing here commits: the caller's transaction does.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import ActivitiesSettings, IntegritySettings
from bot.core.errors import DomainError
from bot.core.zh_dates import DateError, parse_time, read_date
from bot.core.zh_numbers import Quantity, QuantityError, read_quantity
from bot.services import findings_auto
from bot.services.access import (
    administered_station_ids,
    audit_refusal,
    can_admin_station,
    is_admin,
)
from bot.services.activity_text import (
    ERR_DATE_INVALID,
    ERR_PARTICIPANTS_NEGATIVE,
    ERR_PARTICIPANTS_TOO_MANY,
    ERR_PARTICIPANTS_ZERO,
    parse_activity_text,
)
from storage import activities as store
from storage import audit
from storage.activities import PhotoRef
from storage.models import Activity, RoleGrant, Station

TYPES: tuple[str, ...] = Activity.TYPES
MAX_TITLE_CHARS = 100
MAX_PLACE_CHARS = 100
MAX_PARTICIPANTS = 100_000
MAX_PHOTOS = 10
CLOSED_STATION_STATES = frozenset({"revoked"})

FLAG_PHOTO_REUSE = findings_auto.PHOTO_REUSE
FLAG_PARTICIPANTS_HIGH = findings_auto.PARTICIPANTS_HIGH
FLAG_DUPLICATE = findings_auto.DUPLICATE_ACTIVITY
FLAG_COMMERCIAL = findings_auto.COMMERCIAL

# The order the guided form asks in; the one-message form asks only what is missing.
FIELDS: tuple[str, ...] = ("type", "title", "when", "place", "participants", "campaign",
                           "photos")  # fmt: skip
REQUIRED: tuple[str, ...] = ("type", "title", "when", "participants", "photos")


class ActivityError(DomainError, area="activity"):
    """A refusal; ``code`` names it and ``params`` fill its message."""


@dataclass(frozen=True)
class ActivityInput:
    """Everything needed to store an activity."""

    type: str
    title: str
    held_on: dt.date
    participants: int
    photos: tuple[PhotoRef, ...]
    held_at_time: dt.time | None = None
    place: str | None = None
    campaign: str | None = None
    commercial: bool | None = None  # sales or sponsors involved (None: not asked)


@dataclass(frozen=True)
class Saved:
    """The outcome of a register or an edit: the id, the findings raised and closed now."""

    activity_id: int
    station_id: int
    new_flags: tuple[str, ...]
    participants_bound: int
    closed_flags: int = 0


@dataclass(frozen=True)
class Page:
    """One page of a station's activities."""

    items: tuple[Activity, ...]
    total: int
    page: int
    pages: int


@dataclass
class Draft:
    """What a one-message report gave: fields found, steps still to ask, problems to tell."""

    fields: dict[str, Any] = field(default_factory=dict)
    ask: list[str] = field(default_factory=list)
    problems: list[ActivityError] = field(default_factory=list)


# --- checks of single fields -----------------------------------------------------------------
def check_type(code: str) -> str:
    """Return a known type code or refuse."""
    if code not in TYPES:
        raise ActivityError("type_unknown")
    return code


def check_title(text: str) -> str:
    """Return a tidy title or refuse an empty, overlong or wordless one (only 👍 or ……)."""
    title = " ".join(text.split())
    if not title:
        raise ActivityError("title_empty")
    if not any(unicodedata.category(ch)[0] in "LN" for ch in title):
        raise ActivityError("title_no_words")
    if len(title) > MAX_TITLE_CHARS:
        raise ActivityError("title_too_long", limit=MAX_TITLE_CHARS)
    return title


def check_place(text: str) -> str:
    """Return a tidy place or refuse an empty or overlong one."""
    place = " ".join(text.split())
    if not place:
        raise ActivityError("place_empty")
    if len(place) > MAX_PLACE_CHARS:
        raise ActivityError("place_too_long", limit=MAX_PLACE_CHARS)
    return place


def check_held_on(held_on: dt.date, *, today: dt.date, rules: ActivitiesSettings) -> dt.date:
    """Refuse a date in the future or more than ``max_age_days`` back."""
    if held_on > today:
        raise ActivityError("date_in_future")
    if held_on < today - dt.timedelta(days=rules.max_age_days):
        raise ActivityError("date_too_old", days=rules.max_age_days)
    return held_on


def check_participants(value: int) -> int:
    """Refuse zero and absurd head counts."""
    if value <= 0:
        raise ActivityError("participants_zero")
    if value > MAX_PARTICIPANTS:
        raise ActivityError("participants_too_many", limit=MAX_PARTICIPANTS)
    return value


def read_participants(text: str) -> Quantity:
    """Read a typed head count (45, 四十五, 约120人, 200人左右) with the one quantity reader."""
    try:
        return read_quantity(text, limit=MAX_PARTICIPANTS)
    except QuantityError as exc:
        code = {"empty": "unreadable"}.get(exc.code, exc.code)
        raise ActivityError(f"participants_{code}", **exc.params) from None


def parse_participants(text: str) -> int:
    """Read a typed head count and return its value."""
    return read_participants(text).value


def needs_size_check(fields: dict[str, Any], rules: ActivitiesSettings) -> bool:
    """Tell whether a head count is above the usual bound and not yet confirmed by its sender."""
    value = fields.get("participants")
    return (
        isinstance(value, int)
        and value > rules.participants_flag_above
        and fields.get("participants_confirmed") != value
    )


def parse_when(
    text: str, *, today: dt.date, rules: ActivitiesSettings
) -> tuple[dt.date, dt.time | None]:
    """Read a date (and optional time) in any form the one-message parser accepts."""
    try:
        found = read_date(text, today=today)
    except DateError as exc:
        code = "date_impossible" if exc.code == "impossible" else "date_unreadable"
        raise ActivityError(code, **exc.params) from None
    clock = found.time
    if clock is None:
        rest = text[: found.start] + " " * (found.end - found.start) + text[found.end :]
        match = parse_time(rest)
        clock = match.value if match else None
    return check_held_on(found.value, today=today, rules=rules), clock


def check_campaign(code: str | None, known: Iterable[str]) -> str | None:
    """Return a known campaign code (or None for no campaign)."""
    if code in (None, "", "none"):
        return None
    if code not in set(known):
        raise ActivityError("campaign_unknown")
    return code


def validate(
    data: ActivityInput, *, today: dt.date, rules: ActivitiesSettings, check_date: bool = True
) -> None:
    """Check a whole activity before it is stored."""
    check_type(data.type)
    check_title(data.title)
    if data.place is not None:
        check_place(data.place)
    if check_date:
        check_held_on(data.held_on, today=today, rules=rules)
    check_participants(data.participants)
    if not data.photos:
        raise ActivityError("photos_missing")
    if len(data.photos) > MAX_PHOTOS:
        raise ActivityError("photos_too_many", limit=MAX_PHOTOS)


# --- the one-message form ----------------------------------------------------------------------
def draft_from_text(text: str, *, today: dt.date, rules: ActivitiesSettings) -> Draft:
    """Turn a one-message report into dialog fields plus the steps still to ask."""
    parsed = parse_activity_text(text, today=today)
    draft = Draft()
    fields = draft.fields
    if parsed.type:
        fields["type"] = parsed.type
    if parsed.title:
        fields["title"] = parsed.title[:MAX_TITLE_CHARS]
    if parsed.held_on is not None:
        try:
            check_held_on(parsed.held_on, today=today, rules=rules)
            fields["held_on"] = parsed.held_on.isoformat()
            if parsed.held_at_time is not None:
                fields["held_at_time"] = parsed.held_at_time.strftime("%H:%M")
        except ActivityError as exc:
            draft.problems.append(ActivityError(exc.code, when=parsed.held_on, **exc.params))
    elif ERR_DATE_INVALID in parsed.errors and parsed.bad_date:
        draft.problems.append(ActivityError("date_impossible", written=parsed.bad_date))
    elif ERR_DATE_INVALID in parsed.errors:
        draft.problems.append(ActivityError("date_unreadable"))
    if ERR_PARTICIPANTS_NEGATIVE in parsed.errors:
        draft.problems.append(ActivityError("participants_negative"))
    if parsed.participants is not None:
        if ERR_PARTICIPANTS_ZERO in parsed.errors:
            draft.problems.append(ActivityError("participants_zero"))
        elif ERR_PARTICIPANTS_TOO_MANY in parsed.errors:
            draft.problems.append(ActivityError("participants_too_many", limit=MAX_PARTICIPANTS))
        else:
            fields["participants"] = parsed.participants
            fields["participants_approx"] = parsed.participants_approx
    if parsed.place:
        fields["place"] = parsed.place[:MAX_PLACE_CHARS]
    if parsed.campaign:
        fields["campaign"] = parsed.campaign
    draft.ask = missing_steps(fields)
    return draft


def missing_steps(fields: dict[str, Any]) -> list[str]:
    """Return the required steps a draft (dialog data) has no value for yet."""
    present = {
        "type": "type" in fields,
        "title": "title" in fields,
        "when": "held_on" in fields,
        "participants": "participants" in fields,
        "photos": bool(fields.get("photos")),
    }
    return [name for name in REQUIRED if not present[name]]


def input_from_fields(fields: dict[str, Any]) -> ActivityInput:
    """Build the input of a save from dialog data (raise if something required is missing)."""
    missing = missing_steps(fields)
    if missing:
        raise ActivityError("incomplete", field=missing[0])
    clock = fields.get("held_at_time")
    return ActivityInput(
        type=fields["type"],
        title=fields["title"],
        held_on=dt.date.fromisoformat(fields["held_on"]),
        held_at_time=dt.time.fromisoformat(clock) if clock else None,
        place=fields.get("place"),
        participants=int(fields["participants"]),
        campaign=fields.get("campaign"),
        photos=tuple(PhotoRef(p[0], p[1]) for p in fields.get("photos", [])),
        commercial=fields.get("commercial"),
    )


def fields_from_activity(activity: Activity, photos: Sequence[PhotoRef]) -> dict[str, Any]:
    """Return dialog data for editing an existing activity."""
    fields: dict[str, Any] = {
        "type": activity.type,
        "title": activity.title,
        "held_on": activity.held_on.isoformat(),
        "participants": activity.participants,
        "participants_confirmed": activity.participants,  # saved once, not asked again
        "photos": [[p.file_id, p.file_unique_id] for p in photos],
    }
    if activity.held_at_time is not None:
        fields["held_at_time"] = activity.held_at_time.strftime("%H:%M")
    if activity.place:
        fields["place"] = activity.place
    if activity.campaign:
        fields["campaign"] = activity.campaign
    if activity.commercial is not None:
        fields["commercial"] = activity.commercial
    return fields


# --- stations -------------------------------------------------------------------------------
async def admin_stations(*, session: AsyncSession, grants: Sequence[RoleGrant]) -> list[Station]:
    """Return the open stations the person administers, by name."""
    stations = await store.stations_by_id(
        session=session, station_ids=administered_station_ids(grants)
    )
    return sorted(
        (s for s in stations.values() if s.status not in CLOSED_STATION_STATES),
        key=lambda s: (s.name, s.id or 0),
    )


async def _station_for_write(
    session: AsyncSession, grants: Sequence[RoleGrant], station_id: int
) -> Station:
    if not can_admin_station(grants, station_id):
        raise ActivityError("not_station_admin")
    station = await store.stations_by_id(session=session, station_ids=[station_id])
    if station_id not in station:
        raise ActivityError("station_unknown")
    if station[station_id].status in CLOSED_STATION_STATES:
        raise ActivityError("station_closed")
    return station[station_id]


# --- writes -----------------------------------------------------------------------------
async def register_activity(
    *,
    session: AsyncSession,
    station_id: int,
    grants: Sequence[RoleGrant],
    actor_id: int | None,
    data: ActivityInput,
    now: dt.datetime,
    today: dt.date,
    rules: ActivitiesSettings,
    integrity: IntegritySettings | None = None,
) -> Saved:
    """Store a new activity with its photos; raise the findings it deserves."""
    station = await _station_for_write(session, grants, station_id)
    validate(data, today=today, rules=rules)
    activity = Activity(
        station_id=station_id,
        type=data.type,
        title=check_title(data.title),
        held_on=data.held_on,
        held_at_time=data.held_at_time,
        place=data.place,
        participants=data.participants,
        campaign=data.campaign,
        commercial=data.commercial,
        created_by=actor_id,
        created_at=now,
    )
    await store.add_activity(session=session, activity=activity, photos=data.photos)
    assert activity.id is not None
    check = await _recheck(session, activity, station, rules, integrity, now)
    flags = tuple(check.raised)
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="activity.create",
        now=now,
        subject_type="activity",
        subject_id=activity.id,
        region_code=station.region_code,
        detail={"station_id": station_id, "flags": list(flags)},
    )
    return Saved(activity.id, station_id, flags, rules.participants_flag_above, len(check.closed))


async def editable_activity(
    *,
    session: AsyncSession,
    activity_id: int,
    grants: Sequence[RoleGrant],
    actor_id: int | None,
    now: dt.datetime,
    rules: ActivitiesSettings,
    action: str = "activity.edit",
) -> Activity:
    """Return an activity the person may still change, or refuse (refusals are audited)."""
    activity = await store.get_activity(session=session, activity_id=activity_id)
    if activity is None or activity.deleted_at is not None:
        raise ActivityError("activity_unknown")
    if not can_admin_station(grants, activity.station_id):
        await _refused(session, actor_id, action, activity, now, "not_station_admin")
        raise ActivityError("not_station_admin")
    if not can_edit(activity, now=now, rules=rules):
        await _refused(session, actor_id, action, activity, now, "edit_window_over")
        raise ActivityError("edit_window_over", days=rules.edit_days)
    return activity


def can_edit(activity: Activity, *, now: dt.datetime, rules: ActivitiesSettings) -> bool:
    """Tell whether an activity is still within its edit window."""
    return now - activity.created_at <= dt.timedelta(days=rules.edit_days)


async def update_activity(
    *,
    session: AsyncSession,
    activity_id: int,
    grants: Sequence[RoleGrant],
    actor_id: int | None,
    data: ActivityInput,
    now: dt.datetime,
    today: dt.date,
    rules: ActivitiesSettings,
    integrity: IntegritySettings | None = None,
) -> Saved:
    """Change an activity within its edit window (audited); re-check its findings."""
    activity = await editable_activity(
        session=session,
        activity_id=activity_id,
        grants=grants,
        actor_id=actor_id,
        now=now,
        rules=rules,
    )
    station = await _station_for_write(session, grants, activity.station_id)
    validate(data, today=today, rules=rules, check_date=data.held_on != activity.held_on)
    before = _snapshot(activity)
    old_photos = [
        p.file_unique_id for p in await store.photos_of(session=session, activity_id=activity_id)
    ]
    activity.type, activity.title = data.type, check_title(data.title)
    activity.held_on, activity.held_at_time = data.held_on, data.held_at_time
    activity.place, activity.participants = data.place, data.participants
    activity.campaign, activity.updated_at = data.campaign, now
    if data.commercial is not None:
        activity.commercial = data.commercial
    await store.replace_photos(session=session, activity_id=activity_id, photos=data.photos)
    check = await _recheck(
        session,
        activity,
        station,
        rules,
        integrity,
        now,
        days=[dt.date.fromisoformat(before["held_on"])],
    )
    flags = tuple(check.raised)
    after = _snapshot(activity)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    new_photos = [p.file_unique_id for p in data.photos]
    if new_photos != old_photos:
        changes["photos"] = [len(old_photos), len(new_photos)]
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="activity.edit",
        now=now,
        subject_type="activity",
        subject_id=activity_id,
        region_code=station.region_code,
        detail={"changes": changes, "flags": list(flags), "closed": check.closed},
    )
    return Saved(
        activity_id, activity.station_id, flags, rules.participants_flag_above, len(check.closed)
    )


async def delete_activity(
    *,
    session: AsyncSession,
    activity_id: int,
    grants: Sequence[RoleGrant],
    actor_id: int | None,
    now: dt.datetime,
    rules: ActivitiesSettings,
) -> Activity:
    """Delete an activity within its edit window (kept as a row, marked deleted; audited)."""
    activity = await editable_activity(
        session=session,
        activity_id=activity_id,
        grants=grants,
        actor_id=actor_id,
        now=now,
        rules=rules,
        action="activity.delete",
    )
    activity.deleted_at = now
    activity.updated_at = now
    station = await store.stations_by_id(session=session, station_ids=[activity.station_id])
    region = station[activity.station_id].region_code if station else None
    if activity.station_id in station:
        await findings_auto.activity_deleted(
            session=session, activity=activity, station=station[activity.station_id], now=now
        )
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="activity.delete",
        now=now,
        subject_type="activity",
        subject_id=activity_id,
        region_code=region,
        detail=_snapshot(activity),
    )
    await session.flush()
    return activity


async def _refused(
    session: AsyncSession,
    actor_id: int | None,
    action: str,
    activity: Activity,
    now: dt.datetime,
    reason: str,
) -> None:
    await audit_refusal(
        session=session,
        actor_id=actor_id,
        action=action,
        now=now,
        subject_type="activity",
        subject_id=activity.id,
        reason=reason,
    )


def _snapshot(activity: Activity) -> dict[str, Any]:
    return {
        "type": activity.type,
        "title": activity.title,
        "held_on": activity.held_on.isoformat(),
        "held_at_time": activity.held_at_time.isoformat() if activity.held_at_time else None,
        "place": activity.place,
        "participants": activity.participants,
        "campaign": activity.campaign,
    }


# --- integrity findings --------------------------------------------------------------------
async def _recheck(
    session: AsyncSession,
    activity: Activity,
    station: Station,
    rules: ActivitiesSettings,
    integrity: IntegritySettings | None,
    now: dt.datetime,
    days: Sequence[dt.date] = (),
) -> findings_auto.Recheck:
    """Raise the findings that hold now; close the open ones that no longer do."""
    await session.flush()
    return await findings_auto.recheck_activity(
        session=session,
        activity=activity,
        station=station,
        integrity=integrity or IntegritySettings(),
        participants_bound=rules.participants_flag_above,
        now=now,
        days=days,
    )


# --- reads -------------------------------------------------------------------------------
async def station_page(
    *, session: AsyncSession, station_id: int, page: int, per_page: int = 5
) -> Page:
    """Return one page (0-based) of a station's live activities, newest first."""
    page = max(page, 0)
    items, total = await store.station_activities(
        session=session, station_id=station_id, offset=page * per_page, limit=per_page
    )
    pages = max(1, math.ceil(total / per_page))
    if page >= pages and total:
        return await station_page(
            session=session, station_id=station_id, page=pages - 1, per_page=per_page
        )
    return Page(tuple(items), total, page, pages)


def may_register(grants: Sequence[RoleGrant]) -> bool:
    """Tell whether the person may register activities at all."""
    return is_admin(grants) or bool(administered_station_ids(grants))
