"""Curators: /newcontent (a dialog kept in the database) and /catalog (edit, retire, push)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.content.cards import progress_text, render_card
from bot.content.catalogue import (
    CatalogueError,
    NewItem,
    check_text,
    create_item,
    edit_item,
    item_state,
    parse_regions,
    retire_item,
)
from bot.content.taxonomy import default_taxonomy
from bot.core.error_text import error_text as domain_text
from bot.core.text_fit import fit_text
from bot.core.zh_dates import DateError, read_upcoming
from bot.handlers import paid_push
from bot.handlers.callbacks import (
    CATALOG,
    NEW_CONTENT,
    CatalogEdit,
    CatalogItem,
    CatalogPage,
    NewContentAction,
    NewContentCategory,
    answer_invalid,
)
from bot.handlers.channels_common import (
    NOTHING_NEW_FOR_CHANNELS,
    PushTarget,
    flags,
    target_rows,
)
from bot.handlers.common import button_rows, esc, reply, requires
from bot.handlers.dialog import (
    Dialog,
    Flow,
    end_dialog,
    get_dialog,
    goto,
    input_hint,
    start_dialog,
)
from bot.i18n import N_, Translator
from bot.runtime.context import KepuContext
from bot.services import channels as channel_service
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
}
FIELD_NAMES = {"title": N_("title"), "summary": N_("summary"), "url": N_("link")}


def _error(t: Translator, exc: CatalogueError) -> str:
    return domain_text(exc, t)


def _markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(rows)


# --- /newcontent --------------------------------------------------------------------------
@requires("curator")
async def newcontent(update: Update, context: KepuContext) -> None:
    """Start the new-content dialog."""
    await start_dialog(update, context, "newcontent", "media")
    t = context.t
    await reply(
        update,
        t(
            "New content (1/7). Send a picture for the card, or press "
            "“Skip”. /cancel stops without saving."
        )
        + "\n"
        + input_hint(context),
        reply_markup=_markup(
            [[InlineKeyboardButton(t("Skip"), callback_data=NewContentAction("skip").encode())]]
        ),
    )


async def _ask_title(update: Update, context: KepuContext) -> None:
    await reply(update, context.t("2/7 — Send the title (at most 80 characters)."))


async def step_media(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the card picture."""
    message = update.effective_message
    assert message is not None
    if not message.photo:
        t = context.t
        await reply(
            update,
            t("Please send a picture, or press “Skip”."),
            reply_markup=_markup(
                [
                    [
                        InlineKeyboardButton(
                            t("Skip"), callback_data=NewContentAction("skip").encode()
                        )
                    ]
                ]
            ),
        )
        return
    await goto(context, dialog, "title", media_file_id=message.photo[-1].file_id)
    await _ask_title(update, context)


async def _text_step(
    update: Update, context: KepuContext, dialog: Dialog, name: str
) -> str | None:
    message = update.effective_message
    assert message is not None
    try:
        return check_text(name, message.text or "")
    except CatalogueError as exc:
        await reply(update, _error(context.t, exc))
        return None


