"""Content originals: the card's "⬇ 原图/原文件" button and a station's weekly print pack.

A card's photo is what Telegram made of the picture (a recompressed JPEG): the button sends
the original file itself, as a document (a video as a video, for the venue screen), to the
presser's private chat. The first send uploads the file from the pack's media; Telegram's
file id is kept and later sends reuse it. A file a bot may not upload (over 50 MB) comes
as a link, with the reason. ``/printpack`` sends a station admin the week's posters as one
A4 PDF (bot.reports.printpack). Everything a user receives goes through the outbox after
the commit (kinds ``original`` and ``printpack``). docs/content-originals.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.content.cards import ButtonProvider, CardButtons, CardRecipient, localised
from bot.content.catalogue import item_state
from bot.content.originals import (
    BOT_UPLOAD_LIMIT,
    fits_upload,
    is_image_file,
    is_video_file,
    megabytes,
    size_text,
)
from bot.content.targeting import in_regions
from bot.core.callback_data import CallbackData
from bot.handlers.callbacks import answer_invalid
from bot.handlers.commands import command
from bot.handlers.common import in_private, private_link, reply, requires, role_names
from bot.handlers.feature import COMMAND_GROUP, Feature, in_group
from bot.i18n import N_, Translator, get_translator
from bot.reports.printpack import PrintPackText, PrintPoster, render_printpack
from bot.runtime.context import KepuContext, Runtime
from bot.runtime.outbox import NO_RETRY, Delivery, SenderTools, Undeliverable
from bot.services import activities as activity_service
from bot.services import shares as share_service
from storage import content as content_store
from storage import originals as originals_store
from storage import outbox as outbox_store
from storage.models import ContentItem, Station
from storage.outbox import ClaimedMessage, NewMessage

log = logging.getLogger(__name__)

ORIGINAL_KIND = "original"
PRINTPACK_KIND = "printpack"
START_PREFIX = "orig_"
PRINT_CHANNEL = "print"  # the tracked link a printed QR code holds
PRINTPACK_DAYS = 7
PRINTPACK_MAX = 30  # posters in one pack (about 13 s to draw: docs/content-originals.md)
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile serves files up to 20 MB

PICTURE_LABEL = N_("⬇ Original picture")
FILE_LABEL = N_("⬇ Original file")
GONE = N_("This item is no longer available.")


@dataclass(frozen=True)
class FetchOriginal(CallbackData, prefix="ORIG"):
    """The card's "⬇ 原图/原文件" button."""

    content_id: int


@dataclass(frozen=True)
class PrintPackStation(CallbackData, prefix="PP"):
    """A station picked for /printpack (an admin of several)."""

    station_id: int


def has_original(item: ContentItem) -> bool:
    """Tell whether an item has an original file to send."""
    return bool(item.original_file_id or item.original_path)


def original_name(item: ContentItem) -> str:
    """Return the original's file name (what decides picture, video or other file)."""
    return item.original_file_name or Path(item.original_path or "").name


def original_is_picture(item: ContentItem) -> bool:
    """Tell whether the original is a picture (the button then says 原图)."""
    mime = item.original_mime or ""
    return mime.startswith("image/") or (not mime and is_image_file(original_name(item)))


def original_is_video(item: ContentItem) -> bool:
    """Tell whether the original is a video (sent with sendVideo, for the venue screen)."""
    mime = item.original_mime or ""
    return mime.startswith("video/") or (not mime and is_video_file(original_name(item)))


# --- the card's button ---------------------------------------------------------------------
def original_row(t: Translator, item: ContentItem) -> list[InlineKeyboardButton]:
    """Return the card's "⬇ 原图/原文件" row."""
    assert item.id is not None
    label = PICTURE_LABEL if original_is_picture(item) else FILE_LABEL
    return [InlineKeyboardButton(t(label), callback_data=FetchOriginal(item.id).encode())]


def card_provider(runtime: Runtime) -> ButtonProvider:
    """Return the provider of the "⬇ 原图/原文件" button on cards of items with an original."""

    async def original_buttons(recipient: CardRecipient) -> CardButtons:
        item = recipient.item
        if item.id is None or not has_original(item):
            return CardButtons()
        return CardButtons(rows=[original_row(get_translator(recipient.locale), item)])

    return original_buttons


def _visible(item: ContentItem | None, now: dt.datetime) -> bool:
    return item is not None and item_state(item, now) == "published"


