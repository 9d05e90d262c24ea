"""Announcements feature: /announce (audience → region → text → attachment → when → preview),
the outbox deliverer of ``announcement`` rows and the sender's report to the author.

The rules (who may address which region, recipients, quiet hours) are in
``bot.services.announcements``; this module only asks, previews and answers.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.content.cards import counts_text
from bot.core.callback_data import CallbackData, Family
from bot.core.error_text import error_text as domain_text
from bot.core.regions import level_of
from bot.core.regions_csv import is_region_code
from bot.core.text_fit import visible_length
from bot.core.zh_dates import DateError, read_upcoming
from bot.handlers.callbacks import answer_invalid
from bot.handlers.commands import command
from bot.handlers.common import private_only, refuse, reply, requires
from bot.handlers.dialog import (
    Dialog,
    Flow,
    end_dialog,
    get_dialog,
    goto,
    input_hint,
    start_dialog,
)
from bot.handlers.feature import COMMAND_GROUP, Feature, in_group
from bot.i18n import N_, Translator, get_translator
from bot.runtime.context import KepuContext
from bot.runtime.outbox import NO_RETRY, Delivery, SenderTools, Undeliverable
from bot.services import announcements as service
from bot.services import regions as region_service
from storage import announcements as announcement_store
from storage import outbox as outbox_store
from storage.outbox import ClaimedMessage, NewMessage

log = logging.getLogger(__name__)

FLOW = "announce"
AUDIENCE_NAMES = {
    "admins": N_("station admins"),
    "informants": N_("informants"),
    "both": N_("station admins and informants"),
}
REPORT_WINDOW = dt.timedelta(days=7)  # announcements older than this are not looked at
LEFT = N_("Left the announcement; nothing was sent.")
REFUSED_REGION = N_(
    "Sorry, {region} is outside your area: a coordinator announces only within their own region."
)


@dataclass(frozen=True)
class AnnounceAudience(CallbackData, prefix="ANN:aud"):
    """Who the announcement goes to."""

    audience: Literal["admins", "informants", "both"]


@dataclass(frozen=True)
class AnnounceRegion(CallbackData, prefix="ANN:rg"):
    """The region it goes to (``all``: every region, for curators)."""

    code: str


@dataclass(frozen=True)
class AnnounceAction(CallbackData, prefix="ANN"):
    """Skip the attachment, send now, confirm or cancel."""

    action: Literal["skip", "now", "send", "cancel"]


BUTTONS: Family[AnnounceAudience | AnnounceRegion | AnnounceAction] = Family(
    "ANN", AnnounceAudience, AnnounceRegion, AnnounceAction
)


def _moment(t: Translator, when: dt.datetime, tz: Any) -> str:
    """Return a send time as a person reads it: 2026年11月23日 23:00."""
    local = when.astimezone(tz)
    return f"{t.date(local.date(), 'long')} {local:%H:%M}"


def _markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(rows)


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.encode())


# --- the steps ------------------------------------------------------------------------------
@requires("coordinator", "curator")
async def announce(update: Update, context: KepuContext) -> None:
    """Start /announce: who should get it?"""
    await start_dialog(update, context, FLOW, "audience")
    await _ask_audience(update, context)


async def _ask_audience(update: Update, context: KepuContext) -> None:
    t = context.t
    await reply(
        update,
        t(
            "New announcement (1/5). Who should get it? It goes to each person privately; "
            "no one can reply to everyone. /cancel stops without sending."
        ),
        reply_markup=_markup(
            [
                [
                    _button(t("Station admins"), AnnounceAudience("admins")),
                    _button(t("Informants"), AnnounceAudience("informants")),
                ],
                [_button(t("Both"), AnnounceAudience("both"))],
            ]
        ),
    )


async def step_audience(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """A typed answer where a button was expected: ask again."""
    await _ask_audience(update, context)


async def _after_audience(
    update: Update, context: KepuContext, dialog: Dialog, audience: str
) -> None:
    grants = context.scope.roles
    own = service.own_regions(grants)
    # A county coordinator has nothing to narrow; a city or province one may pick a county.
    if not service.anywhere(grants) and len(own) == 1 and level_of(own[0]) == "county":
        await goto(context, dialog, "text", audience=audience, region=own[0])
        await _ask_text(update, context)
        return
    await goto(context, dialog, "region", audience=audience)
    await _ask_region(update, context)


async def _ask_region(update: Update, context: KepuContext, problem: str = "") -> None:
    t = context.t
    grants = context.scope.roles
    rows: list[list[InlineKeyboardButton]] = []
    if service.anywhere(grants):
        rows.append([_button(t("All regions"), AnnounceRegion("all"))])
    for code in service.own_regions(grants):
        name = await region_service.short_name(session=context.session, code=code)
        rows.append([_button(f"{name}（{code}）", AnnounceRegion(code))])
    question = t("2/5 — Which region? Press a button or send a 6-digit region code.")
    await reply(
        update,
        (problem + "\n" if problem else "") + question + "\n" + input_hint(context),
        reply_markup=_markup(rows),
    )


async def step_region(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take a typed region code, inside the sender's scope."""
    message = update.effective_message
    code = (message.text or "").strip() if message is not None else ""
    if not is_region_code(code):
        problem = context.t("“{value}” is not a 6-digit region code.", value=html.escape(code))
        await _ask_region(update, context, problem)
        return
    await _after_region(update, context, dialog, code)


