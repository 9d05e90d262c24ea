"""Propagation volume (传播量): one documented, configurable formula.

    volume = w_shares          × shares
           + w_telegram_reach  × reach measured by Telegram (group member counts)
           + w_reported_reach  × reach reported by informants (capped audiences)
           + w_visits          × verified visits to tracked links (once per visitor per day)

Reported audiences are discounted by default because nobody can check them; verified visits
are what a share actually brought. Weights live in ``[propagation]`` settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.config import PropagationSettings


@dataclass(frozen=True)
class ShareFigures:
    """The raw figures the volume is computed from."""

    shares: int = 0
    telegram_reach: int = 0
    reported_reach: int = 0
    visits: int = 0


def propagation_volume(figures: ShareFigures, weights: PropagationSettings) -> float:
    """Return the propagation volume of ``figures`` under ``weights``, rounded to 0.1."""
    value = (
        weights.w_shares * figures.shares
        + weights.w_telegram_reach * figures.telegram_reach
        + weights.w_reported_reach * figures.reported_reach
        + weights.w_visits * figures.visits
    )
    return round(value, 1)


def volume_sql(
    weights: PropagationSettings,
    *,
    shares: str,
    telegram_reach: str,
    reported_reach: str,
    visits: str,
) -> str:
    """Return the same formula as a SQL expression over the named columns."""
    return (
        f"({weights.w_shares!r} * {shares} + {weights.w_telegram_reach!r} * {telegram_reach}"
        f" + {weights.w_reported_reach!r} * {reported_reach}"
        f" + {weights.w_visits!r} * {visits})"
    )


def volume_over(weights: PropagationSettings) -> Callable[[str], str]:
    """Return the formula as SQL over an alias's columns (``shares``, ``telegram_reach``…)."""

    def over(alias: str) -> str:
        return volume_sql(
            weights,
            shares=f"{alias}.shares",
            telegram_reach=f"{alias}.telegram_reach",
            reported_reach=f"{alias}.reported_reach",
            visits=f"{alias}.visits",
        )

    return over
