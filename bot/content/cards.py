"""Content cards: an item rendered for one recipient, in their language, with its buttons.

Other features add buttons by declaring card button providers (the share feature adds
"Share", "I shared it elsewhere" and a tracked link); without one, a card carries only a
plain "Open" link — never a button that does nothing.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.ext import ExtBot

from bot.content.taxonomy import Taxonomy, default_taxonomy
from bot.core.callback_data import CallbackData
from bot.core.text_fit import CAPTION_LIMIT, TEXT_LIMIT, fit_text, visible_length
from bot.i18n import N_, Translator, get_translator
from bot.services.campaigns import campaign_line
from storage.models import ContentItem, Push

CAPTION_MAX = CAPTION_LIMIT
TEXT_MAX = TEXT_LIMIT
VIDEO_SUFFIXES = (".mp4", ".mov", ".webm")
Rows = list[list[InlineKeyboardButton]]


@dataclass(frozen=True)
class UseOffline(CallbackData, prefix="USE"):
    """The card's "Used offline" button (station admins)."""

    content_id: int


@dataclass(frozen=True)
class Card:
    """A rendered card: HTML text, optional media and the inline keyboard."""

    text: str
    media: str | None  # a Telegram file id, an http(s) URL or a local file path
    media_is_file_id: bool
    is_video: bool
    rows: Rows = field(default_factory=list)

    @property
    def markup(self) -> InlineKeyboardMarkup | None:
        """Return the inline keyboard, or None without buttons."""
        return InlineKeyboardMarkup(self.rows) if self.rows else None


@dataclass(frozen=True)
class CardRecipient:
    """Whom a card is for; providers of extra buttons get this."""

    session: AsyncSession
    item: ContentItem
    chat_id: int
    locale: str
    informant_id: int | None = None
    station_admin: bool = False


@dataclass(frozen=True)
class CardButtons:
    """Buttons a feature adds to a card; ``open_url`` replaces the plain link (tracked)."""

    rows: Rows = field(default_factory=list)
    open_url: str | None = None


# Async callables(recipient) -> CardButtons that features declare (``Feature.card_buttons``).
ButtonProvider = Callable[[CardRecipient], Awaitable[CardButtons]]

OPEN_LABEL = N_("🔗 Open")
USED_OFFLINE_LABEL = N_("Used offline")


def is_english(locale: str | None) -> bool:
    """Tell whether ``locale`` is English."""
    return bool(locale) and str(locale).lower().startswith("en")


def localised(item: ContentItem, locale: str | None) -> tuple[str, str]:
    """Return the title and summary in ``locale`` (English only when the item has it)."""
    if is_english(locale) and item.title_en:
        return item.title_en, item.summary_en or item.summary
    return item.title, item.summary


def card_text(item: ContentItem, locale: str, taxonomy: Taxonomy, limit: int = TEXT_MAX) -> str:
    """Return the card's HTML text: title, summary, category and kind."""
    title, summary = localised(item, locale)
    category = taxonomy.get(item.category)
    kind = taxonomy.get_kind(item.kind)
    label = category.label(locale) if category else item.category
    kind_label = kind.label(locale) if kind else item.kind
    footer = f"{html.escape(label)} · {html.escape(kind_label)}"
    footer += campaign_line(item, get_translator(locale))  # issue #19: the campaign, if any
    head = f"<b>{html.escape(title)}</b>\n\n"
    # Telegram counts what is shown, in UTF-16 units: the summary gets what the rest leaves.
    room = limit - visible_length(head) - visible_length(footer) - 2
    body = fit_text(html.escape(summary), max(room, 1))
    return f"{head}{body}\n\n{footer}"


