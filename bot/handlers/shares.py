"""Shares: inline sharing, groups and forwards, external reports, /top; card buttons.

Modules: this one (inline mode, groups, registration), ``shares_external`` (the "I shared
it elsewhere" dialog) and ``shares_top`` (/top leaderboards).  What is counted and why is
in docs/shares.md.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import (
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultCachedPhoto,
    InlineQueryResultCachedVideo,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    MessageEntity,
    MessageOriginChannel,
    MessageOriginUser,
    SwitchInlineQueryChosenChat,
    Update,
)
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    ChosenInlineResultHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.content.cards import ButtonProvider, CardButtons, CardRecipient
from bot.handlers import shares_external, shares_top
from bot.handlers.callbacks import ShareElsewhere, ShareHowCounted
from bot.handlers.feature import COMMAND_GROUP, Feature, in_group
from bot.handlers.links_web import install_link_routes
from bot.i18n import N_, Translator, get_translator
from bot.runtime.context import KepuContext, Runtime
from bot.runtime.outbox import Delivery, SenderTools, Undeliverable
from bot.services import channels as channel_service
from bot.services import share_stats, share_ways
from bot.services import shares as share_service
from bot.services.shares import ShareError
from storage import groups as group_store
from storage import outbox as outbox_store
from storage.models import ContentItem
from storage.outbox import ClaimedMessage, NewMessage

log = logging.getLogger(__name__)

SHARE_LABEL = N_("📤 Share")
ELSEWHERE_LABEL = N_("✍️ I shared it elsewhere")
HOW_COUNTED_LABEL = N_("ⓘ How shares count")
READ_LABEL = N_("🔗 Read more")
START_PAYLOAD = "share"
INLINE_LIMIT = 20
SUMMARY_CHARS = 300
VIDEO_SUFFIXES = (".mp4", ".mov", ".webm")


# --- card buttons ---------------------------------------------------------------------------


def share_rows(t: Translator, content_id: int) -> list[list[InlineKeyboardButton]]:
    """Return the Share and "I shared it elsewhere" rows of a content card."""
    chosen = SwitchInlineQueryChosenChat(
        query=share_service.inline_result_id(content_id),
        allow_user_chats=True,
        allow_group_chats=True,
        allow_bot_chats=False,
        allow_channel_chats=False,
    )
    return [
        [InlineKeyboardButton(t(SHARE_LABEL), switch_inline_query_chosen_chat=chosen)],
        [
            InlineKeyboardButton(
                t(ELSEWHERE_LABEL), callback_data=ShareElsewhere(content_id).encode()
            ),
            # Why the button earns less than a forward: told on tap, not in the card's text
            # (the text travels with every forward, to people who are not informants).
            InlineKeyboardButton(t(HOW_COUNTED_LABEL), callback_data=ShareHowCounted().encode()),
        ],
    ]


async def on_how_counted(update: Update, context: KepuContext) -> None:
    """The card's ⓘ button: say in a pop-up what each way of sharing earns, and why."""
    query = update.callback_query
    assert query is not None
    await query.answer(context.t(share_ways.HOW_SHARES_COUNT_SHORT), show_alert=True)


def card_provider(runtime: Runtime) -> ButtonProvider:
    """Return the card button provider: share rows and the card's tracked "Open" link."""

    async def share_card_buttons(recipient: CardRecipient) -> CardButtons:
        item = recipient.item
        if recipient.informant_id is None or item.id is None:
            return CardButtons()
        # The card's own link is tracked as a forward: it travels with the forwarded card.
        url = await share_service.tracked_url(
            session=recipient.session,
            settings=runtime.settings,
            informant_id=recipient.informant_id,
            content_id=item.id,
            channel=share_service.FORWARD,
            now=runtime.now(),
        )
        return CardButtons(
            rows=share_rows(get_translator(recipient.locale), item.id), open_url=url
        )

    return share_card_buttons


# --- inline mode ---------------------------------------------------------------------------


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _texts(item: ContentItem, locale: str) -> tuple[str, str]:
    if locale == "en" and item.title_en:
        return item.title_en, item.summary_en or item.summary
    return item.title, item.summary


