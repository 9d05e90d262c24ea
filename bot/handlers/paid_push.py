"""The curator's choice of a paid broadcast when confirming a push (docs/reach.md).

Not a feature of its own: the one push confirmation (``push_confirm``, used by /catalog,
/newcontent and /campaigns) calls these to show the estimated time and Stars and the paid
button's label when paid broadcasts are enabled; ``start_push`` opts the push in.
"""

from __future__ import annotations

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


def offered(context: KepuContext, recipients: int) -> bool:
    """Tell whether a push to ``recipients`` informants may be paid (enabled, someone to pay)."""
    return context.runtime.settings.broadcast.enabled and recipients > 0


def paid_stars(context: KepuContext, recipients: int) -> str:
    """Return the estimated Stars of a paid push to ``recipients``, as buttons show them."""
    settings = context.runtime.settings
    paid = broadcast_service.estimate_for(
        recipients, True, limits=settings.limits, broadcast=settings.broadcast
    )
    return broadcast_service.stars_text(paid.stars)


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
