"""/findings: coordinators confirm or dismiss integrity findings, each with a reason.

Also the findings lines of the station card and of an evaluation proposal card, and the
daily notice job that tells coordinators when new findings wait for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import jobs
from bot.core.error_text import error_text
from bot.handlers.callbacks import (
    FINDINGS,
    FindingDecisionButton,
    FindingsPage,
    answer_invalid,
)
from bot.handlers.commands import command
from bot.handlers.common import esc, is_unchanged, private_only, reply, requires
from bot.handlers.dialog import Dialog, Flow, end_dialog, input_hint, start_dialog
from bot.handlers.feature import COMMAND_GROUP, Feature, in_group
from bot.handlers.stations_common import actor_of
from bot.i18n import N_, Translator
from bot.runtime.context import KepuContext
from bot.services import findings as finding_service
from bot.services.access import coordinates, coordinator_regions, is_admin, region_prefix
from bot.services.finding_text import why
from bot.services.findings import FindingError
from storage import findings as store
from storage.models import IntegrityFlag, Station
from storage.regions import get_regions

COMMANDS = (
    command("findings", N_("Integrity findings waiting for your review"), "coordinator", order=62),
)

Markup = InlineKeyboardMarkup
PER_PAGE = 5
CARD_SHOWN = 5  # findings listed on a station card
FLOW = "finding_reason"
Decision = Literal["confirmed", "dismissed"]
DECISIONS: dict[str, Decision] = {"ok": "confirmed", "no": "dismissed"}
PROMPTS = {
    "confirmed": N_(
        "Why do you confirm finding #{id}? Send the reason; it is recorded and a "
        "confirmed finding may weigh on the station's evaluation."
    ),
    "dismissed": N_(
        "Why do you dismiss finding #{id}? Send the reason; it is recorded and the "
        "finding no longer weighs on the station."
    ),
}
LEFT = N_("Left the decision on the finding; nothing was decided.")


def _prefixes(context: KepuContext) -> list[str] | None:
    if is_admin(context.scope.roles):
        return None
    return [region_prefix(code) for code in coordinator_regions(context.scope.roles)]


def finding_line(t: Translator, finding: IntegrityFlag) -> str:
    """Return one finding as a line: kind, status, why, and the decision's reason if any."""
    status = t(finding_service.STATUS_NAMES.get(finding.status, finding.status))
    line = t(
        "#{id} {kind} ({status}): {why}",
        id=finding.id,
        kind=esc(finding_service.kind_name(finding, t)),
        status=status,
        why=esc(why(t, finding)),
    )
    if finding.decision_reason and finding.status != "open":
        when = finding.decided_at or finding.resolved_at
        line += "\n    " + t(
            "{status} on {date}: {reason}",
            status=status,
            date=t.date(when.date()) if when else "—",
            reason=esc(finding.decision_reason),
        )
    return line


async def station_card_lines(context: KepuContext, station: Station) -> list[str]:
    """Return the findings section of a station card (coordinators of its region only)."""
    if station.id is None or station.region_code is None:
        return []
    if not coordinates(context.scope.roles, station.region_code):
        return []
    found = (
        await store.findings_of_stations(session=context.session, station_ids=[station.id])
    ).get(station.id, [])
    if not found:
        return []
    t = context.t
    waiting = sum(1 for f in found if f.status == "open")
    lines = [
        t(
            "Integrity findings: {n} ({open} awaiting review; /findings)",
            n=len(found),
            open=waiting,
        )
    ]
    newest = sorted(found, key=lambda f: (f.status != "open", -(f.id or 0)))[:CARD_SHOWN]
    lines += ["  • " + finding_line(t, f) for f in newest]
    if len(found) > CARD_SHOWN:
        lines.append(t("  … and {n} more", n=len(found) - CARD_SHOWN))
    return lines


def proposal_lines(
    t: Translator, kind: str, rests_on: Iterable[IntegrityFlag], waiting: Iterable[IntegrityFlag]
) -> list[str]:
    """Return what a proposal card says about findings: those it rests on, those blocking."""
    lines: list[str] = []
    rests = list(rests_on)
    if rests:
        lines.append(t("Rests on these confirmed findings:"))
        lines += ["  • " + finding_line(t, f) for f in rests]
    blocking = list(waiting)
    if blocking:
        if kind == "commend":
            lines.append(
                t(
                    "⏳ Awaiting review: this commendation waits until these findings "
                    "are confirmed or dismissed (/findings):"
                )
            )
        else:
            lines.append(t("Findings awaiting review (/findings):"))
        lines += ["  • " + finding_line(t, f) for f in blocking]
    return lines


