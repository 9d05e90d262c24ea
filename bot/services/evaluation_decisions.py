"""Deciding evaluation proposals: confirm (station state changes) or override with a reason.

Who decides (admins decide everything):

* commend and rectify — any coordinator whose region contains the station (county, city or
  province): the county knows its stations best;
* eliminate and revoke — city or province coordinators only: they undo the city's
  recognition, like a revocation through /station.

Every decision, and every refused attempt, is audited (``evaluation.confirm`` /
``evaluation.override``).  A commendation is not confirmed while the station has an
integrity finding awaiting review (``findings_open``, audited).  State changes go through
``bot.services.review`` (the station state machine): the machine has no direct
recognised → revoked edge, so eliminating or revoking a recognised station passes through
rectifying within the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import EvaluationSettings
from bot.i18n import N_, get_translator
from bot.services import review
from bot.services.access import audit_refusal, coordinator_grants, is_admin, region_contains
from bot.services.evaluation import REASON_NAMES, EvaluationError, Proposal
from bot.services.review import Actor
from bot.services.stations import Notice, StationError
from storage import audit
from storage import evaluation as store
from storage import findings as findings_store
from storage import stations as station_store
from storage.models import EvaluationProposal, IntegrityFlag, Person, RoleGrant, Station

DECISION_LEVELS: dict[str, frozenset[str]] = {
    "commend": frozenset({"county", "city", "province"}),
    "rectify": frozenset({"county", "city", "province"}),
    "eliminate": frozenset({"city", "province"}),
    "revoke": frozenset({"city", "province"}),
}
REASON_MAX = 1000
STATION_REASON = N_("Annual evaluation {year}: {why}")
COMMEND_ADMIN = N_(
    "🎉 Congratulations! {name} is commended as an outstanding Kepu China "
    "e-station in the {year} annual evaluation. Thank you for your work!"
)
COMMEND_INFORMANT = N_(
    "🎉 Your station {name} is commended as outstanding in the {year} "
    "annual evaluation. Thank you for passing science on!"
)


@dataclass
class Decision:
    """What a decision did, and whom to tell."""

    proposal: EvaluationProposal
    station: Station
    notices: list[Notice] = field(default_factory=list)


def may_decide(grants: Sequence[RoleGrant], kind: str, region_code: str | None) -> bool:
    """Tell whether the person may decide a proposal of ``kind`` on a station there."""
    if is_admin(grants):
        return True
    if region_code is None:
        return False
    return any(
        region_contains(code, region_code)
        for code in coordinator_grants(grants, DECISION_LEVELS.get(kind, ()))
    )


def is_open(proposal: EvaluationProposal) -> bool:
    """Tell whether a proposal still waits for a decision."""
    return proposal.status == "proposed"


def may_decide_now(
    grants: Sequence[RoleGrant], proposal: EvaluationProposal, region_code: str | None
) -> bool:
    """Tell whether the person may decide this proposal now: still open, and in their area."""
    return is_open(proposal) and may_decide(grants, proposal.kind, region_code)


def why_text(
    proposal: EvaluationProposal | Proposal, params: EvaluationSettings, translate: Any
) -> str:
    """Return the proposal's reason in words (``translate`` is a Translator)."""
    detail = proposal.detail or {}
    template = REASON_NAMES.get(proposal.reason_code, proposal.reason_code)
    return str(
        translate(
            template,
            share=detail.get("share", round(params.commend_share * 100)),
            days=params.inactive_days,
            count=params.eliminate_count,
            flags=detail.get("flags", 0),
        )
    )


async def _load(session: AsyncSession, proposal_id: int) -> tuple[EvaluationProposal, Station]:
    found = await store.get_proposal(session=session, proposal_id=proposal_id)
    if found is None:
        raise EvaluationError("proposal_not_found", id=proposal_id)
    return found


async def _refuse(
    session: AsyncSession,
    actor: Actor,
    action: str,
    proposal: EvaluationProposal,
    station: Station,
    now: dt.datetime,
    code: str,
    reason: str | None = None,
) -> EvaluationError:
    await audit_refusal(
        session=session,
        actor_id=actor.person_id,
        action=f"evaluation.{action}",
        now=now,
        subject_type="evaluation_proposal",
        subject_id=proposal.id,
        region_code=station.region_code,
        reason=code,
        detail={
            "kind": proposal.kind,
            "station_id": station.id,
            "year": proposal.year,
            "status": proposal.status,
            "note": reason,
        },
    )
    return EvaluationError(
        code, kind=proposal.kind, state=station.status, status=proposal.status, name=station.name
    )


async def _check(
    session: AsyncSession, actor: Actor, action: str, proposal_id: int, now: dt.datetime
) -> tuple[EvaluationProposal, Station]:
    proposal, station = await _load(session, proposal_id)
    if not may_decide(actor.grants, proposal.kind, station.region_code):
        raise await _refuse(session, actor, action, proposal, station, now, "not_allowed")
    if proposal.status != "proposed":
        raise await _refuse(session, actor, action, proposal, station, now, "already_decided")
    return proposal, station


