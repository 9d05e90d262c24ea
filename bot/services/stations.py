"""Station lifecycle: the state machine, drafts of an application, and creation by import.

The states and transitions follow DESIGN.md::

    draft ─submit→ submitted ─county_approve→ county_approved ─city_recognise→ recognised
                     │ county_reject                │ city_send_back
                     ▼                              ▼
                  rejected ─submit (after edits)→ submitted
    recognised ─rectify (reason, deadline)→ rectifying ─lift→ recognised
                                                      └─revoke (reason)→ revoked

A city "send back" makes the application ``rejected`` (not ``submitted``): the applicant
edits it and resubmits, and the county reviews it again — the county's on-site check is
about the application as it was, so an edited one is checked again.  ``revoked`` is final.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import DomainError
from bot.i18n import N_, get_translator
from bot.services import findings_auto
from storage import audit
from storage import stations as store
from storage.models import Region, Station, StationEvidence

TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "submit"): "submitted",
    ("rejected", "submit"): "submitted",
    ("submitted", "county_approve"): "county_approved",
    ("submitted", "county_reject"): "rejected",
    ("county_approved", "city_recognise"): "recognised",
    ("county_approved", "city_send_back"): "rejected",
    ("recognised", "rectify"): "rectifying",
    ("rectifying", "lift"): "recognised",
    ("rectifying", "revoke"): "revoked",
}
ACTIONS: tuple[str, ...] = (
    "submit",
    "county_approve",
    "county_reject",
    "city_recognise",
    "city_send_back",
    "rectify",
    "lift",
    "revoke",
)
REASON_REQUIRED = frozenset({"county_reject", "city_send_back", "rectify", "revoke"})
STAGES = {
    "county_approve": "county",
    "county_reject": "county",
    "city_recognise": "city",
    "city_send_back": "city",
}
EDITABLE_STATES = ("draft", "rejected")
HAVES: tuple[str, ...] = StationEvidence.HAVES
NAME_MIN, NAME_MAX = 2, 64
ADDRESS_MAX = 200
TEXT_MAX = 1000

# Chinese names from the seed text (第六条, 第五条); msgids are English.
VENUE_NAMES: dict[str, str] = {
    "civilisation_centre": N_("New-era civilisation practice centre"),
    "service_centre": N_("Party/government service centre"),
    "cultural_centre": N_("Community cultural service centre"),
    "school": N_("School"),
    "hospital": N_("Hospital"),
    "rural_association": N_("Rural professional technical association"),
    "science_base": N_("Science education (demonstration) base"),
    "transport_station": N_("Public transport station"),
    "other": N_("Other venue"),
}
HAVE_NAMES: dict[str, str] = {
    "network": N_("Network"),
    "personnel": N_("Personnel"),
    "venue": N_("Venue"),
    "activities": N_("Activities"),
    "terminals": N_("Terminals"),
}
HAVE_HINTS: dict[str, str] = {
    "network": N_("Internet access and Wi-Fi good enough to browse science content."),
    "personnel": N_("Staff who run the station day to day."),
    "venue": N_("A place where science activities can be held."),
    "activities": N_("Online and offline science activities people want."),
    "terminals": N_("Phones, computers or screens to read and show content."),
}
STATE_NAMES: dict[str, str] = {
    "draft": N_("draft"),
    "submitted": N_("submitted, awaiting county review"),
    "county_approved": N_("county approved, awaiting city re-verification"),
    "recognised": N_("recognised"),
    "rejected": N_("rejected, can be edited and resubmitted"),
    "rectifying": N_("under rectification"),
    "revoked": N_("revoked"),
}


class StationError(DomainError, area="station"):
    """A station request was refused; ``code`` says why, ``params`` fill the message."""


@dataclass(frozen=True)
class Notice:
    """A message to send to someone: a msgid and its parameters, in their language."""

    telegram_id: int
    language: str | None
    message: str
    params: dict[str, Any] = field(default_factory=dict)


def next_state(state: str, action: str) -> str:
    """Return the state ``action`` leads to from ``state``, or refuse an illegal move."""
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise StationError("illegal_transition", state=state, action=action)
    return target


def legal_actions(state: str) -> list[str]:
    """Return the actions allowed from ``state``, in ACTIONS order."""
    return [action for action in ACTIONS if (state, action) in TRANSITIONS]


# --- drafts -------------------------------------------------------------------------------
def clean_name(text: str) -> str:
    """Return a valid station name or refuse it."""
    name = " ".join(text.split())
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise StationError("bad_name", min=NAME_MIN, max=NAME_MAX)
    return name


def clean_address(text: str) -> str:
    """Return a valid address or refuse it."""
    address = " ".join(text.split())
    if not 2 <= len(address) <= ADDRESS_MAX:
        raise StationError("bad_address", max=ADDRESS_MAX)
    return address


def check_venue(venue_type: str) -> str:
    """Return a known venue type or refuse it."""
    if venue_type not in Station.VENUE_TYPES:
        raise StationError("bad_venue", value=venue_type)
    return venue_type


async def editable_station(session: AsyncSession, station_id: int, applicant_id: int) -> Station:
    """Return the applicant's own application if it may still be edited."""
    station = await store.get_station(session=session, station_id=station_id)
    if station is None or station.applicant_id != applicant_id:
        raise StationError("not_found", station_id=station_id)
    if station.status not in EDITABLE_STATES:
        raise StationError("not_editable", state=station.status)
    return station