async def _queue_original(context: KepuContext, chat_id: int, item: ContentItem) -> None:
    """Queue the original of ``item`` for ``chat_id`` (sent after the commit)."""
    assert item.id is not None
    now = context.runtime.now()
    await outbox_store.enqueue_one(
        session=context.session,
        message=NewMessage(
            chat_id=chat_id,
            kind=ORIGINAL_KIND,
            payload={"content_id": item.id, "locale": context.t.locale},
            dedupe_key=f"original:{context.scope.update_id}:{item.id}",
            due_at=now,
        ),
        now=now,
    )


def _reaches_privately(context: KepuContext) -> bool:
    """Tell whether the presser has a private chat with the bot.

    Informants and role holders joined or were granted through it; anyone else may never
    have started the bot, which cannot then write to them first.
    """
    person = context.person
    return person is not None and not person.unreachable and bool(role_names(context))


async def on_original_button(update: Update, context: KepuContext) -> None:
    """Send the item's original to the presser's private chat (ORIG:<content_id>).

    In a group the file goes to the presser privately, not to the whole group: one person
    wants it, the others did not ask. Someone the bot cannot write to first gets a link
    that opens the private chat and asks for the same file (/start orig_<id>).
    """
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    button = FetchOriginal.decode(query.data)
    if button is None:
        await answer_invalid(update, context)
        return
    t = context.t
    item = await content_store.get_item(session=context.session, content_id=button.content_id)
    if item is None or not _visible(item, context.runtime.now()) or not has_original(item):
        await query.answer(t(GONE), show_alert=True)
        return
    if in_private(update):
        await _queue_original(context, user.id, item)
        await query.answer(t("Sending the original file…"))
        return
    if _reaches_privately(context):
        await _queue_original(context, user.id, item)
        await query.answer(
            t("I have sent you the original file in our private chat."), show_alert=True
        )
        return
    link = private_link(context.runtime.bot_username, f"{START_PREFIX}{item.id}")
    await query.answer(url=link)


async def on_original_start(update: Update, context: KepuContext, payload: str) -> bool:
    """Handle /start orig_<id>: the link a group's button gives those the bot cannot reach."""
    if not payload.startswith(START_PREFIX):
        return False
    user = update.effective_user
    if user is None or not in_private(update):
        return False
    raw = payload[len(START_PREFIX) :]
    item = (
        await content_store.get_item(session=context.session, content_id=int(raw))
        if raw.isdigit() and len(raw) <= 9
        else None
    )
    if item is None or not _visible(item, context.runtime.now()) or not has_original(item):
        await reply(update, context.t(GONE))
        return True
    await _queue_original(context, user.id, item)
    return True


# --- sending an original ---------------------------------------------------------------------
def original_caption(t: Translator, item: ContentItem) -> str:
    """Return the caption of a sent original: what it is and what it is for."""
    title = html.escape(localised(item, t.locale)[0])
    size = item.original_size
    if original_is_video(item):
        head = t("🎬 Video file: {title}", title=title)
        use = t("Save it and play it on the venue's screen.")
    elif original_is_picture(item):
        head = t("⬇ Original picture: {title}", title=title)
        use = t("Sent as a file, not recompressed: print it as it is.")
    else:
        head = t("⬇ Original file: {title}", title=title)
        use = t("Sent as a file, exactly as it was published.")
    if size:
        use += "\n" + t("File size: {size}", size=size_text(size))
    return f"<b>{head}</b>\n{use}"


def too_big_text(t: Translator, item: ContentItem) -> str:
    """Return the message sent instead of a file a bot may not upload: the reason and a link."""
    title = html.escape(localised(item, t.locale)[0])
    return t(
        "<b>{title}</b>\nThis file is {mb} MB: Telegram lets a bot upload files of up to "
        "{limit} MB, so it cannot come as a file here. Download or watch it with the link: "
        "{url}",
        title=title,
        mb=megabytes(item.original_size or 0),
        limit=BOT_UPLOAD_LIMIT // (1024 * 1024),
        url=html.escape(item.url),
    )


def missing_text(t: Translator, item: ContentItem) -> str:
    """Return the message sent when the original file is not on the server."""
    title = html.escape(localised(item, t.locale)[0])
    return t(
        "<b>{title}</b>\nThe original file is not available on the server right now. "
        "Open it with the link: {url}",
        title=title,
        url=html.escape(item.url),
    )


