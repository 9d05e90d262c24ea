"""The "I shared it elsewhere" dialog: platform → approximate audience → recorded + link.

Buttons carry everything they need (``SHA:<item>:<platform>:<n>``), so a stale keyboard
still works; only a typed audience needs the dialog state (flow ``share_ext``).
Nothing is written before the audience is known.
"""

from __future__ import annotations

import html
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.core.error_text import error_text as domain_text
from bot.core.zh_numbers import Quantity
from bot.handlers.callbacks import (
    ShareAudience,
    ShareCancel,
    ShareElsewhere,
    SharePlatform,
    answer_invalid,
)
from bot.handlers.common import button_rows, reply
from bot.handlers.dialog import (
    Dialog,
    Flow,
    end_dialog,
    get_dialog,
    input_hint,
    start_dialog,
)
from bot.i18n import N_, Translator
from bot.runtime.context import KepuContext
from bot.services import shares as share_service
from bot.services.shares import ShareError, ShareOutcome
from storage import content as content_store

FLOW = "share_ext"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

PLATFORM_LABELS: dict[str, str] = {
    "wechat_group": N_("WeChat group"),
    "wechat_moments": N_("WeChat Moments"),
    "qq_group": N_("QQ group"),
    "public_account": N_("Public account"),
    "other": N_("Other"),
}


def error_text(t: Translator, exc: ShareError) -> str:
    """Return the localised refusal for a share error."""
    params = {"max": t.number(int(str(exc.params["max"])))} if "max" in exc.params else {}
    return domain_text(exc, t, params=params)


def _platform_markup(t: Translator, content_id: int) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(t(label), callback_data=SharePlatform(content_id, code).encode())
        for code, label in PLATFORM_LABELS.items()
    ]
    rows = button_rows(buttons, 2)
    rows.append([InlineKeyboardButton(t("Cancel"), callback_data=ShareCancel().encode())])
    return InlineKeyboardMarkup(rows)


def _audience_markup(t: Translator, content_id: int, platform: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            t("~{n}", n=n), callback_data=ShareAudience(content_id, platform, n).encode()
        )
        for n in share_service.AUDIENCE_CHOICES
    ]
    rows = button_rows(buttons, 4)
    rows.append([InlineKeyboardButton(t("Cancel"), callback_data=ShareCancel().encode())])
    return InlineKeyboardMarkup(rows)


def _audience_question(t: Translator, platform: str) -> str:
    return t(
        "About how many people will see it in that {platform}? Pick one, or type it "
        "(e.g. 约80人, 200人左右 or 三百).",
        platform=t(PLATFORM_LABELS[platform]),
    )


async def _informant_or_refuse(update: Update, context: KepuContext) -> Any:
    informant = await share_service.informant_for(
        session=context.session,
        person_id=context.person.id if context.person is not None else None,
    )
    if informant is None and update.callback_query is not None:
        await update.callback_query.answer(
            context.t("Only registered informants can report shares."), show_alert=True
        )
    return informant


async def on_elsewhere(update: Update, context: KepuContext) -> None:
    """Ask where the item was shared."""
    query = update.callback_query
    assert query is not None
    button = ShareElsewhere.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    informant = await _informant_or_refuse(update, context)
    if informant is None:
        return
    content_id = button.content_id
    item = await content_store.get_item(session=context.session, content_id=content_id)
    t = context.t
    if item is None:
        await query.answer(t("That content is no longer available."), show_alert=True)
        return
    await query.answer()
    await start_dialog(update, context, FLOW, "platform", content_id=content_id)
    await reply(
        update,
        t("Where did you share “{title}”?", title=html.escape(item.title)),
        reply_markup=_platform_markup(t, content_id),
    )


async def on_platform(update: Update, context: KepuContext) -> None:
    """Ask for the approximate audience on the chosen platform."""
    query = update.callback_query
    assert query is not None
    button = SharePlatform.decode(query.data)
    if button is None or button.platform not in PLATFORM_LABELS:
        await answer_invalid(update, context)
        return
    informant = await _informant_or_refuse(update, context)
    if informant is None:
        return
    content_id, platform = button.content_id, button.platform
    await query.answer()
    await start_dialog(update, context, FLOW, "audience", content_id=content_id, platform=platform)
    await query.edit_message_text(
        _audience_question(context.t, platform) + "\n" + input_hint(context),
        reply_markup=_audience_markup(context.t, content_id, platform),
    )


async def _record(
    update: Update,
    context: KepuContext,
    informant: Any,
    content_id: int,
    platform: str,
    audience: int,
) -> str:
    """Record the external share and return the reply text (with the link to paste)."""
    runtime, t, session = context.runtime, context.t, context.session
    try:
        outcome = await share_service.record_share(
            session=session,
            settings=runtime.settings,
            informant=informant,
            content_id=content_id,
            channel=platform,
            audience=audience,
            now=runtime.now(),
            today=runtime.today(),
        )
    except ShareError as exc:
        return error_text(t, exc)
    url = await share_service.tracked_url(
        session=session,
        settings=runtime.settings,
        informant_id=informant.informant_id,
        content_id=content_id,
        channel=platform,
        now=runtime.now(),
    )
    return result_text(t, outcome, platform, url, runtime.settings.shares.max_reported_audience)


