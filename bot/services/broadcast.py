"""Paid broadcasts: what a push costs and how long it takes, and its Stars budget.

Telegram (Bot API 7.11, ``allow_paid_broadcast``): a bot with paid broadcasts enabled in
@BotFather may send up to 1,000 messages a second; each message sent with
``allow_paid_broadcast=True`` costs 0.1 Stars, taken from the bot's balance. kepubot sends
at the free rate (30 a second) first and marks only the messages above it, so a paid push
of N messages costs about ``N × (1 − 30/1000) × 0.1`` Stars — and never more than the
budget the curator confirmed: past it the push carries on at the free rate.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import BroadcastSettings, LimitsSettings
from bot.i18n import Translator
from storage import audit
from storage import broadcast as broadcast_store
from storage.models import PushBroadcast

FREE_PER_SECOND = 30.0
PAID_PER_SECOND = 1000.0
STARS_PER_MESSAGE = 0.1


@dataclass(frozen=True)
class Estimate:
    """How long a push takes and what it costs."""

    seconds: float
    stars: float
    paid_messages: int


def estimate(
    recipients: int,
    paid: bool,
    budget: float | None,
    *,
    free_rate: float = FREE_PER_SECOND,
    paid_rate: float = PAID_PER_SECOND,
    stars_per_message: float = STARS_PER_MESSAGE,
) -> Estimate:
    """Return the time and cost of sending ``recipients`` messages (paid: within ``budget``).

    While paid, every second carries ``free_rate`` free messages and up to ``paid_rate −
    free_rate`` paid ones; once the budget allows no more paid ones, the rest goes at the
    free rate. ``budget`` None is no limit.
    """
    n = max(int(recipients), 0)
    if not paid or paid_rate <= free_rate or n == 0:
        return Estimate(seconds=n / free_rate, stars=0.0, paid_messages=0)
    extra_rate = paid_rate - free_rate
    # The free lane goes first and is never idle: in the (at least one) second the push
    # takes, it carries free_rate a second; only the rest is paid.
    free_during = min(n, math.ceil(free_rate * max(n / paid_rate, 1.0) - 1e-9))
    paid_wanted = n - free_during
    affordable = paid_wanted if budget is None else int(budget / stars_per_message + 1e-9)
    paid_messages = min(paid_wanted, max(affordable, 0))
    if paid_messages == paid_wanted:
        seconds = n / paid_rate
    else:  # the budget runs out: the paying stretch, then the rest at the free rate
        paying = paid_messages / extra_rate
        sent = paying * paid_rate
        seconds = paying + max(n - sent, 0.0) / free_rate
    return Estimate(
        seconds=seconds,
        stars=round(paid_messages * stars_per_message, 6),
        paid_messages=paid_messages,
    )


def estimate_push(recipients: int, paid: bool, budget: float | None) -> tuple[float, float]:
    """Return (seconds, stars) for a push to ``recipients`` at Telegram's own rates."""
    result = estimate(recipients, paid, budget)
    return result.seconds, result.stars


def estimate_for(
    recipients: int, paid: bool, *, limits: LimitsSettings, broadcast: BroadcastSettings
) -> Estimate:
    """Return the estimate with the configured rates, price and budget."""
    return estimate(
        recipients,
        paid,
        broadcast.stars_budget,
        free_rate=limits.global_per_second,
        paid_rate=broadcast.paid_per_second,
        stars_per_message=broadcast.stars_per_message,
    )


