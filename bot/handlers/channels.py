"""Channels: /channels (list, link, unlink), channel posts in the outbox, their reach.

Linking: forward any post of the channel to the bot (easiest), or send
``/channels link @username`` (or the chat id). The bot checks with getChatMember that it is
an administrator allowed to post there, then asks for the region unless the coordinator
has only one. Posts are ``channel_post`` outbox rows: the card with a share button, sent
to the channel, recorded with the channel's subscriber count once (its reach, a figure of
its own). What is counted and why: docs/channels.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import (
    ChatFullInfo,
    ChatMemberAdministrator,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageOriginChannel,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.content.cards import ButtonProvider, CardButtons, CardRecipient
from bot.core.callback_data import CallbackData, Family
from bot.core.error_text import error_text as domain_text
from bot.handlers.commands import command
from bot.handlers.common import esc, private_only, reply, requires
from bot.handlers.content_delivery import ContentDeliverer
from bot.handlers.dialog import (
    Dialog,
    Flow,
    end_dialog,
    get_dialog,
    input_hint,
    start_dialog,
)
from bot.handlers.feature import COMMAND_GROUP, Feature, in_group
from bot.handlers.links_web import client_address
from bot.handlers.shares import SHARE_LABEL
from bot.i18n import N_, Translator, get_translator
from bot.runtime.context import KepuContext, Runtime
from bot.runtime.outbox import Delivery, SenderTools
from bot.services import channels as channel_service
from bot.services import links as link_service
from bot.services import regions as region_service
from bot.services import shares as share_service
from bot.services.access import coordinator_regions
from bot.services.channels import CHANNEL_POST_KIND, BotRights, ChannelError
from storage import channels as channel_store
from storage import outbox as outbox_store
from storage import regions as region_store
from storage.models import ReachChannel
from storage.outbox import ClaimedMessage, NewMessage

log = logging.getLogger(__name__)

FLOW = "channel_link"
ROLES = ("coordinator", "curator")

NO_REGION = N_("That region was not found. Send its 6-digit code, e.g. 330100.")


@dataclass(frozen=True)
class ChannelRegion(CallbackData, prefix="CHN:reg"):
    """Link the channel waiting in the dialog to this region."""

    region_code: str


@dataclass(frozen=True)
class ChannelUnlink(CallbackData, prefix="CHN:del"):
    """Unlink a channel (by its row id)."""

    channel_id: int


CHANNEL_BUTTONS: Family[ChannelRegion | ChannelUnlink] = Family(
    "CHN", ChannelRegion, ChannelUnlink
)


def error_text(t: Translator, exc: ChannelError) -> str:
    """Return the localised refusal of a channel error (the one table, bot.core.error_text)."""
    return domain_text(exc, t)


# --- /channels ----------------------------------------------------------------------------


async def _channel_line(context: KepuContext, channel: ReachChannel) -> str:
    region = await region_service.full_name(session=context.session, code=channel.region_code)
    url = channel_service.channel_url(channel)
    name = esc(channel.title or str(channel.chat_id))
    shown = f'<a href="{esc(url)}">{name}</a>' if url else name
    return f"📢 {shown} — {esc(region)}"


@requires(*ROLES)
async def channels_command(update: Update, context: KepuContext) -> None:
    """List the channels in the user's area; ``link <@name|id> [region]``; ``unlink <n>``."""
    args = list(context.args or [])
    if args and args[0].lower() == "link" and len(args) in (2, 3):
        reference = channel_service.parse_reference(args[1])
        if reference is None:
            await reply(update, error_text(context.t, ChannelError("not_found")))
            return
        await _start_link(update, context, reference, args[2] if len(args) == 3 else None)
        return
    if args:
        await reply(update, _usage(context.t))
        return
    await _list(update, context)


def _usage(t: Translator) -> str:
    return t(
        "To link a channel: make this bot an administrator of the channel (with the right "
        "to post messages), then forward any post of the channel to me. Or send "
        "/channels link @channelname (or the channel's id), optionally followed by the "
        "region code."
    )


async def _list(update: Update, context: KepuContext) -> None:
    t = context.t
    channels = await channel_service.visible(
        session=context.session, grants=context.scope.roles, role_names=context.scope.role_names
    )
    if not channels:
        await reply(update, t("No channel is linked in your area yet.") + "\n\n" + _usage(t))
        return
    lines = [t("Channels linked in your area ({n}):", n=len(channels))]
    rows = []
    for channel in channels:
        lines.append(await _channel_line(context, channel))
        assert channel.id is not None
        rows.append(
            [
                InlineKeyboardButton(
                    t("Unlink “{title}”", title=channel.title or str(channel.chat_id)),
                    callback_data=ChannelUnlink(channel.id).encode(),
                )
            ]
        )
    lines += ["", _usage(t)]
    await reply(
        update,
        "\n".join(lines),
        reply_markup=InlineKeyboardMarkup(rows),
        disable_web_page_preview=True,
    )


