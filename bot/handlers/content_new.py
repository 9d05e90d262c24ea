"""/newcontent: a dialog kept in the database, one kind at a time.

Type → its file (a picture, the poster image, the PDF, the video file or link) → for a
video its duration (unless the file says it) and cover → title → summary → category →
link (not for a video link: that is its link) → regions → when → confirmation, where tags,
campaign, extra interests and expiry can be added. Nothing is written before Save.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from telegram import InlineKeyboardButton, Update

from bot.content.catalogue import (
    CatalogueError,
    Media,
    NewItem,
    check_text,
    create_item,
    read_campaign,
    read_interests,
    read_kind,
    read_length,
    read_regions,
    read_tags,
    read_time,
)
from bot.content.taxonomy import default_taxonomy
from bot.core.errors import DomainError
from bot.core.zh_dates import DateError, read_upcoming
from bot.handlers import push_confirm
from bot.handlers.callbacks import (
    NEW_CONTENT,
    NewContentAction,
    NewContentCampaign,
    NewContentCategory,
    NewContentKind,
    NewContentOption,
    answer_invalid,
)
from bot.handlers.common import esc, reply, requires
from bot.handlers.content_fields import (
    COVER_PROMPT,
    DURATION_PROMPT,
    INTERESTS_PROMPT,
    MEDIA_PROMPTS,
    REGIONS_PROMPT,
    TAGS_PROMPT,
    TIME_HINT,
    NotMedia,
    campaign_rows,
    campaign_taxonomy,
    category_rows,
    error,
    field_lines,
    kind_rows,
    markup,
    read_media,
    start_push,
)
from bot.handlers.content_review import after_request
from bot.handlers.dialog import (
    Dialog,
    Flow,
    end_dialog,
    get_dialog,
    goto,
    input_hint,
    start_dialog,
)
from bot.i18n import N_
from bot.runtime.context import KepuContext

MEDIA_KEYS = tuple(f.name for f in dataclasses.fields(Media))


def _button(t: Any, label: str, action: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(t(label), callback_data=NewContentAction(action).encode())  # type: ignore[arg-type]


def _sequence(data: dict[str, Any]) -> list[str]:
    """Return the numbered steps of this dialog (they depend on the kind and its file)."""
    steps = ["media"]
    if data.get("kind") == "video":
        if data.get("duration_known") is not True:
            steps.append("duration")
        steps.append("cover")
    steps += ["title", "summary", "category"]
    if not data.get("video_link"):
        steps.append("link")
    return [*steps, "regions", "schedule"]


def _num(data: dict[str, Any], step: str) -> str:
    steps = _sequence(data)
    return f"{steps.index(step) + 1}/{len(steps)}"


def _next(data: dict[str, Any], step: str) -> str:
    steps = _sequence(data)
    return steps[steps.index(step) + 1]


@requires("curator")
async def newcontent(update: Update, context: KepuContext) -> None:
    """Start the new-content dialog: first the type."""
    await start_dialog(update, context, "newcontent", "kind")
    t = context.t
    await reply(
        update,
        t("New content. What type is it? /cancel stops without saving.")
        + "\n"
        + input_hint(context),
        reply_markup=markup(
            kind_rows(default_taxonomy(), t.locale, lambda c: NewContentKind(c).encode())
        ),
    )


async def step_kind(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Text at the type question: ask again with the buttons."""
    t = context.t
    await reply(
        update,
        t("Please choose the type with the buttons."),
        reply_markup=markup(
            kind_rows(default_taxonomy(), t.locale, lambda c: NewContentKind(c).encode())
        ),
    )