async def start_draft(
    *, session: AsyncSession, applicant_id: int, name: str, venue_type: str, now: dt.datetime
) -> Station:
    """Create the application as a draft (real data the applicant keeps)."""
    station = Station(
        name=clean_name(name),
        venue_type=check_venue(venue_type),
        status="draft",
        applicant_id=applicant_id,
        created_at=now,
        updated_at=now,
    )
    return await store.add_station(session=session, station=station)


async def update_draft(
    *,
    session: AsyncSession,
    station_id: int,
    applicant_id: int,
    now: dt.datetime,
    **values: Any,
) -> Station:
    """Change fields of a draft (name, venue_type, address, region_code)."""
    station = await editable_station(session, station_id, applicant_id)
    for key, value in values.items():
        if key == "name":
            value = clean_name(value)
        elif key == "venue_type":
            value = check_venue(value)
        elif key == "address":
            value = clean_address(value)
        elif key != "region_code":
            raise ValueError(key)
        setattr(station, key, value)
    station.updated_at = now
    await session.flush()
    return station


async def add_draft_evidence(
    *,
    session: AsyncSession,
    station_id: int,
    applicant_id: int,
    have: str,
    text: str | None = None,
    file_id: str | None = None,
    file_unique_id: str | None = None,
    now: dt.datetime,
) -> None:
    """Keep one photo and/or text as evidence for ``have``."""
    if have not in HAVES:
        raise ValueError(have)
    await editable_station(session, station_id, applicant_id)
    text = text.strip()[:TEXT_MAX] if text and text.strip() else None
    if text is None and file_id is None:
        raise StationError("empty_evidence")
    await store.add_evidence(
        session=session,
        station_id=station_id,
        have=have,
        text=text,
        file_id=file_id,
        file_unique_id=file_unique_id,
        now=now,
    )


async def clear_draft_evidence(
    *,
    session: AsyncSession,
    station_id: int,
    applicant_id: int,
    have: str,
    now: dt.datetime | None = None,
) -> int:
    """Drop the evidence of one have so the applicant can give it again; findings about
    the dropped photos, or matching them, are closed (given ``now``)."""
    await editable_station(session, station_id, applicant_id)
    cleared = await store.clear_evidence(session=session, station_id=station_id, have=have)
    if cleared and now is not None:
        await findings_auto.evidence_replaced(session=session, now=now)
    return cleared