async def _bot_rights(
    context: KepuContext, reference: int | str
) -> tuple[ChatFullInfo, BotRights]:
    """Ask Telegram what the channel is and what the bot may do there (reads, sent at once)."""
    try:
        chat = await context.bot.get_chat(reference)
        member = await context.bot.get_chat_member(chat.id, context.bot.id)
    except TelegramError as exc:
        log.info("channel lookup failed", extra={"error": str(exc)})
        raise ChannelError("not_found") from exc
    can_post = isinstance(member, ChatMemberOwner) or (
        isinstance(member, ChatMemberAdministrator) and bool(member.can_post_messages)
    )
    return chat, BotRights(chat_type=chat.type, status=member.status, can_post_messages=can_post)


async def _start_link(
    update: Update, context: KepuContext, reference: int | str, region: str | None
) -> None:
    """Check the channel and the bot's rights, then link it or ask for the region."""
    t = context.t
    try:
        chat, rights = await _bot_rights(context, reference)
        channel_service.check_rights(rights)
    except ChannelError as exc:
        await _refuse(update, context, exc, detail={"reference": str(reference)})
        return
    own = coordinator_regions(context.scope.roles)
    if region is None and len(own) == 1 and not context.has_role("curator", "admin"):
        region = own[0]
    if region is not None:
        await _link(update, context, chat.id, region, rights)
        return
    await start_dialog(update, context, FLOW, "region", chat_id=chat.id, title=chat.title)
    rows = []
    for code in own[:8]:
        name = await region_service.short_name(session=context.session, code=code)
        rows.append(
            [InlineKeyboardButton(f"{name}（{code}）", callback_data=ChannelRegion(code).encode())]
        )
    await reply(
        update,
        t(
            "Which region is the channel “{title}” for? Send the region's 6-digit code "
            "(e.g. 330100 for 杭州市).",
            title=esc(chat.title or ""),
        )
        + "\n"
        + input_hint(context),
        reply_markup=InlineKeyboardMarkup(rows) if rows else None,
    )


async def _refuse(
    update: Update, context: KepuContext, exc: ChannelError, detail: dict[str, Any] | None = None
) -> None:
    """Answer a refusal; checks that failed before the service (rights, lookup) are audited."""
    if exc.code in ("not_admin", "cannot_post", "not_channel", "not_found"):
        person = context.person
        await channel_service.audit_refusal(
            session=context.session,
            actor_id=person.id if person is not None else None,
            reason=exc.code,
            now=context.runtime.now(),
            detail=detail,
        )
    await reply(update, error_text(context.t, exc))


async def _link(
    update: Update, context: KepuContext, chat_id: int, region: str, rights: BotRights
) -> None:
    """Link the channel (scope and rights checked in the service), then say where it went."""
    t, session = context.t, context.session
    if await region_store.get_region(session=session, code=region) is None:
        await reply(update, t(NO_REGION))
        return
    chat = await context.bot.get_chat(chat_id)
    invite = None
    if not chat.username:
        invite = await _invite_link(context, chat_id)
    person = context.person
    try:
        channel = await channel_service.link(
            session=session,
            chat_id=chat_id,
            region_code=region,
            title=chat.title,
            username=chat.username,
            invite_link=invite,
            grants=context.scope.roles,
            role_names=context.scope.role_names,
            actor_id=person.id if person is not None else None,
            rights=rights,
            now=context.runtime.now(),
        )
    except ChannelError as exc:
        await reply(update, error_text(t, exc))
        return
    await end_dialog(update, context)
    await reply(
        update,
        t(
            "Linked: {line}\nPushes to this region can now go to the channel as well "
            "(choose 📢 Channels or Both when you push).",
            line=await _channel_line(context, channel),
        ),
        disable_web_page_preview=True,
    )


async def _invite_link(context: KepuContext, chat_id: int) -> str | None:
    """Return an invite link of a private channel (informants are told it when they join)."""
    try:
        return await context.bot.export_chat_invite_link(chat_id)
    except TelegramError as exc:
        log.info("no invite link", extra={"error": str(exc)})
        return None


