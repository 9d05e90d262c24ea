"""/catalog field edits: one button per field on the item view, each edit a small step.

Typed fields (title, summary, link, tags, regions, interests, duration, publish time,
expiry) are a one-step ``content_edit`` dialog: bad input gets the reader's answer and the
step waits again, /cancel or any command leaves with the old value kept. Fields chosen
with buttons (category, type, campaign) and the "empty it" buttons (all regions, no
campaign, no expiry, draft…) save at once. Every change is audited with old and new.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from telegram import InlineKeyboardButton, Update

from bot.content.catalogue import (
    CatalogueError,
    Media,
    check_text,
    read_campaign,
    read_interests,
    read_kind,
    read_length,
    read_regions,
    read_tags,
    read_time,
    set_fields,
)
from bot.content.taxonomy import default_taxonomy
from bot.core.errors import DomainError
from bot.handlers.callbacks import CatalogClear, CatalogEdit, CatalogPick
from bot.handlers.common import esc, reply
from bot.handlers.content_fields import (
    COVER_PROMPT,
    DURATION_PROMPT,
    FIELD_NAMES,
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
    kind_rows,
    markup,
    read_media,
)
from bot.handlers.dialog import Dialog, Flow, end_dialog, goto, input_hint, start_dialog
from bot.i18n import N_
from bot.runtime.context import KepuContext
from storage import content as content_store

MEDIA_KEYS = tuple(f.name for f in dataclasses.fields(Media))
# Fields that clear with a button, and the label of that button.
CLEARS = {
    "tags": N_("No tags"),
    "campaign": N_("Not part of a campaign"),
    "regions": N_("All regions"),
    "interests": N_("Only its category"),
    "expires": N_("No expiry"),
    "publish": N_("Back to draft"),
    "cover": N_("No cover"),
    "media": N_("No picture"),
}
CLEARED: dict[str, dict[str, Any]] = {
    "tags": {"tags": []},
    "campaign": {"campaign": None},
    "regions": {"regions": []},
    "interests": {"interests": []},
    "expires": {"expires_at": None},
    "publish": {"publish_at": None},
    "cover": {"cover_file_id": None},
    # Only an article may lose its file (a poster or document is refused: it needs one).
    "media": {
        "media_file_id": None,
        "original_file_id": None,
        "original_file_name": None,
        "original_mime": None,
        "original_size": None,
    },
}
ARTICLE_PICTURE = N_("Send a picture for the card (a photo, or an image as a file).")
PROMPTS = {
    "title": N_("Send the new title (at most 80 characters)."),
    "summary": N_("Send the new summary (at most 800 characters)."),
    "url": N_("Send the new link (http:// or https://)."),
    "tags": TAGS_PROMPT,
    "regions": REGIONS_PROMPT,
    "interests": INTERESTS_PROMPT,
    "duration": DURATION_PROMPT,
    "cover": COVER_PROMPT,
    "publish": TIME_HINT,
    "expires": TIME_HINT,
}


def _clear_row(t: Any, field: str, content_id: int) -> list[list[InlineKeyboardButton]]:
    if field not in CLEARS:
        return []
    return [
        [
            InlineKeyboardButton(
                t(CLEARS[field]),
                callback_data=CatalogClear(field, content_id).encode(),  # type: ignore[arg-type]
            )
        ]
    ]


async def edit_button(update: Update, context: KepuContext, button: CatalogEdit) -> None:
    """Start editing one field: buttons for choices, a one-step dialog for typed values."""
    t = context.t
    field, content_id = button.field, button.content_id
    item = await content_store.get_item(session=context.session, content_id=content_id)
    if item is None:
        await reply(update, t("This item no longer exists."))
        return
    taxonomy = default_taxonomy()
    name = t(FIELD_NAMES[field])
    if field in ("category", "kind", "campaign"):
        makers = {
            "category": category_rows,
            "kind": kind_rows,
            "campaign": campaign_rows,
        }
        if field == "campaign":  # config and curators' campaigns, running ones first
            taxonomy = await campaign_taxonomy(context, item.regions)
        rows = makers[field](
            taxonomy,
            t.locale,
            lambda code: CatalogPick(field, code, content_id).encode(),  # type: ignore[arg-type]
        )
        rows += _clear_row(t, field, content_id)
        await reply(
            update,
            t("Choose the new {field} for #{id}.", field=name, id=content_id),
            reply_markup=markup(rows),
        )
        return
    step = "media" if field == "media" else "value"
    await start_dialog(
        update, context, "content_edit", step, field=field, content_id=content_id, kind=item.kind
    )
    if field == "media":
        msgid = ARTICLE_PICTURE if item.kind == "article" else MEDIA_PROMPTS[item.kind]
        prompt = t(msgid)
    else:
        prompt = t(PROMPTS[field])
    await reply(
        update,
        t("Send the new {field} for #{id}. /cancel keeps the old one.", field=name, id=content_id)
        + "\n"
        + prompt
        + "\n"
        + input_hint(context),
        reply_markup=markup(
            _clear_row(t, field, content_id) if field != "media" or item.kind == "article" else []
        ),
    )


async def _save(
    update: Update, context: KepuContext, content_id: int, field: str, values: dict[str, Any]
) -> bool:
    """Save the field; answer with the refusal and return False when it is refused."""
    actor = context.person.id if context.person is not None else None
    before = await content_store.get_item(session=context.session, content_id=content_id)
    was_approved = before is not None and before.review_state == "approved"
    try:
        item = await set_fields(
            session=context.session,
            content_id=content_id,
            field_name=field,
            values=values,
            actor_id=actor,
            now=context.runtime.now(),
            review=context.runtime.settings.content.review_before_publish,
        )
    except CatalogueError as exc:
        await reply(update, error(context.t, exc))
        return False
    t = context.t
    text = t("Saved. #{id} now reads: {title}", id=item.id, title=esc(item.title))
    if field not in ("title",):
        text = t(
            "Saved: the {field} of #{id} is changed.", field=t(FIELD_NAMES[field]), id=item.id
        )
    if was_approved and item.review_state is None:
        text += "\n" + t("It needs approval again: ask for review from its view in /catalog.")
    await reply(update, text)
    return True


async def pick_button(update: Update, context: KepuContext, button: CatalogPick) -> None:
    """Save a choice made with a button (category, campaign; a type asks for its file)."""
    taxonomy = default_taxonomy()
    t = context.t
    try:
        if button.field == "category":
            if taxonomy.get(button.code) is None:
                raise CatalogueError("bad_category", value=button.code)
            await _save(update, context, button.content_id, "category", {"category": button.code})
        elif button.field == "campaign":
            code = read_campaign(button.code, await campaign_taxonomy(context))
            await _save(update, context, button.content_id, "campaign", {"campaign": code})
        else:
            kind = read_kind(button.code, taxonomy)
            if kind == "article":
                values = dict.fromkeys(MEDIA_KEYS) | {"kind": kind}
                item = await content_store.get_item(
                    session=context.session, content_id=button.content_id
                )
                if item is not None:
                    values["media_file_id"] = item.media_file_id  # the picture stays
                await _save(update, context, button.content_id, "kind", values)
                return
            # Another type needs its own file: ask for it; the type changes with it.
            await start_dialog(
                update,
                context,
                "content_edit",
                "media",
                field="kind",
                content_id=button.content_id,
                kind=kind,
            )
            await reply(
                update,
                t(MEDIA_PROMPTS[kind]) + "\n" + input_hint(context),
            )
    except CatalogueError as exc:
        await reply(update, error(t, exc))


async def clear_button(update: Update, context: KepuContext, button: CatalogClear) -> None:
    """Empty an optional field (ends an edit dialog of it, if one is open)."""
    values = CLEARED.get(button.field)
    if values is None:
        await reply(update, context.t("This field cannot be edited."))
        return
    if await _save(update, context, button.content_id, button.field, dict(values)):
        await end_dialog(update, context)


async def step_value(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take the new value of a typed field and save it (audited); bad input waits again."""
    message = update.effective_message
    assert message is not None
    field = str(dialog.data["field"])
    content_id = int(dialog.data["content_id"])
    text = message.text or ""
    runtime = context.runtime
    values: dict[str, Any]
    try:
        if field in ("title", "summary", "url"):
            values = {field: check_text(field, text)}
        elif field == "tags":
            values = {"tags": list(read_tags(text))}
        elif field == "regions":
            values = {"regions": list(await read_regions(session=context.session, text=text))}
        elif field == "interests":
            values = {"interests": list(read_interests(text, default_taxonomy()))}
        elif field == "duration":
            values = {"duration_seconds": read_length(text)}
        elif field in ("publish", "expires"):
            when = read_time(text, now=runtime.now(), tz=runtime.settings.scheduler.tz)
            values = {"publish_at" if field == "publish" else "expires_at": when}
        elif field == "cover":
            if not message.photo:
                await reply(update, context.t("Please send a picture, or press “Skip”."))
                return
            photo = message.photo[-1].file_id
            values = {"cover_file_id": photo}
        else:
            await end_dialog(update, context)
            await reply(update, context.t("This field cannot be edited."))
            return
    except DomainError as exc:
        hint = "\n" + context.t(TIME_HINT) if field in ("publish", "expires") else ""
        await reply(update, error(context.t, exc) + (hint if exc.area == "date" else ""))
        return
    if await _save(update, context, content_id, field, values):
        await end_dialog(update, context)
        if field == "cover":
            # The cover is the card's picture too.
            await content_store.update_item(
                session=context.session,
                content_id=content_id,
                media_file_id=values["cover_file_id"],
            )
    elif not await _still_editable(context, content_id):
        await end_dialog(update, context)


