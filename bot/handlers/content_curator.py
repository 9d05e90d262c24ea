"""Curators: /catalog (view, edit every field, review, retire, push); /newcontent lives in
``content_new``, field edits in ``content_edit``, two-step publishing in ``content_review``."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.content.cards import render_card
from bot.content.catalogue import CatalogueError, authors_of, item_state, retire_item
from bot.content.taxonomy import default_taxonomy
from bot.core.error_text import error_text as domain_text
from bot.core.text_fit import fit_text
from bot.handlers import content_edit, content_new, content_review, push_confirm
from bot.handlers.callbacks import (
    CATALOG,
    NEW_CONTENT,
    CatalogClear,
    CatalogEdit,
    CatalogItem,
    CatalogPage,
    CatalogPick,
    EditField,
    answer_invalid,
)
from bot.handlers.channels_common import PushTarget, PushTargetAt
from bot.handlers.common import button_rows, esc, reply, requires
from bot.handlers.content_fields import campaign_taxonomy, field_lines, item_values, start_push
from bot.handlers.dialog import Flow
from bot.i18n import N_, Translator
from bot.runtime.context import KepuContext
from bot.services import push as push_service
from bot.services import regions as region_service
from storage import content as content_store

PAGE_SIZE = 8
STATE_MARKS = {
    "draft": "📝",
    "scheduled": "⏰",
    "published": "✅",
    "expired": "⌛",
    "retired": "🗄",
    "review": "🔎",
}
REVIEW_NAMES = {
    "pending": N_("waiting for approval"),
    "approved": N_("approved"),
    "returned": N_("sent back"),
}
# The edit buttons of an item's view, in rows; video-only fields are left out for others.
EDIT_BUTTONS: tuple[tuple[tuple[EditField, str], ...], ...] = (
    (("title", N_("✏️ Title")), ("summary", N_("✏️ Summary")), ("url", N_("✏️ Link"))),
    (("category", N_("🗂 Category")), ("kind", N_("🧩 Type")), ("media", N_("📎 File"))),
    (("duration", N_("⏱ Duration")), ("cover", N_("🖼 Cover"))),
    (("tags", N_("🏷 Tags")), ("campaign", N_("🎯 Campaign")), ("regions", N_("📍 Regions"))),
    (
        ("interests", N_("👥 Interests")),
        ("publish", N_("⏰ Publish")),
        ("expires", N_("⌛ Expiry")),
    ),
)


def _error(t: Translator, exc: CatalogueError) -> str:
    return domain_text(exc, t)


def _markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(rows)


# --- /catalog -----------------------------------------------------------------------------
async def _catalog_page(context: KepuContext, page: int) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    taxonomy = default_taxonomy()
    items, total = await content_store.list_items(
        session=context.session, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    now = context.runtime.now()
    if not items:
        return t(
            "The catalogue is empty. Add content with /newcontent or import a pack."
        ), _markup([])
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    lines = [
        t(
            "Catalogue — page {page} of {pages} ({total} items). ✅ published ⏰ scheduled "
            "📝 draft ⌛ expired 🗄 retired",
            page=page + 1,
            pages=pages,
            total=total,
        )
    ]
    buttons = []
    for item in items:
        mark = STATE_MARKS[item_state(item, now)]
        lines.append(
            f"{mark} #{item.id} {esc(item.title)} · {esc(taxonomy.name(item.category, t.locale))}"
        )
        assert item.id is not None
        buttons.append(
            InlineKeyboardButton(
                f"#{item.id}", callback_data=CatalogItem("view", item.id).encode()
            )
        )
    rows = button_rows(buttons, 4)
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(t("◀ Previous"), callback_data=CatalogPage(page - 1).encode())
        )
    if page + 1 < pages:
        nav.append(InlineKeyboardButton(t("Next ▶"), callback_data=CatalogPage(page + 1).encode()))
    if nav:
        rows.append(nav)
    return fit_text("\n".join(lines)), _markup(rows)


@requires("curator")
async def catalog(update: Update, context: KepuContext) -> None:
    """List the catalogue."""
    text, markup = await _catalog_page(context, 0)
    await reply(update, text, reply_markup=markup)


async def _item_view(context: KepuContext, content_id: int) -> tuple[str, InlineKeyboardMarkup]:
    t = context.t
    item = await content_store.get_item(session=context.session, content_id=content_id)
    if item is None:
        return t("This item no longer exists."), _markup([])
    state = item_state(item, context.runtime.now())
    tz = context.runtime.settings.scheduler.tz
    taxonomy = await campaign_taxonomy(context) if item.campaign else None
    card = render_card(item, locale=t.locale, taxonomy=taxonomy)
    regions = await region_service.named_list(
        session=context.session, codes=item.regions or [], locale=t.locale
    ) or t("all regions")
    publish = t.datetime(item.publish_at, tz=tz) if item.publish_at else t("draft")
    lines = [
        card.text,
        "",
        t(
            "#{id} · {state} · regions: {regions}",
            id=item.id,
            state=f"{STATE_MARKS[state]}",
            regions=regions,
        ),
        t("Link: {url}", url=esc(item.url)),
        t("Publish: {when}", when=publish),
        *await field_lines(context, item_values(item), tz=tz, regions=False),
    ]
    review_on = context.runtime.settings.content.review_before_publish
    if item.review_state or review_on:
        lines.append(
            t(
                "Review: {state}",
                state=t(REVIEW_NAMES[item.review_state]) if item.review_state else t("not asked"),
            )
        )
    rows: list[list[InlineKeyboardButton]] = []
    assert item.id is not None
    approved = item.review_state == "approved" or not review_on
    if state not in ("retired", "expired", "review") and approved:
        rows.append(
            [
                InlineKeyboardButton(
                    t("🚀 Push now"), callback_data=CatalogItem("push", content_id).encode()
                )
            ]
        )
    person = context.person
    deciders = item.review_state == "pending" and (
        person is None or person.id not in await authors_of(session=context.session, item=item)
    )
    if deciders:
        rows.append(
            [
                InlineKeyboardButton(
                    t("✅ Approve"), callback_data=CatalogItem("approve", content_id).encode()
                ),
                InlineKeyboardButton(
                    t("↩️ Send back"), callback_data=CatalogItem("sendback", content_id).encode()
                ),
            ]
        )
    elif review_on and state != "retired" and item.review_state not in ("pending", "approved"):
        rows.append(
            [
                InlineKeyboardButton(
                    t("📨 Ask for review"),
                    callback_data=CatalogItem("review", content_id).encode(),
                )
            ]
        )
    if state != "retired":
        for group in EDIT_BUTTONS:
            row = [
                InlineKeyboardButton(
                    t(label), callback_data=CatalogEdit(field, content_id).encode()
                )
                for field, label in group
                if item.kind == "video" or field not in ("duration", "cover")
            ]
            if row:
                rows.append(row)
        rows.append(
            [
                InlineKeyboardButton(
                    t("🗄 Retire"), callback_data=CatalogItem("retire", content_id).encode()
                )
            ]
        )
    rows.append([InlineKeyboardButton(t("◀ Catalogue"), callback_data=CatalogPage(0).encode())])
    return fit_text("\n".join(lines)), _markup(rows)


@requires("curator")
async def catalog_button(update: Update, context: KepuContext) -> None:
    """Handle the catalogue's buttons."""
    query = update.callback_query
    assert query is not None
    button = CATALOG.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    t = context.t
    runtime = context.runtime
    actor = context.person.id if context.person is not None else None
    try:
        if isinstance(button, CatalogPage):
            await query.answer()
            text, markup = await _catalog_page(context, button.page)
            await query.edit_message_text(text, reply_markup=markup)
        elif isinstance(button, CatalogEdit):
            await query.answer()
            await content_edit.edit_button(update, context, button)
        elif isinstance(button, CatalogPick):
            await query.answer()
            await content_edit.pick_button(update, context, button)
        elif isinstance(button, CatalogClear):
            await query.answer()
            await content_edit.clear_button(update, context, button)
        elif button.action == "review":
            await query.answer()
            await content_review.ask_review(update, context, button.content_id)
        elif button.action in ("approve", "sendback"):
            await content_review.decide(
                update, context, button.content_id, approve=button.action == "approve"
            )
        elif button.action == "view":
            await query.answer()
            text, markup = await _item_view(context, button.content_id)
            await query.edit_message_text(text, reply_markup=markup)
        elif button.action == "retire":
            await query.answer()
            item = await content_store.get_item(
                session=context.session, content_id=button.content_id
            )
            if item is None:
                await reply(update, t("This item no longer exists."))
                return
            await reply(
                update,
                t(
                    "Retire “{title}”? It leaves /feed and /search, and messages "
                    "not sent yet are dropped.",
                    title=esc(item.title),
                ),
                reply_markup=_markup(
                    [
                        [
                            InlineKeyboardButton(
                                t("Yes, retire"),
                                callback_data=CatalogItem("retireok", button.content_id).encode(),
                            ),
                            InlineKeyboardButton(
                                t("Cancel"), callback_data=CatalogItem("no", 0).encode()
                            ),
                        ]
                    ]
                ),
            )
        elif button.action == "retireok":
            await query.answer()
            retired = await retire_item(
                session=context.session,
                content_id=button.content_id,
                actor_id=actor,
                now=runtime.now(),
            )
            item = retired.item
            if retired.cancelled:
                done = t.plural(
                    "Retired #{id} “{title}”. {n} queued message cancelled.",
                    "Retired #{id} “{title}”. {n} queued messages cancelled.",
                    retired.cancelled,
                    id=item.id,
                    title=esc(item.title),
                )
            else:
                done = t("Retired #{id} “{title}”.", id=item.id, title=esc(item.title))
            await query.edit_message_text(done)
        elif button.action == "push":
            await query.answer()
            found = await push_confirm.offer(context, button.content_id)
            await push_confirm.ask(update, context, found)
        elif button.action in ("pushok", "pushpaid"):  # buttons sent before PushTarget
            await query.answer()
            await query.edit_message_reply_markup(None)
            await start_push(update, context, button.content_id, paid=button.action == "pushpaid")
        elif button.action == "no":
            await query.answer()
            await query.edit_message_text(t("Cancelled."))
        else:
            await query.answer()
    except CatalogueError as exc:
        await reply(update, _error(t, exc))
    except push_service.PushError as exc:
        await reply(update, domain_text(exc, t))


