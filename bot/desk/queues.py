"""The desk's queues: reviews waiting (with their age), findings, evaluation proposals.

Every decision here calls the very service function the bot's buttons call, with the same
actor (the viewer's person and grants), so the rules, the required reasons, the audit
entries and the refusals are the bot's: ``bot.services.review`` (county approval with the
on-site record, rejection, recognition, send-back), ``bot.services.findings.decide``,
``bot.services.evaluation_decisions`` (confirm, override). Notices to other people are outbox
rows written in the request's transaction (``bot.services.notices``), sent once it commits.

A refusal the service audited (not allowed, wrong state) is answered 403/409 and committed
with its audit row; a missing reason or an incomplete on-site record re-shows the form with
what was typed and a localised sentence (400); nothing is changed. See docs/desk-queues.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from bot.core.error_text import error_text as domain_text
from bot.core.errors import DomainError
from bot.core.zh_dates import DateError, read_date
from bot.desk.photos import evidence_url
from bot.desk.web import (
    FORBIDDEN,
    NOT_FOUND,
    DeskRoute,
    Viewer,
    desk_action,
    desk_page,
    fragment,
    problem,
    render,
)
from bot.i18n import N_, Translator
from bot.services import evaluation as evaluation_service
from bot.services import evaluation_decisions as decisions
from bot.services import findings as finding_service
from bot.services import review as review_service
from bot.services import review_reminders
from bot.services import stations as station_service
from bot.services.access import coordinates, coordinator_regions, is_admin, region_prefix
from bot.services.evaluation import KIND_NAMES, EvaluationError
from bot.services.figures import window_text
from bot.services.finding_text import why
from bot.services.findings import FindingError
from bot.services.notices import notice_messages
from bot.services.review import Actor, OnsiteCheck
from bot.services.stations import (
    HAVE_NAMES,
    STATE_NAMES,
    VENUE_NAMES,
    Notice,
    StationError,
    describe_missing,
)
from storage import evaluation as evaluation_store
from storage import findings as findings_store
from storage import outbox as outbox_store
from storage import regions as region_store
from storage import stations as station_store
from storage.models import Station

ROLES = ("coordinator", "admin")
REVIEW_ACTIONS = ("county_approve", "county_reject", "city_recognise", "city_send_back")
REASON_ACTIONS = frozenset({"county_reject", "city_send_back"})
FINDING_DECISIONS = ("confirmed", "dismissed")
TEXT_MAX = 1000
INSPECTOR_MAX = 64
REASON_MISSING = N_("Please give a reason; the decision needs one. Nothing was changed.")
# Refusals the services audit: answered with their code's sentence, committed with the audit.
REFUSED = {"not_allowed": 403, "not_found": 404}


def _actor(viewer: Viewer) -> Actor:
    return Actor(viewer.person_id, list(viewer.grants))


def _prefixes(viewer: Viewer) -> list[str] | None:
    if is_admin(viewer.grants):
        return None
    return [region_prefix(code) for code in coordinator_regions(viewer.grants)]


def _clean(value: object, limit: int = TEXT_MAX) -> str:
    return " ".join(str(value or "").split())[:limit]


def station_error(t: Translator, exc: StationError) -> str:
    """Return a station refusal's sentence (the bot's wording, unescaped: Jinja escapes)."""
    params: dict[str, Any] = {}
    if "state" in exc.params:
        params["state_name"] = t(STATE_NAMES.get(exc.params["state"], exc.params["state"]))
    if exc.code == "incomplete":
        params["missing"] = ("、" if t.locale == "zh_CN" else ", ").join(
            t(msgid, **p) for msgid, p in describe_missing(exc.params.get("missing", []))
        )
    return domain_text(exc, t, params=params)


def evaluation_error(t: Translator, exc: EvaluationError) -> str:
    """Return an evaluation refusal's sentence."""
    state = exc.params.get("state", "")
    return domain_text(exc, t, params={"state_name": t(STATE_NAMES.get(state, state))})


