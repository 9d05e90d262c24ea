"""Feeds feature: curators' /feeds (list, add, remove), Publish / Discard under feed notices.

The poll itself is the ``feeds_poll`` job (``bot.jobs``); it tells curators about new drafts
and failures through the outbox with the buttons handled here.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import jobs
from bot.content import feed_poll
from bot.content.feed_poll import FeedDraftAction
from bot.content.taxonomy import default_taxonomy
from bot.core.callback_data import CallbackData, Family
from bot.handlers.callbacks import answer_invalid
from bot.handlers.commands import command
from bot.handlers.common import reply, requires
from bot.handlers.feature import COMMAND_GROUP, Feature, in_group
from bot.i18n import N_, Translator
from bot.runtime.context import KepuContext
from storage import feeds as feed_store
from storage.models import FeedSource

STATUS_NAMES = {
    "new": N_("not polled yet"),
    "ok": N_("OK"),
    "not_modified": N_("OK (unchanged)"),
    "warning": N_("read, with warnings"),
    "error": N_("failing"),
}
USAGE = N_(
    "Subscribed feeds are polled every {minutes} minutes.\n"
    "Add one: /feeds add URL CATEGORY [auto] [NAME]\n"
    "(auto = publish new entries without review; otherwise they wait as drafts)\n"
    "Remove one: /feeds remove NUMBER"
)


@dataclass(frozen=True)
class FeedRemove(CallbackData, prefix="FDS:rm"):
    """Remove a feed added in the bot."""

    feed_id: int


FEED_BUTTONS: Family[FeedDraftAction | FeedRemove] = Family("FDS", FeedRemove, FeedDraftAction)


def _when(t: Translator, context: KepuContext, feed: FeedSource) -> str:
    if feed.last_polled_at is None:
        return t("never")
    local = feed.last_polled_at.astimezone(context.runtime.settings.scheduler.tz)
    return f"{t.date(local.date(), t('MMM d'))} {local:%H:%M}"


def feed_lines(t: Translator, context: KepuContext, feeds: list[FeedSource]) -> list[str]:
    """Return one block per feed: name, settings, last poll, status and error."""
    taxonomy = default_taxonomy()
    out: list[str] = []
    for feed in feeds:
        mode = t("auto-publish") if feed.auto_publish else t("drafts for review")
        origin = t("config file") if feed.origin == "config" else t("added in the bot")
        out.append(
            t(
                "#{id} <b>{name}</b> · {category} · {mode} · {origin}",
                id=feed.id,
                name=html.escape(feed.name),
                category=taxonomy.name(feed.category, t.locale),
                mode=mode,
                origin=origin,
            )
        )
        out.append("  " + html.escape(feed.url))
        status = t(STATUS_NAMES.get(feed.status, feed.status))
        line = t("  last poll: {when}, {status}", when=_when(t, context, feed), status=status)
        if feed.error:
            reason = feed_poll.error_text(t, feed.error, feed.error_detail)
            line += t(" — {reason}", reason=html.escape(reason))
        out.append(line)
    return out


async def _list(update: Update, context: KepuContext) -> None:
    t = context.t
    feeds = await feed_store.list_feeds(session=context.session, active_only=True)
    minutes = context.runtime.settings.content.feed_poll_minutes
    parts = [t("<b>Subscribed feeds</b>")]
    parts += feed_lines(t, context, feeds) if feeds else [t("No feed is subscribed yet.")]
    parts += ["", t(USAGE, minutes=minutes)]
    rows = [
        [
            InlineKeyboardButton(
                t("Remove #{id} {name}", id=feed.id, name=feed.name[:30]),
                callback_data=FeedRemove(feed.id).encode(),
            )
        ]
        for feed in feeds
        if feed.origin == "bot" and feed.id is not None
    ]
    await reply(
        update, "\n".join(parts), reply_markup=InlineKeyboardMarkup(rows) if rows else None
    )


async def _add(update: Update, context: KepuContext, words: list[str]) -> None:
    t = context.t
    taxonomy = default_taxonomy()
    if len(words) < 2:
        await reply(update, t("Give the feed's address and a category: /feeds add URL CATEGORY"))
        return
    url, category, rest = words[0], words[1], words[2:]
    auto = bool(rest) and rest[0].lower() in ("auto", "自动", "自动发布")
    name = " ".join(rest[1:] if auto else rest) or None
    change = await feed_poll.subscribe(
        session=context.session,
        url=url,
        category=category,
        taxonomy=taxonomy,
        auto_publish=auto,
        name=name,
        actor_id=context.person.id if context.person is not None else None,
        now=context.runtime.now(),
    )
    if change.outcome == "bad_url":
        text = t("“{value}” is not a web address (http:// or https://).", value=html.escape(url))
    elif change.outcome == "bad_category":
        names = "、".join(taxonomy.name(code, t.locale) for code in taxonomy.codes)
        text = t(
            "Unknown category “{value}”. Use one of: {names}",
            value=html.escape(category),
            names=names,
        )
    elif change.outcome == "exists":
        assert change.feed is not None
        text = t("This feed is subscribed already (#{id}).", id=change.feed.id)
    else:
        feed = change.feed
        assert feed is not None
        text = t(
            "Subscribed #{id} “{name}”. It is read at the next poll (every {minutes} "
            "minutes); new entries {mode}.",
            id=feed.id,
            name=html.escape(feed.name),
            minutes=context.runtime.settings.content.feed_poll_minutes,
            mode=t("are published automatically") if auto else t("wait for you as drafts"),
        )
    await reply(update, text)


async def _remove(update: Update, context: KepuContext, feed_id: int) -> None:
    t = context.t
    change = await feed_poll.unsubscribe(
        session=context.session,
        feed_id=feed_id,
        actor_id=context.person.id if context.person is not None else None,
        now=context.runtime.now(),
    )
    if change.outcome == "missing":
        text = t("There is no subscribed feed #{id}.", id=feed_id)
    elif change.outcome == "configured":
        text = t(
            "Feed #{id} comes from the configuration file; remove it there ([[content.feeds]]).",
            id=feed_id,
        )
    else:
        assert change.feed is not None
        text = t(
            "Removed #{id} “{name}”: it is no longer polled. Its items stay in the catalogue.",
            id=feed_id,
            name=html.escape(change.feed.name),
        )
    await reply(update, text)


@requires("curator")
async def feeds(update: Update, context: KepuContext) -> None:
    """/feeds, /feeds add URL CATEGORY [auto] [NAME], /feeds remove N."""
    words = list(context.args or [])
    verb = words[0].lower() if words else ""
    if verb in ("add", "添加"):
        await _add(update, context, words[1:])
    elif verb in ("remove", "rm", "删除"):
        number = words[1].lstrip("#") if len(words) > 1 else ""
        if not number.isdigit() or len(number) > 9:
            await reply(update, context.t("Give the feed's number: /feeds remove NUMBER"))
            return
        await _remove(update, context, int(number))
    else:
        await _list(update, context)


def _without_row(markup: InlineKeyboardMarkup | None, data: str) -> InlineKeyboardMarkup | None:
    """Return the notice's keyboard without the row holding the pressed button."""
    if markup is None:
        return None
    rows = [
        list(row)
        for row in markup.inline_keyboard
        if all(getattr(b, "callback_data", None) != data for b in row)
    ]
    return InlineKeyboardMarkup(rows) if rows else None


