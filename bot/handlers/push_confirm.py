"""One confirmation for every interactive push: /catalog, /newcontent's "push now" and a
campaign's "push newest item" (issue #20, docs/reach.md).

The same text (informants, linked channels, time at the free rate, the paid estimate
against the budget) and the same buttons (信息员私信 / 频道 / 两者 when the push's regions
have a linked channel, ⚡ paid when ``[broadcast] enabled``). Each caller says what its
buttons carry (``Encode``); what a press does is always ``content_fields.start_push``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.handlers import paid_push
from bot.handlers.callbacks import CatalogItem
from bot.handlers.channels_common import TARGET_LABELS, PushTarget, PushTargetAt, PushTo
from bot.handlers.common import esc, reply
from bot.runtime.context import KepuContext
from bot.services import channels as channel_service
from bot.services import push as push_service
from storage import content as content_store
from storage.models import ReachChannel

# (target, paid) → the callback data of the button that starts that push.
Encode = Callable[[PushTo, bool], str]


def catalog_encode(content_id: int) -> Encode:
    """Return the encoder of the catalogue's push buttons (also /newcontent's push now)."""
    return lambda to, paid: PushTarget(to, "paid" if paid else "free", content_id).encode()


def scheduled_encode(content_id: int) -> Encode:
    """Return the encoder of /newcontent's buttons for an item published later."""
    return lambda to, paid: PushTargetAt(to, "paid" if paid else "free", content_id).encode()


@dataclass(frozen=True)
class Offer:
    """What a push of an item would reach now: informants and the linked channels."""

    content_id: int
    recipients: int
    channels: list[ReachChannel]


async def offer(
    context: KepuContext, content_id: int, *, regions: Sequence[str] | None = None
) -> Offer:
    """Count the informants and find the channels a push would reach (``regions``: the
    campaign's instead of the item's). Raise PushError when the item cannot be pushed."""
    runtime = context.runtime
    n = await push_service.count_targets(
        session=context.session,
        content_id=content_id,
        now=runtime.now(),
        tz=runtime.settings.scheduler.tz,
        regions=regions,
        require_approval=runtime.settings.content.review_before_publish,
    )
    if regions is None:
        item = await content_store.get_item(session=context.session, content_id=content_id)
        regions = item.regions if item is not None else None
    linked = await channel_service.push_channels(session=context.session, regions=regions)
    return Offer(content_id=content_id, recipients=n, channels=linked)


def has_choice(context: KepuContext, found: Offer) -> bool:
    """Tell whether the confirmation has anything to choose (channels, or a paid push)."""
    return bool(found.channels) or paid_push.offered(context, found.recipients)


def _question(context: KepuContext, found: Offer) -> str:
    t = context.t
    if found.channels:
        return t(
            "Push #{id} now? {n} matching informants (anyone who already got "
            "it is skipped) and {c} linked channels: {names}. Who should get it?",
            id=found.content_id,
            n=found.recipients,
            c=len(found.channels),
            names=esc("、".join(ch.title or str(ch.chat_id) for ch in found.channels)),
        )
    return t(
        "Push #{id} now to {n} matching informants? (Anyone who already got it is skipped.)",
        id=found.content_id,
        n=found.recipients,
    )


def _rows(
    context: KepuContext, found: Offer, encode: Encode, cancel: str
) -> list[list[InlineKeyboardButton]]:
    t = context.t
    paid = paid_push.offered(context, found.recipients)
    stars = paid_push.paid_stars(context, found.recipients) if paid else ""
    cancel_button = InlineKeyboardButton(t("Cancel"), callback_data=cancel)
    if not found.channels:
        rows = [[InlineKeyboardButton(t("Yes, push"), callback_data=encode("informants", False))]]
        rows[0].append(cancel_button)
        if paid:
            label = t("⚡ Paid push (≈{stars} Stars)", stars=stars)
            rows.append([InlineKeyboardButton(label, callback_data=encode("informants", True))])
        return rows
    rows = [
        [
            InlineKeyboardButton(t(TARGET_LABELS[to]), callback_data=encode(to, False))
            for to in ("informants", "channels", "both")
        ]
    ]
    if paid:  # a channel post is one message: only the informants' part can go paid
        rows.append(
            [
                InlineKeyboardButton(
                    t("⚡ 📨 Paid push (≈{stars} Stars)", stars=stars),
                    callback_data=encode("informants", True),
                ),
                InlineKeyboardButton(
                    t("⚡ 📨+📢 Paid push (≈{stars} Stars)", stars=stars),
                    callback_data=encode("both", True),
                ),
            ]
        )
    rows.append([cancel_button])
    return rows


async def ask(
    update: Update,
    context: KepuContext,
    found: Offer,
    *,
    encode: Encode | None = None,
    lead: str | None = None,
    cancel: str | None = None,
) -> None:
    """Send the push confirmation of ``found`` (``lead``: a first line the caller adds)."""
    lines = [lead] if lead else []
    lines.append(_question(context, found))
    lines += paid_push.estimate_lines(context, found.recipients)  # time and Stars
    rows = _rows(
        context,
        found,
        encode or catalog_encode(found.content_id),
        cancel or CatalogItem("no", 0).encode(),
    )
    await reply(update, "\n".join(lines), reply_markup=InlineKeyboardMarkup(rows))