def _refusal(viewer: Viewer, exc: DomainError, text: str) -> web.Response:
    """Answer a refusal the service raised (and audited): 403/404, else 409 with its text."""
    if exc.code == "not_allowed":
        return problem(viewer.translator, 403, FORBIDDEN)
    if exc.code in ("not_found", "proposal_not_found"):
        return problem(viewer.translator, 404, NOT_FOUND)
    body = render(viewer, "problem.html", status=409, message=text)
    return fragment(body, 409)


async def _tell(viewer: Viewer, notices: Sequence[Notice], key: str) -> int:
    """Queue the notices of a decision; the sender delivers them after the commit."""
    messages = notice_messages(
        notices,
        key=f"desk:{key}:{viewer.now.isoformat()}",
        default_locale=viewer.runtime.settings.i18n.default_locale,
        now=viewer.now,
    )
    return await outbox_store.enqueue(
        session=viewer.session, push_id=None, messages=messages, now=viewer.now
    )


def _days(viewer: Viewer) -> tuple[int, int]:
    stations = viewer.runtime.settings.stations
    return stations.review_reminder_days, stations.review_escalate_days


# --- reviews ------------------------------------------------------------------------------
async def reviews(request: web.Request, viewer: Viewer, *, done: str | None = None) -> str:
    """The applications waiting in the viewer's area, the longest waiting first."""
    tz = viewer.runtime.settings.scheduler.tz
    waiting = await review_reminders.waiting_for(
        session=viewer.session,
        grants=viewer.grants,
        today=viewer.today,
        tz=tz,
        limit=viewer.runtime.settings.desk.page_size,
    )
    items = []
    for item in waiting:
        station = await station_store.get_station(
            session=viewer.session, station_id=item.review.station_id
        )
        if station is None:
            continue
        allowed = [
            a
            for a in review_service.available_actions(viewer.grants, station)
            if a in REVIEW_ACTIONS
        ]
        items.append({"item": item, "allowed": allowed})
    remind, escalate = _days(viewer)
    within = viewer.runtime.settings.stations.rectify_reminder_days
    due = [
        r
        for r in await review_service.due_rectifications(viewer.session, viewer.today, within)
        if r.region_code and coordinates(viewer.grants, r.region_code)
    ]
    return render(
        viewer,
        "queues_reviews.html",
        items=items,
        due=due,
        rectify_days=within,
        remind_days=remind,
        escalate_days=escalate,
        since_date=lambda at: viewer.translator.date(at.astimezone(tz).date()),
        stage_name=lambda s: viewer.t(review_reminders.STAGE_NAMES.get(s) or s),
        done=done,
    )


async def _review_card(
    viewer: Viewer,
    station: Station,
    *,
    form: Mapping[str, str] | None = None,
    error: str | None = None,
    error_for: str | None = None,
) -> str:
    assert station.id is not None
    tz = viewer.runtime.settings.scheduler.tz
    session = viewer.session
    t = viewer.translator
    evidence = await station_service.evidence_summary(session=session, station_id=station.id)
    photos: dict[str, list[str]] = {}
    for row in await station_store.evidence_of(session=session, station_id=station.id):
        if row.file_id and row.id is not None:
            photos.setdefault(row.have, []).append(evidence_url(viewer, row.id))
    checks = [
        r
        for r in await station_store.reviews_of(session=session, station_id=station.id)
        if r.onsite_date is not None
    ]
    age = await review_reminders.waiting_of(
        session=session, station_id=station.id, today=viewer.today, tz=tz
    )
    allowed = [
        a for a in review_service.available_actions(viewer.grants, station) if a in REVIEW_ACTIONS
    ]
    where = await region_store.get_region(session=session, code=station.region_code or "")
    return render(
        viewer,
        "queues_review.html",
        station=station,
        where=where.name if where else (station.region_code or "—"),
        state=t(STATE_NAMES.get(station.status, station.status)),
        venue=t(VENUE_NAMES.get(station.venue_type, station.venue_type)),
        evidence=[
            {
                "have": t(HAVE_NAMES[e.have]),
                "texts": e.texts,
                "photos": len(e.photos),
                "urls": photos.get(e.have, []),
            }
            for e in evidence
        ],
        since=t.date(age.review.since.astimezone(tz).date()) if age else "",
        checks=checks,
        age=age,
        allowed=allowed,
        form=dict(form or {}),
        error=error,
        error_for=error_for,
        today=viewer.today.isoformat(),
        remind_days=_days(viewer)[0],
    )