async def _ask(update: Update, context: KepuContext, dialog: Dialog, step: str) -> None:
    """Ask the question of ``step``."""
    t = context.t
    data = dialog.data
    head = f"{_num(data, step)} — " if step in _sequence(data) else ""
    taxonomy = default_taxonomy()
    if step == "media":
        kind = str(data["kind"])
        rows = [[_button(t, "Skip", "skip")]] if kind == "article" else []
        await reply(update, head + t(MEDIA_PROMPTS[kind]), reply_markup=markup(rows))
    elif step == "duration":
        await reply(update, head + t(DURATION_PROMPT))
    elif step == "cover":
        await reply(
            update, head + t(COVER_PROMPT), reply_markup=markup([[_button(t, "Skip", "skip")]])
        )
    elif step == "title":
        await reply(update, head + t("Send the title (at most 80 characters)."))
    elif step == "summary":
        await reply(update, head + t("Send a short summary (at most 800 characters)."))
    elif step == "category":
        await reply(
            update,
            head + t("Choose the category."),
            reply_markup=markup(
                category_rows(taxonomy, t.locale, lambda c: NewContentCategory(c).encode())
            ),
        )
    elif step == "link":
        await reply(update, head + t("Send the link to the full content (http:// or https://)."))
    elif step == "regions":
        await reply(
            update,
            head + t.sentences(t(REGIONS_PROMPT), t("Or press “All regions”.")),
            reply_markup=markup([[_button(t, "All regions", "all")]]),
        )
    elif step == "schedule":
        await reply(
            update,
            head
            + t(
                "When? “Push now” publishes and sends it at once; “Publish later” keeps it "
                "as a draft in /catalog. Or send a date and time such as 2026-12-01 09:30 "
                "to publish and push it then."
            ),
            reply_markup=markup(
                [[_button(t, "Push now", "now"), _button(t, "Publish later", "later")]]
            ),
        )
    elif step == "opt_tags":
        await reply(update, t(TAGS_PROMPT))
    elif step == "opt_campaign":
        picker = await campaign_taxonomy(context, data.get("regions"))  # curators' ones too
        rows = campaign_rows(picker, t.locale, lambda c: NewContentCampaign(c).encode())
        rows.append([_button(t, "Not part of a campaign", "nocampaign")])
        await reply(update, t("Which campaign is it part of?"), reply_markup=markup(rows))
    elif step == "opt_interests":
        await reply(
            update,
            t(INTERESTS_PROMPT),
            reply_markup=markup([[_button(t, "Only its category", "onlycat")]]),
        )
    elif step == "opt_expires":
        await reply(
            update,
            t("Until when is it shown? ") + t(TIME_HINT),
            reply_markup=markup([[_button(t, "No expiry", "noexpiry")]]),
        )
    else:
        await _ask_confirm(update, context, dialog)


async def _move(
    update: Update, context: KepuContext, dialog: Dialog, step: str, **data: Any
) -> None:
    await goto(context, dialog, step, **data)
    await _ask(update, context, dialog, step)