def sent_original_id(message: Message) -> str | None:
    """Return Telegram's file id of an original just sent."""
    if message.video:
        return message.video.file_id
    if message.document:
        return message.document.file_id
    return None


class OriginalDeliverer:
    """Send ``original`` rows: the file (by file id, or uploaded once), or a link and why."""

    def __init__(self, tools: SenderTools) -> None:
        self.tools = tools
        self._file_ids: dict[int, str] = {}  # uploaded in this process, before the write

    async def prepare(self, rows: Sequence[ClaimedMessage]) -> None:
        """Nothing to read ahead: each row reads its item."""

    async def deliver(self, row: ClaimedMessage) -> Delivery:
        """Send one original; keep Telegram's file id after the first upload."""
        async with self.tools.runtime.sessions() as session:
            item = await content_store.get_item(
                session=session, content_id=int(row.payload["content_id"])
            )
        t = get_translator(str(row.payload.get("locale") or "zh_CN"))
        bot = self.tools.bot
        if item is None or item.id is None or not has_original(item):
            raise Undeliverable("failed", "content_missing")
        if not _visible(item, self.tools.runtime.now()):
            message = await bot.send_message(row.chat_id, t(GONE), rate_limit_args=NO_RETRY)
            return Delivery(message.message_id)
        file_id = item.original_file_id or self._file_ids.get(item.id)
        stale: str | None = None
        caption = original_caption(t, item)
        send = bot.send_video if original_is_video(item) else bot.send_document
        if file_id:
            # Already on Telegram's servers: no upload, whatever the size.
            try:
                message = await send(
                    row.chat_id,
                    file_id,
                    caption=caption,
                    parse_mode="HTML",
                    rate_limit_args=NO_RETRY,
                )
                return Delivery(message.message_id)
            except BadRequest as exc:
                if send == bot.send_video:
                    # A video a curator sent as a file has a document's id: send it so.
                    with contextlib.suppress(BadRequest):
                        message = await bot.send_document(
                            row.chat_id,
                            file_id,
                            caption=caption,
                            parse_mode="HTML",
                            rate_limit_args=NO_RETRY,
                        )
                        return Delivery(message.message_id)
                stale = file_id
                # A stale id, or one of another type (a photo's, kept by hand): the local
                # file, when there is one, still serves; else the link below.
                log.warning(
                    "original file id refused", extra={"content_id": item.id, "error": str(exc)}
                )
                if not item.original_path:
                    message = await bot.send_message(
                        row.chat_id,
                        missing_text(t, item),
                        parse_mode="HTML",
                        rate_limit_args=NO_RETRY,
                    )
                    return Delivery(message.message_id)
        path = Path(item.original_path or "")
        size = item.original_size
        if not fits_upload(size, BOT_UPLOAD_LIMIT):
            text = too_big_text(t, item) if size else missing_text(t, item)
            message = await bot.send_message(
                row.chat_id, text, parse_mode="HTML", rate_limit_args=NO_RETRY
            )
            return Delivery(message.message_id)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError:
            log.warning("original file missing", extra={"content_id": item.id})
            message = await bot.send_message(
                row.chat_id, missing_text(t, item), parse_mode="HTML", rate_limit_args=NO_RETRY
            )
            return Delivery(message.message_id)
        extra: dict[str, Any] = {"supports_streaming": True} if send == bot.send_video else {}
        message = await send(
            row.chat_id,
            data,
            filename=original_name(item),
            caption=caption,
            parse_mode="HTML",
            rate_limit_args=NO_RETRY,
            **extra,
        )
        return Delivery(message.message_id, after=self._keeper(item.id, message, stale))

    def _keeper(
        self, content_id: int, message: Message, stale: str | None
    ) -> Callable[[AsyncSession], Awaitable[None]]:
        """Return the write that keeps the uploaded original's file id (replacing ``stale``)."""

        async def keep(session: AsyncSession) -> None:
            file_id = sent_original_id(message)
            if file_id and (stale or content_id not in self._file_ids):
                self._file_ids[content_id] = file_id
                await originals_store.set_original_file_id(
                    session=session, content_id=content_id, file_id=file_id, stale=stale
                )

        return keep


# --- the print pack ----------------------------------------------------------------------------
def printpack_window(now: dt.datetime, tz: dt.tzinfo) -> tuple[dt.date, dt.date]:
    """Return the pack's days: the last seven, today included (local calendar)."""
    today = now.astimezone(tz).date()
    return today - dt.timedelta(days=PRINTPACK_DAYS - 1), today