async def step_region(update: Update, context: KepuContext, dialog: Dialog) -> None:
    """The typed region code of the channel waiting to be linked."""
    message = update.effective_message
    text = (message.text if message is not None else None) or ""
    code = text.strip()
    chat_id = dialog.data.get("chat_id")
    if not (len(code) == 6 and code.isdigit()) or not isinstance(chat_id, int):
        await reply(update, context.t(NO_REGION) + "\n" + input_hint(context))
        return
    await _link_waiting(update, context, chat_id, code)


async def _link_waiting(update: Update, context: KepuContext, chat_id: int, code: str) -> None:
    try:
        _, rights = await _bot_rights(context, chat_id)
    except ChannelError as exc:
        await _refuse(update, context, exc, detail={"chat_id": chat_id})
        return
    await _link(update, context, chat_id, code, rights)


def _forwarded_channel(message: Message | None) -> MessageOriginChannel | None:
    origin = message.forward_origin if message is not None else None
    return origin if isinstance(origin, MessageOriginChannel) else None


class _ChannelForward(filters.MessageFilter):
    """A message forwarded from a channel."""

    def filter(self, message: Message) -> bool:
        return _forwarded_channel(message) is not None


async def on_forwarded_post(update: Update, context: KepuContext) -> None:
    """A coordinator or curator forwards a channel post: link that channel."""
    if not context.has_role(*ROLES, "admin"):
        return  # other features (or the fallback answer) handle it
    origin = _forwarded_channel(update.effective_message)
    assert origin is not None
    await _start_link(update, context, origin.chat.id, None)
    raise ApplicationHandlerStop


@requires(*ROLES)
async def on_button(update: Update, context: KepuContext) -> None:
    """Region choice of a waiting link; unlink buttons of /channels."""
    query = update.callback_query
    assert query is not None
    button = CHANNEL_BUTTONS.decode(query.data)
    t = context.t
    if isinstance(button, ChannelRegion):
        await query.answer()
        dialog = await _waiting(update, context)
        if dialog is None:
            await reply(update, t("That link request has ended. Forward a post again."))
            return
        await _link_waiting(update, context, int(dialog.data["chat_id"]), button.region_code)
        return
    if isinstance(button, ChannelUnlink):
        person = context.person
        try:
            channel = await channel_service.unlink(
                session=context.session,
                channel_id=button.channel_id,
                grants=context.scope.roles,
                role_names=context.scope.role_names,
                actor_id=person.id if person is not None else None,
                now=context.runtime.now(),
            )
        except ChannelError as exc:
            await query.answer(error_text(t, exc)[:200], show_alert=True)
            return
        await query.answer()
        await reply(
            update, t("Unlinked “{title}”.", title=esc(channel.title or str(channel.chat_id)))
        )
        return
    await query.answer()


async def _waiting(update: Update, context: KepuContext) -> Dialog | None:
    """Return the user's pending link dialog, if any."""
    dialog = await get_dialog(update, context)
    if dialog is None or dialog.flow != FLOW or "chat_id" not in dialog.data:
        return None
    return dialog


class ChannelMembershipHandler(ChatMemberHandler[KepuContext, None]):
    """The bot's own rights changing in a channel."""

    def check_update(self, update: object) -> bool:
        """Accept my_chat_member updates of channels only."""
        if not super().check_update(update):
            return False
        assert isinstance(update, Update) and update.my_chat_member is not None
        return update.my_chat_member.chat.type == "channel"


async def on_channel_rights(update: Update, context: KepuContext) -> None:
    """Tell whoever linked a channel that the bot can no longer post there."""
    change = update.my_chat_member
    assert change is not None
    member = change.new_chat_member
    can_post = isinstance(member, ChatMemberOwner) or (
        isinstance(member, ChatMemberAdministrator) and bool(member.can_post_messages)
    )
    if can_post:
        return
    found = await channel_service.linked_with_linker(
        session=context.session, chat_id=change.chat.id
    )
    if found is None:
        return
    channel, person = found
    if person is None:  # linked from the command line: nobody to tell
        return
    t = get_translator(person.language or context.runtime.settings.i18n.default_locale)
    now = context.runtime.now()
    await outbox_store.enqueue_one(
        session=context.session,
        message=NewMessage(
            chat_id=person.telegram_id,
            kind="message",
            payload={
                "text": t(
                    "The bot can no longer post in the channel “{title}”: pushes to it will "
                    "fail. Make the bot an administrator with the right to post messages "
                    "again, or send /channels to unlink it.",
                    title=esc(channel.title or str(channel.chat_id)),
                )
            },
            dedupe_key=f"channel-rights:{channel.chat_id}:{context.scope.update_id}",
            due_at=now,
        ),
        now=now,
    )