# --- /findings ---------------------------------------------------------------------------
async def _page(context: KepuContext, page: int) -> tuple[str, Markup | None]:
    t = context.t
    prefixes = _prefixes(context)
    total = await store.count_open(session=context.session, prefixes=prefixes)
    if not total:
        return t("No integrity findings are waiting for your review. 👍"), None
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 0), pages - 1)
    rows, total = await store.open_findings(
        session=context.session, prefixes=prefixes, offset=page * PER_PAGE, limit=PER_PAGE
    )
    codes = sorted({finding_service.region_of(f, s) or "" for f, s in rows} - {""})
    regions = await get_regions(session=context.session, codes=codes)
    tz = context.runtime.settings.scheduler.tz
    lines = [
        t(
            "<b>Integrity findings awaiting review: {n}</b> (page {page}/{pages})",
            n=t.number(total),
            page=page + 1,
            pages=pages,
        )
    ]
    buttons: list[list[InlineKeyboardButton]] = []
    for finding, station in rows:
        assert finding.id is not None
        code = finding_service.region_of(finding, station) or ""
        region = regions.get(code)
        lines += [
            "",
            t(
                "<b>#{id} {kind}</b> — {station}（{region}）, raised on {date}",
                id=finding.id,
                kind=esc(finding_service.kind_name(finding, t)),
                station=esc(station.name) if station else t("the whole region"),
                region=esc(region.name if region else code or "—"),
                date=t.date(finding.created_at.astimezone(tz).date()),
            ),
            esc(why(t, finding)),
        ]
        buttons.append(
            [
                InlineKeyboardButton(
                    t("✅ Confirm #{id}", id=finding.id),
                    callback_data=FindingDecisionButton("ok", finding.id).encode(),
                ),
                InlineKeyboardButton(
                    t("❎ Dismiss #{id}", id=finding.id),
                    callback_data=FindingDecisionButton("no", finding.id).encode(),
                ),
            ]
        )
    nav: list[InlineKeyboardButton] = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(t("‹ Previous"), callback_data=FindingsPage(page - 1).encode())
        )
    if page + 1 < pages:
        nav.append(
            InlineKeyboardButton(t("Next ›"), callback_data=FindingsPage(page + 1).encode())
        )
    if nav:
        buttons.append(nav)
    return "\n".join(lines), Markup(buttons)


@requires("coordinator")
async def findings_command(update: Update, context: KepuContext) -> None:
    """List the first page of open findings in the coordinator's regions."""
    text, markup = await _page(context, 0)
    await reply(update, text, reply_markup=markup)


@requires("coordinator")
async def on_button(update: Update, context: KepuContext) -> None:
    """Handle FND:… buttons: pages, and the start of a decision (asks for the reason)."""
    query = update.callback_query
    assert query is not None
    button = FINDINGS.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    if isinstance(button, FindingsPage):
        await query.answer()
        text, markup = await _page(context, button.page)
        try:
            await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)
        except BadRequest as exc:
            if not is_unchanged(exc):
                await reply(update, text, reply_markup=markup)
        return
    status = DECISIONS[button.action]
    try:
        await finding_service.check_may_decide(
            session=context.session,
            finding_id=button.finding_id,
            actor=actor_of(context),
            status=status,
            now=context.runtime.now(),
        )
    except FindingError as exc:
        await query.answer(error_text(exc, context.t)[:190], show_alert=True)
        return
    await query.answer()
    await start_dialog(
        update, context, FLOW, "reason", finding_id=button.finding_id, status=status
    )
    t = context.t
    await reply(update, t(PROMPTS[status], id=button.finding_id) + "\n" + input_hint(context))


async def step_reason(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the reason (required) and record the decision."""
    message = update.effective_message
    reason = " ".join((message.text or "").split()) if message else ""
    t = context.t
    if not reason:
        await reply(
            update,
            t("Please send the reason as text; a decision needs one.")
            + "\n"
            + input_hint(context),
        )
        return
    try:
        decided = await finding_service.decide(
            session=context.session,
            finding_id=int(dialog.data["finding_id"]),
            actor=actor_of(context),
            status=str(dialog.data["status"]),
            reason=reason,
            now=context.runtime.now(),
        )
    except FindingError as exc:
        await end_dialog(update, context)
        await reply(update, error_text(exc, t))
        return
    await end_dialog(update, context)
    finding = decided.finding
    name = decided.station.name if decided.station else t("the whole region")
    params = {"id": finding.id, "name": esc(name), "reason": esc(finding.decision_reason or "")}
    if finding.status == "confirmed":
        text = t("✅ Confirmed finding #{id} on {name}. Reason recorded: {reason}", **params)
    else:
        text = t("❎ Dismissed finding #{id} on {name}. Reason recorded: {reason}", **params)
    await reply(
        update,
        text
        + "\n"
        + t("Re-run the evaluation to update its proposals (they use confirmed findings only)."),
    )


FLOWS = {FLOW: Flow.of({"reason": step_reason}, LEFT, commands=("findings",))}

FEATURE = Feature(
    name="findings",
    handlers=(
        *in_group(
            COMMAND_GROUP,
            # Findings name stations' problems and who decided: private chats only.
            CommandHandler("findings", private_only(findings_command)),
            CallbackQueryHandler(private_only(on_button), pattern=FINDINGS.pattern),
        ),
    ),
    flows=FLOWS,
    commands=COMMANDS,
    jobs=(jobs.FINDINGS_NOTICE,),
)