async def _still_editable(context: KepuContext, content_id: int) -> bool:
    item = await content_store.get_item(session=context.session, content_id=content_id)
    return item is not None and item.retired_at is None


async def step_media(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """Take a new file for the item's type (or for the type being changed to)."""
    message = update.effective_message
    assert message is not None
    kind = str(dialog.data["kind"])
    field = str(dialog.data["field"])
    content_id = int(dialog.data["content_id"])
    try:
        got = read_media(message, kind)
    except CatalogueError as exc:
        await reply(update, error(context.t, exc))
        return
    except NotMedia:
        await reply(update, context.t(MEDIA_PROMPTS[kind]))
        return
    if isinstance(got, str):
        values: dict[str, Any] = dict.fromkeys(MEDIA_KEYS) | {"kind": "video"}
        field = "kind"
        extra = {"url": got}
    else:
        values = dataclasses.asdict(got)
        extra = {}
        if field == "kind":
            values["kind"] = kind
        else:
            values = {k: v for k, v in values.items() if k in MEDIA_KEYS[:5] or v is not None}
            if kind != "video":
                values.pop("duration_seconds", None)
                values.pop("cover_file_id", None)
            if kind == "video" and got.duration_seconds is None:
                values.pop("duration_seconds", None)
            field = "kind" if set(values) - set(MEDIA_KEYS[:5]) else "media"
            if field == "kind":
                values["kind"] = kind
    if await _save(update, context, content_id, field, values):
        if extra:
            await set_fields(
                session=context.session,
                content_id=content_id,
                field_name="url",
                values=extra,
                actor_id=context.person.id if context.person is not None else None,
                now=context.runtime.now(),
            )
        await end_dialog(update, context)
        if kind == "video" and not values.get("duration_seconds"):
            await goto(context, dialog, "value", field="duration")
            await reply(update, context.t(DURATION_PROMPT))


FLOW = Flow.of(
    {"value": step_value, "media": step_media},
    N_("Left the edit; the item keeps its old value."),
)