def result_text(t: Translator, outcome: ShareOutcome, platform: str, url: str, cap: int) -> str:
    """Return the confirmation of an external share."""
    name = t(PLATFORM_LABELS[platform])
    if not outcome.recorded:
        head = t(
            "You already reported this item in a {platform} today; it counts once a day.",
            platform=name,
        )
    else:
        head = t(
            "✅ Recorded: shared in a {platform}, about {n} people.",
            platform=name,
            n=t.number(outcome.audience),
        )
        if outcome.capped:
            head += "\n" + t(
                "Audiences above {cap} count as {cap}; a coordinator may ask about this one.",
                cap=t.number(cap),
            )
    return (
        head
        + "\n\n"
        + t("Paste this link there, so that visits are counted too:\n{url}", url=html.escape(url))
    )


def _size_question(t: Translator, quantity: Quantity, cap: int) -> str:
    """Ask whether a large typed audience is meant (约5000人，确定吗？)."""
    n = t.number(quantity.value)
    if quantity.approx:
        return t("About {n} people — is that right? Audiences above {cap} count as {cap}.", n=n,
                 cap=t.number(cap))  # fmt: skip
    return t("{n} people — is that right? Audiences above {cap} count as {cap}.", n=n,
             cap=t.number(cap))  # fmt: skip


def _size_markup(t: Translator, content_id: int, platform: str, n: int) -> InlineKeyboardMarkup:
    """Yes records the typed audience; Change it asks the audience again."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("Yes"), callback_data=ShareAudience(content_id, platform, n).encode()
                ),
                InlineKeyboardButton(
                    t("Change it"), callback_data=SharePlatform(content_id, platform).encode()
                ),
            ]
        ]
    )


async def on_audience_button(update: Update, context: KepuContext) -> None:
    """Record the share with the audience of the pressed button."""
    query = update.callback_query
    assert query is not None
    button = ShareAudience.decode(query.data)
    if button is None or button.platform not in PLATFORM_LABELS:
        await answer_invalid(update, context)
        return
    informant = await _informant_or_refuse(update, context)
    if informant is None:
        return
    await query.answer()
    text = await _record(
        update, context, informant, button.content_id, button.platform, button.audience
    )
    await end_dialog(update, context)
    await query.edit_message_text(text, link_preview_options=NO_PREVIEW)


async def on_cancel(update: Update, context: KepuContext) -> None:
    """Drop the report without recording anything."""
    query = update.callback_query
    assert query is not None
    if ShareCancel.decode(query.data) is None:
        await answer_invalid(update, context)
        return
    await query.answer()
    dialog = await get_dialog(update, context)
    if dialog is not None and dialog.flow == FLOW:
        await end_dialog(update, context)
    await query.edit_message_text(context.t("OK, nothing was recorded."))


async def step_platform(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """A message while the platform buttons are shown: point at them again."""
    content_id = int(dialog.data.get("content_id", 0))
    await reply(
        update,
        context.t("Please choose where you shared it:"),
        reply_markup=_platform_markup(context.t, content_id),
    )


async def step_audience(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """A typed audience: record it, or explain and ask again."""
    message = update.effective_message
    t = context.t
    content_id = int(dialog.data.get("content_id", 0))
    platform = str(dialog.data.get("platform", "other"))
    if platform not in PLATFORM_LABELS:
        platform = "other"
    try:
        quantity = share_service.read_audience(message.text or "" if message else "")
    except ShareError as exc:
        await reply(
            update,
            error_text(t, exc) + "\n" + _audience_question(t, platform),
            reply_markup=_audience_markup(t, content_id, platform),
        )
        return
    audience = quantity.value
    if audience > context.runtime.settings.shares.max_reported_audience:
        # Confirmed before anything is saved; the dialog stays, so a new number also works.
        await reply(
            update,
            _size_question(t, quantity, context.runtime.settings.shares.max_reported_audience),
            reply_markup=_size_markup(t, content_id, platform, audience),
        )
        return
    informant = await share_service.informant_for(
        session=context.session,
        person_id=context.person.id if context.person is not None else None,
    )
    await end_dialog(update, context)
    if informant is None:
        await reply(update, t("Only registered informants can report shares."))
        return
    text = await _record(update, context, informant, content_id, platform, audience)
    await reply(update, text, link_preview_options=NO_PREVIEW)


FLOWS: dict[str, Flow] = {
    FLOW: Flow.of(
        {"platform": step_platform, "audience": step_audience},
        N_("Left the share report; nothing was recorded."),
    ),
}


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Return this dialog's button handlers (group 0)."""
    return [
        CallbackQueryHandler(on_elsewhere, pattern=ShareElsewhere.pattern),
        CallbackQueryHandler(on_platform, pattern=SharePlatform.pattern),
        CallbackQueryHandler(on_audience_button, pattern=ShareAudience.pattern),
        CallbackQueryHandler(on_cancel, pattern=ShareCancel.pattern),
    ]