def _notices(people: Iterable[Person], message: str, **params: Any) -> list[Notice]:
    seen: set[int] = set()
    out = []
    for person in people:
        if person.telegram_id in seen or person.unreachable:
            continue
        seen.add(person.telegram_id)
        out.append(Notice(person.telegram_id, person.language, message, dict(params)))
    return out


async def _commend_notices(session: AsyncSession, station: Station, year: int) -> list[Notice]:
    assert station.id is not None
    admins = await station_store.station_admins(session=session, station_id=station.id)
    informants = await store.informant_people(session=session, station_id=station.id)
    admin_ids = {p.telegram_id for p in admins}
    return _notices(admins, COMMEND_ADMIN, name=station.name, year=year) + _notices(
        [p for p in informants if p.telegram_id not in admin_ids],
        COMMEND_INFORMANT,
        name=station.name,
        year=year,
    )


async def _apply(
    session: AsyncSession,
    params: EvaluationSettings,
    locale: str,
    actor: Actor,
    proposal: EvaluationProposal,
    station: Station,
    today: dt.date,
    now: dt.datetime,
) -> list[Notice]:
    """Change the station as the proposal says; return the notices to send."""
    assert station.id is not None
    if proposal.kind == "commend":
        return await _commend_notices(session, station, proposal.year)
    t = get_translator(locale)
    reason = t(STATION_REASON, year=proposal.year, why=why_text(proposal, params, t))
    if proposal.kind == "rectify":
        outcome = await review.rectify(
            session=session,
            station_id=station.id,
            actor=actor,
            reason=reason,
            deadline=today + dt.timedelta(days=params.rectify_days),
            today=today,
            now=now,
        )
        return outcome.notices
    if station.status == "recognised":  # the machine revokes only under rectification
        await review.rectify(
            session=session,
            station_id=station.id,
            actor=actor,
            reason=reason,
            deadline=today + dt.timedelta(days=1),
            today=today,
            now=now,
        )
    outcome = await review.revoke(
        session=session, station_id=station.id, actor=actor, reason=reason, now=now
    )
    return outcome.notices


async def confirm(
    *,
    session: AsyncSession,
    proposal_id: int,
    actor: Actor,
    evaluation: EvaluationSettings,
    locale: str,
    today: dt.date,
    now: dt.datetime,
    note: str | None = None,
) -> Decision:
    """Confirm a proposal: change the station through the state machine, audit, notify."""
    proposal, station = await _check(session, actor, "confirm", proposal_id, now)
    if proposal.kind == "commend" and await waiting_findings(session=session, station=station):
        raise await _refuse(session, actor, "confirm", proposal, station, now, "findings_open")
    before = station.status
    try:
        async with session.begin_nested():  # an illegal move leaves nothing half done
            notices = await _apply(
                session, evaluation, locale, actor, proposal, station, today, now
            )
    except StationError as exc:
        await session.refresh(station)
        raise await _refuse(session, actor, "confirm", proposal, station, now, exc.code) from exc
    note = " ".join((note or "").split())[:REASON_MAX] or None
    await _decide(
        session,
        actor,
        proposal,
        station,
        "confirmed",
        note,
        now,
        {"from": before, "to": station.status},
    )
    return Decision(proposal, station, notices)


async def waiting_findings(*, session: AsyncSession, station: Station) -> list[IntegrityFlag]:
    """Return the station's findings awaiting review (they hold a commendation back)."""
    assert station.id is not None
    found = await findings_store.findings_of_stations(
        session=session, station_ids=[station.id], statuses=[findings_store.OPEN]
    )
    return found.get(station.id, [])


async def _decide(
    session: AsyncSession,
    actor: Actor,
    proposal: Any,
    station: Any,
    status: str,
    reason: str | None,
    now: dt.datetime,
    extra: dict[str, Any],
) -> None:
    """Record a decision on the proposal and audit it (evaluation.confirm / .override)."""
    proposal.status = status
    proposal.decided_by = actor.person_id
    proposal.decided_at = now
    proposal.decision_reason = reason
    await audit.record(
        session=session,
        actor_id=actor.person_id,
        action="evaluation.confirm" if status == "confirmed" else "evaluation.override",
        now=now,
        subject_type="evaluation_proposal",
        subject_id=proposal.id,
        region_code=station.region_code,
        reason=reason,
        detail={
            "kind": proposal.kind,
            "station_id": station.id,
            "year": proposal.year,
            "reason_code": proposal.reason_code,
            **extra,
        },
    )
    await session.flush()


async def override(
    *, session: AsyncSession, proposal_id: int, actor: Actor, reason: str, now: dt.datetime
) -> Decision:
    """Set a proposal aside; the reason is required and audited. The station is unchanged."""
    clean = " ".join((reason or "").split())[:REASON_MAX]
    proposal, station = await _check(session, actor, "override", proposal_id, now)
    if not clean:
        raise await _refuse(session, actor, "override", proposal, station, now, "reason_required")
    await _decide(session, actor, proposal, station, "overridden", clean, now, {})
    return Decision(proposal, station, [])


async def check_may_override(
    *, session: AsyncSession, proposal_id: int, actor: Actor, now: dt.datetime
) -> tuple[EvaluationProposal, Station]:
    """Refuse (audited) before asking for a reason when the override would be refused."""
    return await _check(session, actor, "override", proposal_id, now)
