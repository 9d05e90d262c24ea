"""The propagation volume formula, in Python and in SQL, agree."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import PropagationSettings
from bot.core.propagation import ShareFigures, propagation_volume, volume_sql


def test_default_weights_discount_reported_reach() -> None:
    weights = PropagationSettings()
    figures = ShareFigures(shares=10, telegram_reach=300, reported_reach=200, visits=25)
    assert propagation_volume(figures, weights) == 10 + 300 + 100 + 25


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6))
def test_volume_is_monotonic_in_every_figure(a: int, b: int, c: int, d: int) -> None:
    weights = PropagationSettings()
    base = propagation_volume(ShareFigures(a, b, c, d), weights)
    assert propagation_volume(ShareFigures(a + 1, b, c, d), weights) >= base
    assert propagation_volume(ShareFigures(a, b, c, d + 1), weights) >= base


async def test_sql_expression_matches_python(session: AsyncSession) -> None:
    weights = PropagationSettings(
        w_shares=2, w_telegram_reach=0.5, w_reported_reach=0.25, w_visits=3
    )
    expr = volume_sql(weights, shares="7", telegram_reach="120", reported_reach="40", visits="9")
    value = (await session.execute(text(f"SELECT {expr}"))).scalar_one()
    assert float(value) == propagation_volume(ShareFigures(7, 120, 40, 9), weights)