async def open_paid_push(
    *,
    session: AsyncSession,
    push_id: int,
    recipients: int,
    limits: LimitsSettings,
    broadcast: BroadcastSettings,
    now: dt.datetime,
    actor_id: int | None = None,
    budget: float | None = None,
) -> PushBroadcast | None:
    """Opt a push into paid broadcasts, with the configured budget (or ``budget``: a
    retry's remainder) and its estimate.

    Audited (it spends the bot's Stars); None when paid broadcasts are not enabled.
    """
    if not broadcast.enabled:
        return None
    if budget is not None:
        broadcast = broadcast.model_copy(update={"stars_budget": budget})
    guess = estimate_for(recipients, True, limits=limits, broadcast=broadcast)
    row = await broadcast_store.open_broadcast(
        session=session,
        push_id=push_id,
        budget_stars=broadcast.stars_budget,
        stars_per_message=broadcast.stars_per_message,
        estimate_seconds=guess.seconds,
        estimate_stars=guess.stars,
        now=now,
    )
    await audit.record(
        session=session,
        actor_id=actor_id,
        action="content.push.paid",
        now=now,
        subject_type="push",
        subject_id=push_id,
        detail={
            "recipients": recipients,
            "budget_stars": broadcast.stars_budget,
            "estimate_stars": guess.stars,
            "estimate_seconds": round(guess.seconds, 1),
        },
    )
    return row


def spent_stars(row: PushBroadcast) -> float:
    """Return the Stars a push spent (paid messages × the price)."""
    return round(row.paid_sent * row.stars_per_message, 6)


def budget_left(row: PushBroadcast) -> float:
    """Return what is left of a paid push's budget (a retry may spend it, docs/reach.md)."""
    return round(max(row.budget_stars - spent_stars(row), 0.0), 6)


async def retry_budget(*, session: AsyncSession, push_id: int) -> float | None:
    """Return the budget a retry of ``push_id`` may spend: the original's remainder, when
    the original was paid and a paid message still fits in it; None (a free retry) else."""
    row = await broadcast_store.get_broadcast(session=session, push_id=push_id)
    if row is None or budget_left(row) < row.stars_per_message - 1e-9:
        return None
    return budget_left(row)


def stars_text(stars: float) -> str:
    """Return Stars as written in reports: at most one decimal (0.1 is the price step)."""
    return f"{stars:.1f}".rstrip("0").rstrip(".") if stars else "0"


def duration_text(t: Translator, seconds: float) -> str:
    """Return a short duration: seconds under two minutes, else minutes, else hours."""
    if seconds < 120:
        return t("{n} s", n=max(1, math.ceil(seconds)))
    if seconds < 7200:
        return t("{n} min", n=math.ceil(seconds / 60))
    return t("{n} h", n=round(seconds / 3600, 1))


def estimate_text(t: Translator, recipients: int, guess: Estimate, *, budget: float) -> str:
    """Return the confirmation's line about a paid push: time, Stars, budget."""
    return t(
        "Paid broadcast: about {time}, about {stars} Stars ({paid} messages above the free "
        "rate, budget {budget} Stars).",
        time=duration_text(t, guess.seconds),
        stars=stars_text(guess.stars),
        paid=guess.paid_messages,
        budget=stars_text(budget),
    )


def free_text(t: Translator, guess: Estimate) -> str:
    """Return the confirmation's line about a free push: its time."""
    return t("At the free rate: about {time}.", time=duration_text(t, guess.seconds))


def paid_note(t: Translator, row: PushBroadcast) -> str:
    """Return the push report's line about paid broadcasting: spent, and why it stopped."""
    spent = t(
        "Paid broadcast: {n} messages, {stars} of {budget} Stars.",
        n=row.paid_sent,
        stars=stars_text(spent_stars(row)),
        budget=stars_text(row.budget_stars),
    )
    sep = "" if t.locale.startswith("zh") else " "  # no space after Chinese punctuation
    if row.state == broadcast_store.SPENT:
        return spent + sep + t("The budget ran out; the rest went at the free rate.")
    if row.state == broadcast_store.BALANCE:
        return (
            spent
            + sep
            + t(
                "Telegram said the bot's Stars balance is too low; the rest went at the free rate."
            )
        )
    return spent


def balance_warning(t: Translator, push_id: int) -> str:
    """Return the curator's notice that Telegram refused paid sends for want of Stars."""
    return t(
        "⚠️ Push #{id}: Telegram says the bot's Stars balance is too low for paid "
        "broadcasts. The push goes on at the free rate (30 messages a second); top up "
        "the bot's Stars balance for the next one.",
        id=push_id,
    )
