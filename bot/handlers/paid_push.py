"""The curator's choice of a paid broadcast when confirming a push (docs/reach.md).

Not a feature of its own: the catalogue's push confirmation (``content_curator``) calls
these to show the estimated time and Stars, offer the paid button when paid broadcasts are
enabled, and opt the push in once it is queued.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton

from bot.handlers.callbacks import CatalogItem
from bot.runtime.context import KepuContext
from bot.services import broadcast as broadcast_service


def estimate_lines(context: KepuContext, recipients: int) -> list[str]:
    """Return the confirmation's lines: the time at the free rate, and the paid estimate."""
    t = context.t
    settings = context.runtime.settings
    free = broadcast_service.estimate_for(
        recipients, False, limits=settings.limits, broadcast=settings.broadcast
    )
    lines = [broadcast_service.free_text(t, free)]
    if settings.broadcast.enabled and recipients > 0:
        paid = broadcast_service.estimate_for(
            recipients, True, limits=settings.limits, broadcast=settings.broadcast
        )
        lines.append(
            broadcast_service.estimate_text(
                t, recipients, paid, budget=settings.broadcast.stars_budget
            )
        )
    return lines


def paid_rows(
    context: KepuContext, content_id: int, recipients: int
) -> list[list[InlineKeyboardButton]]:
    """Return the "paid push" button's row when paid broadcasts are enabled (else none)."""
    settings = context.runtime.settings
    if not settings.broadcast.enabled or recipients <= 0:
        return []
    paid = broadcast_service.estimate_for(
        recipients, True, limits=settings.limits, broadcast=settings.broadcast
    )
    label = context.t(
        "⚡ Paid push (≈{stars} Stars)", stars=broadcast_service.stars_text(paid.stars)
    )
    return [
        [InlineKeyboardButton(label, callback_data=CatalogItem("pushpaid", content_id).encode())]
    ]


async def open_paid(context: KepuContext, push_id: int, recipients: int) -> None:
    """Opt a just-queued push into paid broadcasts, with the configured budget."""
    runtime = context.runtime
    await broadcast_service.open_paid_push(
        session=context.session,
        push_id=push_id,
        recipients=recipients,
        limits=runtime.settings.limits,
        broadcast=runtime.settings.broadcast,
        now=runtime.now(),
        actor_id=context.person.id if context.person is not None else None,
    )
