"""/evaluation (review the annual evaluation's proposals) and /integrity, for coordinators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import jobs
from bot.core.error_text import error_text as domain_text
from bot.handlers.callbacks import (
    EVALUATION,
    EvaluationDecision,
    EvaluationKind,
    EvaluationYear,
    answer_invalid,
)
from bot.handlers.commands import command
from bot.handlers.common import button_rows, esc, private_only, reply, requires
from bot.handlers.dialog import Dialog, Flow, end_dialog, input_hint, start_dialog
from bot.handlers.feature import COMMAND_GROUP, Feature, in_group
from bot.handlers.findings import proposal_lines
from bot.handlers.stations_common import actor_of, send_notices
from bot.i18n import N_, Translator
from bot.reports.evaluation import evaluation_workbook
from bot.runtime.context import KepuContext
from bot.services import evaluation as evaluation_service
from bot.services import evaluation_decisions as decisions
from bot.services import regions as region_service
from bot.services.access import coordinator_regions, is_admin, region_prefix
from bot.services.evaluation import KIND_NAMES, KINDS, EvaluationError
from bot.services.figures import window_text
from bot.services.finding_text import KIND_NAMES as FINDING_KINDS
from bot.services.finding_text import status_of, why
from bot.services.integrity import STORED_KINDS, integrity_report
from bot.services.stations import STATE_NAMES
from storage import evaluation as store
from storage import findings as findings_store
from storage.models import EvaluationProposal, IntegrityFlag, Station

COMMANDS = (
    command(
        "evaluation",
        N_("Annual evaluation: review commend, rectify, eliminate and revoke proposals"),
        "coordinator",
        order=60,
    ),
    command("integrity", N_("Integrity report of your area"), "coordinator", order=61),
)

Markup = InlineKeyboardMarkup
LIST_LIMIT = 10
SHOW_LIMIT = 5
KIND_ICONS = {"commend": "🏅", "rectify": "⚠", "eliminate": "⛔", "revoke": "✖"}
STATUS_NAMES = {
    "proposed": N_("open"),
    "confirmed": N_("confirmed"),
    "overridden": N_("overridden"),
}


def error_text(t: Translator, exc: EvaluationError) -> str:
    """Return the localised sentence for a refusal."""
    state = exc.params.get("state", "")
    return domain_text(exc, t, params={"state_name": t(STATE_NAMES.get(state, state))})


def _regions(context: KepuContext) -> list[str]:
    return coordinator_regions(context.scope.roles)


def _prefixes(context: KepuContext) -> list[str] | None:
    if is_admin(context.scope.roles):
        return None
    return [region_prefix(code) for code in _regions(context)]


def proposal_text(
    context: KepuContext,
    proposal: EvaluationProposal,
    station: Station,
    findings: Sequence[IntegrityFlag] = (),
) -> str:
    """Return one proposal as a short card (with the station's findings that weigh on it)."""
    t = context.t
    detail = proposal.detail or {}
    params = context.runtime.settings.evaluation
    parts = [
        t(
            "{icon} <b>{kind}</b>: #{id} {name}",
            icon=KIND_ICONS[proposal.kind],
            kind=t(KIND_NAMES[proposal.kind]),
            id=station.id,
            name=esc(station.name),
        ),
        t("Why: {why}", why=esc(decisions.why_text(proposal, params, t))),
        t(
            "Counted over {window}",
            window=window_text(t, evaluation_service.proposal_window(proposal)),
        ),
        *_partial_note(context, proposal, station),
        t(
            "Score {score}, place {rank} of {count} in the city",
            score=format(float(detail.get("score", 0)), ".2f"),
            rank=detail.get("rank_city", "—"),
            count=detail.get("city_count", "—"),
        ),
    ]
    rests = {int(i) for i in detail.get("findings", [])}
    parts += proposal_lines(
        t,
        proposal.kind,
        [f for f in findings if f.id in rests],
        [f for f in findings if f.status == "open"],
    )
    if not decisions.is_open(proposal):
        parts.append(t("Decision: {status}", status=t(STATUS_NAMES[proposal.status])))
    return "\n".join(parts)


def _partial_note(
    context: KepuContext, proposal: EvaluationProposal, station: Station
) -> list[str]:
    """Say so when the station was recognised inside the window (its year is partial)."""
    window = evaluation_service.proposal_window(proposal)
    tz = context.runtime.settings.scheduler.tz
    day = evaluation_service.local_date(station.recognised_at, tz)
    if day is None or not window.start < day <= window.end:
        return []
    return [
        context.t(
            "Recognised on {day}, during this window: what it did before counts too",
            day=context.t.date(day, "long"),
        )
    ]


@requires("coordinator")
async def evaluation(update: Update, context: KepuContext) -> None:
    """Summarise the latest evaluation in the coordinator's area, with a button per kind."""
    t = context.t
    prefixes = _prefixes(context)
    year = await store.latest_year(session=context.session, prefixes=prefixes)
    if year is None:
        await reply(
            update,
            t(
                "No annual evaluation has been run for your area yet. It runs "
                "every January (or: kepubot evaluate --year YEAR)."
            ),
        )
        return
    rows = await store.proposals_in(
        session=context.session, year=year, prefixes=prefixes, limit=100_000
    )
    counts: dict[str, dict[str, int]] = {}
    for proposal, _station in rows:
        by_status = counts.setdefault(proposal.kind, {})
        by_status[proposal.status] = by_status.get(proposal.status, 0) + 1
    lines = [t("<b>{year} annual evaluation</b>", year=year)]
    buttons = []
    for kind in KINDS:
        got = counts.get(kind, {})
        if not got:
            continue
        lines.append(
            t(
                "{icon} {kind}: {open} open, {done} decided",
                icon=KIND_ICONS[kind],
                kind=t(KIND_NAMES[kind]),
                open=got.get("proposed", 0),
                done=got.get("confirmed", 0) + got.get("overridden", 0),
            )
        )
        buttons.append(
            InlineKeyboardButton(
                t(
                    "{icon} {kind} ({n})",
                    icon=KIND_ICONS[kind],
                    kind=t(KIND_NAMES[kind]),
                    n=got.get("proposed", 0),
                ),
                callback_data=EvaluationKind(kind, year).encode(),
            )
        )
    if not counts:
        lines.append(t("No proposals in your area."))
    buttons.append(
        InlineKeyboardButton(
            t("🌟 Outstanding informants"), callback_data=EvaluationYear("inf", year).encode()
        )
    )
    buttons.append(
        InlineKeyboardButton(t("📎 XLSX"), callback_data=EvaluationYear("x", year).encode())
    )
    await reply(update, "\n".join(lines), reply_markup=Markup(button_rows(buttons, 2)))


def _decide_buttons(
    context: KepuContext, proposal: EvaluationProposal, station: Station, held: bool = False
) -> Markup | None:
    if not decisions.may_decide_now(context.scope.roles, proposal, station.region_code):
        return None
    t = context.t
    assert proposal.id is not None
    row = [
        InlineKeyboardButton(
            t("✏ Override"), callback_data=EvaluationDecision("ov", proposal.id).encode()
        )
    ]
    if not held:  # a commendation held by open findings cannot be confirmed yet
        row.insert(
            0,
            InlineKeyboardButton(
                t("✅ Confirm"), callback_data=EvaluationDecision("ok", proposal.id).encode()
            ),
        )
    return Markup([row])


async def list_kind(update: Update, context: KepuContext, kind: str, year: int) -> None:
    """Send each open proposal of one kind with its decision buttons."""
    rows = await store.proposals_in(
        session=context.session,
        year=year,
        prefixes=_prefixes(context),
        kinds=[kind],
        statuses=["proposed"],
        limit=LIST_LIMIT + 1,
    )
    if not rows:
        await reply(update, context.t("Nothing left to decide here."))
        return
    found = await findings_store.findings_of_stations(
        session=context.session, station_ids=[st.id for _p, st in rows[:LIST_LIMIT] if st.id]
    )
    for proposal, station in rows[:LIST_LIMIT]:
        mine = found.get(station.id or 0, [])
        held = proposal.kind == "commend" and any(f.status == "open" for f in mine)
        await reply(
            update,
            proposal_text(context, proposal, station, mine),
            reply_markup=_decide_buttons(context, proposal, station, held),
        )
    if len(rows) > LIST_LIMIT:
        await reply(update, context.t("Decide these first; send /evaluation for the next."))


async def outstanding(update: Update, context: KepuContext, year: int) -> None:
    """List the outstanding informants of each region the coordinator holds (real names)."""
    t = context.t
    lines: list[str] = []
    for code in _regions(context):
        run = await evaluation_service.run_for(
            session=context.session, year=year, region_code=code
        )
        if not lines:
            window = evaluation_service.run_window(run, year)
            lines.append(
                t("<b>Outstanding informants</b> — {window}", window=window_text(t, window))
            )
        rows = (
            await store.outstanding_in(session=context.session, run_id=run.id, region_code=code)
            if run and run.id
            else []
        )
        name = await region_service.short_name(session=context.session, code=code)
        lines.append(t("{region}:", region=esc(name)))
        lines += [
            t(
                "{rank}. {name} ({station}) — volume {volume}",
                rank=o.rank,
                name=esc(inf.real_name or "—"),
                station=esc(st.name),
                volume=t.number(o.volume),
            )
            for o, inf, st in rows[:LIST_LIMIT]
        ]
        if not rows:
            lines.append(t("none yet"))
    await reply(update, "\n".join(lines))


async def send_xlsx(update: Update, context: KepuContext, year: int) -> None:
    """Send the evaluation workbook of each region the coordinator holds."""

    chat = update.effective_chat
    assert chat is not None
    sent = 0
    for code in _regions(context)[:3]:
        data = await evaluation_workbook(
            session=context.session,
            evaluation=context.runtime.settings.evaluation,
            propagation=context.runtime.settings.propagation,
            tz=context.runtime.settings.scheduler.tz,
            year=year,
            region_code=code,
            t=context.t,
        )
        if data is not None:
            await context.bot.send_document(
                chat.id, InputFile(data, filename=f"evaluation-{code}-{year}.xlsx")
            )
            sent += 1
    if not sent:
        await reply(update, context.t("No evaluation workbook for your area yet."))


@requires("coordinator")
async def on_button(update: Update, context: KepuContext) -> None:
    """Handle EVA:… buttons."""
    query = update.callback_query
    assert query is not None
    button = EVALUATION.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    try:
        if isinstance(button, EvaluationKind) and button.kind in KINDS:
            await query.answer()
            await list_kind(update, context, button.kind, button.year)
        elif isinstance(button, EvaluationYear) and button.action == "inf":
            await query.answer()
            await outstanding(update, context, button.year)
        elif isinstance(button, EvaluationYear) and button.action == "x":
            await query.answer()
            await send_xlsx(update, context, button.year)
        elif isinstance(button, EvaluationDecision) and button.action == "ok":
            await _confirm(update, context, button.proposal_id)
        elif isinstance(button, EvaluationDecision) and button.action == "ov":
            await decisions.check_may_override(
                session=context.session,
                proposal_id=button.proposal_id,
                actor=actor_of(context),
                now=context.runtime.now(),
            )
            await query.answer()
            await start_dialog(
                update, context, "evaluation_override", "reason", proposal_id=button.proposal_id
            )
            await reply(
                update,
                context.t("Why do you set this proposal aside? Send the reason; it is recorded.")
                + "\n"
                + input_hint(context),
            )
        else:
            await query.answer()
    except EvaluationError as exc:
        await query.answer(error_text(context.t, exc)[:190], show_alert=True)


async def _confirm(update: Update, context: KepuContext, proposal_id: int) -> None:
    query = update.callback_query
    assert query is not None
    decision = await decisions.confirm(
        session=context.session,
        proposal_id=proposal_id,
        actor=actor_of(context),
        evaluation=context.runtime.settings.evaluation,
        locale=context.runtime.settings.i18n.default_locale,
        today=context.runtime.today(),
        now=context.runtime.now(),
    )
    await query.answer()
    await query.edit_message_reply_markup(None)
    t = context.t
    await reply(
        update,
        t(
            "✅ Confirmed: {kind} for {name}. The station is now {state}.",
            kind=t(KIND_NAMES[decision.proposal.kind]),
            name=esc(decision.station.name),
            state=t(STATE_NAMES.get(decision.station.status, decision.station.status)),
        ),
    )
    await send_notices(context, decision.notices)


async def step_reason(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the override reason (required) and decide."""
    message = update.effective_message
    reason = " ".join((message.text or "").split()) if message else ""
    t = context.t
    if not reason:
        await reply(update, t("Please give a reason as text; an override needs one."))
        return
    try:
        decision = await decisions.override(
            session=context.session,
            proposal_id=int(dialog.data["proposal_id"]),
            actor=actor_of(context),
            reason=reason,
            now=context.runtime.now(),
        )
    except EvaluationError as exc:
        await end_dialog(update, context)
        await reply(update, error_text(t, exc))
        return
    await end_dialog(update, context)
    await reply(
        update,
        t(
            "✏ Overridden: the {kind} proposal for {name} is set aside. Reason recorded: {reason}",
            kind=t(KIND_NAMES[decision.proposal.kind]),
            name=esc(decision.station.name),
            reason=esc(reason),
        ),
    )


FLOWS: dict[str, Flow] = {
    "evaluation_override": Flow.of(
        {"reason": step_reason}, N_("Left without a decision; the proposal is unchanged.")
    ),
}


@requires("coordinator")
async def integrity(update: Update, context: KepuContext) -> None:
    """Send the integrity report of each region the coordinator holds (this year so far)."""
    t = context.t
    today = context.runtime.today()
    codes = _regions(context) or ([""] if is_admin(context.scope.roles) else [])
    days = context.runtime.settings.evaluation.inactive_days
    for code in codes[:3]:
        report = await integrity_report(
            session=context.session,
            evaluation=context.runtime.settings.evaluation,
            propagation=context.runtime.settings.propagation,
            tz=context.runtime.settings.scheduler.tz,
            region_code=code,
            start=dt.date(today.year, 1, 1),
            end=today,
        )
        area = await region_service.short_name(session=context.session, code=code)
        lines = [
            t(
                "<b>Integrity report of {region}</b> — {window}",
                region=esc(area) if code else t("all regions"),
                window=window_text(t, report.window),
            )
        ]
        if report.empty:
            lines.append(t("Nothing suspicious found. 👍"))
        names = {
            c: await region_service.short_name(session=context.session, code=c)
            for c in {f.region_code for f in report.bursts if f.region_code}
        }
        paper = report.paper_unstored
        unverified = report.unverified_unstored
        sections: list[tuple[str, list[str]]] = [
            (
                t("Paper stations: {n}", n=len(paper)),
                [
                    t(
                        "#{id} {name}: {why}",
                        id=p.station_id,
                        name=esc(p.name),
                        why=t(", ").join(t(_PAPER[r], days=days) for r in p.reasons),
                    )
                    for p in paper
                ],
            ),
            (
                t("Reported audiences without verified visits: {n}", n=len(unverified)),
                [
                    t(
                        "#{id} {name}: reach {reach}, visits {visits}",
                        id=u.station_id,
                        name=esc(u.name),
                        reach=t.number(u.reported_reach),
                        visits=u.visits,
                    )
                    for u in unverified
                ],
            ),
        ]
        # Every stored finding, by kind (the one table of kinds), with its review status.
        for kind in STORED_KINDS:
            found = [f for f in report.of_kind(kind) if f.flag is not None]
            if not found:
                continue
            sections.append(
                (
                    t("{kind}: {n}", kind=t(FINDING_KINDS[kind]), n=len(found)),
                    [
                        t(
                            "#{id} {name} ({day}): {why} Status: {status}",
                            id=f.flag_id,  # the finding's number, as /findings shows it
                            name=esc(
                                names.get(f.region_code or "", f.region_code or "—")
                                if kind == "application_burst"
                                else f.station_name
                            ),
                            day=t.date(f.raised_on),
                            status=esc(status_of(t, f.flag)),
                            why=esc(why(t, f.flag)),
                        )
                        for f in found
                        if f.flag is not None
                    ],
                )
            )
        for title, items in sections:
            if items:
                lines.append(title)
                lines += ["  • " + item for item in items[:SHOW_LIMIT]]
                if len(items) > SHOW_LIMIT:
                    lines.append(
                        t("  … and {n} more (see the evaluation XLSX)", n=len(items) - SHOW_LIMIT)
                    )
        await reply(update, "\n".join(lines))


_PAPER = {"no_informants": N_("no informant"), "inactive": N_("nothing for {days} days")}


FEATURE = Feature(
    name="evaluation",
    handlers=in_group(
        COMMAND_GROUP,
        # The evaluation names outstanding informants (and its XLSX lists them): private only.
        CommandHandler("evaluation", private_only(evaluation)),
        CommandHandler("integrity", integrity),
        CallbackQueryHandler(private_only(on_button), pattern=EVALUATION.pattern),
    ),
    flows=FLOWS,
    commands=COMMANDS,
    jobs=(jobs.ANNUAL_EVALUATION, jobs.INTEGRITY_SWEEP),
)