def _bounds(first: dt.date, last: dt.date, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(first, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return start, end


async def station_posters(
    *, session: AsyncSession, station: Station, first: dt.date, last: dt.date, now: dt.datetime
) -> list[ContentItem]:
    """Return the posters published in the window for the station's region, oldest first."""
    tz = now.tzinfo or dt.UTC
    start, end = _bounds(first, last, tz)
    items = await originals_store.posters_published(session=session, start=start, end=end, now=now)
    # The newest PRINTPACK_MAX: a pack is drawn in one send slot, within the row's lease.
    return [i for i in items if in_regions(station.region_code, i.regions)][-PRINTPACK_MAX:]


@requires("station_admin")
async def printpack_command(update: Update, context: KepuContext) -> None:
    """/printpack: the last seven days' posters as one A4 PDF, for the station to print."""
    t = context.t
    stations = await activity_service.admin_stations(
        session=context.session, grants=context.scope.roles
    )
    if not stations:
        await reply(update, t("You do not administer any station yet."))
        return
    if len(stations) > 1:
        rows = [
            [InlineKeyboardButton(s.name, callback_data=PrintPackStation(s.id or 0).encode())]
            for s in stations
        ]
        await reply(
            update,
            t("Which station is the print pack for?"),
            reply_markup=InlineKeyboardMarkup(rows),
        )
        return
    await _queue_printpack(update, context, stations[0])


@requires("station_admin")
async def on_printpack_station(update: Update, context: KepuContext) -> None:
    """A station picked for /printpack (PP:<station_id>)."""
    query = update.callback_query
    assert query is not None
    button = PrintPackStation.decode(query.data)
    stations = await activity_service.admin_stations(
        session=context.session, grants=context.scope.roles
    )
    station = next((s for s in stations if button and s.id == button.station_id), None)
    if station is None:
        await answer_invalid(update, context)
        return
    await query.answer()
    await _queue_printpack(update, context, station)


async def _queue_printpack(update: Update, context: KepuContext, station: Station) -> None:
    """Count the window's posters; queue the PDF (drawn by the sender) or say there are none."""
    t = context.t
    chat = update.effective_chat
    assert chat is not None and station.id is not None
    runtime = context.runtime
    now = runtime.now()
    tz = runtime.settings.scheduler.tz
    first, last = printpack_window(now, tz)
    posters = await station_posters(
        session=context.session, station=station, first=first, last=last, now=now.astimezone(tz)
    )
    window = t.span(first, last)
    if not posters:
        await reply(
            update,
            t(
                "No posters were published for {station} in {window}, so there is no print "
                "pack this week.",
                station=html.escape(station.name),
                window=window,
            ),
        )
        return
    person = context.person
    informant_id = (
        await content_store.informant_of(session=context.session, person_id=person.id)
        if person is not None and person.id is not None
        else None
    )
    await outbox_store.enqueue_one(
        session=context.session,
        message=NewMessage(
            chat_id=chat.id,
            kind=PRINTPACK_KIND,
            payload={
                "station_id": station.id,
                "first": first.isoformat(),
                "last": last.isoformat(),
                "locale": t.locale,
                "informant_id": informant_id,
            },
            dedupe_key=f"printpack:{context.scope.update_id}:{station.id}",
            due_at=now,
        ),
        now=now,
    )
    await reply(
        update,
        t(
            "🖨 Preparing the print pack for {station}: {n} posters of {window}, one A4 page "
            "each with a QR code. The PDF follows in a moment.",
            station=html.escape(station.name),
            n=len(posters),
            window=window,
        ),
    )


def printpack_text(t: Translator, station: str, first: dt.date, last: dt.date) -> PrintPackText:
    """Return the words printed on the pack's pages."""
    return PrintPackText(
        station=station,
        window=t("Posters of {window}", window=t.span(first, last)),
        scan_hint=t("Scan to read more"),
        no_picture=t("(no picture)"),
        page=t("Page {n} of {total}"),  # filled in per page by the renderer
    )


def printpack_file_name(first: dt.date, last: dt.date) -> str:
    """Return the PDF's file name."""
    return f"kepu-posters-{first.isoformat()}_{last.isoformat()}.pdf"


class PrintPackDeliverer:
    """Send ``printpack`` rows: draw the PDF at send time and send it as a document."""

    def __init__(self, tools: SenderTools) -> None:
        self.tools = tools

    async def prepare(self, rows: Sequence[ClaimedMessage]) -> None:
        """Nothing to read ahead: a pack reads its own posters."""

    async def deliver(self, row: ClaimedMessage) -> Delivery:
        """Draw and send one print pack."""
        payload = row.payload
        t = get_translator(str(payload.get("locale") or "zh_CN"))
        runtime = self.tools.runtime
        tz = runtime.settings.scheduler.tz
        now = runtime.now().astimezone(tz)
        first = dt.date.fromisoformat(str(payload["first"]))
        last = dt.date.fromisoformat(str(payload["last"]))
        informant_id = payload.get("informant_id")
        await self.tools.gate()
        # The tracked links are written (and committed) before the send: a crash in between
        # leaves unused links, never a printed QR code that leads nowhere.
        async with runtime.sessions() as session, session.begin():
            await outbox_store.touch(session=session, message_id=row.id)
            station = await session.get(Station, int(payload["station_id"]))
            if station is None:
                raise Undeliverable("failed", "station_missing")
            items = await station_posters(
                session=session, station=station, first=first, last=last, now=now
            )
            links: dict[int, str] = {}
            for item in items:
                assert item.id is not None
                links[item.id] = (
                    await share_service.tracked_url(
                        session=session,
                        settings=runtime.settings,
                        informant_id=int(informant_id),
                        content_id=item.id,
                        channel=PRINT_CHANNEL,
                        now=now,
                    )
                    if isinstance(informant_id, int)
                    else item.url
                )
            station_name = station.name
        posters = []
        for item in items:
            assert item.id is not None
            title, summary = localised(item, t.locale)
            picture = await self._picture(item)
            posters.append(PrintPoster(title, summary, links[item.id], picture))
        text = printpack_text(t, station_name, first, last)
        bot = self.tools.bot
        if not posters:
            message = await bot.send_message(
                row.chat_id,
                t(
                    "The posters of {window} were retired meanwhile: no print pack.",
                    window=t.span(first, last),
                ),
                rate_limit_args=NO_RETRY,
            )
            return Delivery(message.message_id)
        pdf = await asyncio.to_thread(render_printpack, posters, text)
        caption = t(
            "🖨 Print pack of {station}: {n} posters of {window}, A4, one a page, each with "
            "a QR code of its link.",
            station=html.escape(station_name),
            n=len(posters),
            window=t.span(first, last),
        )
        message = await bot.send_document(
            row.chat_id,
            pdf,
            filename=printpack_file_name(first, last),
            caption=caption,
            parse_mode="HTML",
            rate_limit_args=NO_RETRY,
        )
        return Delivery(message.message_id)

    async def _picture(self, item: ContentItem) -> bytes | None:
        """Return the poster's best picture: its original, its media, or Telegram's copy."""
        for candidate in (item.original_path, item.media_path):
            if candidate and is_image_file(candidate):
                try:
                    return await asyncio.to_thread(Path(candidate).read_bytes)
                except OSError:
                    continue
        for file_id in (
            item.original_file_id if original_is_picture(item) else None,
            item.media_file_id,
        ):
            if not file_id:
                continue
            try:
                file = await self.tools.bot.get_file(file_id)
                if file.file_size is not None and file.file_size > DOWNLOAD_LIMIT:
                    continue
                return bytes(await file.download_as_bytearray())
            except TelegramError as exc:
                log.info("poster picture not downloaded", extra={"error": str(exc)})
        return None


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Return the ⬇ button, /printpack and its station buttons (command group)."""
    return [
        CallbackQueryHandler(on_original_button, pattern=FetchOriginal.pattern),
        CommandHandler("printpack", printpack_command),
        CallbackQueryHandler(on_printpack_station, pattern=PrintPackStation.pattern),
    ]


FEATURE = Feature(
    name="content_originals",
    handlers=in_group(COMMAND_GROUP, *handlers()),
    commands=(
        command(
            "printpack",
            N_("Print pack: this week's posters as one PDF"),
            "station_admin",
            order=76,
        ),
    ),
    card_buttons=(card_provider,),
    start_payloads=(on_original_start,),
    outbox_kinds={ORIGINAL_KIND: OriginalDeliverer, PRINTPACK_KIND: PrintPackDeliverer},
)