async def step_title(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the title."""
    title = await _text_step(update, context, dialog, "title")
    if title is not None:
        await goto(context, dialog, "summary", title=title)
        await reply(update, context.t("3/7 — Send a short summary (at most 800 characters)."))


def _category_rows(t: Translator) -> list[list[InlineKeyboardButton]]:
    taxonomy = default_taxonomy()
    buttons = [
        InlineKeyboardButton(
            term.label(t.locale), callback_data=NewContentCategory(term.code).encode()
        )
        for term in taxonomy.categories
    ]
    return button_rows(buttons, 3)


async def step_summary(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the summary, then offer the categories."""
    summary = await _text_step(update, context, dialog, "summary")
    if summary is not None:
        await goto(context, dialog, "category", summary=summary)
        await reply(
            update,
            context.t("4/7 — Choose the category."),
            reply_markup=_markup(_category_rows(context.t)),
        )


async def step_category(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Accept a typed category name too; otherwise show the buttons again."""
    message = update.effective_message
    code = default_taxonomy().match_category(message.text or "") if message else None
    if code is None:
        await reply(
            update,
            context.t("Please choose one of the categories below."),
            reply_markup=_markup(_category_rows(context.t)),
        )
        return
    await _after_category(update, context, dialog, code)


async def _after_category(update: Update, context: KepuContext, dialog: Dialog, code: str) -> None:
    await goto(context, dialog, "link", category=code)
    await reply(
        update, context.t("5/7 — Send the link to the full content (http:// or https://).")
    )


async def step_link(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the link, then ask for the target regions."""
    url = await _text_step(update, context, dialog, "url")
    if url is not None:
        await goto(context, dialog, "regions", url=url)
        await _ask_regions(update, context)


async def _ask_regions(update: Update, context: KepuContext) -> None:
    t = context.t
    await reply(
        update,
        t(
            "6/7 — Which regions is it for? Send region codes separated by "
            "spaces (e.g. 330106 330100), or press “All regions”."
        ),
        reply_markup=_markup(
            [
                [
                    InlineKeyboardButton(
                        t("All regions"), callback_data=NewContentAction("all").encode()
                    )
                ]
            ]
        ),
    )


async def step_regions(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take region codes."""
    message = update.effective_message
    try:
        regions = parse_regions(message.text or "" if message else "")
    except CatalogueError as exc:
        await reply(update, _error(context.t, exc))
        return
    await goto(context, dialog, "schedule", regions=list(regions))
    await _ask_schedule(update, context)


async def _ask_schedule(update: Update, context: KepuContext) -> None:
    t = context.t
    await reply(
        update,
        t(
            "7/7 — When? “Push now” publishes and sends it at once; “Publish later” keeps it "
            "as a draft in /catalog. Or send a date and time such as 2026-12-01 09:30 to "
            "publish and push it then."
        ),
        reply_markup=_markup(
            [
                [
                    InlineKeyboardButton(
                        t("Push now"), callback_data=NewContentAction("now").encode()
                    ),
                    InlineKeyboardButton(
                        t("Publish later"), callback_data=NewContentAction("later").encode()
                    ),
                ]
            ]
        ),
    )


async def step_schedule(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take a date and time in the future."""
    message = update.effective_message
    runtime = context.runtime
    # The project's one date parser: 11月20日, 11/20 9:30, 12月1日 上午9点半, 下周三 10:00 …
    # (a date alone means 9:00; a yearless date already past means next year's).
    t = context.t
    try:
        when = read_upcoming(
            message.text or "" if message else "",
            now=runtime.now().astimezone(runtime.settings.scheduler.tz),
        )
    except DateError as exc:
        hint = t(
            "Send a date and time like 11月20日 9:30, 2026-12-01 09:30 or 下周三上午10点 "
            "(a date alone means 9:00), or press a button."
        )
        await reply(update, domain_text(exc, t) + ("" if exc.code == "past" else "\n" + hint))
        return
    if when <= runtime.now():
        await reply(update, t("That time has passed. Please send a time in the future."))
        return
    await goto(
        context, dialog, "confirm", schedule="at", publish_at=when.astimezone(dt.UTC).isoformat()
    )
    await _ask_confirm(update, context, dialog)


def _schedule_text(t: Translator, data: dict[str, Any], tz: Any) -> str:
    if data.get("schedule") == "now":
        return t("push now")
    if data.get("schedule") == "later":
        return t("publish later (draft)")
    when = dt.datetime.fromisoformat(str(data["publish_at"]))
    return t("publish and push at {when}", when=t.datetime(when, tz=tz))


async def _ask_confirm(update: Update, context: KepuContext, dialog: Dialog) -> None:
    t = context.t
    data = dialog.data
    taxonomy = default_taxonomy()
    regions = await region_service.named_list(
        session=context.session, codes=data.get("regions") or [], locale=t.locale
    ) or t("all regions")
    text = "\n".join(
        [
            t("Please check:"),
            f"<b>{esc(data['title'])}</b>",
            esc(data["summary"]),
            t("Category: {name}", name=taxonomy.name(data["category"], t.locale)),
            t("Link: {url}", url=esc(data["url"])),
            t("Picture: {yes}", yes=t("yes") if data.get("media_file_id") else t("no")),
            t("Regions: {regions}", regions=regions),
            t("When: {when}", when=_schedule_text(t, data, context.runtime.settings.scheduler.tz)),
        ]
    )
    await reply(
        update,
        text,
        reply_markup=_markup(
            [
                [
                    InlineKeyboardButton(
                        t("Save"), callback_data=NewContentAction("save").encode()
                    ),
                    InlineKeyboardButton(
                        t("Cancel"), callback_data=NewContentAction("cancel").encode()
                    ),
                ]
            ]
        ),
    )


async def step_confirm(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Text while waiting for Save/Cancel: show the summary again."""
    await _ask_confirm(update, context, dialog)


@requires("curator")
async def newcontent_button(update: Update, context: KepuContext) -> None:
    """Handle the buttons of the new-content dialog."""
    query = update.callback_query
    assert query is not None
    button = NEW_CONTENT.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    t = context.t
    dialog = await get_dialog(update, context)
    if dialog is None or dialog.flow != "newcontent":
        await query.answer(
            t("This conversation has ended. Send /newcontent to start again."), show_alert=True
        )
        return
    await query.answer()
    if button == NewContentAction("skip") and dialog.step == "media":
        await goto(context, dialog, "title", media_file_id=None)
        await _ask_title(update, context)
    elif (
        isinstance(button, NewContentCategory)
        and dialog.step == "category"
        and default_taxonomy().get(button.code)
    ):
        await _after_category(update, context, dialog, button.code)
    elif button == NewContentAction("all") and dialog.step == "regions":
        await goto(context, dialog, "schedule", regions=[])
        await _ask_schedule(update, context)
    elif (
        isinstance(button, NewContentAction)
        and button.action in ("now", "later")
        and dialog.step == "schedule"
    ):
        await goto(context, dialog, "confirm", schedule=button.action, publish_at=None)
        await _ask_confirm(update, context, dialog)
    elif button == NewContentAction("save") and dialog.step == "confirm":
        await _save(update, context, dialog)
    elif button == NewContentAction("cancel") and dialog.step == "confirm":
        await end_dialog(update, context)
        await reply(update, t("Cancelled. Nothing was saved."))
    else:
        await reply(
            update, t("That button belongs to an earlier step; please answer the last question.")
        )


async def _save(update: Update, context: KepuContext, dialog: Dialog) -> None:
    t = context.t
    data = dialog.data
    runtime = context.runtime
    now = runtime.now()
    person = context.person
    actor = person.id if person is not None else None
    publish_at: dt.datetime | None = None
    if data.get("schedule") == "now":
        publish_at = now
    elif data.get("schedule") == "at":
        publish_at = dt.datetime.fromisoformat(str(data["publish_at"]))
    new = NewItem(
        title=data["title"],
        summary=data["summary"],
        category=data["category"],
        url=data["url"],
        media_file_id=data.get("media_file_id"),
        regions=tuple(data.get("regions") or ()),
        publish_at=publish_at,
    )
    try:
        item = await create_item(
            session=context.session, new=new, taxonomy=default_taxonomy(), actor_id=actor, now=now
        )
    except CatalogueError as exc:
        await reply(update, _error(t, exc))
        return
    await end_dialog(update, context)
    assert item.id is not None
    if data.get("schedule") == "later":
        await reply(
            update, t("Saved as draft #{id}. Publish and push it from /catalog.", id=item.id)
        )
        return
    if data.get("schedule") == "at":
        await reply(update, t("Saved as #{id}.", id=item.id))
        await _start_push(update, context, item.id, not_before=publish_at)
        return
    await reply(update, t("Saved as #{id}.", id=item.id))
    await _start_push(update, context, item.id)


async def _start_push(
    update: Update,
    context: KepuContext,
    content_id: int,
    *,
    not_before: dt.datetime | None = None,
    paid: bool = False,
    to: str = "informants",
) -> None:
    """Queue the push, show the progress message and wake the sender."""
    to_informants, to_channels = flags(to)
    t = context.t
    runtime = context.runtime
    chat = update.effective_chat
    person = context.person
    try:
        result = await push_service.push_item(
            session=context.session,
            content_id=content_id,
            now=runtime.now(),
            tz=runtime.settings.scheduler.tz,
            default_locale=runtime.settings.i18n.default_locale,
            actor_id=person.id if person is not None else None,
            trigger="curator",
            not_before=not_before,
            report_chat=chat.id if chat else None,
            report_locale=t.locale,
            informants=to_informants,
            channels=to_channels,
        )
    except push_service.PushError as exc:
        await reply(update, domain_text(exc, t))
        return
    if result.queued == 0 or result.push_id is None:
        if to_channels:  # channels_1: say what was asked, not only informants
            await reply(update, t(NOTHING_NEW_FOR_CHANNELS))
            return
        await reply(
            update,
            t(
                "No informant is waiting for this item (nobody matches, or "
                "everyone already has it)."
            ),
        )
        return
    if paid:  # the curator confirmed a paid broadcast (docs/reach.md)
        await paid_push.open_paid(context, result.push_id, result.queued)
    if not_before is not None:
        await reply(
            update,
            t(
                "Scheduled: {n} informants will get it at {when}.",
                n=result.queued,
                when=t.datetime(not_before, tz=runtime.settings.scheduler.tz),
            ),
        )
        return
    status = await push_service.push_status(session=context.session, push_id=result.push_id)
    item = await content_store.get_item(session=context.session, content_id=content_id)
    assert status is not None and item is not None and update.effective_message is not None
    sent = await update.effective_message.reply_text(
        progress_text(t, status.push, status.counts, item.title), parse_mode="HTML"
    )
    await push_service.attach_progress_message(
        session=context.session, push_id=result.push_id, message_id=sent.message_id
    )
    if result.deferred:
        await reply(
            update,
            t(
                "{n} of them are in their quiet hours and will get it when those end.",
                n=result.deferred,
            ),
        )


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
    card = render_card(item, locale=t.locale)
    regions = await region_service.named_list(
        session=context.session, codes=item.regions or [], locale=t.locale
    ) or t("all regions")
    text = "\n".join(
        [
            card.text,
            "",
            t(
                "#{id} · {state} · regions: {regions}",
                id=item.id,
                state=f"{STATE_MARKS[state]}",
                regions=regions,
            ),
            t("Link: {url}", url=esc(item.url)),
        ]
    )
    rows: list[list[InlineKeyboardButton]] = []
    if state not in ("retired", "expired"):
        rows.append(
            [
                InlineKeyboardButton(
                    t("🚀 Push now"), callback_data=CatalogItem("push", content_id).encode()
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                t("✏️ Title"), callback_data=CatalogEdit("title", content_id).encode()
            ),
            InlineKeyboardButton(
                t("✏️ Summary"), callback_data=CatalogEdit("summary", content_id).encode()
            ),
            InlineKeyboardButton(
                t("✏️ Link"), callback_data=CatalogEdit("url", content_id).encode()
            ),
        ]
    )
    if state != "retired":
        rows.append(
            [
                InlineKeyboardButton(
                    t("🗄 Retire"), callback_data=CatalogItem("retire", content_id).encode()
                )
            ]
        )
    rows.append([InlineKeyboardButton(t("◀ Catalogue"), callback_data=CatalogPage(0).encode())])
    return fit_text(text), _markup(rows)


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
            field, content_id = button.field, button.content_id
            await query.answer()
            await start_dialog(
                update, context, "content_edit", "value", field=field, content_id=content_id
            )
            await reply(
                update,
                t(
                    "Send the new {field} for #{id}. /cancel keeps the old one.",
                    field=t(FIELD_NAMES.get(field, field)),
                    id=content_id,
                )
                + "\n"
                + input_hint(context),
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
            content_id = button.content_id
            n = await push_service.count_targets(
                session=context.session,
                content_id=content_id,
                now=runtime.now(),
                tz=runtime.settings.scheduler.tz,
            )
            pushed = await content_store.get_item(session=context.session, content_id=content_id)
            linked = await channel_service.push_channels(
                session=context.session, regions=pushed.regions if pushed else None
            )
            if linked:  # the region has channels: informants, channels or both (channels_1)
                await reply(
                    update,
                    t(
                        "Push #{id} now? {n} matching informants (anyone who already got "
                        "it is skipped) and {c} linked channels: {names}. Who should get it?",
                        id=content_id,
                        n=n,
                        c=len(linked),
                        names=esc("、".join(ch.title or str(ch.chat_id) for ch in linked)),
                    ),
                    reply_markup=_markup(
                        [
                            *target_rows(t, content_id),
                            [
                                InlineKeyboardButton(
                                    t("Cancel"), callback_data=CatalogItem("no", 0).encode()
                                )
                            ],
                        ]
                    ),
                )
                return
            await reply(
                update,
                t(
                    "Push #{id} now to {n} matching informants? (Anyone who "
                    "already got it is skipped.)",
                    id=content_id,
                    n=n,
                )
                + "\n"
                + "\n".join(paid_push.estimate_lines(context, n)),  # reach: time and Stars
                reply_markup=_markup(
                    [
                        [
                            InlineKeyboardButton(
                                t("Yes, push"),
                                callback_data=CatalogItem("pushok", content_id).encode(),
                            ),
                            InlineKeyboardButton(
                                t("Cancel"), callback_data=CatalogItem("no", 0).encode()
                            ),
                        ],
                        *paid_push.paid_rows(context, content_id, n),
                    ]
                ),
            )
        elif button.action in ("pushok", "pushpaid"):
            await query.answer()
            await query.edit_message_reply_markup(None)
            await _start_push(update, context, button.content_id, paid=button.action == "pushpaid")
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
    """The push confirmation's 信息员私信 / 频道 / 两者 buttons (channels_1)."""
    query = update.callback_query
    assert query is not None
    button = PushTarget.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    await _start_push(update, context, button.content_id, to=button.to)


async def step_edit_value(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the new value of a field and save it (audited)."""
    message = update.effective_message
    assert message is not None
    actor = context.person.id if context.person is not None else None
    try:
        item = await edit_item(
            session=context.session,
            content_id=int(dialog.data["content_id"]),
            field_name=str(dialog.data["field"]),
            value=message.text or "",
            actor_id=actor,
            now=context.runtime.now(),
        )
    except CatalogueError as exc:
        await reply(update, _error(context.t, exc))
        if exc.code in ("not_found", "not_editable"):
            await end_dialog(update, context)
        return
    await end_dialog(update, context)
    await reply(
        update, context.t("Saved. #{id} now reads: {title}", id=item.id, title=esc(item.title))
    )


FLOWS: dict[str, Flow] = {
    "newcontent": Flow.of(
        {
            "media": step_media,
            "title": step_title,
            "summary": step_summary,
            "category": step_category,
            "link": step_link,
            "regions": step_regions,
            "schedule": step_schedule,
            "confirm": step_confirm,
        },
        N_("Left the new content form; nothing was saved."),
        commands=("newcontent",),
    ),
    "content_edit": Flow.of(
        {"value": step_edit_value}, N_("Left the edit; the item keeps its old value.")
    ),
}


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Return the curator handlers (command group)."""
    return [
        CommandHandler("newcontent", newcontent),
        CommandHandler("catalog", catalog),
        CallbackQueryHandler(newcontent_button, pattern=NEW_CONTENT.pattern),
        CallbackQueryHandler(catalog_button, pattern=CATALOG.pattern),
        CallbackQueryHandler(push_target_button, pattern=PushTarget.pattern),
    ]