async def step_media(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the kind's file (or a video link)."""
    message = update.effective_message
    assert message is not None
    kind = str(dialog.data["kind"])
    try:
        got = read_media(message, kind)
    except CatalogueError as exc:
        await reply(update, error(context.t, exc))
        return
    except NotMedia:
        await _ask(update, context, dialog, "media")
        return
    if isinstance(got, str):
        dialog.data.update(video_link=True, url=got, duration_known=False)
        dialog.data.update(dict.fromkeys(MEDIA_KEYS))
    else:
        dialog.data.update(dataclasses.asdict(got))
        dialog.data["video_link"] = False
        dialog.data["duration_known"] = got.duration_seconds is not None
    await _move(update, context, dialog, _next(dialog.data, "media"))


async def step_duration(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take a typed duration (3分20秒, 3:20 …)."""
    message = update.effective_message
    try:
        seconds = read_length(message.text or "" if message else "")
    except DomainError as exc:
        await reply(update, error(context.t, exc))
        return
    await _move(update, context, dialog, _next(dialog.data, "duration"), duration_seconds=seconds)


async def step_cover(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the video's cover photo."""
    message = update.effective_message
    if message is None or not message.photo:
        t = context.t
        await reply(
            update,
            t("Please send a picture, or press “Skip”."),
            reply_markup=markup([[_button(t, "Skip", "skip")]]),
        )
        return
    cover = message.photo[-1].file_id
    # The cover is the card's picture too.
    await _move(update, context, dialog, "title", cover_file_id=cover, media_file_id=cover)


async def _text(update: Update, context: KepuContext, name: str) -> str | None:
    message = update.effective_message
    try:
        return check_text(name, message.text or "" if message else "")
    except CatalogueError as exc:
        await reply(update, error(context.t, exc))
        return None


async def step_title(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the title."""
    if (title := await _text(update, context, "title")) is not None:
        await _move(update, context, dialog, "summary", title=title)


async def step_summary(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the summary."""
    if (summary := await _text(update, context, "summary")) is not None:
        await _move(update, context, dialog, "category", summary=summary)


async def step_category(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Accept a typed category name too; otherwise show the buttons again."""
    message = update.effective_message
    code = default_taxonomy().match_category(message.text or "") if message else None
    if code is None:
        t = context.t
        await reply(
            update,
            t("Please choose one of the categories below."),
            reply_markup=markup(
                category_rows(
                    default_taxonomy(), t.locale, lambda c: NewContentCategory(c).encode()
                )
            ),
        )
        return
    await _move(update, context, dialog, _next(dialog.data, "category"), category=code)


async def step_link(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the link."""
    if (url := await _text(update, context, "url")) is not None:
        await _move(update, context, dialog, "regions", url=url)


async def step_regions(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take region names or codes."""
    message = update.effective_message
    try:
        regions = await read_regions(
            session=context.session, text=message.text or "" if message else ""
        )
    except CatalogueError as exc:
        await reply(update, error(context.t, exc))
        return
    await _move(update, context, dialog, "schedule", regions=list(regions))


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
        await reply(update, error(t, exc) + ("" if exc.code == "past" else "\n" + hint))
        return
    if when <= runtime.now():
        await reply(update, t("That time has passed. Please send a time in the future."))
        return
    await _move(
        update,
        context,
        dialog,
        "confirm",
        schedule="at",
        publish_at=when.astimezone(dt.UTC).isoformat(),
    )


async def step_opt_tags(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take tags, then back to the confirmation."""
    message = update.effective_message
    try:
        tags = read_tags(message.text or "" if message else "")
    except CatalogueError as exc:
        await reply(update, error(context.t, exc))
        return
    await _move(update, context, dialog, "confirm", tags=list(tags))


async def step_opt_campaign(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Text at the campaign question: show the buttons again."""
    await _ask(update, context, dialog, "opt_campaign")


async def step_opt_interests(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take extra interests (category names)."""
    message = update.effective_message
    try:
        codes = read_interests(message.text or "" if message else "", default_taxonomy())
    except CatalogueError as exc:
        await reply(update, error(context.t, exc))
        return
    await _move(update, context, dialog, "confirm", interests=list(codes))


async def step_opt_expires(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take an expiry time."""
    message = update.effective_message
    runtime = context.runtime
    t = context.t
    try:
        when = read_time(
            message.text or "" if message else "",
            now=runtime.now(),
            tz=runtime.settings.scheduler.tz,
        )
    except DateError as exc:
        await reply(update, error(t, exc) + ("" if exc.code == "past" else "\n" + t(TIME_HINT)))
        return
    except CatalogueError as exc:
        await reply(update, error(t, exc))
        return
    publish = dialog.data.get("publish_at")
    if publish and when <= dt.datetime.fromisoformat(str(publish)):
        await reply(
            update, t("The expiry must be after the publish time. Please send a later time.")
        )
        return
    await _move(update, context, dialog, "confirm", expires_at=when.isoformat())


def _schedule_text(context: KepuContext, data: dict[str, Any]) -> str:
    t = context.t
    if data.get("schedule") == "now":
        return t("push now")
    if data.get("schedule") == "later":
        return t("publish later (draft)")
    when = dt.datetime.fromisoformat(str(data["publish_at"]))
    return t(
        "publish and push at {when}",
        when=t.datetime(when, tz=context.runtime.settings.scheduler.tz),
    )


async def _ask_confirm(update: Update, context: KepuContext, dialog: Dialog) -> None:
    t = context.t
    data = dialog.data
    taxonomy = default_taxonomy()
    tz = context.runtime.settings.scheduler.tz
    lines = [
        t("Please check:"),
        f"<b>{esc(data['title'])}</b>",
        esc(data["summary"]),
        t("Category: {name}", name=taxonomy.name(data["category"], t.locale)),
        t("Link: {url}", url=esc(data["url"])),
        *await field_lines(context, data, tz=tz),
        t("When: {when}", when=_schedule_text(context, data)),
    ]
    if context.runtime.settings.content.review_before_publish:
        lines.append(t("Another curator approves it before it is published."))
    options = [
        InlineKeyboardButton(t("🏷 Tags"), callback_data=NewContentOption("tags").encode()),
        InlineKeyboardButton(
            t("🎯 Campaign"), callback_data=NewContentOption("campaign").encode()
        ),
        InlineKeyboardButton(
            t("👥 Interests"), callback_data=NewContentOption("interests").encode()
        ),
        InlineKeyboardButton(t("⌛ Expiry"), callback_data=NewContentOption("expires").encode()),
    ]
    await reply(
        update,
        "\n".join(lines),
        reply_markup=markup(
            [
                options[:2],
                options[2:],
                [_button(t, "Save", "save"), _button(t, "Cancel", "cancel")],
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
    taxonomy = default_taxonomy()
    step = dialog.step
    action = button.action if isinstance(button, NewContentAction) else None
    if isinstance(button, NewContentKind) and step == "kind":
        try:
            kind = read_kind(button.code, taxonomy)
        except CatalogueError as exc:
            await reply(update, error(t, exc))
            return
        await _move(update, context, dialog, "media", kind=kind)
    elif action == "skip" and step == "media" and dialog.data.get("kind") == "article":
        dialog.data.update(dict.fromkeys(MEDIA_KEYS))
        await _move(update, context, dialog, "title")
    elif action == "skip" and step == "cover":
        await _move(update, context, dialog, "title", cover_file_id=None)
    elif (
        isinstance(button, NewContentCategory) and step == "category" and taxonomy.get(button.code)
    ):
        await _move(update, context, dialog, _next(dialog.data, "category"), category=button.code)
    elif action == "all" and step == "regions":
        await _move(update, context, dialog, "schedule", regions=[])
    elif action in ("now", "later") and step == "schedule":
        await _move(update, context, dialog, "confirm", schedule=action, publish_at=None)
    elif isinstance(button, NewContentOption) and step in ("confirm", *OPTION_STEPS):
        await _move(update, context, dialog, f"opt_{button.field}")
    elif isinstance(button, NewContentCampaign) and step == "opt_campaign":
        try:
            code = read_campaign(button.code, await campaign_taxonomy(context))
        except CatalogueError as exc:
            await reply(update, error(t, exc))
            return
        await _move(update, context, dialog, "confirm", campaign=code)
    elif action == "nocampaign" and step == "opt_campaign":
        await _move(update, context, dialog, "confirm", campaign=None)
    elif action == "onlycat" and step == "opt_interests":
        await _move(update, context, dialog, "confirm", interests=[])
    elif action == "noexpiry" and step == "opt_expires":
        await _move(update, context, dialog, "confirm", expires_at=None)
    elif action == "save" and step == "confirm":
        await _save(update, context, dialog)
    elif action == "cancel" and step == "confirm":
        await end_dialog(update, context)
        await reply(update, t("Cancelled. Nothing was saved."))
    else:
        await reply(
            update, t("That button belongs to an earlier step; please answer the last question.")
        )


OPTION_STEPS = ("opt_tags", "opt_campaign", "opt_interests", "opt_expires")


def _media(data: dict[str, Any]) -> Media:
    return Media(**{key: data.get(key) for key in MEDIA_KEYS})


async def _save(update: Update, context: KepuContext, dialog: Dialog) -> None:
    t = context.t
    data = dialog.data
    runtime = context.runtime
    now = runtime.now()
    review = runtime.settings.content.review_before_publish
    person = context.person
    actor = person.id if person is not None else None
    publish_at: dt.datetime | None = None
    if data.get("schedule") == "now":
        publish_at = now
    elif data.get("schedule") == "at":
        publish_at = dt.datetime.fromisoformat(str(data["publish_at"]))
    expires = data.get("expires_at")
    new = NewItem(
        title=data["title"],
        summary=data["summary"],
        category=data["category"],
        url=data["url"],
        kind=str(data.get("kind") or "article"),
        media=_media(data),
        regions=tuple(data.get("regions") or ()),
        publish_at=publish_at,
        tags=tuple(data.get("tags") or ()),
        campaign=data.get("campaign"),
        interests=tuple(data.get("interests") or ()),
        expires_at=dt.datetime.fromisoformat(str(expires)) if expires else None,
        review=review,
    )
    try:
        item = await create_item(
            session=context.session,
            new=new,
            taxonomy=await campaign_taxonomy(context) if new.campaign else default_taxonomy(),
            actor_id=actor,
            now=now,
        )
    except CatalogueError as exc:
        await reply(update, error(t, exc))
        return
    await end_dialog(update, context)
    assert item.id is not None
    if review:
        await reply(update, t("Saved as #{id}.", id=item.id))
        await after_request(update, context, item)
        return
    if data.get("schedule") == "later":
        await reply(
            update, t("Saved as draft #{id}. Publish and push it from /catalog.", id=item.id)
        )
        return
    await reply(update, t("Saved as #{id}.", id=item.id))
    at = publish_at if data.get("schedule") == "at" else None
    found = await push_confirm.offer(context, item.id)
    if push_confirm.has_choice(context, found):  # channels or a paid push: ask how
        if at is None:
            await push_confirm.ask(update, context, found)
            return
        tz = context.runtime.settings.scheduler.tz
        await push_confirm.ask(
            update,
            context,
            found,
            encode=push_confirm.scheduled_encode(item.id),
            lead=t(
                "It is published at {when}; the push goes out then.", when=t.datetime(at, tz=tz)
            ),
        )
        return
    await start_push(update, context, item.id, not_before=at)


FLOW = Flow.of(
    {
        "kind": step_kind,
        "media": step_media,
        "duration": step_duration,
        "cover": step_cover,
        "title": step_title,
        "summary": step_summary,
        "category": step_category,
        "link": step_link,
        "regions": step_regions,
        "schedule": step_schedule,
        "confirm": step_confirm,
        "opt_tags": step_opt_tags,
        "opt_campaign": step_opt_campaign,
        "opt_interests": step_opt_interests,
        "opt_expires": step_opt_expires,
    },
    N_("Left the new content form; nothing was saved."),
    commands=("newcontent",),
)
