"""Browsing: /feed (recent items by category, paginated), /search WORDS, and item cards."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.content.cards import (
    localised,
)
from bot.content.taxonomy import default_taxonomy
from bot.core.text_fit import fit_text
from bot.handlers.callbacks import FEED, FeedPage, FeedShow, answer_invalid
from bot.handlers.campaigns import feed_rows as campaign_feed_rows
from bot.handlers.common import button_rows, esc, reply, role_names
from bot.i18n import Translator
from bot.runtime.context import KepuContext
from storage import content as content_store
from storage import outbox as outbox_store
from storage.models import ContentItem
from storage.outbox import NewMessage

FEED_PAGE = 5
SEARCH_LIMIT = 10
QUERY_SHOWN = 60  # characters of the query echoed back; a query may be 4,000 long


def _lines(t: Translator, items: list[ContentItem], start: int = 0) -> list[str]:
    taxonomy = default_taxonomy()
    lines = []
    for number, item in enumerate(items, start=start + 1):
        title, _ = localised(item, t.locale)
        category = taxonomy.get(item.category)
        label = category.label(t.locale) if category else item.category
        lines.append(f"{number}. <b>{esc(title)}</b> · {esc(label)}")
    return lines


def _show_buttons(items: list[ContentItem], start: int = 0) -> list[list[InlineKeyboardButton]]:
    buttons = []
    for n, item in enumerate(items, start=start + 1):
        assert item.id is not None
        buttons.append(InlineKeyboardButton(str(n), callback_data=FeedShow(item.id).encode()))
    return button_rows(buttons, 5)


async def _feed_page(
    context: KepuContext, category: str | None, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    taxonomy = default_taxonomy()
    items, total = await content_store.browse(
        session=context.session,
        now=context.runtime.now(),
        category=category,
        offset=page * FEED_PAGE,
        limit=FEED_PAGE,
    )
    name = taxonomy.name(category, t.locale) if category else t("all categories")
    code = category or "all"
    if not items:
        text = t("Nothing published in {name} yet.", name=esc(name))
        rows: list[list[InlineKeyboardButton]] = []
    else:
        pages = (total + FEED_PAGE - 1) // FEED_PAGE
        head = t(
            "📚 Latest content — {name} (page {page} of {pages}). Tap a number to open the card.",
            name=esc(name),
            page=page + 1,
            pages=pages,
        )
        text = "\n".join([head, "", *_lines(t, items, page * FEED_PAGE)])
        rows = _show_buttons(items, page * FEED_PAGE)
        nav = []
        if page > 0:
            nav.append(
                InlineKeyboardButton(
                    t("◀ Previous"), callback_data=FeedPage(code, page - 1).encode()
                )
            )
        if page + 1 < pages:
            nav.append(
                InlineKeyboardButton(t("Next ▶"), callback_data=FeedPage(code, page + 1).encode())
            )
        if nav:
            rows.append(nav)
    categories = [InlineKeyboardButton(t("All"), callback_data=FeedPage("all", 0).encode())] + [
        InlineKeyboardButton(term.label(t.locale), callback_data=FeedPage(term.code, 0).encode())
        for term in taxonomy.categories
    ]
    rows.extend(button_rows(categories, 3))
    rows.extend(await campaign_feed_rows(context))  # issue #19: the running campaigns
    # Edited in place on page turns, so not through reply(): fit it here.
    return fit_text(text), InlineKeyboardMarkup(rows)


async def feed(update: Update, context: KepuContext) -> None:
    """Show the newest published items."""
    text, markup = await _feed_page(context, None, 0)
    await reply(update, text, reply_markup=markup)


async def search(update: Update, context: KepuContext) -> None:
    """Find published items whose title, summary or tags contain every word."""
    t = context.t
    words = [w for w in (context.args or []) if w.strip()][:5]
    if not words:
        await reply(
            update, t("Send /search and some words, e.g. /search 防诈骗 or /search 中风 急救.")
        )
        return
    items, total = await content_store.search(
        session=context.session, now=context.runtime.now(), words=words, limit=SEARCH_LIMIT
    )
    query = esc(fit_text(" ".join(words), QUERY_SHOWN, is_html=False))
    if not items:
        await reply(
            update,
            t(
                "Nothing found for “{query}”. Try fewer or shorter words, or browse with /feed.",
                query=query,
            ),
        )
        return
    head = t(
        "🔎 {total} found for “{query}”. Tap a number to open the card.", total=total, query=query
    )
    if total > len(items):
        head += "\n" + t("Showing the newest {n}; add words to narrow it down.", n=len(items))
    await reply(
        update,
        "\n".join([head, "", *_lines(t, items)]),
        reply_markup=InlineKeyboardMarkup(_show_buttons(items)),
    )


async def feed_button(update: Update, context: KepuContext) -> None:
    """Switch category or page, or open an item's card."""
    query = update.callback_query
    assert query is not None
    button = FEED.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    t = context.t
    if isinstance(button, FeedPage):
        await query.answer()
        code = None if button.category == "all" else button.category
        if code is not None and default_taxonomy().get(code) is None:
            code = None
        text, markup = await _feed_page(context, code, button.page)
        await query.edit_message_text(text, reply_markup=markup)
        return
    item = await content_store.get_item(session=context.session, content_id=button.content_id)
    now = context.runtime.now()
    visible = (
        item is not None
        and item.retired_at is None
        and item.publish_at is not None
        and item.publish_at <= now
        and (item.expires_at is None or item.expires_at > now)
    )
    if item is None or not visible:
        await query.answer(t("This item is no longer available."), show_alert=True)
        return
    await query.answer()
    await _send_card(update, context, item)


async def _send_card(update: Update, context: KepuContext, item: ContentItem) -> None:
    """Queue the item's card for this chat: the sender renders it with every feature's
    buttons and tracked links, and keeps the uploaded file's id (as for a push)."""
    chat = update.effective_chat
    assert chat is not None and item.id is not None
    person = context.person
    informant_id = (
        await content_store.informant_of(session=context.session, person_id=person.id)
        if person is not None and person.id is not None
        else None
    )
    now = context.runtime.now()
    await outbox_store.enqueue_one(
        session=context.session,
        message=NewMessage(
            chat_id=chat.id,
            kind="content",
            payload={
                "content_id": item.id,
                "locale": context.t.locale,
                "informant_id": informant_id,
                "station_admin": "station_admin" in role_names(context),
            },
            dedupe_key=f"feed:{context.scope.update_id}:{item.id}",
            due_at=now,
        ),
        now=now,
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Return /feed, /search and their buttons (command group)."""
    return [
        CommandHandler("feed", feed),
        CommandHandler("search", search),
        CallbackQueryHandler(feed_button, pattern=FEED.pattern),
    ]