def inline_result(
    item: ContentItem, t: Translator, url: str, *, tracked: bool, chat_type: str | None = None
) -> Any:
    """Return the inline result for an item whose message carries ``url``.

    A tracked result's id carries the query's ``chat_type``, so the chosen result says
    what kind of chat the share went to (Telegram never says which chat).
    """
    assert item.id is not None
    title, summary = _texts(item, t.locale)
    head = f"<b>{html.escape(title)}</b>\n"
    tail = f"\n\n🔗 {html.escape(url)}"
    room = 1024 - len(head) - len(tail) - 10
    text = head + html.escape(_cut(summary, min(SUMMARY_CHARS, max(room, 0)))) + tail
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(t(READ_LABEL), url=url)]])
    result_id = share_service.inline_result_id(item.id, chat_type) if tracked else f"x{item.id}"
    if item.media_file_id:
        if str(item.media_path or "").lower().endswith(VIDEO_SUFFIXES):
            return InlineQueryResultCachedVideo(
                result_id,
                item.media_file_id,
                title=_cut(title, 64),
                caption=text,
                parse_mode="HTML",
                reply_markup=markup,
            )
        return InlineQueryResultCachedPhoto(
            result_id,
            item.media_file_id,
            title=_cut(title, 64),
            caption=text,
            parse_mode="HTML",
            reply_markup=markup,
        )
    return InlineQueryResultArticle(
        result_id,
        _cut(title, 64),
        InputTextMessageContent(
            text, parse_mode="HTML", link_preview_options=LinkPreviewOptions(is_disabled=False)
        ),
        description=_cut(summary, 100),
        reply_markup=markup,
    )


async def on_inline_query(update: Update, context: KepuContext) -> None:
    """Answer "@bot c<id>" with that item and "@bot words" with a catalogue search."""
    query = update.inline_query
    if query is None:
        return
    runtime, t, session = context.runtime, context.t, context.session
    now = runtime.now()
    person = context.person
    informant = await share_service.informant_for(
        session=session, person_id=person.id if person is not None else None
    )
    items = await share_service.inline_items(
        session=session, query=query.query, now=now, limit=INLINE_LIMIT
    )
    results = []
    for item in items:
        assert item.id is not None
        if informant is not None:
            url = await share_service.tracked_url(
                session=session,
                settings=runtime.settings,
                informant_id=informant.informant_id,
                content_id=item.id,
                channel=share_service.INLINE,
                now=now,
            )
        else:
            url = item.url
        results.append(
            inline_result(item, t, url, tracked=informant is not None, chat_type=query.chat_type)
        )
    button = None
    if informant is None:
        button = InlineQueryResultsButton(
            text=t("Join as an informant to count your shares"), start_parameter=START_PAYLOAD
        )
    # Personal (links carry the informant) and short-lived (the catalogue changes). An
    # informant's results carry the chat type in their ids: not cached, or a result answered
    # for a private chat could be reused in a group.
    cache_time = 0 if informant is not None else 30
    await query.answer(results, cache_time=cache_time, is_personal=True, button=button)


async def on_chosen_inline_result(update: Update, context: KepuContext) -> None:
    """Record an inline share: Telegram says which result, never which chat."""
    chosen = update.chosen_inline_result
    if chosen is None:
        return
    content_id = share_service.content_of_result(chosen.result_id)
    person = context.person
    if content_id is None or person is None:
        return
    runtime = context.runtime
    informant = await share_service.informant_for(session=context.session, person_id=person.id)
    if informant is None:
        return
    try:
        await share_service.record_share(
            session=context.session,
            settings=runtime.settings,
            informant=informant,
            content_id=content_id,
            channel=share_service.INLINE,
            target=chosen.inline_message_id or "",
            audience=0,
            chat_type=share_service.chat_type_of_result(chosen.result_id),
            now=runtime.now(),
            today=runtime.today(),
        )
    except ShareError as exc:  # nobody to answer: the result was already sent
        log.info("inline share not counted", extra={"code": exc.code})


async def chosen_results_in_bulk(
    runtime: Runtime, session: AsyncSession, payloads: list[dict[str, Any]]
) -> None:
    """Record a batch of chosen_inline_result updates set-based (same rules as one by one)."""
    choices = []
    for payload in payloads:
        chosen = payload["chosen_inline_result"]
        choices.append(
            share_service.InlineChoice(
                telegram_id=int(chosen["from"]["id"]),
                result_id=str(chosen["result_id"]),
                inline_message_id=chosen.get("inline_message_id"),
            )
        )
    await share_service.record_inline_shares(
        session=session,
        settings=runtime.settings,
        choices=choices,
        now=runtime.now(),
        today=runtime.today(),
    )


