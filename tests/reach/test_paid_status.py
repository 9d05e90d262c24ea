"""`kepubot outbox status` reports what a paid push spent; the push_broadcast budget rules."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.__main__ import build_parser
from storage import broadcast as broadcast_store
from storage import outbox as outbox_store
from storage.db import create_nullpool_engine, session_factory
from tests.conftest import FIXED_NOW, make_settings


async def _push(session: AsyncSession, budget: float) -> int:
    push = await outbox_store.create_push(
        session=session, content_id=None, kind="test", created_by=None, targeting={}, now=FIXED_NOW
    )
    assert push.id is not None
    await broadcast_store.open_broadcast(
        session=session,
        push_id=push.id,
        budget_stars=budget,
        stars_per_message=0.1,
        estimate_seconds=1.0,
        estimate_stars=budget,
        now=FIXED_NOW,
    )
    return push.id


async def test_reservations_stop_at_the_budget_and_refunds_give_back(
    session: AsyncSession,
) -> None:
    push_id = await _push(session, 0.3)
    taken = [
        await broadcast_store.reserve_paid(session=session, push_id=push_id, now=FIXED_NOW)
        for _ in range(3)
    ]
    assert taken == [True, True, True]
    await broadcast_store.refund_paid(session=session, push_id=push_id)  # one was refused
    assert await broadcast_store.reserve_paid(session=session, push_id=push_id, now=FIXED_NOW)
    assert not await broadcast_store.reserve_paid(session=session, push_id=push_id, now=FIXED_NOW)
    row = await broadcast_store.get_broadcast(session=session, push_id=push_id)
    assert row is not None and row.paid_sent == 3 and row.state == broadcast_store.SPENT
    # Once stopped, nothing more is reserved, and a later stop does not overwrite why.
    assert not await broadcast_store.stop(
        session=session, push_id=push_id, state=broadcast_store.BALANCE, now=FIXED_NOW
    )
    assert not await broadcast_store.reserve_paid(session=session, push_id=push_id, now=FIXED_NOW)
    # A budget below one message's price never pays.
    assert (
        await broadcast_store.open_broadcast(
            session=session,
            push_id=await _push_only(session),
            budget_stars=0.05,
            stars_per_message=0.1,
            estimate_seconds=0.0,
            estimate_stars=0.0,
            now=FIXED_NOW,
        )
    ).state == broadcast_store.SPENT


async def _push_only(session: AsyncSession) -> int:
    push = await outbox_store.create_push(
        session=session, content_id=None, kind="test", created_by=None, targeting={}, now=FIXED_NOW
    )
    assert push.id is not None
    return push.id


async def test_outbox_status_prints_the_stars_of_a_paid_push(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_nullpool_engine(db_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            push_id = await _push(session, 50.0)
            for _ in range(12):
                await broadcast_store.reserve_paid(session=session, push_id=push_id, now=FIXED_NOW)
    finally:
        await engine.dispose()
    args = build_parser().parse_args(["--lang", "en", "outbox", "status", str(push_id)])
    assert await args.func(args, make_settings(db_url)) == 0
    out = capsys.readouterr().out
    assert f"Push #{push_id}" in out
    assert "  Paid broadcast: 12 messages, 1.2 of 50 Stars." in out
    args = build_parser().parse_args(["outbox", "status"])  # zh_CN, the recent pushes
    assert await args.func(args, make_settings(db_url)) == 0
    assert "付费广播：12条消息，花费1.2颗星星（预算50颗）。" in capsys.readouterr().out
