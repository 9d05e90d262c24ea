"""Integrity findings reviewed by coordinators: confirm or dismiss, with a required reason.

A finding (``IntegrityFlag``) is raised open by a detection rule.  A coordinator of the
finding's region (county, city or province, the same role × region rule as viewing and
rectifying a station; admins everywhere) confirms it (it holds: it may weigh on the
evaluation) or dismisses it (it does not hold), always with a reason.  A re-check closes
open findings that no longer hold (``storage.findings.close``).  Every decision and every
refused attempt is audited (``finding.confirm`` / ``finding.dismiss``).  See
docs/evaluation.md, "Integrity findings".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import DomainError
from bot.i18n import N_, Translator, get_translator
from bot.services.access import (
    audit_refusal,
    coordinator_grants,
    is_admin,
    region_contains,
    region_prefix,
)
from bot.services.finding_text import KIND_NAMES

# The names of kinds and statuses live with the renderer (finding_text); kept here as well.
from bot.services.finding_text import STATUS_NAMES as STATUS_NAMES
from bot.services.finding_text import finding_status as finding_status
from bot.services.finding_text import status_of as status_of
from bot.services.review import Actor
from storage import audit, roles
from storage import findings as store
from storage.models import IntegrityFlag, Person, RoleGrant, Station
from storage.outbox import NewMessage

DECIDE_LEVELS = frozenset({"county", "city", "province"})
ACTIONS = {"confirmed": "finding.confirm", "dismissed": "finding.dismiss"}
REASON_MAX = store.REASON_MAX


class FindingError(DomainError, area="finding"):
    """A refused decision on a finding; ``code`` names it."""


@dataclass(frozen=True)
class FindingDecision:
    """What a decision did."""

    finding: IntegrityFlag
    station: Station | None


def region_of(finding: IntegrityFlag, station: Station | None) -> str | None:
    """Return the region a finding belongs to (its own, else its station's)."""
    return finding.region_code or (station.region_code if station else None)


def may_decide(grants: Sequence[RoleGrant], region_code: str | None) -> bool:
    """Tell whether the person may confirm or dismiss a finding in ``region_code``."""
    if is_admin(grants):
        return True
    if region_code is None:
        return False
    return any(
        region_contains(code, region_code) for code in coordinator_grants(grants, DECIDE_LEVELS)
    )


def kind_name(finding: IntegrityFlag, t: Translator) -> str:
    """Return the finding's kind in words."""
    return t(KIND_NAMES[finding.kind]) if finding.kind in KIND_NAMES else finding.kind


async def _load(session: AsyncSession, finding_id: int) -> tuple[IntegrityFlag, Station | None]:
    found = await store.get_finding(session=session, finding_id=finding_id)
    if found is None:
        raise FindingError("not_found", id=finding_id)
    return found


async def _refuse(
    session: AsyncSession,
    actor: Actor,
    status: str,
    finding: IntegrityFlag,
    station: Station | None,
    now: dt.datetime,
    code: str,
) -> FindingError:
    await audit_refusal(
        session=session,
        actor_id=actor.person_id,
        action=ACTIONS.get(status, "finding.decide"),
        now=now,
        subject_type="integrity_flag",
        subject_id=finding.id,
        region_code=region_of(finding, station),
        reason=code,
        detail={"kind": finding.kind, "station_id": finding.station_id, "status": finding.status},
    )
    return FindingError(code, id=finding.id, status=finding.status)


async def check_may_decide(
    *, session: AsyncSession, finding_id: int, actor: Actor, status: str, now: dt.datetime
) -> tuple[IntegrityFlag, Station | None]:
    """Refuse (audited) a decision the person may not take, before asking for a reason."""
    if status not in ACTIONS:
        raise FindingError("not_a_decision")
    finding, station = await _load(session, finding_id)
    if not may_decide(actor.grants, region_of(finding, station)):
        raise await _refuse(session, actor, status, finding, station, now, "not_allowed")
    if finding.status != store.OPEN:
        raise await _refuse(session, actor, status, finding, station, now, "already_decided")
    return finding, station


async def decide(
    *,
    session: AsyncSession,
    finding_id: int,
    actor: Actor,
    status: str,
    reason: str,
    now: dt.datetime,
) -> FindingDecision:
    """Confirm or dismiss an open finding; the reason is required; audit it."""
    finding, station = await check_may_decide(
        session=session, finding_id=finding_id, actor=actor, status=status, now=now
    )
    clean = " ".join((reason or "").split())[:REASON_MAX]
    if not clean:
        raise await _refuse(session, actor, status, finding, station, now, "reason_required")
    await store.decide(
        session=session,
        finding=finding,
        status=status,
        decided_by=actor.person_id,
        reason=clean,
        now=now,
    )
    await audit.record(
        session=session,
        actor_id=actor.person_id,
        action=ACTIONS[status],
        now=now,
        subject_type="integrity_flag",
        subject_id=finding.id,
        region_code=region_of(finding, station),
        reason=clean,
        detail={"kind": finding.kind, "station_id": finding.station_id, "from": "open"},
    )
    return FindingDecision(finding, station)


# --- telling coordinators ------------------------------------------------------------------
NOTICE = N_(
    "🔎 {new} new integrity finding(s) were raised in your area on {date}; {open} "
    "wait for your review in all. Send /findings to confirm or dismiss them."
)


async def plan_notices(
    *,
    session: AsyncSession,
    day: dt.date,
    tz: dt.tzinfo,
    now: dt.datetime,
    default_locale: str,
) -> list[NewMessage]:
    """Return one notice per coordinator whose area had findings raised the day before ``day``.

    Batched: one message per coordinator and day, however many findings; those decided or
    closed since are not counted.  The dedupe key makes a re-run of the day send nothing new.
    """
    yesterday = day - dt.timedelta(days=1)
    since = dt.datetime.combine(yesterday, dt.time(), tz)
    until = dt.datetime.combine(day, dt.time(), tz)
    raised = await store.raised_between(session=session, since=since, until=until)
    if not raised:
        return []
    people: dict[int, Person] = {}
    grants_of: dict[int, list[str]] = defaultdict(list)
    for grant, person in await roles.list_grants(session=session, role="coordinator"):
        if grant.region_code is None or person.unreachable:
            continue
        people[person.telegram_id] = person
        grants_of[person.telegram_id].append(grant.region_code)
    out: list[NewMessage] = []
    for telegram_id, person in sorted(people.items()):
        codes = grants_of[telegram_id]
        new = sum(
            1
            for _flag, region in raised
            if region is not None and any(region_contains(c, region) for c in codes)
        )
        if not new:
            continue
        waiting = await store.count_open(
            session=session, prefixes=[region_prefix(code) for code in codes]
        )
        t = get_translator(person.language or default_locale)
        out.append(
            NewMessage(
                chat_id=telegram_id,
                kind="message",
                payload={
                    "text": t(NOTICE, new=new, date=t.date(yesterday), open=waiting),
                    "reminder": "findings",
                },
                dedupe_key=f"findings:new:{yesterday.isoformat()}:{telegram_id}",
                due_at=now,
            )
        )
    return out