def render_card(
    item: ContentItem,
    *,
    locale: str,
    extra_rows: Sequence[list[InlineKeyboardButton]] = (),
    open_url: str | None = None,
    station_admin: bool = False,
    taxonomy: Taxonomy | None = None,
) -> Card:
    """Render ``item`` for a recipient speaking ``locale``."""
    taxonomy = taxonomy or default_taxonomy()
    t = get_translator(locale)
    media: str | None = None
    by_id = False
    if item.media_file_id:
        media, by_id = item.media_file_id, True
    elif item.media_path:
        media = item.media_path
    is_video = bool(media) and str(item.media_path or "").lower().endswith(VIDEO_SUFFIXES)
    limit = CAPTION_MAX if media else TEXT_MAX
    rows: Rows = [list(row) for row in extra_rows]
    rows.append([InlineKeyboardButton(t(OPEN_LABEL), url=open_url or item.url)])
    if station_admin and item.id is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    t(USED_OFFLINE_LABEL), callback_data=UseOffline(item.id).encode()
                )
            ]
        )
    return Card(
        text=card_text(item, locale, taxonomy, limit),
        media=media,
        media_is_file_id=by_id,
        is_video=is_video,
        rows=rows,
    )


async def build_card(
    recipient: CardRecipient,
    providers: Sequence[ButtonProvider] = (),
    *,
    taxonomy: Taxonomy | None = None,
) -> Card:
    """Render a card with the buttons of every provider given."""
    rows: Rows = []
    open_url: str | None = None
    for provider in providers:
        extra = await provider(recipient)
        rows.extend(extra.rows)
        open_url = extra.open_url or open_url
    return render_card(
        recipient.item,
        locale=recipient.locale,
        extra_rows=rows,
        open_url=open_url,
        station_admin=recipient.station_admin,
        taxonomy=taxonomy,
    )


def _media_input(card: Card) -> Any:
    """Return what to pass as photo/video: a file id, a URL or an open local file."""
    assert card.media is not None
    if card.media_is_file_id or card.media.startswith(("http://", "https://")):
        return card.media
    return Path(card.media).read_bytes()


def uploads_file(card: Card) -> bool:
    """Tell whether sending ``card`` uploads a local file (its file id is then worth caching)."""
    return (
        bool(card.media)
        and not card.media_is_file_id
        and not str(card.media).startswith(("http://", "https://"))
    )


async def send_card(bot: ExtBot[Any], chat_id: int, card: Card, **kwargs: Any) -> Message:
    """Send ``card``: a photo or video with caption when it has media, else a message."""
    markup = card.markup
    if card.media and (card.media_is_file_id or _media_available(card.media)):
        media = _media_input(card)
        if card.is_video:
            return await bot.send_video(
                chat_id, media, caption=card.text, parse_mode="HTML", reply_markup=markup, **kwargs
            )
        return await bot.send_photo(
            chat_id, media, caption=card.text, parse_mode="HTML", reply_markup=markup, **kwargs
        )
    return await bot.send_message(
        chat_id, card.text, parse_mode="HTML", reply_markup=markup, **kwargs
    )


def _media_available(media: str) -> bool:
    """Tell whether a URL or an existing local file is at hand."""
    return media.startswith(("http://", "https://")) or Path(media).is_file()


def sent_file_id(message: Message) -> str | None:
    """Return the file id Telegram gave the media of a sent card."""
    if message.photo:
        return message.photo[-1].file_id
    if message.video:
        return message.video.file_id
    return None


def counts_text(t: Translator, push: Push, counts: dict[str, int]) -> str:
    """Return a push's counts, in the one wording its progress and its report share."""
    return t(
        "Sent {sent} · failed {failed} · blocked {blocked} · pending {pending} (of {total})",
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        blocked=counts.get("blocked", 0),
        pending=counts.get("pending", 0),
        total=push.total,
    )


def progress_text(
    t: Translator, push: Push, counts: dict[str, int], title: str, *, final: bool = False
) -> str:
    """Return a push's progress line for the curator who started it."""
    head = (
        t("Push #{id} finished: “{title}”", id=push.id, title=html.escape(title))
        if final
        else t("Push #{id} in progress: “{title}”", id=push.id, title=html.escape(title))
    )
    return head + "\n" + counts_text(t, push, counts)


def report_text(t: Translator, push: Push, counts: dict[str, int], title: str) -> str:
    """Return the final report of a push (a new message, so the curator is notified)."""
    head = t("✅ Push report #{id} — “{title}”", id=push.id, title=html.escape(title))
    return head + "\n" + counts_text(t, push, counts)
