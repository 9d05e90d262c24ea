"""Automatic findings (疑点): raised when a rule holds, closed by a re-check when it does not.

Each rule is in docs/integrity.md; the matching is in ``bot.services.detection``. A finding
raised here is ``open``; a re-check closes an open one (``closed``, no person, the reason in
``decision_reason`` and ``detail["closed_why"]``). Confirmed and dismissed findings are a
coordinator's and are never touched. Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import IntegritySettings, Settings
from bot.services import detection
from bot.services.integrity import integrity_report
from storage import activities as activity_store
from storage import audit
from storage import detection as store
from storage.detection import (
    SUBJECT_ACTIVITY,
    SUBJECT_EVIDENCE,
    SUBJECT_REGION,
    SUBJECT_STATION,
    SUBJECT_USE,
    HashedPhoto,
)
from storage.models import Activity, ContentUse, IntegrityFlag, Station

PARTICIPANTS_HIGH = "participants_high"
PHOTO_REUSE = "photo_reuse"
DUPLICATE_ACTIVITY = "duplicate_activity"
DUPLICATE_USE = "duplicate_use"
COMMERCIAL = "commercial"
UNVERIFIED_REACH = "unverified_reach"
PAPER_STATION = "paper_station"
APPLICATION_BURST = "application_burst"
ACTIVITY_KINDS = (PARTICIPANTS_HIGH, PHOTO_REUSE, DUPLICATE_ACTIVITY, COMMERCIAL)
MAX_PHOTO_FINDINGS = 10  # per save: one photo reused across a whole region is one story


def _new(
    kind: str,
    station: Station | None,
    subject: tuple[str, int | None],
    now: dt.datetime,
    detail: dict[str, Any],
    region_code: str | None = None,
) -> IntegrityFlag:
    return IntegrityFlag(
        kind=kind,
        station_id=station.id if station else None,
        region_code=region_code or (station.region_code if station else None),
        subject_type=subject[0],
        subject_id=subject[1],
        detail=detail,
        created_at=now,
        status="open",
    )


# --- activities -----------------------------------------------------------------------------
@dataclass
class Recheck:
    """What a re-check did: kinds raised, findings closed."""

    raised: list[str] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)


async def recheck_activity(
    *,
    session: AsyncSession,
    activity: Activity,
    station: Station,
    integrity: IntegritySettings,
    participants_bound: int,
    now: dt.datetime,
    days: Sequence[dt.date] = (),
) -> Recheck:
    """Apply every activity rule to a saved activity: raise what holds, close what no longer does.

    ``days`` are other dates whose duplicates may have changed (the date before an edit).
    """
    assert activity.id is not None
    out = Recheck()
    mine = [
        f
        for f in await store.findings_of(
            session=session, subject_type=SUBJECT_ACTIVITY, subject_ids=[activity.id]
        )
        if f.kind in (PARTICIPANTS_HIGH, COMMERCIAL, PHOTO_REUSE)
    ]
    open_of = {k: [f for f in mine if f.kind == k and f.status == "open"] for k in ACTIVITY_KINDS}
    # More participants than the bound.
    if activity.participants > participants_bound:
        if not open_of[PARTICIPANTS_HIGH]:
            detail: dict[str, Any] = {
                "participants": activity.participants,
                "bound": participants_bound,
            }
            await _raise(session, _new(PARTICIPANTS_HIGH, station, _subj(activity), now, detail))
            out.raised.append(PARTICIPANTS_HIGH)
    else:
        for f in open_of[PARTICIPANTS_HIGH]:
            _close(
                f,
                now,
                out,
                "participants_corrected",
                f"participants now {activity.participants} (bound {participants_bound})",
            )
            f.detail = {**f.detail, "now_participants": activity.participants}
    # Commercial: the form's answer, or sales wording and health claims.
    words = detection.commercial_words(
        [activity.title, activity.place],
        integrity.commercial_words,
        integrity.health_claims,
        integrity.commercial_exempt_before,
    )
    if activity.commercial or words:
        if not open_of[COMMERCIAL]:
            detail = {"answer": bool(activity.commercial), "words": list(words)}
            await _raise(session, _new(COMMERCIAL, station, _subj(activity), now, detail))
            out.raised.append(COMMERCIAL)
    else:
        for f in open_of[COMMERCIAL]:
            _close(f, now, out, "commercial_cleared", "no sales answer or wording any more")
    # Photos used elsewhere (same file, or the same picture by perceptual hash).
    await _recheck_photos(session, activity, station, integrity, mine, now, out)
    # The same report twice.
    await recheck_duplicates(
        session=session, station=station, days=[activity.held_on, *days], now=now, out=out
    )
    await store.refresh_activity_marks(session=session, activity_ids=[activity.id])
    return out


async def _recheck_photos(
    session: AsyncSession,
    activity: Activity,
    station: Station,
    integrity: IntegritySettings,
    mine: Sequence[IntegrityFlag],
    now: dt.datetime,
    out: Recheck,
) -> None:
    assert activity.id is not None and station.region_code is not None
    photos = await activity_store.photos_of(session=session, activity_id=activity.id)
    matches: dict[tuple[str, str, int], dict[str, Any]] = {}
    exact = await activity_store.photo_matches(
        session=session,
        file_unique_ids=[p.file_unique_id for p in photos],
        exclude_activity_id=activity.id,
    )
    for m in exact:
        if _later(m.subject_type, m.subject_id, activity.id):
            continue  # the finding goes on the later copy: that activity's own re-check
        matches[(m.file_unique_id, m.subject_type, m.subject_id)] = {
            "file_unique_id": m.file_unique_id,
            "other_type": m.subject_type,
            "other_id": m.subject_id,
            "other_station_id": m.station_id,
            "match": "file",
        }
    hashed = [p for p in photos if p.phash]
    if hashed:
        region = await store.region_photo_hashes(session=session, region_code=station.region_code)
        others = [
            (h, h.phash)
            for h in region
            if not _same_subject(h, SUBJECT_ACTIVITY, activity.id)
            and not _later(h.subject_type, h.subject_id, activity.id)
        ]
        for p in hashed:
            assert p.phash is not None
            for other, distance in detection.near_matches(
                p.phash, others, integrity.photo_hash_distance
            ):
                key = (p.file_unique_id, other.subject_type, other.subject_id)
                matches.setdefault(key, _near_detail(p.file_unique_id, other, distance))
    seen = {_photo_key(f) for f in mine if f.kind == PHOTO_REUSE and f.status != "closed"}
    live = set(matches)
    own = {p.file_unique_id for p in photos}
    for f in mine:
        if f.kind == PHOTO_REUSE and f.status == "open" and _photo_key(f) not in live:
            why = "photo_replaced" if f.detail.get("file_unique_id") not in own else "other_gone"
            _close(f, now, out, why, "the photo or the photo it matched is no longer used")
    count = 0
    for key, detail in matches.items():
        if key in seen or count >= MAX_PHOTO_FINDINGS:
            continue
        count += 1
        await _raise(session, _new(PHOTO_REUSE, station, _subj(activity), now, detail))
    if count:
        out.raised.append(PHOTO_REUSE)


def _later(subject_type: str, subject_id: int | None, activity_id: int) -> bool:
    """Tell whether a matched photo belongs to an activity registered after this one."""
    return subject_type == SUBJECT_ACTIVITY and (subject_id or 0) > activity_id


def _near_detail(unique_id: str, other: HashedPhoto, distance: int) -> dict[str, Any]:
    return {
        "file_unique_id": unique_id,
        "other_type": other.subject_type,
        "other_id": other.subject_id,
        "other_station_id": other.station_id,
        "match": "phash",
        "distance": distance,
    }


def _photo_key(flag: IntegrityFlag) -> tuple[str, str, int]:
    d = flag.detail or {}
    return (str(d.get("file_unique_id")), str(d.get("other_type")), int(d.get("other_id") or 0))


def _same_subject(photo: HashedPhoto, subject_type: str, subject_id: int | None) -> bool:
    return photo.subject_type == subject_type and photo.subject_id == subject_id


def _subj(activity: Activity) -> tuple[str, int | None]:
    return (SUBJECT_ACTIVITY, activity.id)


async def recheck_duplicates(
    *,
    session: AsyncSession,
    station: Station,
    days: Sequence[dt.date],
    now: dt.datetime,
    out: Recheck | None = None,
) -> Recheck:
    """Raise a finding on each later copy of an activity (same station, date, type, title);
    close those whose copies no longer match or were deleted."""
    out = out if out is not None else Recheck()
    assert station.id is not None
    acts = await store.station_day_activities(session=session, station_id=station.id, days=days)
    copies = detection.duplicates(
        (a.id or 0, detection.ActivityKey.of(a.station_id, a.held_on, a.type, a.title))
        for a in acts
    )
    ids = [a.id for a in acts if a.id is not None]
    flags = await store.findings_of(
        session=session, subject_type=SUBJECT_ACTIVITY, subject_ids=ids, kinds=[DUPLICATE_ACTIVITY]
    )
    # Findings whose subject is no longer on these days (an edit moved it) are re-checked too.
    by_subject: dict[int, list[IntegrityFlag]] = {}
    for f in flags:
        by_subject.setdefault(f.subject_id or 0, []).append(f)
    for act_id, first in copies.items():
        held = by_subject.get(act_id, [])
        if any(f.detail.get("other_id") == first and f.status != "closed" for f in held):
            continue
        act = next(a for a in acts if a.id == act_id)
        await _raise(
            session,
            _new(
                DUPLICATE_ACTIVITY,
                station,
                _subj(act),
                now,
                {"other_id": first, "title": act.title, "held_on": act.held_on.isoformat()},
            ),
        )
        out.raised.append(DUPLICATE_ACTIVITY)
    for act_id, held in by_subject.items():
        for f in held:
            if f.status == "open" and copies.get(act_id) != f.detail.get("other_id"):
                _close(f, now, out, "duplicate_gone", "the copies no longer match")
    await store.refresh_activity_marks(session=session, activity_ids=ids)
    return out


async def activity_deleted(
    *, session: AsyncSession, activity: Activity, station: Station, now: dt.datetime
) -> Recheck:
    """Close the open findings about a deleted activity; re-check the copies it had."""
    assert activity.id is not None
    out = Recheck()
    for f in await store.findings_of(
        session=session, subject_type=SUBJECT_ACTIVITY, subject_ids=[activity.id]
    ):
        if f.status == "open":
            _close(f, now, out, "activity_deleted", "the activity was deleted")
    await recheck_duplicates(
        session=session, station=station, days=[activity.held_on], now=now, out=out
    )
    await _close_photo_findings_on(session, SUBJECT_ACTIVITY, activity.id, now, out)
    await store.refresh_activity_marks(session=session, activity_ids=[activity.id])
    return out


async def _close_photo_findings_on(
    session: AsyncSession, other_type: str, other_id: int, now: dt.datetime, out: Recheck
) -> None:
    """Close open photo findings of other subjects that matched a photo now gone."""
    for f in await store.open_photo_findings_matching(
        session=session, other_type=other_type, other_id=other_id
    ):
        _close(f, now, out, "other_gone", "the photo it matched is no longer used")
        if f.subject_type == SUBJECT_ACTIVITY and f.subject_id is not None:
            await store.refresh_activity_marks(session=session, activity_ids=[f.subject_id])


# --- content uses -----------------------------------------------------------------------------
async def check_content_use(
    *, session: AsyncSession, use: ContentUse, station: Station, now: dt.datetime
) -> Recheck:
    """Raise a finding when the same use (item, day, kind, place, audience) was recorded."""
    out = Recheck()
    assert use.id is not None
    same = await store.same_day_uses(
        session=session, station_id=use.station_id, content_id=use.content_id, used_on=use.used_on
    )
    copies = detection.duplicates(
        (
            u.id or 0,
            detection.UseKey.of(
                u.station_id, u.content_id, u.used_on, u.use_kind, u.place, u.audience
            ),
        )
        for u in same
    )
    if use.id in copies:
        detail = {
            "other_id": copies[use.id],
            "content_id": use.content_id,
            "used_on": use.used_on.isoformat(),
            "audience": use.audience,
            "copies": sum(1 for v in copies.values() if v == copies[use.id]),
        }
        await _raise(session, _new(DUPLICATE_USE, station, (SUBJECT_USE, use.id), now, detail))
        out.raised.append(DUPLICATE_USE)
    return out


# --- photo hashes (the follow-up step after a photo was downloaded) ---------------------------
async def photos_to_hash(*, session: AsyncSession, limit: int) -> list[store.PhotoToHash]:
    """Return photos not hashed yet (activity photos first), oldest first."""
    return await store.photos_to_hash(session=session, limit=limit)


async def record_photo_hashes(
    *,
    session: AsyncSession,
    table: str,
    hashes: dict[int, str],
    integrity: IntegritySettings,
    now: dt.datetime,
) -> Recheck:
    """Store downloaded photos' hashes ('' = could not download) and compare each with the
    station's and the region's photos hashed before it."""
    out = Recheck()
    for row_id, phash in sorted(hashes.items()):
        await store.set_photo_hashes(session=session, table=table, hashes={row_id: phash})
        if not phash:
            continue  # compared by file_unique_id only, when it was saved
        rows = await store.photo_rows(session=session, table=table, row_ids=[row_id])
        if not rows:
            continue
        photo = rows[0]
        station = (
            await activity_store.stations_by_id(session=session, station_ids=[photo.station_id])
        ).get(photo.station_id)
        if station is None or station.region_code is None:
            continue
        if photo.subject_type == SUBJECT_ACTIVITY:
            activity = await activity_store.get_activity(
                session=session, activity_id=photo.subject_id
            )
            assert activity is not None
            mine = await store.findings_of(
                session=session,
                subject_type=SUBJECT_ACTIVITY,
                subject_ids=[photo.subject_id],
                kinds=[PHOTO_REUSE],
            )
            await _recheck_photos(session, activity, station, integrity, mine, now, out)
            await store.refresh_activity_marks(session=session, activity_ids=[photo.subject_id])
        else:
            await _evidence_matches(session, photo, station, integrity, now, out)
    return out


async def _evidence_matches(
    session: AsyncSession,
    photo: HashedPhoto,
    station: Station,
    integrity: IntegritySettings,
    now: dt.datetime,
    out: Recheck,
) -> None:
    """An application's evidence photo that is another station's photo."""
    assert station.region_code is not None
    region = await store.region_photo_hashes(session=session, region_code=station.region_code)
    others = [(h, h.phash) for h in region if h.station_id != photo.station_id]
    mine = await store.findings_of(
        session=session, subject_type=SUBJECT_EVIDENCE, subject_ids=[photo.subject_id]
    )
    seen = {_photo_key(f) for f in mine}
    for other, distance in detection.near_matches(
        photo.phash, others, integrity.photo_hash_distance
    )[:MAX_PHOTO_FINDINGS]:
        detail = _near_detail(photo.file_unique_id, other, distance)
        if _photo_key_of(detail) in seen:
            continue
        await _raise(
            session, _new(PHOTO_REUSE, station, (SUBJECT_EVIDENCE, photo.subject_id), now, detail)
        )
        out.raised.append(PHOTO_REUSE)


def _photo_key_of(detail: dict[str, Any]) -> tuple[str, str, int]:
    return (str(detail["file_unique_id"]), str(detail["other_type"]), int(detail["other_id"]))


async def evidence_replaced(*, session: AsyncSession, now: dt.datetime) -> Recheck:
    """Close the open photo findings about, or matching, evidence photos no longer kept."""
    out = Recheck()
    for f in await store.orphan_evidence_findings(session=session):
        _close(f, now, out, "evidence_replaced", "the evidence photo was replaced")
        if f.subject_type == SUBJECT_ACTIVITY and f.subject_id is not None:
            await store.refresh_activity_marks(session=session, activity_ids=[f.subject_id])
    return out


# --- the daily sweep ----------------------------------------------------------------------
@dataclass(frozen=True)
class SweepResult:
    """What the sweep raised and closed, by kind."""

    raised: dict[str, int]
    closed: int

    def as_dict(self) -> dict[str, Any]:
        """Return the summary kept in job_run."""
        return {"raised": dict(self.raised), "closed": self.closed}


async def sweep(
    *, session: AsyncSession, settings: Settings, today: dt.date, now: dt.datetime
) -> SweepResult:
    """Raise findings for reported audiences without visits, paper stations and application
    bursts of the last ``integrity.sweep_days``; close those that no longer hold."""
    integrity = settings.integrity
    start = today - dt.timedelta(days=integrity.sweep_days - 1)
    report = await integrity_report(
        session=session,
        evaluation=settings.evaluation,
        propagation=settings.propagation,
        tz=settings.scheduler.tz,
        region_code="",
        start=start,
        end=today,
    )
    raised: dict[str, int] = {}
    out = Recheck()
    quiet = now - dt.timedelta(days=integrity.decided_quiet_days)
    holding: dict[str, dict[int, dict[str, Any]]] = {
        UNVERIFIED_REACH: {
            u.station_id: {
                "shares": u.shares,
                "reported_reach": u.reported_reach,
                "visits": u.visits,
                "threshold": settings.evaluation.reported_reach_alert,
                "start": start.isoformat(),
                "end": today.isoformat(),
            }
            for u in report.unverified
        },
        PAPER_STATION: {
            p.station_id: {
                "reasons": list(p.reasons),
                "informants": p.informants,
                "last_active_on": p.last_active_on.isoformat() if p.last_active_on else None,
                "inactive_days": settings.evaluation.inactive_days,
            }
            for p in report.paper
        },
    }
    stations = await activity_store.stations_by_id(
        session=session,
        station_ids=sorted({sid for kind in holding.values() for sid in kind}),
    )
    for kind, subjects in holding.items():
        existing = await store.findings_by_kind(session=session, kind=kind)
        for f in existing:
            if f.status == "open" and f.subject_id not in subjects:
                _close(f, now, out, f"{kind}_gone", "no longer found by the daily sweep")
        for station_id, detail in subjects.items():
            if any(
                f.subject_id == station_id
                and (
                    f.status == "open" or (f.status != "closed" and (f.decided_at or now) >= quiet)
                )
                for f in existing
            ):
                continue
            await _raise(
                session,
                _new(kind, stations.get(station_id), (SUBJECT_STATION, station_id), now, detail),
            )
            raised[kind] = raised.get(kind, 0) + 1
    raised[APPLICATION_BURST] = await _sweep_bursts(session, settings, start, now)
    out.closed += (await evidence_replaced(session=session, now=now)).closed
    return SweepResult({k: v for k, v in raised.items() if v}, len(out.closed))


async def _sweep_bursts(
    session: AsyncSession, settings: Settings, start: dt.date, now: dt.datetime
) -> int:
    """Bursts of applications the submit-time check did not see (e.g. imported stations)."""
    window = dt.timedelta(hours=settings.stations.burst_window_hours)
    since = dt.datetime.combine(start, dt.time(), settings.scheduler.tz)
    by_region = await store.submissions_by_region(session=session, since=since)
    existing = await store.findings_by_kind(session=session, kind=APPLICATION_BURST)
    count = 0
    for region_code, subs in by_region.items():
        for first, ids in detection.bursts(subs, window, settings.stations.burst_threshold):
            covered = set(ids)
            if any(
                f.region_code == region_code and covered & set(f.detail.get("station_ids", []))
                for f in existing
            ):
                continue
            detail = {
                "count": len(ids),
                "window_hours": settings.stations.burst_window_hours,
                "threshold": settings.stations.burst_threshold,
                "station_ids": ids,
                "first_at": first.isoformat(),
            }
            flag = _new(
                APPLICATION_BURST,
                None,
                (SUBJECT_REGION, None),
                now,
                detail,
                region_code=region_code,
            )
            flag.station_id = ids[0]
            await _raise(session, flag)
            count += 1
    return count


# --- helpers --------------------------------------------------------------------------------
async def _raise(session: AsyncSession, flag: IntegrityFlag) -> None:
    await store.add_finding(session=session, flag=flag)
    await audit.record(
        session=session,
        actor_id=None,
        action=f"finding.raise.{flag.kind}",
        now=flag.created_at,
        subject_type="integrity_flag",
        subject_id=flag.id,
        region_code=flag.region_code,
        detail={"subject_type": flag.subject_type, "subject_id": flag.subject_id},
    )


def _close(flag: IntegrityFlag, now: dt.datetime, out: Recheck, why: str, reason: str) -> None:
    store.close_finding(flag, now=now, reason=f"re-check: {reason}", why=why)
    if flag.id is not None:
        out.closed.append(flag.id)
