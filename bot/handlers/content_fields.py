"""What /newcontent and /catalog share: reading a kind's file from a message, the field
prompts and buttons, an item's fields as lines, and starting a push.

The rules (what each field accepts) are in ``bot.content.catalogue``; this module only
turns messages into their inputs and answers into text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.content.cards import progress_text
from bot.content.catalogue import CatalogueError, Media, check_document
from bot.content.taxonomy import Taxonomy, default_taxonomy
from bot.core.error_text import error_text as domain_text
from bot.core.urls import url_problem
from bot.core.zh_durations import format_duration
from bot.handlers import paid_push
from bot.handlers.channels_common import NOTHING_NEW_FOR_CHANNELS, flags
from bot.handlers.common import button_rows, esc, reply
from bot.i18n import N_, Translator
from bot.runtime.context import KepuContext
from bot.services import campaigns as campaign_service
from bot.services import push as push_service
from bot.services import regions as region_service
from storage import content as content_store
from storage.models import ContentItem

# What a curator is asked to send for each kind's file.
MEDIA_PROMPTS = {
    "article": N_(
        "Send a picture for the card (a photo, or an image as a file), or press “Skip”."
    ),
    "poster": N_(
        "Send the poster image: as a photo, or as a file to keep the original (full "
        "resolution) as well."
    ),
    "document": N_("Send the PDF file (as a file; other file types are not accepted)."),
    "video": N_(
        "Send the video file, or a link to the video (http:// or https://; its duration is "
        "asked next)."
    ),
}
FIELD_NAMES = {
    "title": N_("title"),
    "summary": N_("summary"),
    "url": N_("link"),
    "category": N_("category"),
    "kind": N_("type"),
    "media": N_("file"),
    "duration": N_("duration"),
    "cover": N_("cover"),
    "tags": N_("tags"),
    "campaign": N_("campaign"),
    "regions": N_("regions"),
    "interests": N_("interests"),
    "publish": N_("publish time"),
    "expires": N_("expiry"),
}
TAGS_PROMPT = N_("Send tags separated by spaces or commas (e.g. 高血压 饮食 老年人).")
REGIONS_PROMPT = N_(
    "Which regions is it for? Send region names or codes separated by spaces "
    "(e.g. 杭州市 西湖区 or 330106 330100)."
)
INTERESTS_PROMPT = N_(
    "Besides its category, which interests should it reach? Send category names "
    "separated by spaces (e.g. 健康 应急)."
)
TIME_HINT = N_(
    "Send a date and time like 明天上午9点, 12月5日, 下周一 10:00 or 2026-12-01 09:30 "
    "(a date alone means 9:00)."
)
DURATION_PROMPT = N_("How long is the video? Send it like 3分20秒, 3:20 or 1小时5分.")
COVER_PROMPT = N_("Send a cover picture for the video (a photo), or press “Skip”.")


class NotMedia(Exception):
    """The message carries nothing a kind's file could be (plain text that is no link)."""


def markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    """Return an inline keyboard of ``rows``."""
    return InlineKeyboardMarkup(rows)


def error(t: Translator, exc: Exception) -> str:
    """Return a domain error's localised text."""
    return domain_text(exc, t)  # type: ignore[arg-type]


def read_media(message: Message, kind: str) -> Media | str:
    """Return the file a message carries for ``kind``, or a video link (``str``).

    Raises CatalogueError for a file the kind cannot carry (a Word file as a document,
    a PDF as a poster) and NotMedia for a message with nothing to take.
    """
    if message.photo and kind in ("article", "poster"):
        return Media(media_file_id=message.photo[-1].file_id)
    if message.photo and kind == "document":
        raise CatalogueError("not_pdf", name="", mime="image/jpeg")
    if message.photo and kind == "video":
        raise CatalogueError("not_video", name="", mime="image/jpeg")
    if message.video and kind == "video":
        video = message.video
        length = video.duration
        seconds = int(length.total_seconds()) if isinstance(length, dt.timedelta) else length
        return Media(
            original_file_id=video.file_id,
            original_file_name=video.file_name,
            original_mime=video.mime_type or "video/mp4",
            original_size=video.file_size,
            duration_seconds=seconds or None,
        )
    document = message.document
    if document is not None:
        check_document(kind, document.mime_type, document.file_name)
        return Media(
            original_file_id=document.file_id,
            original_file_name=document.file_name,
            original_mime=document.mime_type,
            original_size=document.file_size,
        )
    text = (message.text or "").strip()
    if kind == "video" and text and url_problem(text) is None:
        return text
    raise NotMedia


def kind_rows(taxonomy: Taxonomy, locale: str, make: Any) -> list[list[InlineKeyboardButton]]:
    """Return one button per kind; ``make(code)`` gives its callback data."""
    buttons = [
        InlineKeyboardButton(term.label(locale), callback_data=make(term.code))
        for term in taxonomy.kinds
        if term.code in ContentItem.KINDS
    ]
    return button_rows(buttons, 2)


async def campaign_taxonomy(context: KepuContext, regions: Any = None) -> Taxonomy:
    """Return the taxonomy with every config and curator's campaign (issue #19).

    Campaigns running today in ``regions`` (an item's; none: anywhere) come first, so the
    picker offers them first; read once per prompt or view.
    """
    return await campaign_service.taxonomy_with_campaigns(
        session=context.session,
        settings=context.runtime.settings,
        day=context.runtime.today(),
        regions=list(regions or ()),
    )