@requires("curator")
async def push_target_button(update: Update, context: KepuContext) -> None:
    """The push confirmation's 信息员私信 / 频道 / 两者 buttons (and ⚡ paid ones).

    ``PushTargetAt`` (an item saved to publish later) waits for its publish time; if that
    has come already, or the item was published since, it goes now, as ``PushTarget``.
    """
    query = update.callback_query
    assert query is not None
    button = PushTarget.decode(query.data) or PushTargetAt.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    at = None
    if isinstance(button, PushTargetAt):
        item = await content_store.get_item(session=context.session, content_id=button.content_id)
        at = item.publish_at if item is not None else None
    await start_push(
        update,
        context,
        button.content_id,
        to=button.to,
        paid=button.way == "paid",
        not_before=at if at is not None and at > context.runtime.now() else None,
    )


FLOWS: dict[str, Flow] = {"newcontent": content_new.FLOW, "content_edit": content_edit.FLOW}


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Return the curator handlers (command group)."""
    return [
        CommandHandler("newcontent", content_new.newcontent),
        CommandHandler("catalog", catalog),
        CallbackQueryHandler(content_new.newcontent_button, pattern=NEW_CONTENT.pattern),
        CallbackQueryHandler(catalog_button, pattern=CATALOG.pattern),
        CallbackQueryHandler(push_target_button, pattern=PushTarget.pattern),
        CallbackQueryHandler(push_target_button, pattern=PushTargetAt.pattern),
    ]