async def _after_region(
    update: Update, context: KepuContext, dialog: Dialog, code: str | None
) -> None:
    if not service.in_scope(context.scope.roles, code):
        name = (
            await region_service.short_name(session=context.session, code=code)
            if code
            else context.t("all regions")
        )
        await refuse(
            update,
            context,
            context.t(REFUSED_REGION, region=html.escape(name)),
            reason="region_out_of_scope",
            action="announcement.send",
            region_code=code,
        )
        return
    await goto(context, dialog, "text", region=code)
    await _ask_text(update, context)


async def _ask_text(update: Update, context: KepuContext) -> None:
    await reply(
        update,
        context.t(
            "3/5 — Send the text of the announcement (at most {max} characters), e.g. "
            "“全国科普日 9月20日 活动通知……”.",
            max=service.TEXT_MAX,
        )
        + "\n"
        + input_hint(context),
    )


async def step_text(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the text."""
    message = update.effective_message
    t = context.t
    text = (message.text or "").strip() if message is not None else ""
    if not text:
        await reply(update, t("Please send the announcement as text."))
        return
    if len(text) > service.TEXT_MAX:
        await reply(
            update,
            t(
                "That is {length} characters; an announcement may have at most {max}.",
                length=len(text),
                max=service.TEXT_MAX,
            ),
        )
        return
    await goto(context, dialog, "attachment", text=text)
    await _ask_attachment(update, context)


async def _ask_attachment(update: Update, context: KepuContext) -> None:
    t = context.t
    await reply(
        update,
        t("4/5 — Send a photo or a file to go with it, or press “No attachment”."),
        reply_markup=_markup([[_button(t("No attachment"), AnnounceAction("skip"))]]),
    )


async def step_attachment(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take a photo or a document."""
    message = update.effective_message
    assert message is not None
    if message.photo:
        kind, file_id = "photo", message.photo[-1].file_id
    elif message.document is not None:
        kind, file_id = "document", message.document.file_id
    else:
        await _ask_attachment(update, context)
        return
    await goto(context, dialog, "when", attachment_kind=kind, file_id=file_id)
    await _ask_when(update, context)


async def _ask_when(update: Update, context: KepuContext) -> None:
    t = context.t
    await reply(
        update,
        t(
            "5/5 — When should it go? Press “Send now” or send a date and time like "
            "明天上午9点, 12月1日 9:30 or 下周三 10:00. People in their quiet hours get it "
            "when those end."
        )
        + "\n"
        + input_hint(context),
        reply_markup=_markup([[_button(t("Send now"), AnnounceAction("now"))]]),
    )


async def step_when(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take a date and time in the future (the project's one Chinese date parser)."""
    message = update.effective_message
    runtime = context.runtime
    t = context.t
    try:
        when = read_upcoming(
            (message.text or "") if message is not None else "",
            now=runtime.now().astimezone(runtime.settings.scheduler.tz),
        )
    except DateError as exc:
        hint = t("Send a date and time like 明天上午9点 or 12月1日 9:30, or press “Send now”.")
        await reply(update, domain_text(exc, t) + ("" if exc.code == "past" else "\n" + hint))
        return
    await goto(context, dialog, "confirm", send_at=when.astimezone(dt.UTC).isoformat())
    await _ask_confirm(update, context, dialog)


async def _sender(context: KepuContext, t: Translator, region: str | None) -> str:
    """Return who the announcement says it is from."""
    if service.anywhere(context.scope.roles) or region is None:
        return t("the content editors")
    name = await region_service.short_name(session=context.session, code=region)
    return t("{region} science association", region=name)


async def _ask_confirm(update: Update, context: KepuContext, dialog: Dialog) -> None:
    t = context.t
    data = dialog.data
    runtime = context.runtime
    region = data.get("region")
    people = await service.count_recipients(
        session=context.session, audience=str(data["audience"]), region_code=region
    )
    where = (
        await region_service.named_list(session=context.session, codes=[region], locale=t.locale)
        if region
        else t("all regions")
    )
    send_at = data.get("send_at")
    when = (
        _moment(t, dt.datetime.fromisoformat(str(send_at)), runtime.settings.scheduler.tz)
        if send_at
        else t("now")
    )
    attachment = {"photo": t("a photo"), "document": t("a file")}.get(
        str(data.get("attachment_kind")), t("none")
    )
    preview = service.render(t.locale, await _sender(context, t, region), str(data["text"]))
    lines = [
        t("Preview — this is what each recipient gets:"),
        "",
        preview,
        "",
        t(
            "To: {audience} in {where} — {n} people.",
            audience=t(AUDIENCE_NAMES[str(data["audience"])]),
            where=where,
            n=people,
        ),
        t("Attachment: {attachment}", attachment=attachment),
        t("Goes out: {when}", when=when),
    ]
    await reply(
        update,
        "\n".join(lines),
        reply_markup=_markup(
            [
                [
                    _button(t("Send"), AnnounceAction("send")),
                    _button(t("Cancel"), AnnounceAction("cancel")),
                ]
            ]
        ),
    )


async def step_confirm(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """A typed answer where a button was expected: show the preview again."""
    await _ask_confirm(update, context, dialog)


async def _send(update: Update, context: KepuContext, dialog: Dialog) -> None:
    t = context.t
    data = dialog.data
    runtime = context.runtime
    region = data.get("region")
    if not service.in_scope(context.scope.roles, region):  # roles may have changed since
        await end_dialog(update, context)
        await refuse(
            update,
            context,
            t(REFUSED_REGION, region=region or ""),
            reason="region_out_of_scope",
            action="announcement.send",
            region_code=region,
        )
        return
    now = runtime.now()
    send_at = dt.datetime.fromisoformat(str(data["send_at"])) if data.get("send_at") else now
    chat = update.effective_chat
    result = await service.send(
        session=context.session,
        author_id=context.person.id if context.person is not None else None,
        sender=await _sender(
            context, get_translator(runtime.settings.i18n.default_locale), region
        ),
        region_code=region,
        audience=str(data["audience"]),
        text=str(data["text"]),
        attachment_kind=data.get("attachment_kind"),
        attachment_file_id=data.get("file_id"),
        send_at=send_at,
        now=now,
        tz=runtime.settings.scheduler.tz,
        default_locale=runtime.settings.i18n.default_locale,
        report_chat=chat.id if chat is not None else None,
        report_locale=t.locale,
    )
    await end_dialog(update, context)
    if result.targeted == 0:
        text = t(
            "No one matches yet, so nothing was sent (announcement #{id}).",
            id=result.announcement_id,
        )
    elif send_at > now:
        text = t(
            "Scheduled: announcement #{id} goes to {n} people at {when}; you get a report "
            "when it has been sent.",
            id=result.announcement_id,
            n=result.targeted,
            when=_moment(t, send_at, runtime.settings.scheduler.tz),
        )
    else:
        text = t(
            "Sending: announcement #{id} goes to {n} people; you get a report when it has "
            "been sent.",
            id=result.announcement_id,
            n=result.targeted,
        )
    if result.deferred:
        text += "\n" + t(
            "{n} of them are in their quiet hours and get it when those end.", n=result.deferred
        )
    await reply(update, text)


async def announce_button(update: Update, context: KepuContext) -> None:
    """Handle the buttons of /announce."""
    query = update.callback_query
    assert query is not None
    button = BUTTONS.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    t = context.t
    dialog = await get_dialog(update, context)
    if dialog is None or dialog.flow != FLOW:
        await query.answer(
            t("This conversation has ended. Send /announce to start again."), show_alert=True
        )
        return
    if isinstance(button, AnnounceRegion) and dialog.step == "region":
        code = None if button.code == "all" else button.code
        if code is not None and not is_region_code(code):
            await answer_invalid(update, context)
            return
        if service.in_scope(context.scope.roles, code):
            await query.answer()
        await _after_region(update, context, dialog, code)
        return
    await query.answer()
    if isinstance(button, AnnounceAudience) and dialog.step == "audience":
        await _after_audience(update, context, dialog, button.audience)
    elif button == AnnounceAction("skip") and dialog.step == "attachment":
        await goto(context, dialog, "when", attachment_kind=None, file_id=None)
        await _ask_when(update, context)
    elif button == AnnounceAction("now") and dialog.step == "when":
        await goto(context, dialog, "confirm", send_at=None)
        await _ask_confirm(update, context, dialog)
    elif button == AnnounceAction("send") and dialog.step == "confirm":
        await _send(update, context, dialog)
    elif button == AnnounceAction("cancel") and dialog.step == "confirm":
        await end_dialog(update, context)
        await reply(update, t(LEFT))
    else:
        await reply(
            update, t("That button belongs to an earlier step; please answer the last question.")
        )


FLOWS: dict[str, Flow] = {
    FLOW: Flow.of(
        {
            "audience": step_audience,
            "region": step_region,
            "text": step_text,
            "attachment": step_attachment,
            "when": step_when,
            "confirm": step_confirm,
        },
        LEFT,
        commands=("announce",),
    )
}


# --- delivery and the report ------------------------------------------------------------
class AnnouncementDeliverer:
    """Send ``announcement`` rows: the text, with the photo or file when there is one."""

    def __init__(self, tools: SenderTools) -> None:
        self.tools = tools

    async def prepare(self, rows: Sequence[ClaimedMessage]) -> None:
        """Nothing to read: each row carries its rendered text."""

    async def deliver(self, row: ClaimedMessage) -> Delivery:
        """Send one recipient's copy (no database lock is held)."""
        bot = self.tools.bot
        text = str(row.payload.get("text") or "")
        kind = row.payload.get("attachment_kind")
        file_id = row.payload.get("file_id")
        if not text:
            raise Undeliverable("failed", "announcement_empty")
        if kind not in ("photo", "document") or not file_id:
            sent: Message = await bot.send_message(
                row.chat_id, text, parse_mode="HTML", rate_limit_args=NO_RETRY
            )
            return Delivery(sent.message_id)
        caption = text if visible_length(text) <= service.CAPTION_MAX else None
        if caption is None:  # too long for a caption: the text first, then the attachment
            await bot.send_message(row.chat_id, text, parse_mode="HTML", rate_limit_args=NO_RETRY)
        send = bot.send_photo if kind == "photo" else bot.send_document
        sent = await send(
            row.chat_id, file_id, caption=caption, parse_mode="HTML", rate_limit_args=NO_RETRY
        )
        return Delivery(sent.message_id)


class AnnouncementReport:
    """Report a finished announcement to its author once, in the push report's words."""

    def __init__(self, tools: SenderTools) -> None:
        self.tools = tools

    async def when_idle(self) -> None:
        """Report announcements another observer finished, or whose batch ended unseen.

        Runs between batches; reads the last week's due announcements (a few rows) and
        reports each one once (``reported`` on the push, and the report's dedupe key).
        """
        try:
            now = self.tools.runtime.now()
            async with self.tools.runtime.sessions() as session:
                pushes = await announcement_store.due_pushes(
                    session=session, since=now - REPORT_WINDOW, now=now
                )
            waiting = {
                p.id
                for p in pushes
                if p.id is not None and p.total and not (p.targeting or {}).get("reported")
            }
            await self.after_batch(waiting, final_check=True)
        except Exception:  # a report is a courtesy; never stop the sender for it
            log.exception("announcement reports failed")

    async def after_batch(self, push_ids: set[int], *, final_check: bool) -> None:
        """Queue the report of each announcement push with nothing pending (once: its key)."""
        for push_id in sorted(push_ids):
            try:
                await self._report(push_id)
            except Exception:  # a report is a courtesy; never stop the sender for it
                log.exception("announcement report failed", extra={"push_id": push_id})

    async def _report(self, push_id: int) -> None:
        async with self.tools.runtime.sessions() as session:
            push = await outbox_store.get_push(session=session, push_id=push_id)
            if push is None or push.kind != service.KIND:
                return
            counts = await outbox_store.counts(session=session, push_id=push_id)
        targeting = push.targeting or {}
        chat_id = targeting.get("announce_report_chat")
        if counts.get("pending", 0) or not isinstance(chat_id, int) or targeting.get("reported"):
            return
        t = get_translator(str(targeting.get("announce_report_locale") or "zh_CN"))
        now = self.tools.runtime.now()
        text = t("✅ Announcement report #{id}", id=push.id) + "\n" + counts_text(t, push, counts)
        await self.tools.gate()
        async with self.tools.runtime.sessions() as session, session.begin():
            await outbox_store.update_push(
                session=session, push_id=push_id, targeting={**targeting, "reported": True}
            )
            await outbox_store.finish_push(session=session, push_id=push_id, now=now)
            await outbox_store.enqueue(
                session=session,
                push_id=None,
                messages=[
                    NewMessage(
                        chat_id=chat_id,
                        kind="message",
                        payload={"text": text},
                        dedupe_key=f"announce-report:{push.id}",
                        due_at=now,
                    )
                ],
                now=now,
            )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Return the announcement handlers (command group)."""
    return [
        # A dialog lives in the private chat: in a group, a link to it.
        CommandHandler("announce", private_only(announce)),
        CallbackQueryHandler(private_only(announce_button), pattern=BUTTONS.pattern),
    ]


FEATURE = Feature(
    name="announcements",
    handlers=in_group(COMMAND_GROUP, *handlers()),
    flows=FLOWS,
    commands=(
        command(
            "announce",
            N_("Send an announcement to station admins or informants"),
            "coordinator",
            "curator",
            order=63,
        ),
    ),
    outbox_kinds={service.KIND: AnnouncementDeliverer},
    outbox_observers=(AnnouncementReport,),
)