@requires("curator")
async def feed_button(update: Update, context: KepuContext) -> None:
    """Publish / Discard a feed draft, or remove a feed."""
    query = update.callback_query
    assert query is not None
    button = FEED_BUTTONS.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    t = context.t
    if isinstance(button, FeedRemove):
        await query.answer()
        await _remove(update, context, button.feed_id)
        return
    decision = await feed_poll.decide_draft(
        session=context.session,
        content_id=button.content_id,
        publish=button.action == "pub",
        actor_id=context.person.id if context.person is not None else None,
        now=context.runtime.now(),
    )
    item = decision.item
    title = html.escape(item.title) if item is not None else ""
    if decision.outcome == "published":
        text = t(
            "Published #{id} “{title}”; the daily push sends it to interested informants.",
            id=button.content_id,
            title=title,
        )
    elif decision.outcome == "discarded":
        text = t("Discarded #{id} “{title}”.", id=button.content_id, title=title)
    elif decision.outcome == "missing":
        text = t("This item no longer exists.")
    else:
        text = t(
            "#{id} is no longer a draft (someone decided already); nothing was changed.",
            id=button.content_id,
        )
    await query.answer()
    if decision.outcome in ("published", "discarded") and query.message is not None:
        markup = getattr(query.message, "reply_markup", None)
        await query.edit_message_reply_markup(reply_markup=_without_row(markup, query.data or ""))
    await reply(update, text)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Return the feeds handlers (command group)."""
    return [
        CommandHandler("feeds", feeds),
        CallbackQueryHandler(feed_button, pattern=FEED_BUTTONS.pattern),
    ]


FEATURE = Feature(
    name="feeds",
    handlers=in_group(COMMAND_GROUP, *handlers()),
    commands=(
        command("feeds", N_("Subscribed RSS/Atom feeds: list, add, remove"), "curator", order=62),
    ),
    jobs=(jobs.FEEDS_POLL,),
)