def campaign_rows(taxonomy: Taxonomy, locale: str, make: Any) -> list[list[InlineKeyboardButton]]:
    """Return one button per campaign of the taxonomy; ``make(code)`` gives its data.

    Pass ``campaign_taxonomy``'s taxonomy, so curators' and config campaigns are offered.
    """
    buttons = [
        InlineKeyboardButton(term.label(locale), callback_data=make(term.code))
        for term in taxonomy.campaigns
    ]
    return button_rows(buttons, 2)


def category_rows(taxonomy: Taxonomy, locale: str, make: Any) -> list[list[InlineKeyboardButton]]:
    """Return one button per category; ``make(code)`` gives its callback data."""
    buttons = [
        InlineKeyboardButton(term.label(locale), callback_data=make(term.code))
        for term in taxonomy.categories
    ]
    return button_rows(buttons, 3)


def yes_no(t: Translator, value: Any) -> str:
    """Return "yes" or "no"."""
    return t("yes") if value else t("no")


async def field_lines(
    context: KepuContext, values: dict[str, Any], *, tz: dt.tzinfo, regions: bool = True
) -> list[str]:
    """Return the lines that show an item's (or a draft's) fields, escaped."""
    t = context.t
    taxonomy = await campaign_taxonomy(context) if values.get("campaign") else default_taxonomy()
    names = await region_service.named_list(
        session=context.session, codes=values.get("regions") or [], locale=t.locale
    ) or t("all regions")
    kind = str(values.get("kind") or "article")
    lines = [t("Type: {name}", name=taxonomy.kind_name(kind, t.locale))]
    if kind == "video":
        seconds = values.get("duration_seconds")
        lines.append(
            t("Duration: {value}", value=format_duration(int(seconds)) if seconds else t("none"))
        )
        lines.append(t("Cover: {yes}", yes=yes_no(t, values.get("cover_file_id"))))
        if values.get("original_file_id"):
            lines.append(
                t("Video file: {name}", name=esc(values.get("original_file_name") or "✓"))
            )
    elif kind == "poster":
        lines.append(t("Picture: {yes}", yes=yes_no(t, values.get("media_file_id"))))
        if values.get("original_file_id"):
            lines.append(
                t("Original file: {name}", name=esc(values.get("original_file_name") or "✓"))
            )
    elif kind == "document":
        lines.append(t("PDF: {name}", name=esc(values.get("original_file_name") or t("none"))))
    else:
        lines.append(t("Picture: {yes}", yes=yes_no(t, values.get("media_file_id"))))
        if values.get("original_file_id"):
            lines.append(
                t("Original file: {name}", name=esc(values.get("original_file_name") or "✓"))
            )
    tags = values.get("tags") or []
    campaign = values.get("campaign")
    interests = values.get("interests") or []
    if regions:
        lines.append(t("Regions: {regions}", regions=names))
    lines += [
        t("Tags: {tags}", tags=esc("、".join(tags)) if tags else t("none")),
        t(
            "Campaign: {name}",
            name=esc(taxonomy.campaign_name(campaign, t.locale)) if campaign else t("none"),
        ),
        t(
            "Also for interests: {names}",
            names="、".join(taxonomy.name(c, t.locale) for c in interests)
            if interests
            else t("only its category"),
        ),
    ]
    expires = values.get("expires_at")
    if isinstance(expires, str):
        expires = dt.datetime.fromisoformat(expires)
    lines.append(t("Expires: {when}", when=t.datetime(expires, tz=tz) if expires else t("never")))
    return lines


def item_values(item: ContentItem) -> dict[str, Any]:
    """Return an item's fields as ``field_lines`` reads them."""
    return {
        "kind": item.kind,
        "duration_seconds": item.duration_seconds,
        "cover_file_id": item.cover_file_id,
        "original_file_id": item.original_file_id,
        "original_file_name": item.original_file_name,
        "media_file_id": item.media_file_id,
        "regions": item.regions,
        "tags": item.tags,
        "campaign": item.campaign,
        "interests": item.interests,
        "expires_at": item.expires_at,
    }


async def start_push(
    update: Update,
    context: KepuContext,
    content_id: int,
    *,
    not_before: dt.datetime | None = None,
    paid: bool = False,
    to: str = "informants",
    regions: Sequence[str] | None = None,
    trigger: str = "curator",
) -> None:
    """Queue the push, show the progress message and wake the sender.

    ``to``: informants (private messages), channels (the region's linked channels) or both;
    ``paid``: opt into paid broadcasts; ``regions``: instead of the item's (a campaign's).
    """
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
            trigger=trigger,
            regions=regions,
            not_before=not_before,
            report_chat=chat.id if chat else None,
            report_locale=t.locale,
            require_approval=runtime.settings.content.review_before_publish,
            informants=to_informants,
            channels=to_channels,
        )
    except push_service.PushError as exc:
        await reply(update, domain_text(exc, t))
        return
    if result.queued == 0 or result.push_id is None:
        if to_channels:  # say what was asked, not only informants
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
        await paid_push.open_paid(context, result)
    if not_before is not None:
        when = t.datetime(not_before, tz=runtime.settings.scheduler.tz)
        if result.channel_posts:
            text = t(
                "Scheduled: {n} messages go out at {when}, {c} of them posts in the linked "
                "channels.",
                n=result.queued,
                when=when,
                c=result.channel_posts,
            )
        else:
            text = t(
                "Scheduled: {n} informants will get it at {when}.", n=result.queued, when=when
            )
        await reply(update, text)
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