# --- channel posts in the outbox ----------------------------------------------------------


class ChannelPostDeliverer:
    """Send ``channel_post`` rows: the item's card in the channel, then measure its reach.

    The card is the content feature's (retired or expired items are refused there); the
    subscriber count is asked after the send, outside any transaction, and written with
    the row's ``sent`` mark, once per post.
    """

    def __init__(self, tools: SenderTools) -> None:
        self.tools = tools
        self.cards = ContentDeliverer(tools)

    async def prepare(self, rows: Sequence[ClaimedMessage]) -> None:
        """Read the batch's items."""
        await self.cards.prepare(rows)

    async def deliver(self, row: ClaimedMessage) -> Delivery:
        """Post the card and read the channel's subscriber count."""
        sent = await self.cards.deliver(row)
        subscribers: int | None = None
        try:
            subscribers = await self.tools.bot.get_chat_member_count(row.chat_id)
        except TelegramError as exc:  # the post is out: never resend it for a count
            log.info("channel subscriber count unavailable", extra={"error": str(exc)})
        now = self.tools.runtime.now()
        payload = row.payload

        async def record(session: AsyncSession) -> None:
            if sent.after is not None:
                await sent.after(session)
            if sent.message_id is None:
                return
            await channel_service.record_post(
                session=session,
                channel_chat_id=row.chat_id,
                region_code=str(payload.get("region_code") or ""),
                content_id=int(payload["content_id"]),
                push_id=row.push_id,
                message_id=sent.message_id,
                subscribers=subscribers,
                now=now,
            )

        return Delivery(sent.message_id, after=record)


class ChannelReport:
    """Tell the curator the channel reach of a finished push, once, apart from informants."""

    def __init__(self, tools: SenderTools) -> None:
        self.tools = tools
        self._plain: set[int] = set()  # pushes without channels: never looked at again
        self._done: set[int] = set()  # pushes reported by this sender
        self._checked_at: dict[int, float] = {}

    async def when_idle(self) -> None:
        """Look again at the channel pushes skipped between progress passes."""
        for push_id in sorted(self._checked_at):
            try:
                await self._report(push_id)
            except Exception:  # a report is a courtesy; never stop the sender for it
                log.exception("channel report failed", extra={"push_id": push_id})

    async def after_batch(self, push_ids: set[int], *, final_check: bool) -> None:
        """Queue the channel line of each push whose rows are all final."""
        loop = asyncio.get_running_loop()
        for push_id in sorted(push_ids - self._plain - self._done):
            last = self._checked_at.get(push_id)
            # Counting a big push's rows is not free: as often as its progress, at most.
            if not final_check and last is not None:
                if loop.time() - last < self.tools.options.progress_every:
                    continue
            self._checked_at[push_id] = loop.time()
            try:
                await self._report(push_id)
            except Exception:  # a report is a courtesy; never stop the sender for it
                log.exception("channel report failed", extra={"push_id": push_id})

    async def _report(self, push_id: int) -> None:
        runtime = self.tools.runtime
        async with runtime.sessions() as session:
            push = await outbox_store.get_push(session=session, push_id=push_id)
            if push is None or not (push.targeting or {}).get("to"):
                self._plain.add(push_id)
                return
            counts = await outbox_store.counts(session=session, push_id=push_id)
            if counts.get("pending", 0):
                return
            posts = await channel_store.posts_of_push(session=session, push_id=push_id)
        targeting = push.targeting or {}
        chat_id = targeting.get("report_chat")
        if not isinstance(chat_id, int):
            return
        t = get_translator(str(targeting.get("report_locale") or "zh_CN"))
        now = runtime.now()
        text = channel_report_text(t, push_id, posts)
        self._done.add(push_id)
        self._checked_at.pop(push_id, None)
        await self.tools.gate()
        async with runtime.sessions() as session, session.begin():
            await outbox_store.enqueue(
                session=session,
                push_id=None,
                messages=[
                    NewMessage(
                        chat_id=chat_id,
                        kind="message",
                        payload={"text": text},
                        dedupe_key=f"channel-report:{push_id}",
                        due_at=now,
                    )
                ],
                now=now,
            )