async def review(request: web.Request, viewer: Viewer) -> web.StreamResponse | str:
    """One application: the evidence, the on-site checks, the decisions the viewer may take."""
    station_id = int(request.match_info["id"])
    try:
        station = await review_service.authorise(
            session=viewer.session,
            actor=_actor(viewer),
            action="view",
            station_id=station_id,
            now=viewer.now,
        )
    except StationError as exc:
        return _refusal(viewer, exc, station_error(viewer.translator, exc))
    return await _review_card(viewer, station)


def _onsite(form: Mapping[str, str], today: dt.date, t: Translator) -> OnsiteCheck | str:
    """Read the on-site check record from the form, or return what is wrong with it."""
    try:
        day = read_date(form.get("onsite_date", ""), today=today).value
    except DateError as exc:
        return domain_text(exc, t)
    inspector = _clean(form.get("inspector"), INSPECTOR_MAX)
    note = str(form.get("note") or "").strip()[:TEXT_MAX]
    if not note:
        return t("Please write a short note of what you found on site.")
    try:
        lat = float(form["latitude"]) if form.get("latitude") else None
        lon = float(form["longitude"]) if form.get("longitude") else None
    except ValueError:
        return t("The location must be two numbers: latitude and longitude.")
    if (lat is not None and not -90 <= lat <= 90) or (lon is not None and not -180 <= lon <= 180):
        return t("The location must be two numbers: latitude and longitude.")
    return OnsiteCheck(date=day, inspector=inspector, note=note, latitude=lat, longitude=lon)


async def decide_review(request: web.Request, viewer: Viewer) -> web.StreamResponse | str:
    """Take a review decision with the bot's service functions and rules."""
    station_id, action = int(request.match_info["id"]), request.match_info["action"]
    if action not in REVIEW_ACTIONS:
        return problem(viewer.translator, 404, NOT_FOUND)
    form = {k: str(v) for k, v in (await request.post()).items() if k != "_init_data"}
    t, actor, session = viewer.translator, _actor(viewer), viewer.session
    try:
        station = await review_service.authorise(
            session=session, actor=actor, action=action, station_id=station_id, now=viewer.now
        )
        if action in REASON_ACTIONS and not _clean(form.get("reason")):
            return fragment(
                await _review_card(
                    viewer, station, form=form, error=t(REASON_MISSING), error_for=action
                ),
                400,
            )
        if action == "county_approve":
            onsite = _onsite(form, viewer.today, t)
            if isinstance(onsite, str):
                return fragment(
                    await _review_card(viewer, station, form=form, error=onsite, error_for=action),
                    400,
                )
            try:
                review_service.check_onsite(onsite, viewer.today)
            except StationError as exc:
                return fragment(
                    await _review_card(
                        viewer, station, form=form, error=station_error(t, exc), error_for=action
                    ),
                    400,
                )
            outcome = await review_service.county_approve(
                session=session,
                station_id=station_id,
                actor=actor,
                onsite=onsite,
                today=viewer.today,
                now=viewer.now,
            )
        elif action in REASON_ACTIONS:
            outcome = await review_service.reject(
                session=session,
                station_id=station_id,
                actor=actor,
                action=action,
                reason=_clean(form.get("reason")),
                now=viewer.now,
            )
        else:
            outcome = await review_service.city_recognise(
                session=session, station_id=station_id, actor=actor, now=viewer.now
            )
    except StationError as exc:
        return _refusal(viewer, exc, station_error(t, exc))
    await _tell(viewer, outcome.notices, f"station:{action}:{station_id}")
    done = t(
        "Done: {name} is now {state}.",
        name=outcome.station.name,
        state=t(STATE_NAMES[outcome.station.status]),
    )
    return await reviews(request, viewer, done=done)