@dataclass(frozen=True)
class EvidenceSummary:
    """Evidence of one have: photo file ids and texts."""

    have: str
    photos: list[str]
    texts: list[str]

    @property
    def empty(self) -> bool:
        """Tell whether nothing was given."""
        return not self.photos and not self.texts


async def evidence_summary(*, session: AsyncSession, station_id: int) -> list[EvidenceSummary]:
    """Return the evidence of each have, in HAVES order."""
    rows = await store.evidence_of(session=session, station_id=station_id)
    out = []
    for have in HAVES:
        mine = [r for r in rows if r.have == have]
        out.append(
            EvidenceSummary(
                have, [r.file_id for r in mine if r.file_id], [r.text for r in mine if r.text]
            )
        )
    return out


async def missing_parts(*, session: AsyncSession, station: Station) -> list[str]:
    """Return what the application still lacks: address, region, have:<name>…"""
    missing = []
    if not station.address:
        missing.append("address")
    if not station.region_code:
        missing.append("region")
    assert station.id is not None
    for item in await evidence_summary(session=session, station_id=station.id):
        if item.empty:
            missing.append(f"have:{item.have}")
    return missing


# --- creation from the command line -------------------------------------------------------
def venue_from_text(text: str, translate: Any = None) -> str:
    """Accept a venue type code or its Chinese/English name."""
    value = text.strip()
    if value in Station.VENUE_TYPES:
        return value

    for locale in ("zh_CN", "en"):
        tr = get_translator(locale)
        for code, msgid in VENUE_NAMES.items():
            if tr(msgid) == value:
                return code
    raise StationError("bad_venue", value=value)


async def county_region(session: AsyncSession, code: str | None) -> Region:
    """Return the county-level region ``code`` or refuse it."""
    if not code:
        raise StationError("region_required")
    region = await session.get(Region, code)
    if region is None:
        raise StationError("unknown_region", code=code)
    if region.level != "county":
        raise StationError("not_county", code=code, name=region.name)
    return region


async def create_recognised(
    *,
    session: AsyncSession,
    name: str,
    region_code: str,
    venue_type: str,
    address: str | None = None,
    external_ref: str | None = None,
    recognised_at: dt.datetime | None = None,
    actor_id: int | None = None,
    source: str = "cli",
    now: dt.datetime,
) -> Station:
    """Add a station already recognised elsewhere (bootstrap and migration), audited."""
    await county_region(session, region_code)
    station = Station(
        name=clean_name(name),
        venue_type=check_venue(venue_type),
        address=clean_address(address) if address else None,
        region_code=region_code,
        status="recognised",
        external_ref=external_ref or None,
        created_at=now,
        submitted_at=None,
        recognised_at=recognised_at or now,
        updated_at=now,
    )
    await store.add_station(session=session, station=station)
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="station.create",
        now=now,
        subject_type="station",
        subject_id=station.id,
        region_code=region_code,
        detail={"status": "recognised", "source": source, "external_ref": external_ref},
    )
    return station


def describe_missing(parts: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """Return (msgid, params) naming each missing part (for the handler to translate)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for part in parts:
        if part == "address":
            out.append((N_("the address"), {}))
        elif part == "region":
            out.append((N_("the county"), {}))
        else:
            out.append((HAVE_NAMES[part.split(":", 1)[1]], {}))
    return out


async def current_application(*, session: AsyncSession, applicant_id: int) -> Station | None:
    """Return the applicant's application that is not decided yet, if any."""
    return await store.open_application(session=session, applicant_id=applicant_id)


def next_part(missing: Sequence[str]) -> tuple[str, int]:
    """Return the dialog step (and have index) for the first missing part, or summary."""
    if not missing:
        return "summary", 0
    first = missing[0]
    if first.startswith("have:"):
        return "have", HAVES.index(first.split(":", 1)[1])
    return first, 0