async def on_share_start(update: Update, context: KepuContext, payload: str) -> bool:
    """Handle /start share (the inline results' button for non-informants)."""
    if payload != START_PAYLOAD:
        return False
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            context.t(
                "Your shares count once you have joined your station as an informant: open "
                "its invite link or scan the QR code on its notice board."
            )
        )
    return True


# --- groups ------------------------------------------------------------------------------


class GroupMembershipHandler(ChatMemberHandler[KepuContext, None]):
    """The bot's own membership changes in groups (private chats are left to others)."""

    def check_update(self, update: object) -> bool:
        """Accept my_chat_member updates of groups and supergroups only."""
        if not super().check_update(update):
            return False
        assert isinstance(update, Update) and update.my_chat_member is not None
        return update.my_chat_member.chat.type in ("group", "supergroup")


_PRESENT = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)


async def on_my_chat_member(update: Update, context: KepuContext) -> None:
    """Link a group to the informant who added the bot; note when the bot leaves."""
    change = update.my_chat_member
    if change is None:
        return
    runtime, session = context.runtime, context.session
    chat, now = change.chat, runtime.now()
    was_in = change.old_chat_member.status in _PRESENT
    is_in = change.new_chat_member.status in _PRESENT
    if not is_in:
        await group_store.bot_removed(session=session, chat_id=chat.id, now=now)
        return
    if was_in:  # promoted or demoted: still the same group
        return
    person = context.person
    informant = await share_service.informant_for(
        session=session, person_id=person.id if person is not None else None
    )
    await group_store.bot_added(
        session=session,
        chat_id=chat.id,
        title=chat.title,
        informant_id=informant.informant_id if informant else None,
        now=now,
    )
    await _learn_member_count(context, chat.id, [])
    t = get_translator(runtime.settings.i18n.default_locale)
    try:
        await context.bot.send_message(
            chat.id,
            t(
                "Hello! I am the Kepu China science bot. Science cards that informants forward "
                "here count towards their station's propagation figures."
            ),
        )
    except TelegramError as exc:
        log.info("could not greet group", extra={"error": str(exc)})
    if (
        informant is None
        or change.new_chat_member.status != ChatMember.MEMBER
        or change.from_user is None
    ):
        return
    # Whether privacy mode hides forwards is asked afresh (it can change at BotFather), and
    # after the commit: the hint to the adder is sent only if the bot cannot read them.
    await outbox_store.enqueue_one(
        session=session,
        message=NewMessage(
            chat_id=change.from_user.id,
            kind=PRIVACY_HINT_KIND,
            payload={
                "text": context.t(
                    "I was added to “{title}”, but as a plain member I cannot see forwards "
                    "there. Make me an administrator of the group so forwarded cards count.",
                    title=html.escape(chat.title or ""),
                )
            },
            dedupe_key=f"privacy-hint:{chat.id}:{context.scope.update_id}",
            due_at=now,
        ),
        now=now,
    )


PRIVACY_HINT_KIND = "privacy_hint"


class PrivacyHint:
    """Outbox rows ``privacy_hint``: tell the adder to make the bot an admin, if needed."""

    def __init__(self, tools: SenderTools) -> None:
        self.tools = tools

    async def prepare(self, rows: Sequence[ClaimedMessage]) -> None:
        """Nothing to read ahead."""

    async def deliver(self, row: ClaimedMessage) -> Delivery:
        """Send the hint only while privacy mode hides group messages from the bot."""
        me = await self.tools.bot.get_me()
        if me.can_read_all_group_messages:
            return Delivery(None)
        message = await self.tools.bot.send_message(
            row.chat_id, row.payload["text"], parse_mode="HTML"
        )
        return Delivery(message.message_id)


MEMBER_COUNT_KIND = "member_count"


class MemberCountRefresh:
    """Outbox rows ``member_count``: fetch a group's member count after the commit."""

    def __init__(self, tools: SenderTools) -> None:
        self.tools = tools

    async def prepare(self, rows: Sequence[ClaimedMessage]) -> None:
        """Nothing to read ahead."""

    async def deliver(self, row: ClaimedMessage) -> Delivery:
        """Ask Telegram, then cache the count and set the waiting shares' reach."""
        try:
            count = await self.tools.bot.get_chat_member_count(row.chat_id)
        except Forbidden as exc:  # the bot left the group: the shares keep the old count
            raise Undeliverable("failed", f"Forbidden: {exc.message}") from exc
        share_ids = [int(i) for i in row.payload.get("share_ids") or []]
        now = self.tools.runtime.now()

        async def learn(session: AsyncSession) -> None:
            await share_service.learn_member_count(
                session=session,
                chat_id=row.chat_id,
                member_count=count,
                share_ids=share_ids,
                now=now,
            )

        return Delivery(None, after=learn)