# --- findings -----------------------------------------------------------------------------
async def _findings_page(
    viewer: Viewer,
    page: int,
    *,
    done: str | None = None,
    error: str | None = None,
    error_for: int | None = None,
    form: Mapping[str, str] | None = None,
) -> str:
    per_page = viewer.runtime.settings.desk.page_size
    prefixes = _prefixes(viewer)
    total = await findings_store.count_open(session=viewer.session, prefixes=prefixes)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 0), pages - 1)
    rows, total = await findings_store.open_findings(
        session=viewer.session, prefixes=prefixes, offset=page * per_page, limit=per_page
    )
    codes = sorted({finding_service.region_of(f, s) or "" for f, s in rows} - {""})
    regions = await region_store.get_regions(session=viewer.session, codes=codes)
    tz = viewer.runtime.settings.scheduler.tz
    t = viewer.translator
    items = []
    for finding, station in rows:
        code = finding_service.region_of(finding, station) or ""
        region = regions.get(code)
        items.append(
            {
                "finding": finding,
                "kind": finding_service.kind_name(finding, t),
                "station": station,
                "region": region.name if region else (code or "—"),
                "raised": t.date(finding.created_at.astimezone(tz).date()),
                "why": why(t, finding),
                "may": finding_service.may_decide(viewer.grants, code or None),
            }
        )
    return render(
        viewer,
        "queues_findings.html",
        items=items,
        total=total,
        page=page,
        pages=pages,
        done=done,
        error=error,
        error_for=error_for,
        form=dict(form or {}),
    )


def _page_number(request: web.Request) -> int:
    try:
        return max(0, int(request.query.get("page", "1")) - 1)
    except ValueError:
        return 0


async def findings(request: web.Request, viewer: Viewer) -> str:
    """Open findings in the viewer's area, oldest first, each with confirm / dismiss."""
    return await _findings_page(viewer, _page_number(request))


async def decide_finding(request: web.Request, viewer: Viewer) -> web.StreamResponse | str:
    """Confirm or dismiss a finding with its reason (``bot.services.findings.decide``)."""
    finding_id = int(request.match_info["id"])
    form = {k: str(v) for k, v in (await request.post()).items() if k != "_init_data"}
    status = form.get("decision", "")
    t = viewer.translator
    page = max(0, int(form["page"]) - 1) if form.get("page", "").isdigit() else 0
    try:
        await finding_service.check_may_decide(
            session=viewer.session,
            finding_id=finding_id,
            actor=_actor(viewer),
            status=status,
            now=viewer.now,
        )
        reason = _clean(form.get("reason"))
        if not reason:
            body = await _findings_page(
                viewer, page, error=t(REASON_MISSING), error_for=finding_id, form=form
            )
            return fragment(body, 400)
        decided = await finding_service.decide(
            session=viewer.session,
            finding_id=finding_id,
            actor=_actor(viewer),
            status=status,
            reason=reason,
            now=viewer.now,
        )
    except FindingError as exc:
        if exc.code == "not_a_decision":
            return problem(t, 404, NOT_FOUND)
        return _refusal(viewer, exc, domain_text(exc, t))
    finding = decided.finding
    name = decided.station.name if decided.station else t("the whole region")
    if finding.status == "confirmed":
        done = t("Confirmed finding #{id} on {name}.", id=finding.id, name=name)
    else:
        done = t("Dismissed finding #{id} on {name}.", id=finding.id, name=name)
    done = t.sentences(
        done,
        t("Re-run the evaluation to update its proposals (they use confirmed findings only)."),
    )
    return await _findings_page(viewer, page, done=done)