def channel_report_text(t: Translator, push_id: int, posts: Sequence[Any]) -> str:
    """Return the push report's channel line: posts and subscribers, counted apart."""
    if not posts:
        return t("📢 Push #{id}: no channel post was sent.", id=push_id)
    subscribers = sum(p.subscribers or 0 for p in posts)
    return t(
        "📢 Channel reach of push #{id}: {posts} channel posts, {subscribers} subscribers "
        "(counted when posted; apart from informants' reach, not in propagation volume).",
        id=push_id,
        posts=len(posts),
        subscribers=subscribers,
    )


# --- the channel posts' tracked links ----------------------------------------------------

CHANNEL_LINK_PATH = "/c/{code}"
_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def channel_link_url(runtime: Runtime, code: str) -> str:
    """Return the public URL of a channel link."""
    return f"{runtime.settings.web.public_base_url}/c/{code}"


def install_channel_links(app: web.Application, runtime: Runtime) -> None:
    """Add ``GET /c/<code>``: 302 to the item's stored URL, visits counted like /s/ links."""
    trusted = runtime.settings.web.trusted_networks

    async def follow(request: web.Request) -> web.StreamResponse:
        code = request.match_info.get("code", "")
        if not link_service.CODE_RE.match(code):
            return web.Response(status=404, text="not found", headers=_NO_STORE)
        async with runtime.sessions() as session:
            found = await channel_store.channel_link_target(session=session, code=code)
        if found is None or not link_service.safe_target(found[1]):
            return web.Response(status=404, text="not found", headers=_NO_STORE)
        link_id, url = found
        if request.method == "GET":
            visitor = link_service.countable_visitor(
                runtime.settings,
                ip=client_address(
                    request.remote,
                    ",".join(request.headers.getall("X-Forwarded-For", [])),
                    trusted,
                ),
                user_agent=request.headers.get("User-Agent"),
                now=runtime.now(),
            )
            if visitor is not None:
                async with runtime.sessions() as session, session.begin():
                    await channel_store.record_channel_visit(
                        session=session,
                        link_id=link_id,
                        day=runtime.today(),
                        visitor_hash=visitor,
                        now=runtime.now(),
                    )
        return web.Response(status=302, headers={**_NO_STORE, "Location": url})

    app.router.add_get(CHANNEL_LINK_PATH, follow)


# --- card buttons in a channel ------------------------------------------------------------


def card_provider(runtime: Runtime) -> ButtonProvider:
    """Return the provider of a channel post's buttons: a share button anyone can use."""

    async def channel_card_buttons(recipient: CardRecipient) -> CardButtons:
        item = recipient.item
        if recipient.informant_id is not None or item.id is None or recipient.chat_id >= 0:
            return CardButtons()
        channel = await channel_store.get_channel(
            session=recipient.session, chat_id=recipient.chat_id
        )
        if channel is None:
            return CardButtons()
        t = get_translator(recipient.locale)
        # A channel post is read by everyone: no per-informant button. Share opens inline
        # mode with the item chosen; an informant's inline result carries their own link.
        share = InlineKeyboardButton(
            t(SHARE_LABEL), switch_inline_query=share_service.inline_result_id(item.id)
        )
        # The channel's own tracked link (its visits are channel figures, no informant's).
        code = await channel_store.channel_link(
            session=recipient.session,
            channel_chat_id=channel.chat_id,
            region_code=channel.region_code,
            content_id=item.id,
            new_code=link_service.new_code,
            now=runtime.now(),
        )
        return CardButtons(rows=[[share]], open_url=channel_link_url(runtime, code))

    return channel_card_buttons


COMMANDS = (command("channels", N_("Channels linked to your region"), *ROLES, order=64),)

FLOWS = {
    FLOW: Flow.of({"region": step_region}, N_("Left linking the channel; nothing was linked.")),
}

FEATURE = Feature(
    name="channels",
    handlers=in_group(
        COMMAND_GROUP,
        CommandHandler("channels", private_only(channels_command)),
        CallbackQueryHandler(private_only(on_button), pattern=CHANNEL_BUTTONS.pattern),
        MessageHandler(filters.ChatType.PRIVATE & _ChannelForward(), on_forwarded_post),
        ChannelMembershipHandler(on_channel_rights, ChatMemberHandler.MY_CHAT_MEMBER),
    ),
    flows=FLOWS,
    commands=COMMANDS,
    card_buttons=(card_provider,),
    web_routes=(install_channel_links,),
    outbox_kinds={CHANNEL_POST_KIND: ChannelPostDeliverer},
    outbox_observers=(ChannelReport,),
)