def _urls(update: Update) -> list[str]:
    message = update.effective_message
    if message is None:
        return []
    found: list[str] = []
    entities = message.parse_entities() | message.parse_caption_entities()
    for entity, text in entities.items():
        if entity.type == MessageEntity.TEXT_LINK and entity.url:
            found.append(entity.url)
        elif entity.type == MessageEntity.URL:
            found.append(text)
    return found


async def on_group_forward(update: Update, context: KepuContext) -> None:
    """Record a forward of a kepubot content card into a group as a share."""
    message = update.effective_message
    if message is None or update.effective_chat is None:
        return
    origin = message.forward_origin
    # A forward of the bot's own card, or of a channel post (matched to the post below).
    if not isinstance(origin, MessageOriginChannel) and (
        not isinstance(origin, MessageOriginUser) or origin.sender_user.id != context.bot.id
    ):
        return
    person = context.person
    session, runtime = context.session, context.runtime
    informant = await share_service.informant_for(
        session=session, person_id=person.id if person is not None else None
    )
    if informant is None:  # only informants' forwards count; say nothing in the group
        return
    if isinstance(origin, MessageOriginChannel):  # matched to the channel post row
        content_id = await channel_service.content_of_post(
            session=session, channel_chat_id=origin.chat.id, message_id=origin.message_id
        )
    else:
        content_id = await share_service.content_of_message(
            session=session, text=message.text or message.caption, urls=_urls(update)
        )
    if content_id is None:
        return
    chat = update.effective_chat
    now = runtime.now()
    group = await group_store.get_group(session=session, chat_id=chat.id)
    if group is None or group.removed_at is not None:
        # We see its messages, so the bot is in the group: remember it (adder unknown).
        await group_store.bot_added(
            session=session, chat_id=chat.id, title=chat.title, informant_id=None, now=now
        )
        group = await group_store.get_group(session=session, chat_id=chat.id)
    assert group is not None
    count = group.member_count or 0
    stale = share_service.member_count_stale(group.member_count_at, now)
    try:
        outcome = await share_service.record_share(
            session=session,
            settings=runtime.settings,
            informant=informant,
            content_id=content_id,
            channel=share_service.FORWARD,
            target=str(chat.id),
            audience=share_service.forward_audience(count),
            now=now,
            today=runtime.today(),
        )
    except ShareError as exc:
        log.info("forward not counted", extra={"code": exc.code})
        return
    if stale and outcome.share_id is not None:
        await _learn_member_count(context, chat.id, [outcome.share_id])


async def _learn_member_count(context: KepuContext, chat_id: int, share_ids: list[int]) -> None:
    """Have the group's member count fetched after the commit, to set these shares' reach.

    Asking Telegram is a network wait, so it never happens inside the update's transaction.
    """
    now = context.runtime.now()
    await outbox_store.enqueue_one(
        session=context.session,
        message=NewMessage(
            chat_id=chat_id,
            kind=MEMBER_COUNT_KIND,
            payload={"share_ids": share_ids},
            dedupe_key=f"members:{chat_id}:{context.scope.update_id}",
            due_at=now,
        ),
        now=now,
    )


# --- the feature --------------------------------------------------------------------------


FEATURE = Feature(
    name="shares",
    handlers=in_group(
        COMMAND_GROUP,
        InlineQueryHandler(on_inline_query),
        ChosenInlineResultHandler(on_chosen_inline_result),
        CallbackQueryHandler(on_how_counted, pattern=ShareHowCounted.pattern),
        GroupMembershipHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.ChatType.GROUPS & filters.FORWARDED, on_group_forward),
        *shares_external.handlers(),
        *shares_top.handlers(),
    ),
    flows=shares_external.FLOWS,
    commands=shares_top.COMMANDS,
    web_routes=(install_link_routes,),
    card_buttons=(card_provider,),
    start_payloads=(on_share_start,),
    # Inline shares arrive in floods and need no reply: record each batch in one go.
    batch_handlers={"chosen_inline_result": chosen_results_in_bulk},
    profile_stats=(share_stats.profile_provider, share_ways.profile_provider),
    outbox_kinds={MEMBER_COUNT_KIND: MemberCountRefresh, PRIVACY_HINT_KIND: PrivacyHint},
)
