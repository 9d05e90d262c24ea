"""The curator's choice of a paid broadcast when confirming a push (docs/reach.md).

Not a feature of its own: the one push confirmation (``push_confirm``, used by /catalog,
/newcontent and /campaigns) calls these to show the estimated time and Stars and the paid
button's label when paid broadcasts are enabled; ``start_push`` opts the push in.
"""

from __future__ import annotations

from bot.runtime.context import KepuContext
from bot.services import broadcast as broadcast_service
from bot.services import push as push_service
from bot.services.push import PushResult


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


def rates(context: KepuContext) -> push_service.PaidRates:
    """Return the configured paid rates, price and budget."""
    settings = context.runtime.settings
    return push_service.PaidRates(limits=settings.limits, broadcast=settings.broadcast)


async def open_paid(context: KepuContext, result: PushResult) -> PushResult:
    """Opt a just-queued push into paid broadcasts, with the configured budget."""
    return await push_service.open_paid(
        session=context.session,
        result=result,
        paid=rates(context),
        now=context.runtime.now(),
        actor_id=context.person.id if context.person is not None else None,
    )