# --- evaluation proposals -----------------------------------------------------------------
async def _proposals_page(
    viewer: Viewer,
    year: int | None,
    *,
    done: str | None = None,
    error: str | None = None,
    error_for: int | None = None,
    form: Mapping[str, str] | None = None,
) -> str:
    prefixes = _prefixes(viewer)
    session, t = viewer.session, viewer.translator
    if year is None:
        year = await evaluation_store.latest_year(session=session, prefixes=prefixes)
    rows = []
    if year is not None:
        rows = await evaluation_store.proposals_in(
            session=session,
            year=year,
            prefixes=prefixes,
            statuses=["proposed"],
            limit=viewer.runtime.settings.desk.page_size,
        )
    found = await findings_store.findings_of_stations(
        session=session, station_ids=[st.id for _p, st in rows if st.id]
    )
    params = viewer.runtime.settings.evaluation
    items = []
    for proposal, station in rows:
        mine = found.get(station.id or 0, [])
        waiting = [f for f in mine if f.status == "open"]
        detail = proposal.detail or {}
        items.append(
            {
                "proposal": proposal,
                "station": station,
                "kind": t(KIND_NAMES[proposal.kind]),
                "why": decisions.why_text(proposal, params, t),
                "window": window_text(t, evaluation_service.proposal_window(proposal)),
                "score": format(float(detail.get("score", 0)), ".2f"),
                "rank": detail.get("rank_city", "—"),
                "count": detail.get("city_count", "—"),
                "waiting": [
                    {"id": f.id, "kind": finding_service.kind_name(f, t), "why": why(t, f)}
                    for f in waiting
                ],
                "held": proposal.kind == "commend" and bool(waiting),
                "may": decisions.may_decide_now(viewer.grants, proposal, station.region_code),
            }
        )
    return render(
        viewer,
        "queues_proposals.html",
        year=year,
        items=items,
        done=done,
        error=error,
        error_for=error_for,
        form=dict(form or {}),
    )


def _year(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 2000 <= int(value) <= 2100 else None


async def proposals(request: web.Request, viewer: Viewer) -> str:
    """Open proposals of the latest (or the asked) evaluation year in the viewer's area."""
    return await _proposals_page(viewer, _year(request.query.get("year")))


async def decide_proposal(request: web.Request, viewer: Viewer) -> web.StreamResponse | str:
    """Confirm (station changes, notices) or override (reason required) a proposal."""
    proposal_id, action = int(request.match_info["id"]), request.match_info["action"]
    if action not in ("confirm", "override"):
        return problem(viewer.translator, 404, NOT_FOUND)
    form = {k: str(v) for k, v in (await request.post()).items() if k != "_init_data"}
    year = _year(form.get("year"))
    t, actor, session = viewer.translator, _actor(viewer), viewer.session
    try:
        if action == "override":
            await decisions.check_may_override(
                session=session, proposal_id=proposal_id, actor=actor, now=viewer.now
            )
            reason = _clean(form.get("reason"))
            if not reason:
                body = await _proposals_page(
                    viewer, year, error=t(REASON_MISSING), error_for=proposal_id, form=form
                )
                return fragment(body, 400)
            decision = await decisions.override(
                session=session,
                proposal_id=proposal_id,
                actor=actor,
                reason=reason,
                now=viewer.now,
            )
            done = t(
                "✏ Overridden: the {kind} proposal for {name} is set aside. Reason recorded: "
                "{reason}",
                kind=t(KIND_NAMES[decision.proposal.kind]),
                name=decision.station.name,
                reason=reason,
            )
        else:
            decision = await decisions.confirm(
                session=session,
                proposal_id=proposal_id,
                actor=actor,
                evaluation=viewer.runtime.settings.evaluation,
                locale=viewer.runtime.settings.i18n.default_locale,
                today=viewer.today,
                now=viewer.now,
                note=_clean(form.get("note")) or None,
            )
            await _tell(viewer, decision.notices, f"proposal:{proposal_id}")
            done = t(
                "✅ Confirmed: {kind} for {name}. The station is now {state}.",
                kind=t(KIND_NAMES[decision.proposal.kind]),
                name=decision.station.name,
                state=t(STATE_NAMES.get(decision.station.status, decision.station.status)),
            )
    except EvaluationError as exc:
        return _refusal(viewer, exc, evaluation_error(t, exc))
    return await _proposals_page(viewer, year or decision.proposal.year, done=done)


def routes() -> Sequence[DeskRoute]:
    """The queue pages and their actions (coordinators and admins)."""
    return [
        desk_page("queues/reviews", reviews, roles=ROLES),
        desk_page(r"queues/reviews/{id:\d+}", review, roles=ROLES),
        desk_action(r"queues/reviews/{id:\d+}/{action:[a-z_]+}", decide_review, roles=ROLES),
        desk_page("queues/findings", findings, roles=ROLES),
        desk_action(r"queues/findings/{id:\d+}", decide_finding, roles=ROLES),
        desk_page("queues/proposals", proposals, roles=ROLES),
        desk_action(r"queues/proposals/{id:\d+}/{action:[a-z]+}", decide_proposal, roles=ROLES),
    ]
