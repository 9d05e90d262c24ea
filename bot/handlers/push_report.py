"""Push reports' "Retry the N failed" button: curators re-send the retryable failures.

The reasons and the button are rendered with the report (``bot.reports.push_report``);
this feature takes the press. The retry is a new push with its own progress and report
(``bot.services.push.retry_failed``: blocked users are never retried; audited).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.core.error_text import error_text
from bot.handlers import paid_push
from bot.handlers.callbacks import answer_invalid
from bot.handlers.common import private_only, reply, requires
from bot.handlers.feature import COMMAND_GROUP, Feature, in_group
from bot.reports.push_report import PushRetry, way_lines
from bot.runtime.context import KepuContext
from bot.services import push as push_service
from bot.services.push import PushError


@requires("curator")
async def retry_button(update: Update, context: KepuContext) -> None:
    """Queue the push's retryable failures again as a new push; tell the curator."""
    query = update.callback_query
    assert query is not None
    button = PushRetry.decode(query.data or "")
    if button is None:
        await answer_invalid(update, context)
        return
    t = context.t
    chat = update.effective_chat
    person = context.person
    try:
        result = await push_service.retry_failed(
            session=context.session,
            push_id=button.push_id,
            now=context.runtime.now(),
            actor_id=person.id if person is not None else None,
            report_chat=chat.id if chat is not None else None,
            report_locale=t.locale,
            paid=paid_push.rates(context),  # a paid original's retry is paid (docs/reach.md)
        )
    except PushError as exc:
        await query.answer(error_text(exc, t), show_alert=True)
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    text = t(
        "🔁 Retrying {n} failed messages of push #{old} as push #{new}; "
        "a report follows when it is done.",
        n=result.queued,
        old=button.push_id,
        new=result.push_id,
    )
    await reply(update, "\n".join([text, *way_lines(t, result)]))


FEATURE = Feature(
    name="push_report",
    handlers=in_group(
        COMMAND_GROUP,
        CallbackQueryHandler(private_only(retry_button), pattern=PushRetry.pattern),
    ),
)
